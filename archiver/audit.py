"""Audit fixity across a whole collection: find bags, hash every file in one pool, report.

``audit`` plans each bag once (``archiver.validator.plan_bag``), then hashes the files of
all bags in ONE ``ProcessPoolExecutor``: largest files first, small files batched into
chunks, each worker reusing one buffer for every file it reads. With many bags the
workers plan them too (tag files, profile and metadata checks). Bags are planned and
hashed in windows of ``window_jobs`` files so memory stays flat however large the
collection. The report records (``AuditReport``) are a stable contract: the ledger
(``archiver.ledger``) stores them.
"""

from __future__ import annotations

import functools
import mmap
import multiprocessing
import multiprocessing.context
import os
import platform
import ssl
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver import __version__
from archiver.digest import new_buffer
from archiver.errors import BagReadError
from archiver.findings import BagReport, Finding, Kind
from archiver.profile import default_checkers
from archiver.unpack import is_serialized
from archiver.validator import (
    BagPlan,
    Checker,
    HashJob,
    HashResult,
    Mode,
    finish_bag,
    hash_jobs,
    looks_like_bag,
    plan_bag,
    validate_serialized,
)

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(bytes_done, bytes_total)`` while an audit hashes."""

LARGE_FILE = 4 << 20  # files this big get a task of their own
BATCH_FILES = 256  # small files per task at most
BATCH_BYTES = 16 << 20  # bytes per small-file task at most
WINDOW_JOBS = 50_000  # files planned and held in memory at once
POOL_MIN_BYTES = 64 << 20  # below this much to read, hashing in-process is faster
POOL_MIN_BAGS = 48  # from this many bags on, workers plan them too
PLAN_GROUP = 256  # bags planned per round


@dataclass(frozen=True, slots=True)
class AuditTotals:
    """Counts for one audit run."""

    bags: int = 0
    intact: int = 0
    failed: int = 0
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The totals as a JSON-ready dict (with MB/s)."""
        rate = self.bytes / self.seconds / 1e6 if self.seconds > 0 else 0.0
        return {
            "bags": self.bags,
            "intact": self.intact,
            "failed": self.failed,
            "files": self.files,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "mb_per_second": round(rate, 1),
        }


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of one audit run over one or more roots.

    ``started`` and ``ended`` are timezone-aware ISO 8601 times from the injected clock;
    ``bags`` holds one ``BagReport`` per bag (``BagReport.bag`` is the bag's absolute path),
    in a stable order (sorted by path).
    """

    run_id: str
    started: str
    ended: str
    mode: str
    roots: tuple[str, ...]
    versions: Mapping[str, str]
    bags: tuple[BagReport, ...]
    totals: AuditTotals = field(default_factory=AuditTotals)

    @property
    def valid(self) -> bool:
        """True when every bag is intact."""
        return all(b.valid for b in self.bags)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of every bag, in bag order."""
        return tuple(f for b in self.bags for f in b.findings)

    def to_json(self) -> dict[str, Any]:
        """The machine report: run id, times, versions, totals, per bag status and problems."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "ended": self.ended,
            "mode": self.mode,
            "roots": list(self.roots),
            "versions": dict(self.versions),
            "status": "intact" if self.valid else "failed",
            "totals": self.totals.to_json(),
            "bags": [b.to_json() for b in self.bags],
        }


def versions() -> dict[str, str]:
    """The software that did the work, for the report and the ledger."""
    return {
        "archiver": __version__,
        "python": platform.python_version(),
        "hashlib": ssl.OPENSSL_VERSION,
    }


def find_bags(roots: Iterable[Path | str]) -> list[Path]:
    """Every bag under the roots, as absolute paths, sorted; a bag's insides are not searched.

    A root that is itself a serialized bag (``archiver.unpack.is_serialized``) is one bag;
    archives found while searching a directory are not (``archiver package`` output kept
    beside the bags would be audited twice). Hidden directories (such as a build's temporary
    staging directory) are skipped and links are not followed. Raises ``BagReadError`` for a
    root that is missing or neither a directory nor a serialized bag.
    """
    found: set[Path] = set()
    for root in roots:
        start = Path(os.path.abspath(root))
        if not start.exists():
            raise BagReadError(f"{root}: does not exist")
        if is_serialized(start):
            found.add(start)
            continue
        if not start.is_dir():
            raise BagReadError(f"{root}: is neither a directory nor a serialized bag")
        stack = [start]
        while stack:
            directory = stack.pop()
            try:
                with os.scandir(directory) as it:
                    items = list(it)
            except OSError as exc:
                raise BagReadError(f"{directory}: cannot be listed: {exc.strerror}") from exc
            names = [i.name for i in items if not i.is_dir(follow_symlinks=False)]
            has_data = any(i.name == "data" and i.is_dir(follow_symlinks=False) for i in items)
            if looks_like_bag(names, has_data):
                found.add(directory)
                continue
            stack.extend(
                Path(i.path)
                for i in items
                if i.is_dir(follow_symlinks=False) and not i.name.startswith(".")
            )
    return sorted(found)


@functools.lru_cache(maxsize=1)
def _buffer_for(pid: int) -> mmap.mmap:
    return new_buffer()


def _worker_buffer() -> mmap.mmap:
    """This process's reusable read buffer, made on first use (one per worker).

    Keyed by process id: an anonymous mmap is shared across fork, so a worker must never
    reuse a buffer its parent made, or concurrent reads would overwrite each other.
    """
    return _buffer_for(os.getpid())


def _hash_task(jobs: Sequence[HashJob]) -> list[HashResult]:
    """Run in a worker: hash a batch of jobs with the worker's one buffer."""
    return hash_jobs(jobs, _worker_buffer())


def schedule(jobs: Iterable[HashJob]) -> list[list[HashJob]]:
    """Group jobs into tasks: largest first, one task per large file, small files batched."""
    tasks: list[list[HashJob]] = []
    batch: list[HashJob] = []
    batch_bytes = 0
    for job in sorted(jobs, key=lambda j: j.size, reverse=True):
        if job.size >= LARGE_FILE:
            tasks.append([job])
            continue
        if batch and (len(batch) >= BATCH_FILES or batch_bytes + job.size > BATCH_BYTES):
            tasks.append(batch)
            batch, batch_bytes = [], 0
        batch.append(job)
        batch_bytes += job.size
    if batch:
        tasks.append(batch)
    return tasks


def _plan(bag: Path, mode: Mode, checkers: Sequence[Checker]) -> BagPlan | BagReport:
    try:
        return plan_bag(bag, mode=mode, checkers=checkers)
    except BagReadError as exc:
        finding = Finding(Kind.MISSING_FILE, str(bag), ".", str(exc))
        return BagReport(bag=str(bag), findings=(finding,))


def _audit_archive(archive: Path, mode: Mode, checkers: Sequence[Checker]) -> BagReport:
    """A serialized bag, checked and validated under the archive's path."""
    try:
        return validate_serialized(archive, mode=mode, checkers=checkers, buffer=_worker_buffer())
    except BagReadError as exc:
        finding = Finding(Kind.MISSING_FILE, str(archive), ".", str(exc))
        return BagReport(bag=str(archive), findings=(finding,))


def _plan_task(bags: Sequence[str], mode: Mode) -> list[BagPlan | BagReport]:
    """Run in a worker: plan bags with this process's own default checkers."""
    checkers = _checkers_for(os.getpid())
    return [_plan(Path(bag), mode, checkers) for bag in bags]


@functools.lru_cache(maxsize=1)
def _checkers_for(pid: int) -> list[Checker]:
    """The default checkers of one process (schemas compiled once per worker)."""
    return default_checkers()


def _windows(
    bags: Sequence[Path],
    plan: Callable[[Sequence[Path]], list[BagPlan | BagReport]],
    window_jobs: int,
) -> Iterator[list[BagPlan | BagReport]]:
    """Plan bags a group at a time; yield windows of about ``window_jobs`` files."""
    window: list[BagPlan | BagReport] = []
    jobs = 0
    for start in range(0, len(bags), PLAN_GROUP):
        for planned in plan(bags[start : start + PLAN_GROUP]):
            window.append(planned)
            if isinstance(planned, BagPlan):
                jobs += len(planned.jobs)
            if jobs >= window_jobs:
                yield window
                window, jobs = [], 0
    if window:
        yield window


def _run_tasks(
    tasks: list[list[HashJob]],
    pool: ProcessPoolExecutor | None,
    workers: int,
    on_done: Callable[[list[HashResult]], None],
) -> None:
    """Run tasks in order of submission, at most 2 per worker in flight."""
    if pool is None:
        buffer = _worker_buffer()
        for task in tasks:
            on_done(hash_jobs(task, buffer))
        return
    pending: set[Future[list[HashResult]]] = set()
    queue = iter(tasks)
    limit = max(2, workers * 2)
    for task in queue:
        pending.add(pool.submit(_hash_task, task))
        if len(pending) >= limit:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_done(future.result())
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            on_done(future.result())


class _Collector:
    """Route hash results to their bags and finish each bag when its last file is in."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.reports: list[BagReport] = []
        self.plans: dict[str, BagPlan] = {}
        self.left: dict[str, int] = {}
        self.results: dict[str, list[HashResult]] = {}
        self.done_bytes = 0
        self.total_bytes = 0

    def add(self, window: Iterable[BagPlan | BagReport]) -> list[HashJob]:
        """Take a window of planned bags; return the jobs still to hash."""
        jobs: list[HashJob] = []
        for planned in window:
            if isinstance(planned, BagReport):
                self.reports.append(planned)
            elif not planned.jobs:
                self.reports.append(finish_bag(planned, ()))
            else:
                self.plans[planned.bag] = planned
                self.left[planned.bag] = len(planned.jobs)
                self.results[planned.bag] = []
                jobs.extend(planned.jobs)
                self.total_bytes += planned.job_bytes
        self._report_progress()
        return jobs

    def done(self, batch: list[HashResult]) -> None:
        """Record a finished task's results."""
        for result in batch:
            self.results[result.bag].append(result)
            self.done_bytes += result.size
            self.left[result.bag] -= 1
            if self.left[result.bag] == 0:
                plan = self.plans.pop(result.bag)
                self.reports.append(finish_bag(plan, self.results.pop(result.bag)))
                del self.left[result.bag]
        self._report_progress()

    def _report_progress(self) -> None:
        if self.progress is not None:
            self.progress(self.done_bytes, self.total_bytes)


def _context() -> multiprocessing.context.BaseContext:
    """Workers start from a fork server where there is one: forking the caller directly
    would copy whatever threads it runs (a progress bar's refresh thread, for one)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def audit(
    roots: Sequence[Path | str],
    *,
    workers: int | None = None,
    mode: Mode = "full",
    progress: ProgressCallback | None = None,
    bags: Sequence[Path | str] | None = None,
    checkers: Sequence[Checker] | None = None,
    clock: Callable[[], datetime] = _utc_now,
    timer: Callable[[], float] = time.monotonic,
    run_id: str | None = None,
    window_jobs: int = WINDOW_JOBS,
    pool_min_bytes: int = POOL_MIN_BYTES,
    pool_min_bags: int = POOL_MIN_BAGS,
) -> AuditReport:
    """Verify every bag under ``roots`` (or just ``bags``) with one worker pool for all.

    ``workers`` defaults to every core; 1 works in this process, and so does a run with
    fewer than ``pool_min_bags`` bags and less than ``pool_min_bytes`` to read (starting
    workers would cost more than it saves). With the default checkers, workers also plan
    the bags (tag files, profile, metadata records), since per-bag work dominates for
    many small bags; explicit ``checkers`` run in this process. Serialized bags (archive
    roots, or archives among ``bags``) are extracted one at a time into a temporary
    directory and validated in this process (``validator.validate_serialized``), in the
    same run, each reported under the archive's path.
    Workers start from a fork server: a script that calls ``audit`` with several workers
    needs the usual ``if __name__ == "__main__":`` guard. ``clock`` gives the
    timezone-aware start and end times, ``timer`` the elapsed seconds. ``checkers`` default
    to ``default_checkers()`` (our profile and metadata); pass ``()`` to skip them.
    """
    started = clock()
    t0 = timer()
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise ValueError(f"workers must be at least 1, not {count}")
    found = [Path(os.path.abspath(b)) for b in bags] if bags is not None else find_bags(roots)
    archives = {b for b in found if is_serialized(b)}
    targets = [b for b in found if b not in archives]
    plan_in_workers = checkers is None  # workers build the default checkers themselves
    local_checkers = default_checkers() if checkers is None else checkers
    collector = _Collector(progress)
    pool: ProcessPoolExecutor | None = None
    if count > 1 and plan_in_workers and len(targets) >= pool_min_bags:
        pool = ProcessPoolExecutor(max_workers=count, mp_context=_context())

    def plan(group: Sequence[Path]) -> list[BagPlan | BagReport]:
        if pool is None or not plan_in_workers:
            return [_plan(bag, mode, local_checkers) for bag in group]
        size = max(1, len(group) // (count * 2))
        chunks = [[str(b) for b in group[i : i + size]] for i in range(0, len(group), size)]
        futures = [pool.submit(_plan_task, chunk, mode) for chunk in chunks]
        return [planned for future in futures for planned in future.result()]

    try:
        for archive in sorted(archives):  # extracted one at a time, hashed in this process
            collector.reports.append(_audit_archive(archive, mode, local_checkers))
        for window in _windows(targets, plan, window_jobs):
            jobs = collector.add(window)
            if pool is None and count > 1 and sum(j.size for j in jobs) >= pool_min_bytes:
                pool = ProcessPoolExecutor(max_workers=count, mp_context=_context())
            _run_tasks(schedule(jobs), pool, count, collector.done)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    reports = collector.reports
    reports.sort(key=lambda r: r.bag)
    seconds = timer() - t0
    ended = clock()
    intact = sum(1 for r in reports if r.valid)
    totals = AuditTotals(
        bags=len(reports),
        intact=intact,
        failed=len(reports) - intact,
        files=sum(r.files for r in reports),
        bytes=sum(r.bytes for r in reports),
        seconds=seconds,
    )
    return AuditReport(
        run_id=run_id or str(uuid.uuid4()),
        started=started.isoformat(),
        ended=ended.isoformat(),
        mode=mode,
        roots=tuple(str(r) for r in roots),
        versions=versions(),
        bags=tuple(reports),
        totals=totals,
    )
