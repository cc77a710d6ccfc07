"""archiver.metadata.ingest: the PREMIS description of one ingest."""

from __future__ import annotations

import dataclasses
import hashlib
from importlib.metadata import version

import pytest
from conftest import ROOT

from archiver.config import load_config
from archiver.metadata.dublin_core import Capture, DublinCoreRecord
from archiver.metadata.ingest import (
    Ingest,
    IngestFile,
    agents_for,
    archiver_agent_id,
    catalog_facts,
    catalog_facts_from_premis,
    current_toolset,
    describe_ingest,
)
from archiver.metadata.premis import EVENT_TYPES, render_xml
from archiver.metadata.validation import SchemaSet
from archiver.model.errors import MetadataError
from archiver.model.formats import FormatMatch, TextProfile

CONFIG = load_config(ROOT / "archive.toml")
TEXT = TextProfile(valid_utf8=True, bom=False, has_nul=False, crlf=0, lf=3, cr=0)
BINARY = TextProfile(valid_utf8=False, bom=False, has_nul=True, crlf=0, lf=0, cr=0)
PLAIN = FormatMatch(
    "x-fmt/111", "Plain Text File", None, "text/plain", "extension+text", ("x-fmt/111", "fmt/1085")
)
NONE = FormatMatch(None, "unknown", None, None, "none")


def ingest(
    data: bytes = b"one\ntwo\nthree\n", text: TextProfile = TEXT, fmt: FormatMatch = PLAIN
) -> Ingest:
    return Ingest(
        source_name="s.txt",
        files=(
            IngestFile(
                path="data/s.txt",
                size=len(data),
                digests={
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "sha512": hashlib.sha512(data).hexdigest(),
                },
                text=text,
                format=fmt,
            ),
        ),
        dc=DublinCoreRecord("s.txt", (("dc.title", ("T",)), ("dc.identifier", ("stmt-1",)))),
        time="2026-01-02T03:04:05+00:00",
    )


def ids(record: object) -> set[str]:
    """Every identifier a record mints (package, events, rights)."""
    data = record.to_json()  # type: ignore[attr-defined]
    return (
        {data["package"]["identifier"]["value"]}
        | {e["identifier"]["value"] for e in data["events"]}
        | {r["identifier"]["value"] for r in data["rights"]}
    )


AGENTS = agents_for(CONFIG, current_toolset("1.6.1 (PRONOM signatures v109)", "1.9.0"))


def test_five_ingest_events_linked_to_agents_and_file() -> None:
    record = describe_ingest(ingest(), CONFIG, AGENTS).to_json()
    labels = [
        e["type"]["label"] if isinstance(e["type"], dict) else e["type"] for e in record["events"]
    ]
    assert sorted(labels) == sorted(
        [
            "ingestion",
            "message digest calculation",
            "format identification",
            "validation",
            "information package creation",
        ]
    )
    assert all(label in EVENT_TYPES for label in labels)
    schemas = SchemaSet()
    schemas.validate_json(record, "premis", "premis")
    schemas.validate_xml(render_xml(record), "premis", "premis.xml")


def test_identifiers_follow_content() -> None:
    a = describe_ingest(ingest(), CONFIG, AGENTS)
    b = describe_ingest(ingest(), CONFIG, AGENTS)
    c = describe_ingest(ingest(b"other\n"), CONFIG, AGENTS)
    assert a == b
    assert a.file.identifier != c.file.identifier
    assert a.entity.identifier == c.entity.identifier == "stmt-1"  # the catalog's dc.identifier
    assert not ids(a) & ids(c)


def test_event_ids_change_with_every_input_of_the_ingest() -> None:
    base = ingest()
    edited_dc = dataclasses.replace(
        base, dc=dataclasses.replace(base.dc, terms=(*base.dc.terms, ("dc.subject", ("S",))))
    )
    later = dataclasses.replace(base, time="2026-01-03T03:04:05+00:00")
    public = dataclasses.replace(
        base, dc=dataclasses.replace(base.dc, copyright_status="public domain")
    )
    records = [describe_ingest(i, CONFIG, AGENTS) for i in (base, edited_dc, later, public)]
    minted = [ids(r) for r in records]
    for i, first in enumerate(minted):
        assert len(first) == 8  # package, 5 events, 2 rights statements: all distinct
        for second in minted[i + 1 :]:
            assert not first & second
    assert {r.file.identifier for r in records} == {records[0].file.identifier}  # same bytes


