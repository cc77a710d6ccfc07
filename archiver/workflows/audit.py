"""The audit of a collection, whole: select the bags, audit them in one pool, check each
against its last good audit (the reference), repair what fails when asked, record the run
in the ledger, and write the JSON and HTML reports.

``audit_collection`` is what ``archiver audit`` runs; a library caller gets the same run,
recorded the same way. Nothing is written before the audit has finished: an audit that
could not finish leaves the ledger untouched.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.audit.collection import BAG_BATCH, ProgressCallback, audit, scan_roots
from archiver.audit.executor import TaskExecutor
from archiver.audit.selection import plan_selection, select_bags
from archiver.bag.validator import MAX_TAG_BYTES, Mode
from archiver.config import (
    DEFAULT_CONFIG,
    LedgerLocation,
    audit_setting,
    resolve_ledger,
    timestamp_settings_for,
)
from archiver.ledger.reference import check_reports
from archiver.ledger.store import Ledger
from archiver.model.errors import BagReadError, LedgerError
from archiver.model.records import LedgerEvent
from archiver.model.reports import AuditReport
from archiver.storage.fileio import check_output_path, write_bytes_atomic
from archiver.timestamp.bags import stamper, with_token_findings

if TYPE_CHECKING:
    from archiver.repair.plan import BagRepair
    from archiver.report.model import Page

DEFAULT_ROOT = "bags"
SCHEDULER_ENV = "ARCHIVER_SCHEDULER"


@dataclass(frozen=True, slots=True)
class AuditRequest:
    """What to audit and how (``archiver audit``'s options)."""

    roots: tuple[str, ...] = (DEFAULT_ROOT,)
    ledger: Path | None = None  # None: archive.toml's [ledger] path, else the collection's
    workers: int | None = None
    mode: Mode = "full"
    metadata: bool = False
    scheduler: str | None = None  # None: $ARCHIVER_SCHEDULER, else [audit] scheduler
    scheduler_timeout: float = 20.0
    bag_batch: int = BAG_BATCH
    cache_hygiene: bool = True
    max_tag_bytes: int = MAX_TAG_BYTES
    oldest: int | None = None
    budget: float | None = None
    accept: tuple[str, ...] = ()  # bags rebuilt on purpose: their new tag manifests count
    repair: bool = False
    replicas: tuple[str, ...] = ()
    config: Path | None = None  # None: ./archive.toml when present
    json_out: Path | None = None  # the machine report's file ('-' is the caller's stdout)
    html_out: Path | None = None
    verify_ledger: bool = True  # for the HTML report


@dataclass(frozen=True, slots=True)
class AuditRun:
    """A recorded audit: its report, the repairs made, where it was recorded, the HTML
    report's page when one was written."""

    report: AuditReport
    ledger: Path
    repairs: tuple[BagRepair, ...] = ()
    repaired: bool = False  # --repair was asked for
    page: Page | None = field(default=None, compare=False)
    stamp_failures: tuple[str, ...] = ()  # [timestamp]: why the run was recorded unstamped
    location: LedgerLocation | None = None  # how the ledger was chosen (resolve_ledger)

    @property
    def intact(self) -> bool:
        """Every bag intact, and the ledger verifies when the HTML report checked it."""
        return self.report.valid and (self.page is None or self.page.summary.verified is not False)

    def to_json(self) -> dict[str, Any]:
        """The machine report (``--json``): the audit report, and the repairs with --repair."""
        data = self.report.to_json()
        if self.repaired:
            data["repairs"] = [r.to_json() for r in self.repairs]
        return data

    def json_document(self) -> str:
        """``to_json`` as the text ``--json`` writes."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"


def scheduler_for(
    option: str | None, environ: Mapping[str, str], config: Path | None
) -> str | None:
    """--scheduler, else $ARCHIVER_SCHEDULER, else archive.toml's [audit] scheduler."""
    if option:
        return option
    if environ.get(SCHEDULER_ENV):
        return environ[SCHEDULER_ENV]
    path = config if config is not None else DEFAULT_CONFIG
    if config is None and not path.is_file():
        return None
    value = audit_setting(path, "scheduler")
    return str(value) if value else None


def audit_collection(
    request: AuditRequest,
    *,
    environ: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    json_to_file: bool = True,
) -> AuditRun:
    """Audit the collection under ``request.roots`` and record the run in its ledger.

    ``json_to_file``: write ``request.json_out`` here (False: the caller prints it). Raises
    ``BagReadError`` when the roots hold no bag (a vanished mount must page someone, and
    must not get a fresh ledger), ``OutputError`` when a report has nowhere to go (before
    any hashing), ``LedgerError`` when the ledger could not take the run.
    """
    env = os.environ if environ is None else environ
    roots = list(request.roots)
    candidates, linked = scan_roots(roots)
    if not candidates:
        links = f" (links to bags, not followed: {', '.join(map(str, linked))})" if linked else ""
        raise BagReadError(f"{', '.join(roots)}: no bags found{links}")
    location = resolve_ledger(
        request.ledger,
        config=request.config,
        roots=[_ledger_home(root, candidates) for root in roots],
    )
    ledger_path = location.path
    # Nothing is written inside a bag being read, and a report with nowhere to go stops
    # the run before it starts, not after hours of hashing.
    check_output_path(ledger_path, candidates, what="ledger", inside_only=True)
    if request.json_out is not None and json_to_file:
        check_output_path(request.json_out, candidates, what="--json report")
    if request.html_out is not None:
        check_output_path(request.html_out, candidates, what="--html report")
    scheduler = scheduler_for(request.scheduler, env, request.config)
    stamps = timestamp_settings_for(request.config)  # before the audit: a bad one stops it now
    _check_ledger(ledger_path)
    with _cluster(scheduler, roots, request.workers, request.scheduler_timeout) as executor:
        selected = _select(ledger_path, candidates, request.oldest, request.budget)
        report = audit(
            roots,
            workers=request.workers,
            mode=request.mode,
            metadata=request.metadata,
            progress=progress,
            bags=selected,
            executor=executor,
            bag_batch=request.bag_batch,
            cache_hygiene=request.cache_hygiene,
            linked=linked,
            max_tag_bytes=request.max_tag_bytes,
        )
    # written only now: an audit that could not finish leaves the ledger untouched
    repairs: list[BagRepair] = []
    with Ledger.open(ledger_path) as ledger:
        ledger.stamp = stamper(stamps)  # the run gets a token once recorded
        records = ledger.tag_manifest_records([b.bag for b in report.bags])
        accepted = {os.path.abspath(b) for b in request.accept}
        report = report.with_bags(check_reports(report.bags, records, accepted))
        report = report.with_bags(with_token_findings(report.bags, stamps, datetime.now(UTC)))
        events: list[LedgerEvent] = []
        if request.repair and not report.valid:
            report, events, repairs = _repair_failed(request, report, ledger, env)
        ledger.record_run(report, events)
        failures = tuple(ledger.stamp_failures)
    run = AuditRun(
        report,
        ledger_path,
        tuple(repairs),
        request.repair,
        stamp_failures=failures,
        location=location,
    )
    if request.json_out is not None and json_to_file:
        write_bytes_atomic(request.json_out, run.json_document().encode("utf-8"))
    if request.html_out is not None:
        from archiver.report.output import write_report  # Jinja2 only when asked for

        page = write_report(
            ledger_path, request.html_out, now=datetime.now(UTC), verify=request.verify_ledger
        )
        run = dataclasses.replace(run, page=page)
    return run


@contextmanager
def _cluster(
    scheduler: str | None, roots: Sequence[str], workers: int | None, timeout: float
) -> Iterator[TaskExecutor | None]:
    """The Dask executor for ``scheduler`` (None: the local process pool)."""
    if scheduler is None:
        yield None
        return
    from archiver.audit.dask_backend import connect, silence_logs  # only when asked for

    silence_logs()  # the cluster's own log is not this command's output
    absolute = [os.path.abspath(r) for r in roots]
    with connect(scheduler, absolute, local_workers=workers, timeout=timeout) as executor:
        yield executor


def _check_ledger(path: Path) -> None:
    """Fail before a long audit when the ledger could not take its run."""
    if path.exists():
        with Ledger.open(path, readonly=True):
            return
    if not path.parent.is_dir():
        raise LedgerError(f"{path}: cannot create the ledger, {path.parent} is not a directory")


def _select(
    path: Path, candidates: list[Path], oldest: int | None, budget: float | None
) -> list[Path]:
    """The bags to audit: all, or the most overdue (--oldest, --budget), read-only."""
    if oldest is None and budget is None:
        return candidates
    names = [str(b) for b in candidates]
    if path.exists():
        with Ledger.open(path, readonly=True) as ledger:
            chosen = select_bags(ledger, names, oldest, budget)
    else:
        chosen = plan_selection(names, {}, oldest, budget)
    return [Path(b) for b in chosen]


def _ledger_home(root: str, bags: list[Path]) -> Path:
    """The collection a root stands for, which keys its default ledger: the root, or its
    parent when the root is itself a bag or an archive."""
    path = Path(os.path.abspath(root))
    return path.parent if path in bags else Path(root)


def _repair_failed(
    request: AuditRequest, report: AuditReport, ledger: Ledger, environ: Mapping[str, str]
) -> tuple[AuditReport, list[LedgerEvent], list[BagRepair]]:
    """Repair the failed bag directories, audit them again; the final report and events."""
    from archiver.config import deposit_settings
    from archiver.repair.run import repair_bags, run_events

    failed = [Path(b.bag) for b in report.bags if not b.valid and Path(b.bag).is_dir()]
    repairs = repair_bags(
        failed,
        ledger=ledger,
        given=request.replicas,
        settings=deposit_settings(request.config),
        environ=environ,
        run_id=report.run_id,
        clock=lambda: datetime.now(UTC),
        before={b.bag: b for b in report.bags},
    )
    after = {r.bag: r.after for r in repairs if r.after is not None}
    bags = tuple(after.get(b.bag, b) for b in report.bags)
    final = dataclasses.replace(report.with_bags(bags), ended=datetime.now(UTC).isoformat())
    return final, run_events(repairs), repairs
