"""Tests for archiver.ledger.premis_export: recorded checks and events as PREMIS (pure)."""

from __future__ import annotations

import pytest
from lxml import etree

from archiver.ledger.premis_export import check_event, premis_document, premis_events
from archiver.model.errors import LedgerError
from archiver.model.findings import Finding, Kind
from archiver.model.records import BagOutcome, LedgerEvent, RecordedEvent

PREMIS = "{http://www.loc.gov/premis/v3}"
VERSIONS = {"r1": {"archiver": "1.2"}, "r2": {"archiver": "1.3"}}


def outcome(mode: str, status: str = "valid", findings: tuple[Finding, ...] = ()) -> BagOutcome:
    return BagOutcome(
        seq=1,
        run_id="r1",
        bag="/c/a",
        status=status,
        files=3,
        bytes=40,
        findings=findings,
        checked="2026-01-02T00:00:00+00:00",
        mode=mode,
        hash="a" * 64,
    )


REPLICATION = RecordedEvent(
    seq=2,
    run_id="r2",
    event=LedgerEvent(
        "replication",
        "/c/a",
        "2026-01-03T00:00:00+00:00",
        "success",
        "deposited",
        target="ocfl:///r",
        identifier="urn:uuid:1",
    ),
    hash="b" * 64,
)


def test_only_full_audits_are_fixity_checks() -> None:
    mismatch = Finding(
        Kind.CHECKSUM_MISMATCH,
        "/c/a",
        "data/x",
        "differs",
        algorithm="sha256",
        expected="1",
        found="2",
    )
    history = [outcome("fast"), outcome("full", "invalid", (mismatch,))]
    events, agents = premis_events("urn:x", history, [REPLICATION], VERSIONS)
    assert [(e.event_type, e.outcome) for e in events] == [
        ("fixity check", "failure"),
        ("replication", "success"),
    ]
    assert events[0].outcome_detail == "checksum-mismatch data/x (sha256 expected 1, found 2)"
    assert events[1].detail == "deposited to ocfl:///r (archiver run r2)"
    assert [a.identifier for a in agents] == ["archiver-1.2", "archiver-1.3"]
    assert all(e.objects == (("urn:x", "source"),) for e in events)


def test_premis_document() -> None:
    assert premis_document("urn:x", [outcome("fast")], [], VERSIONS) is None
    document = premis_document("urn:x", [outcome("full")], [], VERSIONS)
    assert document is not None
    root = etree.fromstring(document)
    assert [e.text for e in root.iter(f"{PREMIS}eventType")] == ["fixity check"]


BAD_EVENTS = pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            LedgerEvent("deposit", "/c/a", "2026-01-01T00:00:00+00:00", "success", "x"),
            "event 'deposit' for /c/a: unknown event type",
        ),
        (
            LedgerEvent("replication", "/c/a", "2026-01-01T00:00:00+00:00", "ok", "x"),
            "outcome 'ok' is not one of failure, success, warning",
        ),
        (
            LedgerEvent("replication", "/c/a", "2026-01-01T00:00:00", "success", "x"),
            "date_time '2026-01-01T00:00:00' has no timezone",
        ),
        (
            LedgerEvent("transfer", "/c/a", "yesterday", "success", "x"),
            "date_time 'yesterday' is not ISO 8601",
        ),
    ],
    ids=["unknown-type", "unknown-outcome", "naive-time", "not-a-time"],
)


@BAD_EVENTS
def test_check_event_refuses(event: LedgerEvent, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        check_event(event)


def test_check_event_accepts() -> None:
    check_event(REPLICATION.event)
