"""Tests for metadata.premis: checks, the JSON record, PREMIS XML and the events document."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from lxml import etree
from xmlschema_validator import validate_xml_xmlschema

from archiver.metadata.premis import (
    EVENT_TYPES,
    Agent,
    Event,
    FileObject,
    Grant,
    IntellectualEntity,
    PremisRecord,
    Rights,
    build_record,
    identifier_type,
    render_events_xml,
    render_xml,
    software_agent_id,
)
from archiver.metadata.validation import SchemaSet
from archiver.model.errors import MetadataError
from archiver.model.identifiers import derive_uuid

P = "{http://www.loc.gov/premis/v3}"
WHEN = "2024-05-01T12:00:00Z"

ENTITY = IntellectualEntity("000")
PACKAGE = derive_uuid("package", "000")
FILE = FileObject(
    identifier=derive_uuid("file", "000"),
    original_name="000.txt",
    size=2830,
    digests={"sha512": "a" * 128, "sha256": "b" * 64},
    format_name="Plain Text File",
    format_version=None,
    puid="x-fmt/111",
    format_registry="PRONOM",
    mime_type="text/plain",
    encoding="UTF-8",
)
ARCHIVER = Agent("archiver-0.1.0", "archiver", "software", "0.1.0")
ORG = Agent("org-example", "Example Archive", "organization", note="Depositor")
EVENTS = (
    Event(
        derive_uuid("event", "ingestion"),
        "ingestion",
        WHEN,
        "Source accepted into the archive",
        "success",
        "Copied byte for byte",
        (("archiver-0.1.0", "executing program"), ("org-example", "implementer")),
        ((FILE.identifier, "source"),),
    ),
    Event(
        derive_uuid("event", "digest"),
        "message digest calculation",
        WHEN,
        "sha256 and sha512 in one read",
        "success",
        "2 digests",
        (("archiver-0.1.0", "executing program"),),
        ((FILE.identifier, "source"),),
    ),
    Event(
        derive_uuid("event", "earlier"),
        "format identification",
        "2024-05-01T13:00:00+02:00",
        "FIDO",
        "warning",
        "several matches",
        (),
        ((FILE.identifier, "source"),),
    ),
)
RIGHTS = Rights(
    derive_uuid("rights", "000"),
    "copyright",
    "The source does not state its copyright status.",
    copyright_status="public domain",
    jurisdiction="KZ",
    agents=(("org-example", "contact"),),
    objects=(ENTITY.identifier, FILE.identifier),
)
POLICY = Rights(
    derive_uuid("rights", "policy"),
    "institutional policy",
    "The archive may preserve the work.",
    granted=(Grant("replication"), Grant("migration", "to keep it readable")),
    agents=(("org-example", "assignee"),),
    objects=(ENTITY.identifier,),
)


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet()


def record() -> PremisRecord:
    return build_record(ENTITY, PACKAGE, FILE, EVENTS, [ORG, ARCHIVER], [RIGHTS, POLICY])


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("ingestion", "ing"),
        ("message digest calculation", "mes"),
        ("format identification", "for"),
        ("validation", "val"),
        ("information package creation", "ipc"),
        ("fixity check", "fix"),
        ("replication", "rep"),
        ("transfer", "tra"),
        ("capture", "cap"),
        ("migration", "mig"),
    ],
)
def test_event_types_map_to_loc_uris(label: str, code: str) -> None:
    assert EVENT_TYPES[label] == f"http://id.loc.gov/vocabulary/preservation/eventType/{code}"


def test_record_json_validates(schemas: SchemaSet) -> None:
    schemas.validate_json(record().to_json(), "premis", "premis.json")


def test_record_xml_validates_with_both_validators(schemas: SchemaSet) -> None:
    xml = render_xml(record().to_json())
    schemas.validate_xml(xml, "premis", "premis.xml")
    validate_xml_xmlschema(xml, "premis", "premis.xml", schemas=schemas)


def test_record_order_and_content() -> None:
    built = record()
    # 13:00+02:00 is 11:00Z: earliest; events at the same instant keep the caller's order.
    assert [e.event_type for e in built.events] == [
        "format identification",
        "ingestion",
        "message digest calculation",
    ]
    assert [a.identifier for a in built.agents] == ["archiver-0.1.0", "org-example"]
    data = built.to_json()
    assert [f["algorithm"] for f in data["files"][0]["fixity"]] == ["sha256", "sha512"]
    assert data["files"][0]["identifier"] == {"type": "UUID", "value": FILE.identifier}
    assert data["agents"][0]["identifier"] == {"type": "local", "value": "archiver-0.1.0"}
    assert data["events"][1]["typeURI"] == EVENT_TYPES["ingestion"]


def test_xml_carries_value_uris() -> None:
    root = etree.fromstring(render_xml(record().to_json()))
    event_types = [e.get("valueURI") for e in root.iter(f"{P}eventType")]
    assert event_types == [
        EVENT_TYPES["format identification"],
        EVENT_TYPES["ingestion"],
        EVENT_TYPES["message digest calculation"],
    ]
    outcomes = [e.text for e in root.iter(f"{P}eventOutcome")]
    assert outcomes == ["warning", "success", "success"]
    algorithms = [e.get("valueURI") for e in root.iter(f"{P}messageDigestAlgorithm")]
    assert algorithms == [
        "http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions/sha256",
        "http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions/sha512",
    ]
    assert root.findtext(f".//{P}formatRegistryKey") == "x-fmt/111"
    assert root.findtext(f".//{P}originalName") == "000.txt"
    status = root.find(f".//{P}copyrightStatus")
    assert status is not None
    assert (status.text, status.get("valueURI")) == (
        "public domain",
        "http://id.loc.gov/vocabulary/preservation/copyrightStatus/pub",
    )
    roles = [e.get("valueURI") for e in root.iter(f"{P}linkingAgentRole") if e.get("valueURI")]
    assert roles[0].endswith("/eventRelatedAgentRole/exe")


def test_rights_use_the_rights_vocabularies() -> None:
    root = etree.fromstring(render_xml(record().to_json()))
    statements = {
        s.findtext(f"{P}rightsBasis"): s for s in root.findall(f"{P}rights/{P}rightsStatement")
    }
    assert {b: s.find(f"{P}rightsBasis").get("valueURI") for b, s in statements.items()} == {
        "copyright": "http://id.loc.gov/vocabulary/preservation/rightsBasis/cop",
        "institutional policy": "http://id.loc.gov/vocabulary/preservation/rightsBasis/ins",
    }
    jurisdiction = root.find(f".//{P}copyrightJurisdiction")
    assert jurisdiction is not None
    assert (jurisdiction.text, jurisdiction.get("authority")) == ("KZ", "iso3166-1")
    rights_roles = {
        basis: [(e.text, e.get("valueURI")) for e in s.iter(f"{P}linkingAgentRole")]
        for basis, s in statements.items()
    }
    assert rights_roles == {
        "copyright": [
            ("contact", "http://id.loc.gov/vocabulary/preservation/rightsRelatedAgentRole/con")
        ],
        "institutional policy": [
            ("assignee", "http://id.loc.gov/vocabulary/preservation/rightsRelatedAgentRole/ase")
        ],
    }
    acts = [(e.text, e.get("valueURI")) for e in root.iter(f"{P}act")]
    assert acts == [
        ("replication", "http://id.loc.gov/vocabulary/preservation/eventType/rep"),
        ("migration", "http://id.loc.gov/vocabulary/preservation/eventType/mig"),
    ]
    # every controlled value carries its authority
    for name in ("rightsBasis", "copyrightStatus", "act", "linkingAgentRole", "eventType"):
        for element in root.iter(f"{P}{name}"):
            assert element.get("authority") and element.get("authorityURI"), name


def test_entity_package_and_file_are_related_and_the_title_is_not_premis() -> None:
    data = record().to_json()
    assert data["intellectualEntity"]["identifier"] == {"type": "local", "value": "000"}
    assert "title" not in data["intellectualEntity"]
    data["file"] = data["files"][0]
    related = {
        kind: [(r["subType"], r["relatedObject"]["value"]) for r in data[kind]["relationships"]]
        for kind in ("intellectualEntity", "package", "file")
    }
    del data["file"]
    assert related == {
        "intellectualEntity": [("is Represented By", PACKAGE)],
        "package": [("represents", "000"), ("includes", FILE.identifier)],
        "file": [("is Included In", PACKAGE)],
    }
    root = etree.fromstring(render_xml(data))
    kinds = [
        o.get("{http://www.w3.org/2001/XMLSchema-instance}type") for o in root.iter(f"{P}object")
    ]
    assert kinds == ["premis:intellectualEntity", "premis:representation", "premis:file"]
    assert root.find(f".//{P}significantProperties") is None


def test_software_agent_id_names_the_version() -> None:
    assert software_agent_id("archiver", "0.1.0") == "archiver-0.1.0"
    assert software_agent_id("hashlib", "OpenSSL 3.0.19 1 Jul 2025") == (
        "hashlib-OpenSSL-3.0.19-1-Jul-2025"
    )
    assert software_agent_id("archiver", None) == "archiver-unknown"


def test_capture_event_may_give_only_a_day(schemas: SchemaSet) -> None:
    capture = Event(
        derive_uuid("event", "capture"),
        "capture",
        "2011-12-21",
        "Source captured from https://example.org/statement",
        "success",
        "Captured 2011-12-21",
        (("org-example", "implementer"),),
        ((FILE.identifier, "outcome"),),
        capture={
            "source": "https://example.org/statement",
            "date": "2011-12-21",
            "agent": None,
            "agentType": None,
        },
    )
    built = build_record(ENTITY, PACKAGE, FILE, [*EVENTS, capture], [ORG, ARCHIVER])
    assert built.events[0].event_type == "capture"  # a day sorts as its midnight UTC
    schemas.validate_json(built.to_json(), "premis", "premis.json")
    schemas.validate_xml(render_xml(built.to_json()), "premis", "premis.xml")


def test_failure_outcome_uses_loc_label() -> None:
    failed = dataclasses.replace(EVENTS[0], outcome="failure")
    built = build_record(ENTITY, PACKAGE, FILE, [failed], [ORG, ARCHIVER])
    outcome = etree.fromstring(render_xml(built.to_json())).find(f".//{P}eventOutcome")
    assert outcome is not None
    assert (outcome.text, outcome.get("valueURI")) == (
        "fail",
        "http://id.loc.gov/vocabulary/preservation/eventOutcome/fai",
    )


def test_output_is_deterministic() -> None:
    assert render_xml(record().to_json()) == render_xml(record().to_json())
    assert record().to_json() == record().to_json()
    reordered = build_record(ENTITY, PACKAGE, FILE, EVENTS, [ARCHIVER, ORG], [POLICY, RIGHTS])
    assert render_xml(reordered.to_json()) == render_xml(record().to_json())


def test_optional_parts_are_left_out_of_xml(schemas: SchemaSet) -> None:
    bare = dataclasses.replace(FILE, puid=None, mime_type=None, encoding=None, format_version="1")
    built = build_record(ENTITY, PACKAGE, bare, EVENTS[:1], [ORG, ARCHIVER])
    xml = render_xml(built.to_json())
    schemas.validate_xml(xml, "premis", "bare.xml")
    root = etree.fromstring(xml)
    assert root.find(f".//{P}formatRegistry") is None
    assert root.find(f".//{P}formatNote") is None
    assert root.findtext(f".//{P}formatVersion") == "1"
    assert root.find(f".//{P}rights") is None


def swap(obj: Any, **changes: Any) -> Any:
    return dataclasses.replace(obj, **changes)


BAD_PARTS = [
    ("event", {"event_type": "ingest"}, "event_type 'ingest' is not one of"),
    ("event", {"outcome": "ok"}, "outcome 'ok' is not one of: failure, success, warning"),
    ("event", {"date_time": "2024-05-01T12:00:00"}, "has no timezone"),
    ("event", {"date_time": "yesterday"}, "'yesterday' is not an ISO 8601 date and time"),
    ("event", {"date_time": "2024-05-01T12:00:00+0000"}, "is not an ISO 8601 date and time"),
    ("event", {"date_time": "2024-05-01 12:00:00Z"}, "is not an ISO 8601 date and time"),
    (
        "event",
        {"agents": (("archiver-0.1.0", "boss"),)},
        "agent role 'boss' is not one of",
    ),
    ("event", {"agents": (("ghost", "implementer"),)}, "links agent 'ghost'"),
    ("event", {"objects": (("ghost", "source"),)}, "links object 'ghost'"),
    ("event", {"objects": ((FILE.identifier, "input"),)}, "object role 'input' is not one of"),
    ("agent", {"agent_type": "robot"}, "agent archiver-0.1.0: agent_type 'robot' is not one of"),
    ("file", {"digests": {"md5": "c" * 32}}, "digest algorithm 'md5' is not one of"),
    ("file", {"digests": {"sha256": "B" * 64}}, "sha256 digest 'BBBB"),
    ("file", {"digests": {"sha256": "b" * 63}}, "is not 64 lowercase hex digits"),
    ("file", {"digests": {}}, "no digests"),
    ("file", {"size": -1}, "size -1 is negative"),
    ("event", {"date_time": "2024-02-30"}, "is not an ISO 8601 date and time"),
    ("rights", {"copyright_status": "maybe"}, "copyright_status 'maybe' is not one of"),
    ("rights", {"copyright_status": "publicdomain"}, "copyright_status 'publicdomain'"),
    ("rights", {"basis": "licence"}, "basis 'licence' is not one of"),
    ("rights", {"basis": "license"}, "copyright status and jurisdiction need basis copyright"),
    ("rights", {"jurisdiction": "unknown"}, "jurisdiction 'unknown' is not an ISO 3166-1"),
    ("rights", {"jurisdiction": "kz"}, "jurisdiction 'kz' is not an ISO 3166-1"),
    ("rights", {"granted": (Grant("replicate"),)}, "granted act 'replicate' is not one of"),
    ("rights", {"objects": ("ghost",)}, "links object 'ghost'"),
    ("rights", {"agents": (("org-example", "implementer"),)}, "agent role 'implementer'"),
    ("rights", {"agents": (("ghost", "contact"),)}, "links agent 'ghost'"),
    ("rights", {"identifier": ENTITY.identifier}, "is used twice"),
]


@pytest.mark.parametrize(("part", "changes", "message"), BAD_PARTS)
def test_build_record_rejects(part: str, changes: dict[str, Any], message: str) -> None:
    event, agent, file_object, rights = EVENTS[0], ARCHIVER, FILE, RIGHTS
    if part == "event":
        event = swap(event, **changes)
    elif part == "agent":
        agent = swap(agent, **changes)
    elif part == "file":
        file_object = swap(file_object, **changes)
    else:
        rights = swap(rights, **changes)
    with pytest.raises(MetadataError) as caught:
        build_record(ENTITY, PACKAGE, file_object, [event], [agent, ORG], rights)
    assert message in str(caught.value)


def test_events_document_validates_with_both_validators(schemas: SchemaSet) -> None:
    fixity = Event(
        derive_uuid("fixity", "bag-1", WHEN),
        "fixity check",
        WHEN,
        "Audit of bag-1 with sha256 and sha512",
        "failure",
        "data/000.txt: sha256 expected bbbb found cccc",
        (("archiver-0.1.0", "executing program"),),
        ((FILE.identifier, "source"),),
    )
    xml = render_events_xml([fixity], [ARCHIVER], [FILE.identifier, ENTITY.identifier])
    schemas.validate_xml(xml, "premis", "events.xml")
    validate_xml_xmlschema(xml, "premis", "events.xml", schemas=schemas)
    root = etree.fromstring(xml)
    assert len(root.findall(f"{P}object")) == 2
    assert len(root.findall(f"{P}event")) == 1
    assert xml == render_events_xml([fixity], [ARCHIVER], [ENTITY.identifier, FILE.identifier])


def test_events_document_names_the_entity_the_package_represents(schemas: SchemaSet) -> None:
    fixity = Event(
        derive_uuid("fixity", "bag-1"),
        "fixity check",
        WHEN,
        "Audit",
        "success",
        "every checksum matches",
        (("archiver-0.1.0", "executing program"),),
        ((PACKAGE, "source"),),
    )
    xml = render_events_xml([fixity], [ARCHIVER], [PACKAGE], entity_identifier="000")
    schemas.validate_xml(xml, "premis", "events.xml")
    root = etree.fromstring(xml)
    objects = root.findall(f"{P}object")
    assert [o.findtext(f"{P}objectIdentifier/{P}objectIdentifierValue") for o in objects] == [
        "000",
        PACKAGE,
    ]
    assert objects[1].findtext(f".//{P}relationshipSubType") == "represents"


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ([], "at least one object identifier is needed"),
        (["other"], f"links object '{FILE.identifier}'"),
    ],
)
def test_events_document_rejects(objects: list[str], message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        render_events_xml(EVENTS[:1], [ARCHIVER, ORG], objects)


def test_render_xml_rejects_malformed_json() -> None:
    data = record().to_json()
    broken = copy.deepcopy(data)
    del broken["files"][0]["fixity"]
    with pytest.raises(MetadataError, match="missing or malformed field 'fixity'"):
        render_xml(broken)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("c784d2e7-66f8-56f4-b24c-6fe23a43d733", "UUID"),
        ("C784D2E7-66F8-56F4-B24C-6FE23A43D733", "local"),
        ("archiver-0.1.0", "local"),
        ("", "local"),
    ],
)
def test_identifier_type(value: str, kind: str) -> None:
    assert identifier_type(value) == kind


def test_derived_uuids_are_typed_uuid() -> None:
    assert identifier_type(derive_uuid("x")) == "UUID"


def test_tree_renderer_reuses_agents_without_changing_bytes() -> None:
    from archiver.metadata.premis import TreeRenderer, serialize_xml

    renderer = TreeRenderer()
    first = record().to_json()
    other_org = dataclasses.replace(ORG, name="Another Archive", note="Other depositor")
    second = build_record(ENTITY, PACKAGE, FILE, EVENTS, [other_org, ARCHIVER], RIGHTS).to_json()
    for record_json in (first, second, first, second):  # cached agents on the second pass
        assert serialize_xml(renderer.render(record_json)) == render_xml(record_json)
    assert b"Another Archive" in serialize_xml(renderer.render(second))
    assert b"Another Archive" not in serialize_xml(renderer.render(first))


@pytest.mark.parametrize("agents", [None, [1], ["x"]])
def test_tree_renderer_rejects_malformed_agents(agents: Any) -> None:
    from archiver.metadata.premis import TreeRenderer

    broken = dict(record().to_json(), agents=agents)
    with pytest.raises(MetadataError, match="PREMIS JSON record: missing or malformed field"):
        TreeRenderer().render(broken)


@pytest.mark.parametrize(
    "value",
    [
        "c784d2e7-66f8-56f4-b24c-6fe23a43d733",
        "C784D2E7-66F8-56F4-B24C-6FE23A43D733",
        "{c784d2e7-66f8-56f4-b24c-6fe23a43d733}",
        "urn:uuid:c784d2e7-66f8-56f4-b24c-6fe23a43d733",
        "c784d2e766f856f4b24c6fe23a43d733",
        "c784d2e7-66f8-56f4-b24c-6fe23a43d733\n",
        "c784d2e7-66f8-56f4-b24c-6fe23a43d73",
        "g784d2e7-66f8-56f4-b24c-6fe23a43d733",
        "00000000-0000-0000-0000-000000000000",
        "archiver",
        "",
    ],
)
def test_identifier_type_is_uuid_only_for_the_canonical_form(value: str) -> None:
    import uuid

    try:
        canonical = str(uuid.UUID(value)) == value
    except ValueError:
        canonical = False
    assert identifier_type(value) == ("UUID" if canonical else "local")
