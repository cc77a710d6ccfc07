"""archiver.metadata.ingest: the PREMIS description of one ingest."""

from __future__ import annotations

import hashlib

from conftest import ROOT

from archiver.build.characterize import FormatMatch, TextProfile
from archiver.config import load_config
from archiver.metadata.dublin_core import DublinCoreRecord
from archiver.metadata.ingest import Ingest, agents_for, current_toolset, describe_ingest
from archiver.metadata.premis import EVENT_TYPES, render_xml
from archiver.metadata.validation import SchemaSet

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
        payload_path="data/s.txt",
        size=len(data),
        digests={
            "sha256": hashlib.sha256(data).hexdigest(),
            "sha512": hashlib.sha512(data).hexdigest(),
        },
        text=text,
        format=fmt,
        dc=DublinCoreRecord("s.txt", (("dc.title", ("T",)),)),
        time="2026-01-02T03:04:05+00:00",
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
    assert a.entity.identifier != c.entity.identifier


def test_doubtful_characterization_is_a_warning_not_a_success() -> None:
    record = describe_ingest(ingest(text=BINARY, fmt=NONE), CONFIG, AGENTS)
    outcomes = {e.event_type: e.outcome for e in record.events}
    assert outcomes["format identification"] == "warning"
    assert outcomes["validation"] == "warning"
    assert outcomes["ingestion"] == "success"


def test_agents_name_the_libraries_and_the_organization() -> None:
    names = {a.identifier: (a.agent_type, a.version) for a in AGENTS}
    assert names["fido"] == ("software", "1.6.1 (PRONOM signatures v109)")
    assert names["bagit-python"] == ("software", "1.9.0")
    assert names[CONFIG.organization_id][0] == "organization"
    assert names["archiver"][1]
