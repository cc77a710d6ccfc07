"""The ``archiver repair`` workflow: repair bags from replicas and record the run.

``repair`` picks the ledger (``archiver.config.resolve_ledger``: ``--ledger``, else
archive.toml's ``[ledger] path``, else the default of the collection holding the first bag,
as ``archiver audit`` of that folder keeps it; refused inside a bag, since nothing but the
repaired files is written there), reads the
``[deposit]`` settings the replicas need, repairs each bag
(``archiver.repair.run.repair_bags``) and, unless it is a dry run, records the run and its
events in the ledger. A dry run with no ledger file repairs without one (no record, no
recorded deposits) and creates nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.config import (
    LedgerLocation,
    deposit_settings,
    resolve_ledger,
    timestamp_settings_for,
)
from archiver.ledger.store import Ledger
from archiver.model.reports import ProgressCallback
from archiver.repair.plan import BagRepair
from archiver.storage.fileio import check_output_path
from archiver.timestamp.bags import stamper


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RepairRun:
    """What a repair run did: one ``BagRepair`` per bag, in the order given."""

    run_id: str
    dry_run: bool
    ledger: Path
    repairs: tuple[BagRepair, ...]
    stamp_failures: tuple[str, ...] = ()  # [timestamp]: why the run was recorded unstamped
    location: LedgerLocation | None = None  # how the ledger was chosen

    @property
    def ok(self) -> bool:
        """True when every bag is (or, in a dry run, would be) intact."""
        return all(r.ok for r in self.repairs)

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON-ready dict (``archiver repair --json``)."""
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "ledger": str(self.ledger),
            "status": "ok" if self.ok else "failed",
            "bags": [r.to_json() for r in self.repairs],
        }


def repair(
    bags: Sequence[Path],
    *,
    replicas: Sequence[str] = (),
    dry_run: bool = False,
    ledger_path: Path | None = None,
    config: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    clock: Callable[[], datetime] = _now,
    progress: ProgressCallback | None = None,
) -> RepairRun:
    """Repair every bag from ``replicas`` (tried in order; none given: each bag's recorded
    deposits); record the run in the ledger unless ``dry_run``.

    ``config``: archive.toml for ``[deposit.s3]`` and ``[ledger]`` (None: ``archive.toml``
    if present). ``progress`` hears (bags done, bags) after each bag.
    Raises OutputError when the ledger would be inside a bag, ConfigError for unusable
    settings, LedgerError for an unusable ledger.
    """
    from archiver.repair.run import repair_bags, run_events, run_report  # on use: replicas

    location = resolve_ledger(ledger_path, config=config, roots=[Path(bags[0]).parent])
    path = location.path
    # Nothing but the repaired files is written inside a bag: not the ledger.
    check_output_path(path, bags, what="ledger", inside_only=True)
    settings = deposit_settings(config)
    stamps = timestamp_settings_for(config)
    failures: tuple[str, ...] = ()
    run_id = str(uuid.uuid4())
    started = clock()

    def each_bag(ledger: Ledger | None) -> list[BagRepair]:
        """Every bag repaired in turn, ``progress`` told after each."""
        done: list[BagRepair] = []
        if progress is not None:
            progress(0, len(bags))
        for bag in bags:
            done += repair_bags(
                [bag],
                ledger=ledger,
                given=replicas,
                settings=settings,
                environ=environ,
                run_id=run_id,
                clock=clock,
                dry_run=dry_run,
            )
            if progress is not None:
                progress(len(done), len(bags))
        return done

    if dry_run and not path.is_file():
        repairs = each_bag(None)
    else:
        with Ledger.open(path) as ledger:
            ledger.stamp = stamper(stamps)  # the run gets a token once recorded
            repairs = each_bag(ledger)
            events = run_events(repairs)
            if not dry_run and events:
                ended = clock()
                reports = [r.after if r.after is not None else r.before for r in repairs]
                report = run_report(
                    run_id,
                    started.isoformat(),
                    ended.isoformat(),
                    [str(b) for b in bags],
                    reports,
                    (ended - started).total_seconds(),
                )
                ledger.record_run(report, events, kind="repair")
            failures = tuple(ledger.stamp_failures)
    return RepairRun(run_id, dry_run, path, tuple(repairs), failures, location)