def test_rights_statements() -> None:
    record = describe_ingest(ingest(), CONFIG, AGENTS).to_json()
    rights = {r["basis"]: r for r in record["rights"]}
    copyright_ = rights["copyright"]
    assert (copyright_["copyrightStatus"], copyright_["jurisdiction"]) == ("unknown", "KZ")
    assert copyright_["linkingAgents"][0]["role"] == "contact"
    policy = rights["institutional policy"]
    assert [g["act"] for g in policy["granted"]] == ["replication", "migration"]
    assert policy["linkingAgents"][0]["role"] == "assignee"
    assert policy["linkingObjects"] == [{"type": "local", "value": "stmt-1"}]
    overridden = dataclasses.replace(ingest().dc, copyright_jurisdiction="UA")
    other = describe_ingest(dataclasses.replace(ingest(), dc=overridden), CONFIG, AGENTS)
    assert {r.jurisdiction for r in other.rights} == {"UA", None}


def test_no_jurisdiction_anywhere_is_refused() -> None:
    config = dataclasses.replace(CONFIG, jurisdiction=None)
    with pytest.raises(MetadataError, match="jurisdiction '' is not an ISO 3166-1"):
        describe_ingest(ingest(), config, AGENTS)


def test_capture_becomes_an_event_with_its_agent() -> None:
    capture = Capture("2011-12-21", "https://example.org/s", "A. Volunteer", "person")
    dc = dataclasses.replace(ingest().dc, capture=capture)
    record = describe_ingest(dataclasses.replace(ingest(), dc=dc), CONFIG, AGENTS)
    data = record.to_json()
    SchemaSet().validate_json(data, "premis", "premis.json")
    first = data["events"][0]
    assert (first["type"], first["dateTime"]) == ("capture", "2011-12-21")
    assert "https://example.org/s" in first["detail"]
    agent = next(a for a in data["agents"] if a["name"] == "A. Volunteer")
    assert agent["type"] == "person"
    assert first["linkingAgents"] == [{"identifier": agent["identifier"], "role": "implementer"}]
    assert catalog_facts_from_premis(data) == catalog_facts(dc, CONFIG)
    assert catalog_facts_from_premis(describe_ingest(ingest(), CONFIG, AGENTS).to_json()) != (
        catalog_facts(dc, CONFIG)
    )


def test_doubtful_characterization_is_a_warning_not_a_success() -> None:
    record = describe_ingest(ingest(text=BINARY, fmt=NONE), CONFIG, AGENTS)
    outcomes = {e.event_type: e.outcome for e in record.events}
    assert outcomes["format identification"] == "warning"
    assert outcomes["validation"] == "warning"
    assert outcomes["ingestion"] == "success"


def test_agents_name_the_libraries_and_the_organization() -> None:
    names = {a.identifier: (a.agent_type, a.version) for a in AGENTS}
    assert names["fido-1.6.1-PRONOM-signatures-v109"] == (
        "software",
        "1.6.1 (PRONOM signatures v109)",
    )
    assert names["bagit-python-1.9.0"] == ("software", "1.9.0")
    assert names[CONFIG.organization_id][0] == "organization"
    assert names[archiver_agent_id()][1]


def test_validation_names_the_software_that_accepted_the_records() -> None:
    record = describe_ingest(ingest(), CONFIG, AGENTS)
    validation = next(e for e in record.events if e.event_type == "validation")
    validators = {agent for agent, role in validation.agents if role == "validator"}
    rs = version("jsonschema-rs")
    assert validators == {
        f"jsonschema-rs-{rs}",
        next(i for i in validators if i.startswith("lxml-")),
    }
    agent = next(a for a in record.agents if a.identifier == f"jsonschema-rs-{rs}")
    assert agent.version == rs and agent.name.startswith("jsonschema-rs")
    assert not any(a.identifier.startswith("jsonschema-") and a is not agent for a in record.agents)
