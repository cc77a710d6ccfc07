"""Tests for archiver.audit.collection: discovery, one pool for all bags, scheduling, the report."""

from __future__ import annotations

import itertools
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_validator import (
    BUILT_FAULTS,
    FAULTS,
    PAYLOAD,
    _built_edit_metadata,
    build_fixture_bag,
    delete_bagit_txt,
    flip_bit,
)

import archiver.bag.validator as validator
from archiver.archive.serialize import DEFAULT_EPOCH, serialize_bag
from archiver.audit import collection as audit_module
from archiver.audit.collection import audit, find_bags, schedule
from archiver.bag.validator import HashJob
from archiver.model.errors import BagReadError
from archiver.model.findings import Kind
from archiver.model.reports import AuditReport, AuditTotals
from archiver.storage.workers import worker_context


def fixed_clock() -> Callable[[], datetime]:
    times = iter(
        [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 9, tzinfo=UTC)]
    )
    return lambda: next(times)


def fixed_timer() -> Callable[[], float]:
    ticks = itertools.count(start=100.0, step=2.0)
    return lambda: next(ticks)


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    root = tmp_path / "bags"
    for name in ("one", "two", "nested/three"):
        build_fixture_bag(root / name)
    return root


def test_find_bags(collection: Path) -> None:
    (collection / ".one.x1.tmp").mkdir()  # a build's staging directory: skipped
    (collection / ".one.x1.tmp" / "bagit.txt").write_text("BagIt-Version: 1.0\n")
    (collection / "notes").mkdir()
    found = find_bags([collection])
    assert [p.relative_to(collection).as_posix() for p in found] == ["nested/three", "one", "two"]
    assert all(p.is_absolute() for p in found)


def test_find_bags_does_not_search_inside_a_bag(tmp_path: Path) -> None:
    outer = build_fixture_bag(tmp_path / "outer")
    build_fixture_bag(outer / "data" / "inner")
    assert find_bags([tmp_path]) == [outer]


def test_find_bags_root_is_a_bag_and_damaged_bags_are_found(collection: Path) -> None:
    delete_bagit_txt(collection / "one")
    assert find_bags([collection / "one"]) == [collection / "one"]
    assert collection / "one" in find_bags([collection])


@pytest.mark.parametrize(
    ("make", "message"), [(None, "does not exist"), ("file", "neither a directory nor")]
)
def test_find_bags_bad_root(tmp_path: Path, make: str | None, message: str) -> None:
    root = tmp_path / "root"
    if make == "file":
        root.write_text("x")
    with pytest.raises(BagReadError, match=message):
        find_bags([root])


def test_clean_collection(collection: Path) -> None:
    report = audit([collection], workers=1, clock=fixed_clock(), timer=fixed_timer(), run_id="r1")
    assert report.valid
    assert report.findings == ()
    assert report.run_id == "r1"
    assert (report.started, report.ended) == (
        "2026-01-02T03:04:05+00:00",
        "2026-01-02T03:04:09+00:00",
    )
    size = sum(len(d) for d in PAYLOAD.values())
    assert report.totals == AuditTotals(
        bags=3, intact=3, failed=0, files=9, bytes=3 * size, seconds=2.0
    )
    assert [b.bag for b in report.bags] == sorted(b.bag for b in report.bags)
    assert report.roots == (str(collection),)
    assert report.versions["archiver"]


def test_pool_and_in_process_agree(collection: Path) -> None:
    flip_bit(collection / "two")
    pooled = audit([collection], workers=2, pool_min_bytes=0)
    local = audit([collection], workers=1)
    assert pooled.bags == local.bags
    assert [b.valid for b in pooled.bags] == [True, True, False]
    assert pooled.totals.failed == 1


def test_find_bags_a_directory_named_bagit_txt_does_not_make_a_bag(tmp_path: Path) -> None:
    (tmp_path / "odd" / "bagit.txt").mkdir(parents=True)
    assert find_bags([tmp_path]) == []


