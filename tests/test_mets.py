"""archiver.metadata.mets and what issue 10 asks of the bags' records as a repository reads
them: METS in every bag, every XML record valid from its own schema hints for outside
validators (xmlschema and lxml, knowing only the file and the XML catalog), fileSec
checksums equal to the manifests, identifiers unique across bags and rebuilds, the ledger's
PREMIS export joining the bag's, and Bag-Size counting the whole bag."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import bagit
import pytest
from conftest import ROOT, SEED_NAMES, SOURCES, fixed_clock
from lxml import etree
from xml_outside import errors_lxml, errors_xmlschema

from archiver.bag.render import bag_size
from archiver.bag.tagfiles import parse_bag_info, split_lines
from archiver.bag.validator import validate_bag
from archiver.build.collection import build_collection
from archiver.cli import main
from archiver.config import load_config
from archiver.metadata.mets import MetsHeader, file_checksums, render_tree
from archiver.model.errors import MetadataError
from archiver.model.findings import Kind
from archiver.policy import default_checkers

CATALOG = ROOT / "archiver" / "metadata" / "schemas" / "xsd" / "catalog.xml"
STEMS = [Path(n).stem for n in SEED_NAMES]
RECORDS = ("metadata/dc.xml", "metadata/premis.xml", "metadata/mets.xml")
M = "{http://www.loc.gov/METS/}"
P = "{http://www.loc.gov/premis/v3}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")


def manifest(bag: Path, name: str) -> dict[str, str]:
    entries = {}
    for line in (bag / name).read_text(encoding="utf-8").splitlines():
        digest, _, path = line.partition("  ")
        entries[path] = digest
    return entries


def rewrite_tag_manifests(bag: Path) -> None:
    """Recompute the tag manifests after a deliberate edit, so only the edit is wrong."""
    import hashlib

    for algorithm in ("sha256", "sha512"):
        name = f"tagmanifest-{algorithm}.txt"
        lines = []
        for path in manifest(bag, name):
            digest = hashlib.new(algorithm, (bag / path).read_bytes()).hexdigest()
            lines.append(f"{digest}  {path}\n")
        (bag / name).write_text("".join(lines), encoding="utf-8")


# -- every record passes outside validators that know only the file ----------------------


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("stem", STEMS)
def test_records_pass_xmlschema_from_their_own_hints(
    built_collection: Path, stem: str, record: str
) -> None:
    assert errors_xmlschema(built_collection / stem / record, CATALOG) == []


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("stem", STEMS)
def test_records_pass_lxml_from_their_own_hints(
    built_collection: Path, stem: str, record: str
) -> None:
    assert errors_lxml(built_collection / stem / record, CATALOG) == []


BROKEN = [
    # The outside validators must fail what is wrong, including inside METS xmlData.
    ("metadata/dc.xml", b'W3CDTF">2011-12-20<', b'W3CDTF">soon<'),
    ("metadata/dc.xml", b"dc:title>", b"dc:titel>"),
    ("metadata/premis.xml", b"premis:size>", b"premis:sizes>"),
    ("metadata/mets.xml", b"premis:size>", b"premis:sizes>"),
    ("metadata/mets.xml", b'W3CDTF">2011-12-20<', b'W3CDTF">x<'),
    ("metadata/mets.xml", b'CHECKSUMTYPE="SHA-256"', b'CHECKSUMTYPE="SHA-257"'),
    # Without the no-namespace hint, the DC root has no schema (the defect of issue 10).
    ("metadata/dc.xml", b'xsi:noNamespaceSchemaLocation="', b'xsi:noSchema="'),
]  # fmt: skip


@pytest.mark.parametrize(("record", "old", "new"), BROKEN)
def test_outside_validators_reject_broken_records(
    built_collection: Path, tmp_path: Path, record: str, old: bytes, new: bytes
) -> None:
    data = (built_collection / STEMS[0] / record).read_bytes()
    assert old in data
    broken = tmp_path / Path(record).name
    broken.write_bytes(data.replace(old, new))
    assert errors_xmlschema(broken, CATALOG)
    assert errors_lxml(broken, CATALOG)


# -- the METS document ------------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_mets_sections_and_ids(built_collection: Path, stem: str) -> None:
    root = etree.parse(str(built_collection / stem / "metadata" / "mets.xml")).getroot()
    assert root.get("OBJID") == stem  # the intellectual entity = dc.identifier
    header = root.find(f"{M}metsHdr")
    assert header is not None and header.get("CREATEDATE") == "2026-01-02T03:04:05+00:00"
    assert [a.findtext(f"{M}name") for a in header.findall(f"{M}agent")] == [
        load_config(ROOT / "archive.toml").organization,
        "archiver",
    ]
    wraps = [w.get("MDTYPE") for w in root.iter(f"{M}mdWrap")]
    assert wraps[0] == "DC"
    assert wraps.count("PREMIS:OBJECT") == 3
    assert wraps.count("PREMIS:RIGHTS") == 2
    assert wraps.count("PREMIS:EVENT") == 5
    assert "PREMIS:AGENT" in wraps
    ids = [e.get("ID") for e in root.iter() if e.get("ID")]
    assert len(ids) == len(set(ids)) and all(NCNAME.match(i) for i in ids)
    referenced = {
        ref
        for e in root.iter()
        for attr in ("ADMID", "DMDID", "FILEID")
        for ref in (e.get(attr) or "").split()
    }
    assert referenced <= set(ids)
    (item,) = root.iter(f"{M}file")
    assert (item.get("MIMETYPE"), item.get("CHECKSUMTYPE")) == ("text/plain", "SHA-256")
    size = (built_collection / stem / "data" / f"{stem}.txt").stat().st_size
    assert item.get("SIZE") == str(size)
    location = item.find(f"{M}FLocat")
    assert location is not None and location.get(XLINK_HREF) == f"data/{stem}.txt"
    struct = root.find(f"{M}structMap")
    assert struct is not None and struct.get("TYPE") == "physical"
    assert [f.get("FILEID") for f in struct.iter(f"{M}fptr")] == [item.get("ID")]


@pytest.mark.parametrize("stem", STEMS)
def test_mets_filesec_checksums_equal_the_manifests(built_collection: Path, stem: str) -> None:
    bag = built_collection / stem
    listed = file_checksums((bag / "metadata" / "mets.xml").read_bytes(), "mets.xml")
    assert listed == {
        path: ("sha256", digest) for path, digest in manifest(bag, "manifest-sha256.txt").items()
    }
    # the other digest is in the PREMIS file object that METS wraps
    root = etree.parse(str(bag / "metadata" / "mets.xml")).getroot()
    digests = {
        f.findtext(f"{P}messageDigestAlgorithm"): f.findtext(f"{P}messageDigest")
        for f in root.iter(f"{P}fixity")
    }
    assert digests["SHA-512"] == manifest(bag, "manifest-sha512.txt")[f"data/{stem}.txt"]


def test_mets_and_tag_files_are_in_the_tag_manifests(built_collection: Path) -> None:
    bag = built_collection / STEMS[0]
    for algorithm in ("sha256", "sha512"):
        assert "metadata/mets.xml" in manifest(bag, f"tagmanifest-{algorithm}.txt")
    bagit.Bag(str(bag)).validate()


def test_render_tree_needs_the_three_premis_objects(built_collection: Path) -> None:
    bag = built_collection / STEMS[0]
    dc = etree.parse(str(bag / "metadata" / "dc.xml")).getroot()
    premis = etree.parse(str(bag / "metadata" / "premis.xml")).getroot()
    for obj in premis.findall(f"{P}object"):
        if obj.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "premis:representation":
            premis.remove(obj)
    header = MetsHeader("2026-01-02T03:04:05Z", "Org", "c", "archiver", "0", "T", "b")
    with pytest.raises(MetadataError, match="no representation object"):
        render_tree(header, dc, premis, [])


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<x/>", "the root element is not mets:mets"),
        (b"<mets", "not well-formed XML"),
        (
            b'<mets xmlns="http://www.loc.gov/METS/"><file ID="f" CHECKSUM="a"/></mets>',
            "fileSec file f lacks FLocat, CHECKSUM or type",
        ),
    ],
)
def test_file_checksums_rejects(xml: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        file_checksums(xml, "mets.xml")


# -- archiver validate checks METS ------------------------------------------------------


def findings(bag: Path) -> list[tuple[str, str, str]]:
    report = validate_bag(bag, checkers=default_checkers())
    return [(str(f.kind), f.path, f.message) for f in report.findings]


def test_validate_accepts_the_built_bag(bag_copy: Path) -> None:
    assert findings(bag_copy) == []


def test_validate_reports_a_filesec_checksum_that_differs_from_the_manifest(
    bag_copy: Path,
) -> None:
    mets = bag_copy / "metadata" / "mets.xml"
    digest = manifest(bag_copy, "manifest-sha256.txt")[f"data/{STEMS[0]}.txt"]
    mets.write_bytes(mets.read_bytes().replace(digest.encode(), b"0" * 64))
    rewrite_tag_manifests(bag_copy)
    report = validate_bag(bag_copy, checkers=default_checkers())
    (finding,) = report.findings
    assert (finding.kind, finding.path) == (Kind.INVALID_METADATA, "metadata/mets.xml")
    assert (finding.algorithm, finding.expected, finding.found) == ("sha256", digest, "0" * 64)
    assert "differs from manifest-sha256.txt" in finding.message


def test_validate_reports_a_payload_file_missing_from_the_filesec(bag_copy: Path) -> None:
    mets = bag_copy / "metadata" / "mets.xml"
    name = f"data/{STEMS[0]}.txt".encode()
    mets.write_bytes(mets.read_bytes().replace(b'xlink:href="' + name, b'xlink:href="data/x.txt'))
    rewrite_tag_manifests(bag_copy)
    messages = [m for kind, path, m in findings(bag_copy) if kind == "invalid-metadata"]
    assert any("missing from the METS fileSec" in m for m in messages)
    assert any("data/x.txt: in the METS fileSec but not in the payload" in m for m in messages)


def test_validate_reports_invalid_mets(bag_copy: Path) -> None:
    mets = bag_copy / "metadata" / "mets.xml"
    mets.write_bytes(mets.read_bytes().replace(b'TYPE="physical"', b'TYPE="physical" BOGUS="1"'))
    rewrite_tag_manifests(bag_copy)
    (found,) = findings(bag_copy)
    assert found[:2] == ("invalid-metadata", "metadata/mets.xml")


def test_validate_requires_mets(bag_copy: Path) -> None:
    (bag_copy / "metadata" / "mets.xml").unlink()
    for algorithm in ("sha256", "sha512"):
        path = bag_copy / f"tagmanifest-{algorithm}.txt"
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(line for line in lines if "mets.xml" not in line))
    assert ("profile-violation", "metadata/mets.xml") in [f[:2] for f in findings(bag_copy)]


# -- identifiers ------------------------------------------------------------------------


def minted(bag: Path) -> set[str]:
    """Identifiers a build mints for a bag: PREMIS package, events, rights; METS IDs."""
    premis = etree.parse(str(bag / "metadata" / "premis.xml")).getroot()
    values = {
        e.text or ""
        for name in ("eventIdentifierValue", "rightsStatementIdentifierValue")
        for e in premis.iter(f"{P}{name}")
    }
    for obj in premis.iter(f"{P}object"):
        if obj.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "premis:representation":
            values.add(obj.findtext(f"{P}objectIdentifier/{P}objectIdentifierValue") or "")
    mets = etree.parse(str(bag / "metadata" / "mets.xml")).getroot()
    values |= {e.get("ID") or "" for e in mets.iter() if e.get("ID")}
    return values


def test_identifiers_unique_across_bags(built_collection: Path) -> None:
    seen: dict[str, str] = {}
    for stem in STEMS:
        for value in minted(built_collection / stem):
            assert value not in seen, f"{value} in {stem} and {seen.get(value)}"
            seen[value] = stem
    assert len(seen) > 5 * 20


def test_identifiers_change_after_a_catalog_edit_and_rebuild(
    collection_copy: Path, source_tree: Callable[..., Path]
) -> None:
    stem = STEMS[0]
    before = minted(collection_copy / stem)
    built_before = collection_copy.parent / "before"
    shutil.copytree(collection_copy / stem, built_before)
    rows = list(csv.reader(io.StringIO((SOURCES / "metadata.csv").read_text("utf-8"))))
    rows[1][rows[0].index("dc.description")] += " Edited."
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    sources = source_tree(out.getvalue())
    report = build_collection(
        config=load_config(ROOT / "archive.toml"),
        catalog_path=sources / "metadata.csv",
        out_dir=collection_copy,
        clock=fixed_clock,  # the same time: only the catalog differs
        replace=True,
    )
    statuses = {o.source: o.status for o in report.outcomes}
    assert statuses[SEED_NAMES[0]] == "replaced"
    after = minted(collection_copy / stem)
    # the file did not change: its PREMIS and METS identifiers stay (metsrw takes the METS
    # file id as the file's identity); everything minted for the package is new
    files = file_uuids(collection_copy / stem)
    assert files and files == file_uuids(built_before)
    kept = {i for i in before & after if not any(f in i for f in files)}
    assert kept == set()
    assert {i for i in before if any(f in i for f in files)} <= after
    for other in STEMS[1:]:  # unchanged bags keep their identifiers
        assert statuses[f"{other}.txt"] == "unchanged"


def file_uuids(bag: Path) -> set[str]:
    """The identifiers of the PREMIS file objects of a bag."""
    premis = etree.parse(str(bag / "metadata" / "premis.xml")).getroot()
    return {
        obj.findtext(f"{P}objectIdentifier/{P}objectIdentifierValue") or ""
        for obj in premis.iter(f"{P}object")
        if obj.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "premis:file"
    }


def bag_info(bag: Path) -> dict[str, list[str]]:
    """bag-info.txt's values by label, as archiver's tag-file parser reads them."""
    tags, _ = parse_bag_info(split_lines((bag / "bag-info.txt").read_text("utf-8")))
    grouped: dict[str, list[str]] = {}
    for label, value in tags:
        grouped.setdefault(label, []).append(value)
    return grouped


def test_intellectual_entity_is_one_identifier_everywhere(built_collection: Path) -> None:
    for stem in STEMS:
        bag = built_collection / stem
        info = bag_info(bag)
        dc = etree.parse(str(bag / "metadata" / "dc.xml")).getroot()
        premis = etree.parse(str(bag / "metadata" / "premis.xml")).getroot()
        entity = premis.find(f"{P}object/{P}objectIdentifier/{P}objectIdentifierValue")
        mets = etree.parse(str(bag / "metadata" / "mets.xml")).getroot()
        assert {
            info["External-Identifier"][0],
            dc.findtext("{http://purl.org/dc/elements/1.1/}identifier"),
            entity.text if entity is not None else None,
            mets.get("OBJID"),
        } == {stem}


# -- the ledger's export joins the bag's PREMIS ----------------------------------------


def test_ledger_premis_shares_agent_and_object_identifiers(
    collection_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    assert main(["audit", str(collection_copy), "--ledger", str(ledger)]) == 0
    bag = collection_copy / STEMS[0]
    out = tmp_path / "events.xml"
    assert main(["ledger", "premis", str(bag), "--ledger", str(ledger), "--out", str(out)]) == 0
    capsys.readouterr()
    exported = etree.parse(str(out)).getroot()
    own = etree.parse(str(bag / "metadata" / "premis.xml")).getroot()

    def objects(root: etree._Element) -> dict[str, str]:
        return {
            o.findtext(f"{P}objectIdentifier/{P}objectIdentifierValue") or "": o.get(
                "{http://www.w3.org/2001/XMLSchema-instance}type", ""
            )
            for o in root.iter(f"{P}object")
        }

    def agents(root: etree._Element) -> set[str]:
        return {a.findtext(f"{P}agentIdentifier/{P}agentIdentifierValue") or "" for a in
                root.iter(f"{P}agent")}  # fmt: skip

    own_objects, exported_objects = objects(own), objects(exported)
    assert exported_objects.items() <= own_objects.items()
    assert set(exported_objects.values()) == {
        "premis:intellectualEntity",
        "premis:representation",
    }
    assert agents(exported) <= agents(own) and agents(exported)
    (fixity,) = exported.iter(f"{P}event")
    linked = fixity.findtext(f"{P}linkingObjectIdentifier/{P}linkingObjectIdentifierValue")
    assert own_objects[linked or ""] == "premis:representation"
    assert errors_xmlschema(out, CATALOG) == [] and errors_lxml(out, CATALOG) == []


# -- Bag-Size --------------------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_bag_size_is_the_whole_bag(built_collection: Path, stem: str) -> None:
    bag = built_collection / stem
    total = sum(p.stat().st_size for p in bag.rglob("*") if p.is_file())
    info = bag_info(bag)
    assert info["Bag-Size"] == [bag_size(total)]
    tag_manifests = sum((bag / f"tagmanifest-{a}.txt").stat().st_size for a in ("sha256", "sha512"))
    assert bag_size(total - tag_manifests) != bag_size(total)  # they are counted


def test_profile_requires_mets() -> None:
    import json

    profile = json.loads((ROOT / "schemas" / "bagit-profile.json").read_text())
    assert "metadata/mets.xml" in profile["Tag-Files-Required"]


def test_outside_helpers_do_not_import_archiver() -> None:
    text = (Path(__file__).parent / "xml_outside.py").read_text()
    assert "archiver" not in re.sub(r'""".*?"""', "", text, flags=re.S)


def test_ocfl_object_id_is_the_intellectual_entity(bag_copy: Path, tmp_path: Path) -> None:
    import json
    from datetime import UTC, datetime

    from archiver.deposit import deposit_bag
    from archiver.deposit.records import parse_target

    root = tmp_path / "ocfl-root"
    result = deposit_bag(
        bag_copy,
        parse_target(f"ocfl://{root}"),
        now=datetime(2026, 1, 3, tzinfo=UTC),
        environ={},
        settings={},
    )
    premis = json.loads((bag_copy / "metadata" / "premis.json").read_text())
    entity = premis["intellectualEntity"]["identifier"]["value"]
    ids = {json.loads(path.read_text())["id"] for path in root.rglob("inventory.json")}
    assert ids == {entity} and result.identifier == entity


def test_capture_columns_reach_premis_dc_and_mets(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SOURCES, sources)
    rows = list(csv.reader(io.StringIO((SOURCES / "metadata.csv").read_text("utf-8"))))
    rows[0] += ["premis.captureSource", "premis.captureDate", "premis.captureAgent"]
    rows[1] += ["https://example.org/statement?id=1", "2011-12-21", "Collections Archivist"]
    for row in rows[2:]:
        row += ["", "", ""]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (sources / "metadata.csv").write_text(out.getvalue(), encoding="utf-8")
    bags = tmp_path / "bags"
    report = build_collection(
        config=load_config(ROOT / "archive.toml"),
        catalog_path=sources / "metadata.csv",
        out_dir=bags,
        clock=fixed_clock,
        sources=[sources / SEED_NAMES[0]],
    )
    assert not report.failed, report.failed
    bag = bags / STEMS[0]
    for record in RECORDS:
        assert errors_xmlschema(bag / record, CATALOG) == []
        assert errors_lxml(bag / record, CATALOG) == []
    dc = etree.parse(str(bag / "metadata" / "dc.xml")).getroot()
    source = dc.find("{http://purl.org/dc/terms/}source")
    assert source is not None and source.text == "https://example.org/statement?id=1"
    mets = (bag / "metadata" / "mets.xml").read_bytes()
    assert b'valueURI="http://id.loc.gov/vocabulary/preservation/eventType/cap"' in mets
    assert b"<premis:eventDateTime>2011-12-21</premis:eventDateTime>" in mets
    assert b"<premis:agentName>Collections Archivist</premis:agentName>" in mets
    assert findings(bag) == []
