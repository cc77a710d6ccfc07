"""An audit run (``archiver audit``): select the bags, audit them, record the run.

``audit_run`` finds the bags under the roots, opens the ledger (default: in the root, or
beside it when the root is itself a bag or an archive), picks the bags that are due when
``oldest`` or ``budget`` asks (``Ledger.select_bags``), audits them with one pool
(``archiver.audit.collection.audit``) and records the whole run in the ledger. An audit
that does not finish (an error, Ctrl-C, SIGTERM) records nothing: a ledger run is always
a complete audit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archiver.audit.collection import AuditReport, ProgressCallback, audit, find_bags
from archiver.bag.validator import Mode
from archiver.errors import BagReadError
from archiver.ledger.store import Ledger, default_ledger_path

DEFAULT_ROOT = "bags"


@dataclass(frozen=True, slots=True)
class AuditRun:
    """An audit recorded in the ledger at ``ledger``."""

    report: AuditReport
    ledger: Path


def ledger_home(root: str, bags: Sequence[Path]) -> Path:
    """Where the default ledger goes: in the root, or beside it when the root is a bag
    (a file added inside a bag would change the bag)."""
    path = Path(os.path.abspath(root))
    return path.parent if path in bags else Path(root)


def audit_run(
    roots: Sequence[str],
    *,
    ledger_path: Path | None = None,
    workers: int | None = None,
    mode: Mode = "full",
    metadata: bool = False,
    oldest: int | None = None,
    budget: float | None = None,
    progress: ProgressCallback | None = None,
) -> AuditRun:
    """Audit the bags under ``roots`` (default ``bags``) and record the run in the ledger.

    Raises BagReadError when no bag is found (a vanished storage mount must page someone,
    and must not get a fresh ledger), LedgerError when the ledger is unusable.
    """
    chosen = list(roots) or [DEFAULT_ROOT]
    candidates = find_bags(chosen)
    if not candidates:
        raise BagReadError(f"{', '.join(chosen)}: no bags found")
    path = ledger_path or default_ledger_path([ledger_home(chosen[0], candidates)])
    with Ledger.open(path) as ledger:
        selected = candidates
        if oldest is not None or budget is not None:
            names = ledger.select_bags([str(b) for b in candidates], oldest, budget)
            selected = [Path(b) for b in names]
        report = audit(
            chosen,
            workers=workers,
            mode=mode,
            metadata=metadata,
            progress=progress,
            bags=selected,
        )
        ledger.record_run(report)
    return AuditRun(report, path)
