"""Tests for archiver.metadata.validation: offline XSD compilation, XML and JSON validation."""

from __future__ import annotations

import copy
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from xmlschema_validator import compile_schema, validate_xml_xmlschema

import archiver.metadata
from archiver.metadata.validation import (
    JSON_SCHEMA_FILES,
    SchemaSet,
    schemas_dir,
    validate_json,
    validate_xml,
)
from archiver.metadata.xml_catalog import CatalogResolver, read_xml_catalog
from archiver.model.errors import ConfigError, MetadataError

DC_GOOD = b"""<?xml version="1.0" encoding="UTF-8"?>
<qualifieddc xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:dcterms="http://purl.org/dc/terms/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <dc:title>A statement</dc:title>
  <dc:creator>Some Group</dc:creator>
  <dc:date xsi:type="dcterms:W3CDTF">2011-12-20</dc:date>
  <dc:type xsi:type="dcterms:DCMIType">Text</dc:type>
  <dc:language xsi:type="dcterms:RFC4646">en</dc:language>
  <dcterms:spatial>Zhanaozen</dcterms:spatial>
  <dcterms:temporal>2011-12-16/2011-12-17</dcterms:temporal>
</qualifieddc>
"""

PREMIS_GOOD = b"""<?xml version="1.0" encoding="UTF-8"?>
<premis:premis xmlns:premis="http://www.loc.gov/premis/v3"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="3.0">
  <premis:object xsi:type="premis:file">
    <premis:objectIdentifier>
      <premis:objectIdentifierType>local</premis:objectIdentifierType>
      <premis:objectIdentifierValue>f1</premis:objectIdentifierValue>
    </premis:objectIdentifier>
    <premis:objectCharacteristics>
      <premis:size>12</premis:size>
      <premis:format>
        <premis:formatDesignation><premis:formatName>Plain Text</premis:formatName>
        </premis:formatDesignation>
      </premis:format>
    </premis:objectCharacteristics>
  </premis:object>
</premis:premis>
"""

BAD_XML = [
    ("dc", b">2011-12-20<", b">20.12.2011<", "dc:date"),
    ("dc", b"<dc:title>A statement</dc:title>", b"<dc:title>A<b/></dc:title>", "title"),
    ("dc", b">Text<", b">Texts<", "type"),
    ("dc", b"dcterms:spatial>Zhanaozen</dcterms:spatial", b"dcterms:place>Z</dcterms:place", ""),
    ("dc", b"<qualifieddc ", b"<dc:dc ", ""),
    ("premis", b">12<", b">twelve<", "size"),
    ("premis", b'version="3.0"', b'version="2.2"', "version"),
    ("premis", b"<premis:formatName>", b"<premis:formatLabel>", "format"),
    ("premis", b'xsi:type="premis:file"', b'xsi:type="premis:folder"', ""),
]


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet()


def test_schemas_dir_holds_the_schemas() -> None:
    root = schemas_dir()
    assert root == Path(archiver.metadata.__file__).parent / "schemas"
    # the top-level schemas/ people read is the same directory, not a copy
    assert (Path(__file__).resolve().parent.parent / "schemas").resolve() == root.resolve()
    for filename in JSON_SCHEMA_FILES.values():
        assert (root / filename).is_file()
    assert (root / "xsd" / "catalog.xml").is_file()


def test_catalog_maps_imports_to_local_files() -> None:
    mapping = read_xml_catalog(schemas_dir() / "xsd" / "catalog.xml")
    assert mapping["http://www.w3.org/2001/03/xml.xsd"] == schemas_dir() / "xsd" / "xml.xsd"
    assert all(path.is_file() for path in mapping.values())


class NoNetwork(socket.socket):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a socket was opened")


@pytest.mark.parametrize("which", ["dc", "premis"])
def test_xsds_compile_without_opening_a_socket(which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "socket", NoNetwork)
    fresh = SchemaSet()
    assert fresh.xml_schema(which) is fresh.xml_schema(which)  # type: ignore[arg-type]
    assert compile_schema(fresh, which) is not None  # type: ignore[arg-type]


def test_resolver_refuses_unmapped_remote_url(tmp_path: Path) -> None:
    xsd = tmp_path / "s.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:import namespace="urn:x" schemaLocation="http://example.org/x.xsd"/>'
        "</xs:schema>",
        encoding="utf-8",
    )
    resolver = CatalogResolver({})
    with pytest.raises(MetadataError, match=r"http://example\.org/x\.xsd: not in the XML catalog"):
        resolver.resolve("http://example.org/x.xsd", None, None)
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(resolver)
    with pytest.raises((etree.XMLSchemaParseError, MetadataError)):
        etree.XMLSchema(etree.parse(str(xsd), parser))


@pytest.mark.parametrize(("which", "good"), [("dc", DC_GOOD), ("premis", PREMIS_GOOD)])
def test_good_instances_pass_both_validators(which: str, good: bytes, schemas: SchemaSet) -> None:
    schemas.validate_xml(good, which, "good.xml")  # type: ignore[arg-type]
    validate_xml_xmlschema(good, which, "good.xml", schemas)  # type: ignore[arg-type]