@pytest.mark.parametrize(("window_jobs", "window_bags"), [(50_000, 2_000), (1, 1)])
def test_workers_audit_batches_and_spread_big_bags(
    tmp_path: Path, window_jobs: int, window_bags: int
) -> None:
    root = tmp_path / "bags"
    many = {f"f{i:03}.txt": f"file {i}".encode() for i in range(300)}  # > BATCH_FILES
    for name, payload in (("a", None), ("b", many), ("c", None), ("d", many)):
        build_fixture_bag(root / name, payload)
    flip_bit(root / "c")
    target = root / "d" / "data" / "f123.txt"
    target.write_bytes(b"changed")
    local = audit([root], workers=1)
    pooled = audit(
        [root], workers=2, pool_min_bags=0, window_jobs=window_jobs, window_bags=window_bags
    )
    assert pooled.bags == local.bags
    assert [b.valid for b in pooled.bags] == [True, True, False, False]
    assert (Kind.CHECKSUM_MISMATCH, "data/f123.txt") in {
        (f.kind, f.path) for f in pooled.bags[3].errors
    }
    assert pooled.totals.files == 2 * 3 + 2 * 300


def test_workers_come_from_a_fork_server_while_other_threads_run(
    collection: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if threading.active_count() == 1:  # no thread left behind by an earlier test (moto, ...)
        assert worker_context().get_start_method() == "fork"
    flip_bit(collection / "two")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)  # like a progress bar's refresh thread
    thread.start()
    try:
        assert worker_context().get_start_method() == "forkserver"
        report = audit([collection], workers=2, pool_min_bags=0)
    finally:
        stop.set()
        thread.join()
    assert report.bags == audit([collection], workers=1).bags
    assert [b.valid for b in report.bags] == [True, True, False]


def test_pooled_progress_ends_at_the_total(collection: Path) -> None:
    calls: list[tuple[int, int]] = []
    audit([collection], workers=2, pool_min_bags=0, progress=lambda d, t: calls.append((d, t)))
    done, total = calls[-1]
    assert done == total > 3 * sum(len(d) for d in PAYLOAD.values())
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_windows_do_not_change_the_result(collection: Path) -> None:
    flip_bit(collection / "one")
    whole = audit([collection], workers=1)
    windowed = audit([collection], workers=1, window_jobs=1)
    assert whole.bags == windowed.bags
    assert audit([collection], workers=1, window_bags=1).bags == whole.bags


@pytest.mark.parametrize(
    ("fault", "kind", "path"), FAULTS, ids=[f"{f.__name__}-{k}-{p}" for f, k, p in FAULTS]
)
def test_audit_catches_fault(
    collection: Path, fault: Callable[[Path], None], kind: Kind, path: str
) -> None:
    fault(collection / "two")
    report = audit([collection], workers=1)
    failed = [b for b in report.bags if not b.valid]
    assert [b.bag for b in failed] == [str(collection / "two")]
    assert (kind, path) in {(f.kind, f.path) for f in failed[0].errors}


def test_progress_reports_bytes(collection: Path) -> None:
    calls: list[tuple[int, int]] = []
    audit([collection], workers=1, progress=lambda done, total: calls.append((done, total)))
    assert calls
    done, total = calls[-1]
    assert done == total > 3 * sum(len(d) for d in PAYLOAD.values())  # payload + metadata
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_only_selected_bags(collection: Path) -> None:
    report = audit([collection], workers=1, bags=[collection / "one"])
    assert [b.bag for b in report.bags] == [str(collection / "one")]


def test_fast_mode_reads_no_payload(collection: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flip_bit(collection / "one")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("fast mode must not hash files")

    monkeypatch.setattr(validator, "hash_path", refuse)
    report = audit([collection], workers=1, mode="fast")
    assert report.valid
    assert report.mode == "fast"


def _job(name: str, size: int) -> HashJob:
    return HashJob("bag", "/bag", name, name, size, ("sha256",))


def test_schedule_largest_first_and_small_files_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_module, "LARGE_FILE", 100)
    monkeypatch.setattr(audit_module, "BATCH_FILES", 3)
    monkeypatch.setattr(audit_module, "BATCH_BYTES", 50)
    jobs = [_job("s1", 10), _job("L1", 150), _job("s2", 20), _job("L2", 500)]
    jobs += [_job(f"t{i}", 1) for i in range(4)]
    tasks = schedule(jobs)
    assert [[j.path for j in t] for t in tasks[:2]] == [["L2"], ["L1"]]
    small = tasks[2:]
    assert all(len(t) <= 3 and sum(j.size for j in t) <= 50 for t in small)
    assert [j.path for t in small for j in t][:2] == ["s2", "s1"]
    assert sorted(j.path for t in tasks for j in t) == sorted(j.path for j in jobs)


