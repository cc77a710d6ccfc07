"""The ``archiver repair`` workflow: repair bags from replicas and record the run.

``repair`` picks the ledger (default: ``.audit-ledger.sqlite`` beside the first bag;
refused inside a bag, since nothing but the repaired files is written there), reads the
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

from archiver.config import deposit_settings
from archiver.ledger.store import Ledger, default_ledger_path
from archiver.repair.plan import BagRepair
from archiver.storage.fileio import check_output_path


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RepairRun:
    """What a repair run did: one ``BagRepair`` per bag, in the order given."""

    run_id: str
    dry_run: bool
    ledger: Path
    repairs: tuple[BagRepair, ...]

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
) -> RepairRun:
    """Repair every bag from ``replicas`` (tried in order; none given: each bag's recorded
    deposits); record the run in the ledger unless ``dry_run``.

    ``config``: archive.toml for ``[deposit.s3]`` (None: ``archive.toml`` if present).
    Raises OutputError when the ledger would be inside a bag, ConfigError for unusable
    settings, LedgerError for an unusable ledger.
    """
    from archiver.repair.run import repair_bags, run_events, run_report  # on use: replicas

    path = ledger_path or default_ledger_path([Path(bags[0]).parent])
    # Nothing but the repaired files is written inside a bag: not the ledger.
    check_output_path(path, bags, what="ledger", inside_only=True)
    settings = deposit_settings(config)
    run_id = str(uuid.uuid4())
    started = clock()
    if dry_run and not path.is_file():
        repairs = repair_bags(
            bags,
            ledger=None,
            given=replicas,
            settings=settings,
            environ=environ,
            run_id=run_id,
            clock=clock,
            dry_run=True,
        )
    else:
        with Ledger.open(path) as ledger:
            repairs = repair_bags(
                bags,
                ledger=ledger,
                given=replicas,
                settings=settings,
                environ=environ,
                run_id=run_id,
                clock=clock,
                dry_run=dry_run,
            )
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
    return RepairRun(run_id, dry_run, path, tuple(repairs))
