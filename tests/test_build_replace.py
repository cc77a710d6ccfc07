"""Corrections are a workflow: `build --replace` records the bags it replaced in the ledger
(a run of kind "replace", an event per bag, in the hash chain) as the audit's new reference,
so the next audit is clean; a payload substituted by hand is still tag-manifest-changed."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import bagit
import pytest

import archiver.cli as cli
from archiver.ledger.store import Ledger, default_ledger_path

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-item collection (archive.toml, sources/, the catalog), the working folder."""
    shutil.copyfile(ROOT / "archive.toml", tmp_path / "archive.toml")
    sources = tmp_path / "sources"
    sources.mkdir()
    with open(ROOT / "sources" / "metadata.csv", newline="", encoding="utf-8") as f:
        header, first = list(csv.reader(f))[:2]
    shutil.copyfile(ROOT / "sources" / first[0], sources / first[0])
    _write_catalog(sources, header, first)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767323045")
    return tmp_path


def _write_catalog(sources: Path, header: list[str], row: list[str]) -> None:
    with open(sources / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, row])


def _retitle(collection: Path, title: str) -> None:
    catalog = collection / "sources" / "metadata.csv"
    with open(catalog, newline="", encoding="utf-8") as f:
        header, row = list(csv.reader(f))
    row[header.index("dc.title")] = title
    _write_catalog(collection / "sources", header, row)


def _bag(collection: Path) -> Path:
    [bag] = (collection / "bags").iterdir()
    return bag


def test_a_catalog_fix_rebuilt_with_replace_audits_clean(
    collection: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build"]) == 0
    assert cli.main(["audit", "bags", "--workers", "1"]) == 0
    _retitle(collection, "A corrected title")
    assert cli.main(["build"]) == 2  # a changed row is refused without --replace
    capsys.readouterr()
    assert cli.main(["build", "--replace"]) == 0
    out = capsys.readouterr().out
    assert "1 replaced" in out and "recorded as the audit's reference" in out
    bag = _bag(collection)
    assert "A corrected title" in (bag / "metadata" / "dc.json").read_text(encoding="utf-8")
    assert cli.main(["audit", "bags", "--workers", "1"]) == 0, capsys.readouterr().out
    ledger_path = default_ledger_path([collection / "bags"])
    with Ledger.open(ledger_path, readonly=True) as ledger:
        assert [r.kind for r in ledger.runs()] == ["audit", "replace", "audit"]
        [event] = [e for e in ledger.events(str(bag)) if e.run_id == ledger.runs()[1].run_id]
        assert event.event.event_type == "information package creation"
        assert event.event.outcome == "success"
        assert ledger.verify() == []  # the replacement is in the hash chain


def test_a_payload_substituted_by_hand_is_still_caught(
    collection: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build"]) == 0
    assert cli.main(["audit", "bags", "--workers", "1"]) == 0
    bag = _bag(collection)
    [payload] = (bag / "data").iterdir()
    payload.write_bytes(b"a different statement\n")
    bagit.Bag(str(bag)).save(manifests=True)  # manifests and tag manifests regenerated
    capsys.readouterr()
    assert cli.main(["audit", "bags", "--workers", "1", "--json", "-"]) == 1
    report = json.loads(capsys.readouterr().out)
    kinds = {p["kind"] for b in report["bags"] for p in b["problems"]}
    assert "tag-manifest-changed" in kinds
    messages = [p["message"] for b in report["bags"] for p in b["problems"]]
    assert any("--accept BAG" in m and "build --replace" in m for m in messages)
    assert cli.main(["audit", "bags", "--workers", "1"]) == 1  # and the summary says how
    assert f"--accept {bag}" in " ".join(capsys.readouterr().out.split())


def test_replace_with_no_ledger_yet_records_nothing(
    collection: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build"]) == 0
    _retitle(collection, "Another title")
    capsys.readouterr()
    assert cli.main(["build", "--replace", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["replace_run"] is None
    assert not Path(document["ledger"]).exists()


P = "{http://www.loc.gov/premis/v3}"


def _package(bag: Path) -> str:
    record = json.loads((bag / "metadata" / "premis.json").read_text(encoding="utf-8"))
    return str(record["package"]["identifier"]["value"])


def test_a_rebuild_carries_the_history_forward_and_the_ledger_keeps_each_audits_package(
    collection: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lxml import etree

    assert cli.main(["build"]) == 0
    bag = _bag(collection)
    first, first_premis = _package(bag), (bag / "metadata" / "premis.xml").read_bytes()
    assert cli.main(["audit", "bags", "--workers", "1"]) == 0
    _retitle(collection, "A corrected title")
    assert cli.main(["build", "--replace"]) == 0
    second = _package(bag)
    assert second != first
    # the earlier package's record, every event of it, is kept byte for byte
    kept = bag / "metadata" / "history" / f"premis-{first}.xml"
    assert kept.read_bytes() == first_premis
    premis = etree.parse(str(bag / "metadata" / "premis.xml")).getroot()
    relations = [
        (r.findtext(f"{P}relationshipType"), r.findtext(f"{P}relationshipSubType"),
         r.findtext(f"{P}relatedObjectIdentifier/{P}relatedObjectIdentifierValue"))
        for r in premis.iter(f"{P}relationship")
    ]  # fmt: skip
    assert ("derivation", "has source", first) in relations
    modified = [
        e
        for e in premis.iter(f"{P}event")
        if e.findtext(f"{P}eventType") == "metadata modification"
    ]
    assert len(modified) == 1 and first in (
        modified[0].findtext(f"{P}eventDetailInformation/{P}eventDetail") or ""
    )
    assert cli.main(["validate", str(bag)]) == 0
    bagit.Bag(str(bag)).validate()
    assert cli.main(["audit", "bags", "--workers", "1"]) == 0
    # a second correction carries both earlier records
    _retitle(collection, "A title corrected twice")
    assert cli.main(["build", "--replace"]) == 0
    third = _package(bag)
    assert sorted(p.name for p in (bag / "metadata" / "history").iterdir()) == sorted(
        [f"premis-{first}.xml", f"premis-{second}.xml"]
    )
    # each audit stays with the package it checked
    capsys.readouterr()
    assert cli.main(["ledger", "premis", str(bag), "--root", "bags"]) == 0
    exported = etree.fromstring(capsys.readouterr().out.encode())
    checked = [
        e.findtext(f"{P}linkingObjectIdentifier/{P}linkingObjectIdentifierValue")
        for e in exported.iter(f"{P}event")
        if e.findtext(f"{P}eventType") == "fixity check"
    ]
    assert checked[:2] == [first, second], checked
    assert third not in checked[:2]