def test_report_json(collection: Path) -> None:
    flip_bit(collection / "one")
    data = audit([collection], workers=1, run_id="abc").to_json()
    assert data["run_id"] == "abc"
    assert data["status"] == "failed"
    assert set(data) >= {"started", "ended", "versions", "totals", "bags", "mode", "roots"}
    assert data["totals"]["failed"] == 1
    problem = data["bags"][1]["problems"][0]
    assert {"kind", "bag", "path", "algorithm", "expected", "found"} <= set(problem)


def test_workers_must_be_positive(collection: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        audit([collection], workers=0)


def test_report_is_frozen() -> None:
    report = AuditReport("r", "s", "e", "full", (), {}, ())
    with pytest.raises(AttributeError):
        report.run_id = "x"  # type: ignore[misc]


# ------------------------------------------------------------------ the built collection


def test_built_collection_is_intact(collection_copy: Path) -> None:
    report = audit([collection_copy], workers=2, pool_min_bytes=0)
    assert report.valid and report.findings == ()
    assert report.totals.bags == len(list(collection_copy.iterdir()))


@pytest.mark.parametrize(
    ("fault", "kind"), BUILT_FAULTS, ids=[f"{f.__name__}-{k}" for f, k in BUILT_FAULTS]
)
def test_audit_catches_fault_in_built_bag(
    collection_copy: Path, bag_copy: Path, fault: Callable[[Path], str], kind: Kind
) -> None:
    path = fault(bag_copy)
    report = audit([collection_copy], workers=1, metadata=kind is Kind.INVALID_METADATA)
    failed = [b for b in report.bags if not b.valid]
    assert [b.bag for b in failed] == [str(bag_copy)]
    assert (kind, path) in {(f.kind, f.path) for f in failed[0].errors}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    ("metadata", "kinds"),
    [
        (False, {Kind.CHECKSUM_MISMATCH}),
        (True, {Kind.CHECKSUM_MISMATCH, Kind.INVALID_METADATA}),
    ],
)
def test_metadata_schema_checks_only_when_asked(
    collection_copy: Path, bag_copy: Path, workers: int, metadata: bool, kinds: set[Kind]
) -> None:
    # an edited record always fails fixity (the tag manifests); its schema is checked on demand
    path = _built_edit_metadata(bag_copy)
    report = audit([collection_copy], workers=workers, metadata=metadata, pool_min_bags=0)
    (failed,) = [b for b in report.bags if not b.valid]
    assert {f.kind for f in failed.errors if f.path == path} == kinds


def test_workers_never_share_a_buffer_inherited_from_the_parent(tmp_path: Path) -> None:
    # the parent hashes first (workers=1 fills its buffer cache); forked workers must
    # still each get a buffer of their own, or concurrent reads corrupt each other
    payload = {f"f{i}.bin": bytes([i]) * (3 << 20) + bytes(range(256)) * i for i in range(6)}
    root = tmp_path / "bags"
    build_fixture_bag(root / "big", payload)
    assert audit([root], workers=1, checkers=()).valid
    for _ in range(3):
        assert audit([root], workers=2, checkers=(), pool_min_bytes=0).findings == ()


@pytest.mark.parametrize(("threshold", "pools"), [(0, 1), (1 << 40, 0)])
def test_pool_starts_only_when_worth_it(
    collection: Path, monkeypatch: pytest.MonkeyPatch, threshold: int, pools: int
) -> None:
    started = _spy_executors(monkeypatch)  # threads or processes: few, small files
    assert audit([collection], workers=2, pool_min_bytes=threshold).valid
    assert len(started) == pools


def test_selected_bag_that_vanished_fails(collection: Path) -> None:
    gone = collection / "gone"
    report = audit([collection], workers=1, bags=[collection / "one", gone])
    failed = [b for b in report.bags if not b.valid]
    assert [(b.bag, b.findings[0].kind, b.findings[0].path) for b in failed] == [
        (str(gone), Kind.MISSING_FILE, ".")
    ]
    assert "does not exist" in failed[0].findings[0].message


def test_workers_plan_bags_with_their_own_checkers(collection_copy: Path, bag_copy: Path) -> None:
    (bag_copy / "notes.txt").write_text("not allowed by the profile")
    _built_edit_metadata(bag_copy)
    local = audit([collection_copy], workers=1, metadata=True)
    pooled = audit([collection_copy], workers=2, pool_min_bags=0, metadata=True)
    assert pooled.bags == local.bags
    kinds = {(f.kind, f.path) for f in pooled.findings}
    assert {
        (Kind.PROFILE_VIOLATION, "notes.txt"),
        (Kind.INVALID_METADATA, "metadata/dc.json"),
    } <= kinds