@pytest.mark.parametrize(("which", "old", "new", "hint"), BAD_XML)
def test_bad_instances_fail_both_validators(
    which: str, old: bytes, new: bytes, hint: str, schemas: SchemaSet
) -> None:
    good = DC_GOOD if which == "dc" else PREMIS_GOOD
    assert old in good
    bad = good.replace(old, new, 1)
    with pytest.raises(MetadataError) as lxml_error:
        schemas.validate_xml(bad, which, "bad.xml")  # type: ignore[arg-type]
    with pytest.raises(MetadataError) as xmlschema_error:
        validate_xml_xmlschema(bad, which, "bad.xml", schemas)  # type: ignore[arg-type]
    for caught in (lxml_error, xmlschema_error):
        assert str(caught.value).startswith("bad.xml: ")
        assert "\n" not in str(caught.value)
    assert hint in str(lxml_error.value) + str(xmlschema_error.value)


def test_not_well_formed(schemas: SchemaSet) -> None:
    with pytest.raises(MetadataError, match=r"^x\.xml: not well-formed XML"):
        schemas.validate_xml(b"<qualifieddc>", "dc", "x.xml")
    with pytest.raises(MetadataError, match=r"^x\.xml: not well-formed XML"):
        validate_xml_xmlschema(b"<qualifieddc>", "dc", "x.xml", schemas)


def test_unknown_xml_schema(schemas: SchemaSet) -> None:
    with pytest.raises(MetadataError, match="mods: unknown XML schema"):
        schemas.xml_schema("mods")  # type: ignore[arg-type]


def test_module_level_helpers() -> None:
    validate_xml(DC_GOOD, "dc", "good.xml")
    validate_xml_xmlschema(PREMIS_GOOD, "premis", "good.xml")
    validate_json(DC_JSON, "dublin-core", "dc.json")
    with pytest.raises(MetadataError):
        validate_xml(DC_GOOD.replace(b">2011-12-20<", b">soon<"), "dc", "bad.xml")


DC_JSON: dict[str, Any] = {
    "filename": "a.txt",
    "dc.title": ["A statement"],
    "dc.creator": ["Some Group"],
    "dc.date": ["2011-12-20"],
    "dc.identifier": ["a"],
    "dc.language": ["en"],
    "dcterms.temporal": ["2011-12-16/2011-12-17"],
}


