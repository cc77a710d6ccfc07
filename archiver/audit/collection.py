"""Audit fixity across a whole collection: find bags, hash every file in one pool, report.

``audit`` runs ONE pool for all bags: a ``TaskExecutor`` (``archiver.audit.executor``),
this machine's worker processes or, with ``executor``, a Dask cluster
(``archiver.audit.dask_backend``). With many bags (the common case:
one small text per bag) per-bag work dominates, so each worker task takes a batch of bags
and plans (``archiver.bag.validator.plan_bag``: tag files, profile), hashes and finishes them
itself, returning only their ``BagReport``; a bag with much to read (``LARGE_FILE`` or
more, or more than ``BATCH_FILES`` files) comes back planned instead, and its files are
spread over the workers, largest first, small ones batched, each worker reusing one
buffer. With few bags, or checkers given by the caller, bags are planned here and only
their hashing goes to the pool. Memory stays flat however large the collection: the
parent holds the reports and at most ``window_bags`` planned bags or ``window_jobs`` files.
The report records (``archiver.model.reports.AuditReport``) are a stable contract: the ledger
(``archiver.ledger.store``) stores them.
"""

from __future__ import annotations

import functools
import heapq
import mmap
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.adapters.runtime import versions
from archiver.archive.names import ARCHIVE_SUFFIXES, is_serialized
from archiver.archive.verify import validate_serialized
from archiver.audit.executor import LocalPool, LocalThreads, TaskExecutor
from archiver.bag.validator import (
    MAX_TAG_BYTES,
    BagPlan,
    Checker,
    HashJob,
    HashResult,
    Mode,
    finish_bag,
    hash_jobs,
    looks_like_bag,
    plan_bag,
)
from archiver.checks import archiver_checkers
from archiver.model.digest import new_buffer
from archiver.model.errors import BagReadError, WorkspaceError
from archiver.model.findings import BagReport, Finding, Kind, Severity
from archiver.model.reports import AuditReport, AuditTotals
from archiver.model.text import clip
from archiver.storage.workers import child_pids, init_worker, terminate_children, worker_context

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(bytes_done, bytes_total)`` while an audit hashes; while workers
are still planning bags, ``bytes_total`` is an estimate (bytes per bag so far)."""

LARGE_FILE = 4 << 20  # files this big get a task of their own
BATCH_FILES = 256  # small files per task at most
# Hashing threads are used when at most this many files are small: each holds the GIL
# for its Python work (about 50 us: open, bookkeeping), a large file only between blocks.
THREAD_MAX_SMALL_FILES = BATCH_FILES
BATCH_BYTES = 16 << 20  # bytes per small-file task at most
WINDOW_JOBS = 50_000  # files planned and held in memory at once
WINDOW_BAGS = 2_000  # planned bags held in memory at once
POOL_MIN_BYTES = 64 << 20  # below this much to read, hashing in-process is faster
POOL_MIN_BAGS = 48  # from this many bags on, workers plan them too
PLAN_GROUP = 256  # bags planned per round in this process
BAG_BATCH = 32  # bags a worker audits whole in one task


def find_bags(roots: Iterable[Path | str]) -> list[Path]:
    """Every bag under the roots, as absolute paths, sorted (``scan_roots``' bags)."""
    return scan_roots(roots)[0]


def linked_bag_report(link: Path | str) -> BagReport:
    """The report of a link to a bag found in a collection: a warning, never followed."""
    message = "is a symbolic link to a bag; not followed, so the bag it points to is not audited"
    finding = Finding(Kind.UNSAFE_PATH, str(link), ".", message, Severity.WARNING)
    return BagReport(bag=str(link), findings=(finding,))


def scan_roots(roots: Iterable[Path | str]) -> tuple[list[Path], list[Path]]:
    """Every bag under the roots, and every link to a bag met there (not followed).

    Both as absolute paths, sorted; a bag's insides are not searched.

    A root that is itself a serialized bag (``archiver.archive.unpack.is_serialized``) is one bag;
    archives found while searching a directory are not (``archiver package`` output kept
    beside the bags would be audited twice). Hidden directories (such as a build's temporary
    staging directory) are skipped and links are not followed: a link to a directory that
    holds a bagit.txt is returned in the second list, to be reported, never silently
    skipped. Raises ``BagReadError`` for a root that is missing or neither a directory nor
    a serialized bag.
    """
    found: set[str] = set()
    links: set[str] = set()
    for root in roots:
        start = os.path.abspath(root)
        if not os.path.exists(start):
            raise BagReadError(f"{root}: does not exist")
        if is_serialized(Path(start)):
            found.add(start)
            continue
        if not os.path.isdir(start):
            raise BagReadError(f"{root}: is neither a directory nor a serialized bag")
        stack = [start]
        while stack:
            directory = stack.pop()
            if _has_declaration(directory):  # one lstat instead of a listing, for most bags
                found.add(directory)
                continue
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
                i.path
                for i in items
                if i.is_dir(follow_symlinks=False) and not i.name.startswith(".")
            )
            links.update(
                i.path
                for i in items
                if i.is_symlink() and not i.name.startswith(".") and _links_to_bag(i.path)
            )

    def ordered(paths: set[str]) -> list[Path]:
        return [Path(p) for p in sorted(paths, key=lambda p: p.split(os.sep))]

    return ordered(found), ordered(links)