# ------------------------------------------------------------------ serialized bags


def test_find_bags_takes_archive_roots_but_does_not_search_for_archives(
    collection: Path, tmp_path: Path
) -> None:
    archive = serialize_bag(collection / "one", collection, "tar.gz", DEFAULT_EPOCH).archive
    assert find_bags([archive]) == [archive]
    assert archive not in find_bags([collection])


def test_audit_archives_and_directories_in_one_run(
    collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unpack_tmp = tmp_path / "unpack"
    unpack_tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(unpack_tmp))
    out = tmp_path / "out"
    out.mkdir()
    good = serialize_bag(collection / "one", out, "zip", DEFAULT_EPOCH).archive
    flip_bit(collection / "two")
    bad = serialize_bag(collection / "two", out, "tar", DEFAULT_EPOCH).archive
    report = audit([good, bad, collection / "nested" / "three"], workers=1, checkers=())
    by_bag = {b.bag: b for b in report.bags}
    assert set(by_bag) == {str(good), str(bad), str(collection / "nested" / "three")}
    assert by_bag[str(good)].valid and by_bag[str(collection / "nested" / "three")].valid
    assert (Kind.CHECKSUM_MISMATCH, str(bad)) in {(f.kind, f.bag) for f in report.findings}
    assert report.totals.bags == 3 and report.totals.failed == 1
    assert list(unpack_tmp.iterdir()) == []