def tampered(record: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(record)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


DELETE = object()

BAD_DC_JSON = [
    (["dc.title"], DELETE, "dc.json: #: 'dc.title' is a required property"),
    (["dc.date", 0], "20.12.2011", "dc.json: #/dc.date/0: '20.12.2011' does not match"),
    (["dc.language", 0], "english", "dc.json: #/dc.language/0: 'english' does not match"),
    (["dc.creator"], [], "dc.json: #/dc.creator: [] should be non-empty"),
    (["dc.creator"], "Some Group", "dc.json: #/dc.creator: 'Some Group' is not of type 'array'"),
    (["dc.titel"], ["x"], "dc.json: #: Additional properties are not allowed"),
    (["filename"], "../a.txt", "dc.json: #/filename: '../a.txt' does not match"),
    (["dcterms.temporal", 0], "2011/later", "dc.json: #/dcterms.temporal/0: '2011/later'"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_DC_JSON)
def test_dc_json_schema_rejects_tampered_records(
    path: list[Any], value: Any, message: str, schemas: SchemaSet
) -> None:
    schemas.validate_json(DC_JSON, "dublin-core", "dc.json")
    with pytest.raises(MetadataError) as caught:
        schemas.validate_json(tampered(DC_JSON, path, value), "dublin-core", "dc.json")
    assert str(caught.value).startswith(message)


def premis_json() -> dict[str, Any]:
    from archiver.metadata.premis import (
        Agent,
        Event,
        FileObject,
        IntellectualEntity,
        Rights,
        build_record,
    )

    file_object = FileObject(
        "f1", "a.txt", 3, {"sha256": "0" * 64}, "Plain Text File", None, "x-fmt/111", "PRONOM",
        "text/plain", "UTF-8",
    )  # fmt: skip
    event = Event(
        "e1", "ingestion", "2024-01-01T00:00:00Z", "d", "success", "od",
        (("a1", "executing program"),), (("f1", "source"),),
    )  # fmt: skip
    rights = Rights("r1", "copyright", "not stated", "unknown", "KZ", objects=("ie1",))
    built = build_record(
        IntellectualEntity("ie1"),
        "p1",
        file_object,
        [event],
        [Agent("a1", "x", "software")],
        rights,
    )
    return built.to_json()


BAD_PREMIS_JSON = [
    (["premisVersion"], "2.2", "premis.json: #/premisVersion: '3.0' was expected"),
    (["files", 0, "fixity", 0, "digest"], "0" * 63, "premis.json: #/files/0/fixity/0/digest"),
    (["files", 0, "fixity", 0, "algorithm"], "md5", "premis.json: #/files/0/fixity/0/algorithm"),
    (["files", 0, "size"], -1, "premis.json: #/files/0/size: -1 is less than the minimum of 0"),
    (["files", 0, "format", "registryKey"], "fmt-111", "premis.json: #/files/0/format/registryKey"),
    (
        ["events", 0, "typeURI"],
        "http://id.loc.gov/vocabulary/preservation/eventType/fix",
        "#/events/0/typeURI",
    ),
    (["events", 0, "type"], "ingest", "premis.json: #/events/0/type: 'ingest' is not one of"),
    (["events", 0, "dateTime"], "2024-01-01T00:00:00", "premis.json: #/events/0/dateTime"),
    (["events", 0, "dateTime"], "2024-13-01T00:00:00Z", "premis.json: #/events/0/dateTime"),
    (["events", 0, "outcome"], "ok", "premis.json: #/events/0/outcome: 'ok' is not one of"),
    (["events", 0, "linkingObjects", 0, "role"], "input", "#/events/0/linkingObjects/0/role"),
    (["agents", 0, "type"], "robot", "premis.json: #/agents/0/type: 'robot' is not one of"),
    (["agents"], [], "premis.json: #/agents: [] should be non-empty"),
    (["rights", 0, "copyrightStatus"], "maybe", "#/rights/0/copyrightStatus"),
    (
        ["files", 0, "identifier"],
        {"type": "UUID", "value": "f1"},
        "premis.json: #/files/0/identifier/value",
    ),
    (["files", 0, "checksum"], "x", "#/files/0: Additional properties are not allowed"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_PREMIS_JSON)
def test_premis_json_schema_rejects_tampered_records(
    path: list[Any], value: Any, message: str, schemas: SchemaSet
) -> None:
    good = premis_json()
    schemas.validate_json(good, "premis", "premis.json")
    with pytest.raises(MetadataError) as caught:
        schemas.validate_json(tampered(good, path, value), "premis", "premis.json")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_json_schema(schemas: SchemaSet) -> None:
    with pytest.raises(MetadataError, match="cannot load JSON Schema"):
        schemas.validate_json({}, "nonesuch", "x.json")


def test_invalid_json_schema_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.schema.json").write_text('{"type": 12}', encoding="utf-8")
    with pytest.raises(MetadataError, match="not a valid JSON Schema"):
        SchemaSet(tmp_path).validate_json({}, "broken", "x.json")


def test_a_format_only_one_validator_checks_still_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the Python validator cannot check a format the fast one rejects, the record fails."""
    import jsonschema

    schemas = SchemaSet()
    lenient = jsonschema.Draft202012Validator(schemas.json_validator("premis").schema)
    monkeypatch.setattr(schemas, "json_validator", lambda name: lenient)
    record = premis_json()
    record["events"][0]["dateTime"] = "2024-13-01T00:00:00Z"
    with pytest.raises(MetadataError, match=r"premis.json: #/events/0/dateTime: .*date-time"):
        schemas.validate_json(record, "premis", "premis.json")


@pytest.mark.parametrize(("which", "good"), [("dc", DC_GOOD), ("premis", PREMIS_GOOD)])
def test_good_tree_passes(which: str, good: bytes, schemas: SchemaSet) -> None:
    schemas.validate_tree(etree.fromstring(good), which, "good.xml")  # type: ignore[arg-type]


def _well_formed(which: str, old: bytes, new: bytes) -> bool:
    try:
        etree.fromstring((DC_GOOD if which == "dc" else PREMIS_GOOD).replace(old, new, 1))
    except etree.XMLSyntaxError:
        return False
    return True


BAD_TREES = [case for case in BAD_XML if _well_formed(*case[:3])]


@pytest.mark.parametrize(("which", "old", "new", "hint"), BAD_TREES)
def test_bad_tree_fails_like_its_bytes(
    which: str, old: bytes, new: bytes, hint: str, schemas: SchemaSet
) -> None:
    bad = (DC_GOOD if which == "dc" else PREMIS_GOOD).replace(old, new, 1)
    tree = etree.fromstring(bad)
    with pytest.raises(MetadataError) as from_tree:
        schemas.validate_tree(tree, which, "bad.xml")  # type: ignore[arg-type]
    with pytest.raises(MetadataError) as from_bytes:
        schemas.validate_xml(bad, which, "bad.xml")  # type: ignore[arg-type]
    # The same finding; the line is that of the tree's serialization, not of ``bad``.
    line = re.compile(r"^bad\.xml: line \d+: ")
    assert line.match(str(from_tree.value)) and line.match(str(from_bytes.value))
    assert line.sub("", str(from_tree.value)) == line.sub("", str(from_bytes.value))


def test_schemas_not_on_a_file_system_are_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.metadata.validation as validation

    monkeypatch.setattr(validation, "__file__", str(tmp_path / "archiver.zip" / "validation.py"))
    with pytest.raises(ConfigError, match="no such directory; archiver's schemas must be"):
        schemas_dir()
