"""Deposits as ledger events, which ``archiver ledger premis`` turns into PREMIS events.

Pure: builds ``archiver.ledger.store.LedgerEvent`` records from deposit results. The PREMIS
event type is "replication" for a bag copied as it is (OCFL root, directory) and
"transfer" for a serialized bag sent to an S3 store; a deposit that failed after it
started is recorded with outcome "failure"; re-verification (``deposit --verify``) is a
"fixity check" of the deposited copy. An unchanged bag (a no-op) records nothing, unless
the ledger lacks the event of the copy the target holds (a run killed after storing it
and before recording): then ``reconciled_event`` records it, so the ledger ends with
exactly one event per stored copy (``is_recorded`` tells, by target, location and
digests). Each
event names the target URI in ``target`` (the PREMIS export appends it to the detail)
and the exact location (object version, key or path) in the outcome detail.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from archiver.deposit.records import DepositResult, DepositStatus, Target
from archiver.ledger.store import LedgerEvent
from archiver.model.findings import Finding

FIXITY_CHECK = "fixity check"
EVENT_TYPES = {"ocfl": "replication", "file": "replication", "s3": "transfer"}


def bag_key(bag: Path | str) -> str:
    """The bag as the ledger names it: its absolute path (as audit records it)."""
    return os.path.abspath(bag)


def deposit_event(result: DepositResult) -> LedgerEvent | None:
    """The event for a deposit that did something; None for an unchanged bag."""
    if result.status is DepositStatus.UNCHANGED:
        return None
    digests = ", ".join(f"{alg} {value}" for alg, value in sorted(result.digests.items()))
    version = f" version {result.version}" if result.version else ""
    outcome_detail = f"{result.status}{version} at {result.location}; verified after transfer"
    if digests:
        outcome_detail += f" ({digests})"
    return LedgerEvent(
        event_type=result.event_type,
        bag=bag_key(result.bag),
        date_time=result.time.isoformat(),
        outcome="success",
        detail=f"deposit of {result.identifier}: {result.detail}",
        outcome_detail=outcome_detail,
        target=result.target,
    )


def _digest_text(result: DepositResult) -> str:
    return ", ".join(f"{alg} {value}" for alg, value in sorted(result.digests.items()))


def is_recorded(result: DepositResult, recorded: Iterable[LedgerEvent]) -> bool:
    """True when ``recorded`` (the bag's ledger events) holds a successful deposit event of
    the copy ``result`` found: same type and target, its location and digests."""
    digests = [f"{alg} {value}" for alg, value in sorted(result.digests.items())]
    return any(
        event.outcome == "success"
        and event.event_type == result.event_type
        and event.target == result.target
        and result.location in event.outcome_detail
        and all(d in event.outcome_detail for d in digests)
        for event in recorded
    )


def reconciled_event(result: DepositResult) -> LedgerEvent:
    """The event of a copy found at the target (``unchanged``) that the ledger lacks:
    recorded late, saying so."""
    version = f" version {result.version}" if result.version else ""
    outcome_detail = (
        f"stored{version} at {result.location}; found intact at the target without its "
        "event (an earlier run was interrupted), recorded on re-run"
    )
    digests = _digest_text(result)
    if digests:
        outcome_detail += f" ({digests})"
    return LedgerEvent(
        event_type=result.event_type,
        bag=bag_key(result.bag),
        date_time=result.time.isoformat(),
        outcome="success",
        detail=f"deposit of {result.identifier}: {result.detail}",
        outcome_detail=outcome_detail,
        target=result.target,
    )


def failure_event(bag: Path, target: Target, now: datetime, message: str) -> LedgerEvent:
    """The event for a deposit that started and failed (nothing complete was left)."""
    return LedgerEvent(
        event_type=EVENT_TYPES[target.scheme],
        bag=bag_key(bag),
        date_time=now.isoformat(),
        outcome="failure",
        detail="deposit",
        outcome_detail=message,
        target=target.uri,
    )


def verification_event(
    bag: Path, target: Target, now: datetime, findings: Sequence[Finding], superseded: str = ""
) -> LedgerEvent:
    """The fixity check of a deposited copy: success, or failure naming the first problem.

    ``superseded`` (no findings): the bag is an older version of an intact OCFL object.
    """
    if findings:
        first = findings[0]
        outcome_detail = f"{len(findings)} problem(s); first: {first.kind} {first.path}: "
        outcome_detail += first.message
    elif superseded:
        outcome_detail = f"the deposited object holds the bag, superseded: {superseded}"
    else:
        outcome_detail = "the deposited copy matches the bag"
    return LedgerEvent(
        event_type=FIXITY_CHECK,
        bag=bag_key(bag),
        date_time=now.isoformat(),
        outcome="failure" if findings else "success",
        detail="re-verification of the deposited copy",
        outcome_detail=outcome_detail,
        target=target.uri,
    )
