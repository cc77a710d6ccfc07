"""The ``archiver deposit`` workflow: deposit or re-verify bags, record the events.

``deposit`` opens the ledger first (an unusable ledger stops the run before any
transfer; a ledger or target inside a bag being read is refused before anything is
written), deposits (or, with ``verify``, re-verifies) each bag in turn
(``archiver.deposit.deposit_bag`` / ``verify_deposit``), and records in the ledger the
events ``archiver.deposit.events`` makes of what happened: a transfer or replication for
each deposit that did something, a failure for a deposit that started and failed, a
fixity check for each re-verification and for a damaged copy found at the target, and a
reconciling transfer event for an unchanged deposit the ledger does not know (an earlier
run killed before recording). The events of the bags done so far are recorded even when
a later bag fails or the run is interrupted. Per bag, the run keeps a JSON-ready row for
the report.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.adapters.runtime import versions
from archiver.config import (
    LedgerLocation,
    deposit_settings,
    resolve_ledger,
    timestamp_settings_for,
)
from archiver.deposit import (
    DamagedTargetError,
    InvalidBagError,
    Target,
    deposit_bag,
    verify_deposit,
)
from archiver.deposit.events import (
    bag_key,
    deposit_event,
    failure_event,
    is_recorded,
    reconciled_event,
    verification_event,
)
from archiver.ledger.store import Ledger, LedgerEvent
from archiver.model.errors import (
    EXIT_INTEGRITY,
    EXIT_OK,
    EXIT_UNUSABLE,
    ArchiverError,
    DepositError,
)
from archiver.model.findings import Finding
from archiver.model.reports import ProgressCallback
from archiver.model.text import unexpected_error_line
from archiver.storage.fileio import check_output_path, remove_stale
from archiver.timestamp.bags import stamper
from archiver.timestamp.client import Token


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DepositRun:
    """What a deposit run did: a row per bag, the problems found, the events recorded,
    messages for the user (``errors``, ``warnings``) and the exit status."""

    target: Target
    ledger: Path
    rows: list[dict[str, Any]]
    problems: list[Finding]
    events: list[LedgerEvent]
    errors: list[str]
    warnings: list[str]
    status: int
    location: LedgerLocation | None = None  # how the ledger was chosen


@dataclass(slots=True)
class _Collector:
    """What the run has done so far (frozen into a ``DepositRun`` at the end)."""

    target: Target
    ledger: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    events: list[LedgerEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: int = EXIT_OK

    def error(self, bag: Path, exc: ArchiverError) -> None:
        """A bag that could not be deposited or verified (exit 2)."""
        self.errors.append(str(exc))
        self.rows.append({"bag": str(bag), "status": "error", "error": str(exc)})
        self.status = EXIT_UNUSABLE

    def unexpected(self, bag: Path, exc: Exception, command: str) -> None:
        """A bag whose input raised an exception no check foresaw: it fails (exit 2), the
        others go on. The message is the whole ``archiver: error: ...`` line."""
        line = unexpected_error_line(command, [str(bag)], exc)
        self.errors.append(line.removeprefix("archiver: error: "))
        self.rows.append({"bag": str(bag), "status": "error", "error": line})
        self.status = EXIT_UNUSABLE

    def found(self, bag: Path, status: str, findings: Sequence[Finding], **extra: str) -> None:
        """A bag with its findings (``extra`` fields go after "bag")."""
        row = {"bag": str(bag), **extra, "status": status}
        self.rows.append({**row, "problems": [f.to_json() for f in findings]})
        self.problems.extend(findings)
        if findings and self.status == EXIT_OK:
            self.status = EXIT_INTEGRITY


def deposit(
    bags: Sequence[Path],
    target: Target,
    *,
    settings: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] = os.environ,
    ledger_path: Path | None = None,
    config: Path | None = None,
    verify: bool = False,
    clock: Callable[[], datetime] = _utc_now,
    progress: ProgressCallback | None = None,
    stamp: Callable[[bytes], Token] | None = None,
) -> DepositRun:
    """Deposit (or with ``verify`` re-verify) every bag at ``target``; record the events
    in the ledger ``archiver.config.resolve_ledger`` finds (``ledger_path``, else the
    ``[ledger] path`` of ``config`` or ./archive.toml, else the default of the collection
    holding the first bag, as ``archiver audit`` of that folder keeps it). ``progress``
    hears (bags done, bags) after each bag. ``stamp`` ([timestamp]): the run gets a token;
    a failure is a warning and exit 2."""
    if settings is None:  # [deposit] of config, else of ./archive.toml
        settings = deposit_settings(config)
    if stamp is None:  # [timestamp] of config, else of ./archive.toml: the run gets a token
        stamp = stamper(timestamp_settings_for(config))
    location = resolve_ledger(ledger_path, config=config, roots=[Path(bags[0]).parent])
    path = location.path
    # Nothing is written inside a bag being read: not the ledger, not the target.
    check_output_path(path, bags, what="ledger", inside_only=True)
    if target.path is not None:
        check_output_path(target.path, bags, what="deposit target", directory=True)
    run = _Collector(target, path)
    if target.path is not None:  # what a killed deposit left: its staging directories
        for where in (target.path, target.path.parent):
            for stale in remove_stale(where, "staging"):
                run.warnings.append(f"removed {stale}, left by a deposit that was killed")
    started = clock()
    if progress is not None:
        progress(0, len(bags))
    with Ledger.open(path) as ledger:
        ledger.stamp = stamp
        try:
            for done, bag in enumerate(bags, 1):
                try:
                    if verify:
                        _verify_one(run, bag, settings, environ, clock)
                    else:
                        _deposit_one(run, bag, settings, environ, clock, ledger)
                except Exception as exc:  # input no check foresaw: this bag fails, on we go
                    run.unexpected(bag, exc, "deposit --verify" if verify else "deposit")
                finally:
                    if progress is not None:
                        progress(done, len(bags))
        finally:
            if run.events:
                ledger.record_events(
                    run.events,
                    run_id=str(uuid.uuid4()),
                    started=started.isoformat(),
                    ended=clock().isoformat(),
                    versions=versions(),
                    kind="deposit",
                    target=target.uri,
                )
                run.warnings += ledger.stamp_failures
                if ledger.stamp_failures and run.status == EXIT_OK:
                    run.status = EXIT_UNUSABLE
    return DepositRun(
        run.target,
        run.ledger,
        run.rows,
        run.problems,
        run.events,
        run.errors,
        run.warnings,
        run.status,
        location,
    )


def _deposit_one(
    run: _Collector,
    bag: Path,
    settings: Mapping[str, Any],
    environ: Mapping[str, str],
    clock: Callable[[], datetime],
    ledger: Ledger,
) -> None:
    """Deposit one bag; collect its event. An unchanged bag whose stored copy has no
    event in the ledger (an earlier run was killed before recording) gets it now."""
    target = run.target
    try:
        result = deposit_bag(bag, target, now=clock(), environ=environ, settings=settings)
    except InvalidBagError as exc:
        run.rows.append(
            {
                "bag": str(bag),
                "status": "invalid",
                "problems": [f.to_json() for f in exc.report.findings],
            }
        )
        run.problems.extend(exc.report.errors)
        run.status = max(run.status, EXIT_INTEGRITY)
        return
    except DamagedTargetError as exc:  # damage found at the target: exit 1, not 2
        run.found(bag, "damaged", exc.findings, target=target.uri)
        run.events.append(verification_event(bag, target, clock(), exc.findings))
        run.status = max(run.status, EXIT_INTEGRITY)
        return
    except DepositError as exc:
        run.error(bag, exc)
        run.events.append(failure_event(bag, target, clock(), str(exc)))
        return
    except ArchiverError as exc:
        run.error(bag, exc)
        return
    if not result.identifier_from_bag_info:
        run.warnings.append(
            f"{bag}: no External-Identifier in bag-info.txt, "
            f"deposited as {result.identifier!r} (the directory name)"
        )
    run.rows.append(result.to_json())
    event = deposit_event(result)
    if event is None and not is_recorded(
        result, [r.event for r in ledger.events(bag_key(result.bag))]
    ):
        event = reconciled_event(result)
    if event is not None:
        run.events.append(event)


def _verify_one(
    run: _Collector,
    bag: Path,
    settings: Mapping[str, Any],
    environ: Mapping[str, str],
    clock: Callable[[], datetime],
) -> None:
    target = run.target
    try:
        result = verify_deposit(bag, target, environ=environ, settings=settings)
    except ArchiverError as exc:
        run.error(bag, exc)
        return
    findings = result.findings
    run.events.append(verification_event(bag, target, clock(), findings, result.superseded))
    extra = {"target": target.uri}
    if result.superseded:
        extra["detail"] = result.superseded
    run.found(bag, str(result.status), findings, **extra)
