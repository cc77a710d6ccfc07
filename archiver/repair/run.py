"""A repair run over several bags: which replicas, and the run as the ledger records it.

Replicas: the ``--from`` list in the order given, else the targets of the bag's
successful deposit events in the ledger (newest first). The identifiers an OCFL root
may file the bag under: bag-info's External-Identifier, those the deposit events name,
and the bag's directory name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from archiver.adapters.runtime import versions
from archiver.ledger.store import Ledger
from archiver.model.findings import BagReport
from archiver.model.records import LedgerEvent, RecordedEvent
from archiver.model.reports import AuditReport, AuditTotals
from archiver.repair.events import repair_events
from archiver.repair.plan import BagRepair
from archiver.repair.replicas import Replica, parse_replica, replica_uris
from archiver.repair.workflow import repair_bag

DEPOSIT_EVENT_TYPES = frozenset({"replication", "transfer"})
_DEPOSIT_OF = re.compile(r"^deposit of (.+?): ")


def deposit_targets(events: Sequence[RecordedEvent]) -> tuple[list[str], list[str]]:
    """From a bag's recorded events: its deposit targets (newest first) and identifiers."""
    deposits = [e.event for e in events if e.event.event_type in DEPOSIT_EVENT_TYPES]
    targets = replica_uris([(e.target, e.outcome) for e in deposits])
    identifiers = [m.group(1) for e in reversed(deposits) if (m := _DEPOSIT_OF.match(e.detail))]
    return targets, list(dict.fromkeys(identifiers))


def choose_replicas(
    given: Sequence[str],
    events: Sequence[RecordedEvent],
    *,
    settings: Mapping[str, object],
    environ: Mapping[str, str],
) -> tuple[list[Replica], list[str]]:
    """The replicas to try for one bag, and the identifiers its deposits used."""
    targets, identifiers = deposit_targets(events)
    specs = list(given) if given else targets
    return [parse_replica(s, settings=settings, environ=environ) for s in specs], identifiers


def outcome_report(repair: BagRepair) -> BagReport:
    """The bag's outcome to record: after the repair, else as found."""
    return repair.after if repair.after is not None else repair.before


def run_report(
    run_id: str,
    started: str,
    ended: str,
    roots: Sequence[str],
    reports: Sequence[BagReport],
    seconds: float = 0.0,
) -> AuditReport:
    """An audit-shaped report of the final state of every bag (what the ledger records)."""
    ordered = tuple(sorted(reports, key=lambda r: r.bag))
    return AuditReport(
        run_id=run_id,
        started=started,
        ended=ended,
        mode="full",
        roots=tuple(roots),
        versions=versions(),
        bags=ordered,
        totals=AuditTotals.of(ordered, seconds),
    )


def run_events(repairs: Sequence[BagRepair]) -> list[LedgerEvent]:
    """Every repair's events, bag by bag."""
    return [event for repair in repairs for event in repair_events(repair)]


def repair_bags(
    bags: Sequence[Path],
    *,
    ledger: Ledger | None,
    given: Sequence[str],
    settings: Mapping[str, object],
    environ: Mapping[str, str],
    run_id: str,
    clock: Callable[[], datetime],
    dry_run: bool = False,
    before: Mapping[str, BagReport] | None = None,
) -> list[BagRepair]:
    """Repair each bag from its replicas (``given``, else its recorded deposits).

    ``ledger`` supplies each bag's tag-manifest record and deposits (None: neither);
    ``before``: reports of a just-finished audit, by absolute bag path.
    """
    repairs: list[BagRepair] = []
    for bag in bags:
        key = os.path.abspath(bag)
        record = ledger.tag_manifest_record(key) if ledger is not None else None
        events = ledger.events(key) if ledger is not None else []
        replicas, identifiers = choose_replicas(given, events, settings=settings, environ=environ)
        repairs.append(
            repair_bag(
                bag,
                replicas,
                record,
                run_id=run_id,
                clock=clock,
                dry_run=dry_run,
                identifiers=identifiers,
                before=(before or {}).get(key),
            )
        )
    return repairs