def test_unreadable_archive_is_a_failed_bag_not_a_crash(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK not really")
    report = audit([archive], workers=1, checkers=())
    (bag,) = report.bags
    assert bag.bag == str(archive) and not bag.valid
    assert bag.findings[0].kind is Kind.MISSING_FILE


class InProcess:
    """A TaskExecutor that runs each task at once, here (as a Dask cluster would, elsewhere)."""

    workers = 1

    def __init__(self) -> None:
        self.calls: list[str] = []

    def submit(self, fn: Callable[..., object], /, *args: object) -> Future[object]:
        self.calls.append(fn.__name__)
        future: Future[object] = Future()
        future.set_result(fn(*args))
        return future

    def close(self) -> None:
        raise AssertionError("the caller closes its executor, not audit()")


@pytest.mark.parametrize(("batch", "batches"), [(1, 8), (2, 4), (32, 4)])
def test_any_task_executor_gives_the_same_report(
    collection: Path, batch: int, batches: int
) -> None:
    for i in range(5):
        shutil.copytree(collection / "one", collection / f"copy{i}")
    flip_bit(collection / "two")
    executor = InProcess()
    report = audit([collection], executor=executor, bag_batch=batch)
    local = audit([collection], workers=1)
    assert report.bags == local.bags and len(report.bags) == 8 and not report.valid
    # every bag through the executor, at most ``batch`` per task, at least 4 tasks per worker
    assert executor.calls == ["_batch_task"] * batches


def test_one_unreadable_bag_does_not_hide_the_others(
    collection: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9, class 1: input no check foresaw is a finding on that bag (unreadable-bag);
    the other bags are audited and reported."""
    real = validator.parse_declaration

    def fragile(data: bytes) -> object:
        if b"boom" in data:
            raise ValueError("unforeseen")
        return real(data)

    bad = collection / "one" / "bagit.txt"
    bad.write_bytes(bad.read_bytes() + b"boom\n")
    monkeypatch.setattr(validator, "parse_declaration", fragile)
    report = audit([collection], workers=1)
    by_bag = {Path(b.bag).name: b for b in report.bags}
    assert set(by_bag) == {"one", "two", "three"}
    assert [(f.kind, f.path) for f in by_bag["one"].findings] == [(Kind.UNREADABLE_BAG, ".")]
    assert "ValueError: unforeseen" in by_bag["one"].findings[0].message
    assert by_bag["two"].valid and by_bag["three"].valid


def test_huge_bagit_version_is_a_finding_and_the_others_are_audited(collection: Path) -> None:
    bad = collection / "two" / "bagit.txt"
    bad.write_bytes(b"BagIt-Version: " + b"9" * 5000 + b".0\nTag-File-Character-Encoding: UTF-8\n")
    report = audit([collection], workers=1)
    assert report.totals.bags == 3 and report.totals.intact == 2
    kinds = {f.kind for b in report.bags for f in b.findings}
    assert Kind.INVALID_DECLARATION in kinds


def test_link_to_a_bag_is_reported_not_skipped(collection: Path, tmp_path: Path) -> None:
    """Issue 9, class 8: a bag that is a link in the collection is a warning."""
    (collection / "alias").symlink_to(collection / "two", target_is_directory=True)
    (collection / "not-a-bag").symlink_to(tmp_path, target_is_directory=True)
    found, links = audit_module.scan_roots([collection])
    assert links == [collection / "alias"]
    report = audit([collection], workers=1)
    alias = next(b for b in report.bags if b.bag == str(collection / "alias"))
    assert [(f.kind, f.severity) for f in alias.findings] == [(Kind.UNSAFE_PATH, "warning")]
    assert report.valid


def _spy_executors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which executor the audit makes for hashing ('threads' or 'processes')."""
    made: list[str] = []
    real_threads, real_pool = audit_module.LocalThreads, audit_module._new_pool

    class Threads(real_threads):  # type: ignore[misc, valid-type]
        def __init__(self, workers: int) -> None:
            made.append("threads")
            super().__init__(workers)

    def processes(workers: int) -> object:
        made.append("processes")
        return real_pool(workers)

    monkeypatch.setattr(audit_module, "LocalThreads", Threads)
    monkeypatch.setattr(audit_module, "_new_pool", processes)
    return made


def test_large_files_are_hashed_by_threads_small_ones_by_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: threads where hashing releases the GIL (at most THREAD_MAX_SMALL_FILES
    files below LARGE_FILE), with a buffer each; the report is the one a single worker
    gives."""
    size = audit_module.LARGE_FILE
    big = {f"f{i}.bin": bytes([i]) * size + bytes(range(256)) * i for i in range(5)}
    many = audit_module.THREAD_MAX_SMALL_FILES + 1
    small = {f"s{i}.txt": i.to_bytes(2, "big") * 500 for i in range(many)}
    build_fixture_bag(tmp_path / "big" / "bag", big)
    build_fixture_bag(tmp_path / "small" / "bag", small)
    made = _spy_executors(monkeypatch)
    for root, executor in (("big", "threads"), ("small", "processes")):
        alone = audit([tmp_path / root], workers=1, checkers=())
        for _ in range(2):
            shared = audit([tmp_path / root], workers=2, checkers=(), pool_min_bytes=0)
            assert shared.valid and shared.bags == alone.bags
        assert made == [executor, executor]
        made.clear()
    flip = tmp_path / "big" / "bag" / "data" / "f3.bin"
    flip.write_bytes(flip.read_bytes()[:-1] + b"\x00")
    damaged = audit([tmp_path / "big"], workers=2, checkers=(), pool_min_bytes=0)
    assert [f.kind for f in damaged.findings] == [Kind.CHECKSUM_MISMATCH] * 2


class _SetAfter(threading.Event):
    """An event that reads as set from its ``n``-th look on."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.looks, self.n = 0, n

    def is_set(self) -> bool:
        self.looks += 1
        return self.looks >= self.n


def test_a_stopped_thread_gives_up_at_its_next_block(tmp_path: Path) -> None:
    from archiver.bag.validator import HashingStopped, hash_jobs, hash_path
    from archiver.model.digest import BLOCK_SIZE

    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (BLOCK_SIZE * 8))
    job = HashJob("bag", str(tmp_path), "data/big.bin", "big.bin", BLOCK_SIZE * 8, ("sha256",))
    stop = _SetAfter(3)  # hash_jobs looks once, then once per block
    with pytest.raises(HashingStopped):
        hash_jobs([job], stop=stop)
    assert stop.looks == 3  # stopped after two blocks of eight
    already = threading.Event()
    already.set()
    with pytest.raises(HashingStopped):  # no further file is begun
        hash_jobs([job], stop=already)
    assert hash_path(str(big), ["sha256"], stop=threading.Event())[1] == BLOCK_SIZE * 8


def test_closing_the_threads_stops_their_hashing() -> None:
    from archiver.audit.executor import LocalThreads

    threads = LocalThreads(2)
    started, release = threading.Event(), threading.Event()

    def task() -> bool:
        started.set()
        release.wait()
        return threads.stop.is_set()

    future = threads.submit(task)
    started.wait()
    closing = threading.Thread(target=threads.close)
    closing.start()
    assert threads.stop.wait(60)  # set while the task still runs, not after it ends
    release.set()
    closing.join()
    assert future.result() is True
