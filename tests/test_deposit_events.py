"""Tests for archiver.deposit.events: deposit results as ledger (PREMIS) events."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.deposit.events import deposit_event, failure_event, verification_event
from archiver.deposit.records import DepositResult, DepositStatus, parse_target
from archiver.ledger.store import check_event
from archiver.model.findings import Finding, Kind

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def result(status: DepositStatus, event_type: str = "replication") -> DepositResult:
    return DepositResult(
        bag="bags/one",
        identifier="urn:one",
        target="ocfl:///srv/root",
        location="file:///srv/root/x#v2",
        status=status,
        event_type=event_type,
        time=NOW,
        version="v2",
        digests={"sha256": "abc"},
        detail="OCFL object urn:one v2",
    )


@pytest.mark.parametrize(
    "status", [DepositStatus.DEPOSITED, DepositStatus.NEW_VERSION, DepositStatus.UPDATED]
)
def test_deposit_event(status: DepositStatus) -> None:
    event = deposit_event(result(status))
    assert event is not None
    check_event(event)  # the ledger accepts it (known type, outcome, aware time)
    assert event.event_type == "replication"
    assert event.bag == os.path.abspath("bags/one")
    assert event.target == "ocfl:///srv/root"
    assert event.outcome == "success"
    assert "file:///srv/root/x#v2" in event.outcome_detail
    assert "sha256 abc" in event.outcome_detail
    assert event.date_time == "2026-01-02T03:04:05+00:00"


def test_unchanged_records_nothing() -> None:
    assert deposit_event(result(DepositStatus.UNCHANGED)) is None


@pytest.mark.parametrize(
    ("uri", "event_type"), [("s3://b/p", "transfer"), ("file:///x", "replication")]
)
def test_failure_event(uri: str, event_type: str) -> None:
    event = failure_event(Path("bags/one"), parse_target(uri), NOW, "could not connect")
    check_event(event)
    assert (event.event_type, event.outcome, event.target) == (event_type, "failure", uri)
    assert event.outcome_detail == "could not connect"


def test_verification_event() -> None:
    target = parse_target("s3://b/p")
    ok = verification_event(Path("bags/one"), target, NOW, [])
    check_event(ok)
    assert (ok.event_type, ok.outcome) == ("fixity check", "success")
    bad = verification_event(
        Path("bags/one"),
        target,
        NOW,
        [
            Finding(
                kind=Kind.CHECKSUM_MISMATCH, bag="one", path="s3://b/p/one.tar", message="differs"
            )
        ],
    )
    check_event(bad)
    assert bad.outcome == "failure"
    assert "checksum-mismatch s3://b/p/one.tar" in bad.outcome_detail


def test_superseded_verification_is_a_success() -> None:
    event = verification_event(
        Path("bags/one"), parse_target("ocfl:///r"), NOW, [], "held as v1, head is v2"
    )
    check_event(event)
    assert event.outcome == "success"
    assert "superseded: held as v1, head is v2" in event.outcome_detail