def _links_to_bag(link: str) -> bool:
    """True when a link leads to a directory holding bagit.txt (stat only, nothing read)."""
    return os.path.isdir(link) and os.path.isfile(os.path.join(link, "bagit.txt"))


def _has_declaration(directory: str) -> bool:
    """True when the directory holds a bagit.txt that is not a directory (not followed)."""
    try:
        return not stat.S_ISDIR(os.lstat(os.path.join(directory, "bagit.txt")).st_mode)
    except OSError:
        return False


def _archive_name(path: Path) -> bool:
    """True for a serialized bag (the suffix is checked before the file system)."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES) and is_serialized(path)


_buffers = threading.local()  # each thread's (process id, read buffer)


def _worker_buffer() -> mmap.mmap:
    """This thread's reusable read buffer, made on first use (one per worker process or
    hashing thread; it goes with its thread).

    This and ``_checkers_for`` are archiver's only module-level state: caches a pool
    worker keeps across tasks. The process id is checked so a forked worker makes its own
    (``new_buffer`` is a private mapping, so even an inherited one would not be shared);
    threads (``LocalThreads``, a Dask worker's) each have their own.
    """
    held: tuple[int, mmap.mmap] | None = getattr(_buffers, "held", None)
    if held is None or held[0] != os.getpid():
        held = _buffers.held = (os.getpid(), new_buffer())
    return held[1]


def _hash_task(
    jobs: Sequence[HashJob], hygiene: bool, stop: threading.Event | None = None
) -> list[HashResult]:
    """Run in a worker: hash a batch of jobs with the worker's one buffer (``stop``: a
    thread's, see ``LocalThreads``)."""
    return hash_jobs(jobs, _worker_buffer(), hygiene, stop)


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


def unreadable(bag: Path | str, exc: Exception) -> BagReport:
    """The report of a bag that could not be checked at all: one finding saying why.

    ``BagReadError`` (the bag vanished or is not a bag) is ``missing-file``; anything
    else (input no check foresaw) is ``unreadable-bag``. Either way the run goes on.
    """
    if isinstance(exc, BagReadError):
        finding = Finding(Kind.MISSING_FILE, str(bag), ".", str(exc))
    else:
        what = clip(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, 300)
        message = f"could not be checked ({what})"
        finding = Finding(Kind.UNREADABLE_BAG, str(bag), ".", message)
    return BagReport(bag=str(bag), findings=(finding,))


def _plan(
    bag: Path, mode: Mode, checkers: Sequence[Checker], max_tag_bytes: int = MAX_TAG_BYTES
) -> BagPlan | BagReport:
    try:
        return plan_bag(bag, mode=mode, checkers=checkers, max_tag_bytes=max_tag_bytes)
    except Exception as exc:  # one bag's bad input must not stop the run
        return unreadable(bag, exc)


def _audit_archive(
    archive: Path, mode: Mode, checkers: Sequence[Checker], max_tag_bytes: int = MAX_TAG_BYTES
) -> BagReport:
    """A serialized bag, checked and validated under the archive's path."""
    try:
        return validate_serialized(
            archive,
            mode=mode,
            checkers=checkers,
            buffer=_worker_buffer(),
            max_tag_bytes=max_tag_bytes,
        )
    except WorkspaceError:  # no room here to check it: not the bag's fault, stop the run
        raise
    except Exception as exc:  # one bag's bad input must not stop the run
        return unreadable(archive, exc)


def _finish(plan: BagPlan, results: Iterable[HashResult]) -> BagReport:
    try:
        return finish_bag(plan, results)
    except Exception as exc:  # one bag's bad input must not stop the run
        return unreadable(plan.bag, exc)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What auditing a batch of bags gave: finished reports, and the bags planned but left
    to hash across the pool (much to read), and the bytes hashed."""

    reports: tuple[BagReport, ...]
    deferred: tuple[BagPlan, ...]
    bytes: int


def hash_here(plan: BagPlan) -> bool:
    """True when a planned bag is best hashed by whoever planned it (little to read)."""
    return len(plan.jobs) <= BATCH_FILES and plan.job_bytes < LARGE_FILE


def audit_batch(
    bags: Iterable[Path],
    mode: Mode,
    checkers: Sequence[Checker],
    buffer: mmap.mmap,
    max_tag_bytes: int = MAX_TAG_BYTES,
) -> BatchOutcome:
    """Plan each bag; hash and finish those with little to read; defer the others."""
    reports: list[BagReport] = []
    deferred: list[BagPlan] = []
    done = 0
    for bag in bags:
        planned = _plan(bag, mode, checkers, max_tag_bytes)
        if isinstance(planned, BagReport):
            reports.append(planned)
        elif hash_here(planned):
            results = hash_jobs(planned.jobs, buffer)
            done += sum(r.size for r in results)
            reports.append(_finish(planned, results))
        else:
            deferred.append(planned)
    return BatchOutcome(tuple(reports), tuple(deferred), done)


def _batch_task(
    bags: Sequence[str], mode: Mode, metadata: bool | None, max_tag_bytes: int = MAX_TAG_BYTES
) -> BatchOutcome:
    """Run in a worker: audit a batch of bags with this process's own checkers."""
    checkers = _checkers_for(os.getpid(), threading.get_ident(), metadata)
    return audit_batch([Path(b) for b in bags], mode, checkers, _worker_buffer(), max_tag_bytes)


@functools.lru_cache(maxsize=64)
def _checkers_for(pid: int, thread: int, metadata: bool | None) -> list[Checker]:
    """The default checkers of one process (schemas compiled once per worker); none for
    ``metadata=None``."""
    return [] if metadata is None else archiver_checkers(metadata=metadata)


def _windows(
    bags: Sequence[Path],
    plan: Callable[[Sequence[Path]], list[BagPlan | BagReport]],
    window_jobs: int,
    window_bags: int,
) -> Iterator[list[BagPlan | BagReport]]:
    """Plan bags a group at a time; yield windows of about ``window_jobs`` files or
    ``window_bags`` bags, whichever comes first."""
    window: list[BagPlan | BagReport] = []
    jobs = 0
    group = max(1, min(PLAN_GROUP, window_bags))
    for start in range(0, len(bags), group):
        for planned in plan(bags[start : start + group]):
            window.append(planned)
            if isinstance(planned, BagPlan):
                jobs += len(planned.jobs)
            if jobs >= window_jobs or len(window) >= window_bags:
                yield window
                window, jobs = [], 0
    if window:
        yield window


def _run_tasks(
    tasks: list[list[HashJob]],
    pool: TaskExecutor | None,
    workers: int,
    on_done: Callable[[list[HashResult]], None],
    hygiene: bool = True,
) -> None:
    """Run tasks in order of submission, at most 2 per worker in flight."""
    if pool is None:
        buffer = _worker_buffer()
        for task in tasks:
            on_done(hash_jobs(task, buffer, hygiene))
        return
    pending: set[Future[list[HashResult]]] = set()
    queue = iter(tasks)
    limit = max(2, workers * 2)
    stop = pool.stop if isinstance(pool, LocalThreads) else None
    for task in queue:
        pending.add(pool.submit(_hash_task, task, hygiene, stop))
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

    def __init__(self, progress: ProgressCallback | None, bags: int) -> None:
        self.progress = progress
        self.bags = bags  # bags in the whole audit, for the progress estimate
        self.reports: list[BagReport] = []
        self.plans: dict[str, BagPlan] = {}
        self.left: dict[str, int] = {}
        self.results: dict[str, list[HashResult]] = {}
        self.held_jobs = 0  # files of planned bags not hashed yet
        self.seen = 0  # bags planned so far
        self.done_bytes = 0
        self.total_bytes = 0

    def add(self, window: Iterable[BagPlan | BagReport]) -> list[HashJob]:
        """Take a window of planned bags; return the jobs still to hash."""
        jobs: list[HashJob] = []
        for planned in window:
            self.seen += 1
            if isinstance(planned, BagReport):
                self.reports.append(planned)
            elif not planned.jobs:
                self.reports.append(_finish(planned, ()))
            else:
                self.plans[planned.bag] = planned
                self.left[planned.bag] = len(planned.jobs)
                self.results[planned.bag] = []
                jobs.extend(planned.jobs)
                self.held_jobs += len(planned.jobs)
                self.total_bytes += planned.job_bytes
        self._report_progress()
        return jobs

    def add_batch(self, outcome: BatchOutcome) -> list[HashJob]:
        """Take a worker's finished reports and deferred bags; return the jobs to hash."""
        self.reports.extend(outcome.reports)
        self.seen += len(outcome.reports)
        self.done_bytes += outcome.bytes
        self.total_bytes += outcome.bytes
        return self.add(outcome.deferred)

    def done(self, batch: list[HashResult]) -> None:
        """Record a finished task's results."""
        for result in batch:
            self.results[result.bag].append(result)
            self.done_bytes += result.size
            self.held_jobs -= 1
            self.left[result.bag] -= 1
            if self.left[result.bag] == 0:
                plan = self.plans.pop(result.bag)
                self.reports.append(_finish(plan, self.results.pop(result.bag)))
                del self.left[result.bag]
        self._report_progress()

    def _report_progress(self) -> None:
        if self.progress is None:
            return
        total = self.total_bytes
        if 0 < self.seen < self.bags:  # bags still to plan: assume they are like the others
            total = max(total, self.total_bytes * self.bags // self.seen)
        self.progress(self.done_bytes, total)


def _hashing_executor(jobs: Sequence[HashJob], workers: int) -> TaskExecutor:
    """Threads when at most ``THREAD_MAX_SMALL_FILES`` of the files are below
    ``LARGE_FILE`` (hashing large files releases the GIL), else worker processes (the
    Python work of each small file holds it)."""
    small = sum(1 for job in jobs if job.size < LARGE_FILE)
    if small <= THREAD_MAX_SMALL_FILES:
        return LocalThreads(workers)
    return LocalPool(_new_pool(workers), workers)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    """A pool whose workers die with this process (``archiver.storage.workers``)."""
    from concurrent.futures import ProcessPoolExecutor  # multiprocessing: only for a pool

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=worker_context([__name__]),
        initializer=init_worker,
        initargs=(os.getpid(),),
    )


def _pooled(
    targets: Sequence[Path],
    pool: TaskExecutor,
    workers: int,
    mode: Mode,
    metadata: bool | None,
    collector: _Collector,
    window_jobs: int,
    window_bags: int,
    bag_batch: int = BAG_BATCH,
    hygiene: bool = True,
    max_tag_bytes: int = MAX_TAG_BYTES,
) -> None:
    """Workers audit batches of bags whole (at most ``bag_batch`` each, fewer when that
    leaves under 4 batches per worker); deferred bags' files are spread over them, largest
    tasks first. New batches wait while ``window_jobs`` files or ``window_bags`` planned
    bags are held."""
    names = [str(b) for b in targets]
    size = max(1, min(bag_batch, len(names) // (workers * 4) or 1))
    batches = iter(range(0, len(names), size))
    queue: list[tuple[int, int, list[HashJob]]] = []  # (-bytes, order, task): a heap
    order = 0
    pending: dict[Future[Any], bool] = {}  # future -> is a batch of bags
    limit = max(2, workers * 2)
    while True:
        while len(pending) < limit:
            if queue:
                task = heapq.heappop(queue)[2]
                pending[pool.submit(_hash_task, task, hygiene)] = False
                continue
            if collector.held_jobs >= window_jobs or len(collector.plans) >= window_bags:
                break
            start = next(batches, None)
            if start is None:
                break
            batch = names[start : start + size]
            pending[pool.submit(_batch_task, batch, mode, metadata, max_tag_bytes)] = True
        if not pending:
            return
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            if pending.pop(future):
                for task in schedule(collector.add_batch(future.result())):
                    order += 1
                    heapq.heappush(queue, (-sum(j.size for j in task), order, task))
            else:
                collector.done(future.result())


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
    metadata: bool = False,
    clock: Callable[[], datetime] = _utc_now,
    timer: Callable[[], float] = time.monotonic,
    run_id: str | None = None,
    window_jobs: int = WINDOW_JOBS,
    window_bags: int = WINDOW_BAGS,
    pool_min_bytes: int = POOL_MIN_BYTES,
    pool_min_bags: int = POOL_MIN_BAGS,
    executor: TaskExecutor | None = None,
    bag_batch: int = BAG_BATCH,
    cache_hygiene: bool = True,
    max_tag_bytes: int = MAX_TAG_BYTES,
    linked: Sequence[Path | str] | None = None,
) -> AuditReport:
    """Verify every bag under ``roots`` (or just ``bags``) with one worker pool for all.

    Every bag gets the BagIt checks of ``mode`` (``full``: every checksum) and, when it
    declares our profile, the profile check. ``checkers`` default to
    ``archiver_checkers(metadata=metadata)``: the schema checks of the DC and PREMIS records
    (JSON Schema and XSD, ``invalid-metadata``) run only with ``metadata=True``; by default
    the tag manifests' checksums vouch that the records are the bytes the build validated
    (``archiver validate`` always checks them). Pass ``checkers=()`` to skip the profile too.

    ``workers`` defaults to every core; 1 works in this process, and so does a run with
    fewer than ``pool_min_bags`` bags and less than ``pool_min_bytes`` to read (starting
    workers would cost more than it saves). With the default checkers (or none), workers
    audit whole batches of bags, since per-bag work dominates for many small bags;
    explicit ``checkers`` run in this process. Fewer bags are planned here and their
    files hashed by ``workers`` threads when no more than ``THREAD_MAX_SMALL_FILES`` of
    them are small (``LocalThreads``: hashing large files releases the GIL), else by
    worker processes. Serialized bags (archive roots, or archives among ``bags``) are
    extracted one at a time into a temporary directory and validated in this process
    (``archiver.archive.verify.validate_serialized``), in the same run, each reported
    under the archive's path. Workers are forked, or started from a fork server when
    this process runs other threads (``archiver.storage.workers``): a script that calls
    ``audit`` with several workers needs the usual ``if __name__ == "__main__":`` guard. Workers die
    with this process; an exception here (Ctrl-C, SIGTERM made an exception) stops them
    at once and no report is returned. ``cache_hygiene`` (on by default) reads large
    files with read-ahead hints and drops from the page cache what the audit brought in
    (``archiver.storage.pagecache``), so a nightly audit does not evict the machine's working
    set. ``clock`` gives the timezone-aware
    start and end times, ``timer`` the elapsed seconds.

    ``executor``: run every task there instead (e.g. a Dask cluster,
    ``archiver.audit.dask_backend``), whatever the number of bags; ``workers`` is then
    ignored. The caller keeps it open and closes it. ``bag_batch``: bags a worker audits
    in one task at most (on a large cluster, more per task spares the scheduler).

    A bag that cannot be checked at all gets a report with one finding
    (``missing-file`` or ``unreadable-bag``) and the others are still audited. Links to
    bags found under the roots (``linked``; default: those ``scan_roots`` finds) are not
    followed: each is reported with an ``unsafe-path`` warning. Tag files over
    ``max_tag_bytes`` are ``oversized-tag-file`` and not read.
    """
    started = clock()
    t0 = timer()
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise ValueError(f"workers must be at least 1, not {count}")
    if bags is None:
        found, links = scan_roots(roots)
        linked = links if linked is None else linked
    else:
        found = [
            b if isinstance(b, Path) and b.is_absolute() else Path(os.path.abspath(b)) for b in bags
        ]
    archives = {b for b in found if _archive_name(b)}
    targets = [b for b in found if b not in archives]
    # workers build the default checkers themselves (None: no checkers at all)
    plan_in_workers = checkers is None or len(checkers) == 0
    worker_metadata = metadata if checkers is None else None
    collector = _Collector(progress, len(targets))
    pool: TaskExecutor | None = executor
    earlier_children = child_pids()

    @functools.cache
    def local_checkers() -> Sequence[Checker]:
        return archiver_checkers(metadata=metadata) if checkers is None else checkers

    def plan(group: Sequence[Path]) -> list[BagPlan | BagReport]:
        return [_plan(bag, mode, local_checkers(), max_tag_bytes) for bag in group]

    for link in linked or ():
        collector.reports.append(linked_bag_report(link))
    try:
        for archive in sorted(archives):  # extracted one at a time, hashed in this process
            collector.reports.append(_audit_archive(archive, mode, local_checkers(), max_tag_bytes))
        if executor is None and count > 1 and plan_in_workers and len(targets) >= pool_min_bags:
            pool = LocalPool(_new_pool(count), count)
        if pool is not None and plan_in_workers:  # the given executor, or the pool just made
            _pooled(
                targets,
                pool,
                pool.workers,
                mode,
                worker_metadata,
                collector,
                window_jobs,
                window_bags,
                bag_batch,
                cache_hygiene,
                max_tag_bytes,
            )
        else:
            width = count if executor is None else executor.workers
            for window in _windows(targets, plan, window_jobs, window_bags):
                jobs = collector.add(window)
                if pool is None and count > 1 and sum(j.size for j in jobs) >= pool_min_bytes:
                    pool = _hashing_executor(jobs, count)
                _run_tasks(schedule(jobs), pool, width, collector.done, cache_hygiene)
    except BaseException:  # interrupted (or a bug): stop the workers now, report nothing
        if pool is not None and pool is not executor:
            terminate_children(child_pids() - earlier_children)
            pool.close()
            pool = None
        raise
    finally:
        if pool is not None and pool is not executor:
            pool.close()
    reports = collector.reports
    reports.sort(key=lambda r: r.bag)
    seconds = timer() - t0
    ended = clock()
    return AuditReport(
        run_id=run_id or str(uuid.uuid4()),
        started=started.isoformat(),
        ended=ended.isoformat(),
        mode=mode,
        roots=tuple(str(r) for r in roots),
        versions=versions(),
        bags=tuple(reports),
        totals=AuditTotals.of(reports, seconds),
    )
