"""archiver.storage.workers: start method, and workers that never outlive the run that started them.

The CLI tests start ``archiver build`` / ``archiver audit`` in a subprocess on a corpus
big enough to need a pool, wait until its workers are busy, then kill it (``kill -9``)
or stop it (SIGTERM), and check by their recorded process ids that no worker survives.
The waits have generous bounds only so that a regression fails instead of hanging.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.synchronize
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bagit
import pytest
from conftest import ROOT
from test_collection_build import many_sources
from test_fileio import dead_pid

import archiver.cli
import archiver.cli.validate
from archiver.ledger.store import Ledger
from archiver.model.errors import MetadataError
from archiver.storage.fileio import STAGING_PREFIX
from archiver.storage.workers import Termination, init_worker, process_alive, worker_context

GUARD_SECONDS = 120.0  # a hang guard, not a speed requirement

needs_two_cores = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not sys.platform.startswith("linux"),
    reason="pools start only with two or more cores; /proc is Linux",
)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def children_of(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def start_cli(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """Wait for the CLI; its exit status and what it wrote to stderr.

    A worker that outlives the CLI keeps its stderr open: that fails here, not hangs.
    """
    try:
        _, err = proc.communicate(timeout=GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        if proc.stderr is not None:
            proc.stderr.close()
        raise AssertionError("stderr is still open: a worker outlived the command") from None
    return proc.returncode, err


# -- start method --------------------------------------------------------------------------


def test_fork_without_other_threads_else_a_fork_server() -> None:
    if threading.active_count() == 1:  # no thread left behind by an earlier test (moto, ...)
        assert worker_context().get_start_method() == "fork"
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)  # like a progress bar's refresh thread
    thread.start()
    try:
        assert worker_context(["archiver.storage.workers"]).get_start_method() == "forkserver"
    finally:
        stop.set()
        thread.join()


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(dead_pid())
    assert not process_alive(0)


# -- a worker dies with its run -----------------------------------------------------------


def _run_with_a_worker(ready: multiprocessing.synchronize.Event, pids: Any) -> None:
    """A 'run' process: starts one worker (from a fork server), reports it, then waits."""
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()  # so workers need the server
    context = worker_context(["archiver.storage.workers"])
    worker = context.Process(target=_worker, args=(os.getpid(),), daemon=False)
    worker.start()
    pids.put(worker.pid)
    ready.wait()
    time.sleep(3600)


def _worker(run_pid: int) -> None:
    init_worker(run_pid)
    time.sleep(3600)


def test_a_worker_from_a_fork_server_dies_with_its_run() -> None:
    """The worker's parent is the fork server, not the run: the watch on the run's pid
    (not the parent death signal alone) must end it."""
    context = multiprocessing.get_context("spawn")
    pids = context.Queue()
    ready = context.Event()
    run = context.Process(target=_run_with_a_worker, args=(ready, pids))
    run.start()
    worker_pid = pids.get(timeout=GUARD_SECONDS)
    assert running(worker_pid)
    os.kill(run.pid or 0, signal.SIGKILL)
    run.join()
    wait_for(lambda: not running(worker_pid), f"worker {worker_pid} to die with its run")


# A worker that SIGTERM reaches while lxml compiles a schema: lxml turns the SystemExit
# raised in its resolver callback into an XMLSchemaParseError of its own.
_SCHEMA_WORKER = """
import os, sys, time
from lxml import etree
from archiver.storage.workers import init_worker

class SlowResolver(etree.Resolver):
    def resolve(self, url, pubid, context):
        print("resolving", flush=True)
        time.sleep(60)

XSD = (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:import '
       b'namespace="urn:x" schemaLocation="http://example.org/x.xsd"/></xs:schema>')
termination = init_worker(os.getppid(), exit_on_sigterm=True)
parser = etree.XMLParser(no_network=True)
parser.resolvers.add(SlowResolver())
with termination.quiet():
    etree.XMLSchema(etree.fromstring(XSD, parser))
"""


def test_sigterm_inside_a_library_callback_is_a_quiet_exit() -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", _SCHEMA_WORKER],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert worker.stdout is not None
    assert worker.stdout.readline() == "resolving\n"
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=GUARD_SECONDS)
    assert (worker.returncode, err) == (128 + signal.SIGTERM, "")


def test_an_error_without_sigterm_is_not_hidden() -> None:
    termination = Termination()
    with pytest.raises(ValueError, match="a real bug"), termination.quiet():
        raise ValueError("a real bug")


# -- the CLI, killed or stopped mid-run ----------------------------------------------------


def _busy_build(
    tmp_path: Path, sources: int = 400
) -> tuple[subprocess.Popen[bytes], Path, set[int]]:
    corpus = many_sources(tmp_path, [f"s{i:03d}.txt" for i in range(sources)])
    out = tmp_path / "bags"
    proc = start_cli(
        "build", "--catalog", str(corpus / "metadata.csv"), "--out", str(out),
        "--config", str(ROOT / "archive.toml"), cwd=tmp_path,
    )  # fmt: skip
    workers: set[int] = set()

    def busy() -> bool:
        workers.update(children_of(proc.pid))
        return len(workers) >= 2 and out.is_dir() and any(out.iterdir())

    wait_for(busy, "build workers to build")
    assert proc.poll() is None, finish(proc)
    return proc, out, workers


@needs_two_cores
def test_kill_9_of_build_leaves_no_worker_and_the_next_build_cleans_up(tmp_path: Path) -> None:
    proc, out, workers = _busy_build(tmp_path)
    proc.kill()
    assert finish(proc) == (-signal.SIGKILL, b"")
    wait_for(lambda: not any(running(pid) for pid in workers), "orphaned build workers to die")
    count = len(list(out.iterdir()))
    time.sleep(1.0)
    assert len(list(out.iterdir())) == count  # nobody is building any more
    # what a killed run left: its staging directories (if a worker was inside one), and
    # one planted for an owner known to be dead
    planted = out / f"{STAGING_PREFIX}{dead_pid()}-00ff"
    (planted / "data").mkdir(parents=True)
    live = out / f"{STAGING_PREFIX}{os.getpid()}-00ff"  # a live owner's: left alone
    live.mkdir()
    leftovers = {p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)} - {live}
    again = subprocess.run(
        [sys.executable, "-m", "archiver", "build", "--catalog",
         str(tmp_path / "many" / "metadata.csv"), "--out", str(out), "--config",
         str(ROOT / "archive.toml"), str(tmp_path / "many" / "s000.txt")],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": "1700000000"},
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    for path in leftovers:
        assert not path.exists()
        assert f"archiver: removed {path}, left by a build that was killed" in again.stderr
    assert live.is_dir()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [live.name]


@needs_two_cores
def test_sigterm_stops_build_cleanly(tmp_path: Path) -> None:
    proc, out, workers = _busy_build(tmp_path)
    proc.terminate()
    assert finish(proc) == (128 + signal.SIGTERM, b"archiver: terminated\n")
    assert not any(running(pid) for pid in workers)  # reaped before the run exited
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left
    for bag in out.iterdir():  # every bag there is whole
        bagit.Bag(str(bag)).validate(fast=True)


def _collection(tmp_path: Path, bags: int = 120) -> Path:
    """``bags`` copies of one bag with a 2 MiB payload (enough for a pool of workers)."""
    root = tmp_path / "collection"
    first = root / "b000"
    (first).mkdir(parents=True)
    (first / "payload.bin").write_bytes(os.urandom(2 << 20))
    bagit.make_bag(str(first), checksums=["sha256", "sha512"])
    for n in range(1, bags):
        shutil.copytree(first, root / f"b{n:03d}")
    return root


def _busy_audit(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, set[int]]:
    root = _collection(tmp_path)
    ledger = tmp_path / "ledger.sqlite"
    proc = start_cli("audit", str(root), "--workers", "2", "--ledger", str(ledger), cwd=tmp_path)
    workers: set[int] = set()

    def busy() -> bool:
        workers.update(children_of(proc.pid))
        return len(workers) >= 2

    wait_for(busy, "audit workers to start")
    time.sleep(0.2)  # let them take work
    assert proc.poll() is None, finish(proc)
    return proc, ledger, workers


@needs_two_cores
def test_kill_9_of_audit_leaves_no_worker(tmp_path: Path) -> None:
    proc, ledger, workers = _busy_audit(tmp_path)
    proc.kill()
    assert finish(proc) == (-signal.SIGKILL, b"")
    wait_for(lambda: not any(running(pid) for pid in workers), "orphaned audit workers to die")


@needs_two_cores
def test_sigterm_stops_audit_and_records_no_run(tmp_path: Path) -> None:
    proc, ledger, workers = _busy_audit(tmp_path)
    proc.terminate()
    assert finish(proc) == (128 + signal.SIGTERM, b"archiver: terminated\n")
    assert not any(running(pid) for pid in workers)
    if ledger.exists():  # the ledger is written only once an audit has finished
        with Ledger.open(ledger, create=False) as opened:
            assert opened.runs() == []  # nothing half recorded


def test_a_zombie_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    wait_for(lambda: not running(child.pid), "the child to exit")  # a zombie until reaped
    try:
        assert not process_alive(child.pid)
    finally:
        child.wait()
    assert not process_alive(child.pid)
    assert process_alive(os.getpid())


@pytest.mark.parametrize("reworded", [ValueError, MetadataError])
def test_sigterm_reworded_by_a_library_in_the_run_is_still_terminated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], reworded: type
) -> None:
    """The CLI's own process: a library that catches the ``Terminated`` raised in its
    callback and raises its own error (as lxml does) must not turn SIGTERM into exit 2."""

    def run(args: Any) -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(GUARD_SECONDS)  # the handler raises at once
        except BaseException as exc:
            raise reworded("cannot compile XSD: failed to parse a resource") from exc
        return 0

    monkeypatch.setattr(archiver.cli.validate, "run", run)
    assert archiver.cli.main(["validate", "bags"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err == "archiver: terminated\n"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored after the run


def _large_file_bag(tmp_path: Path, files: int, size: int, *, digests: bool = True) -> Path:
    """One bag of ``files`` sparse files of zeros (hashed by the audit's threads); with
    ``digests=False`` its manifests hold made-up digests, to spare computing them."""
    bag = tmp_path / "large"
    (bag / "data").mkdir(parents=True)
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    if digests:
        zeros = bytes(1 << 20)
        for _ in range(size >> 20):
            sha256.update(zeros)
            sha512.update(zeros)
    for algorithm, digest in (("sha256", sha256), ("sha512", sha512)):
        lines = "".join(f"{digest.hexdigest()}  data/f{i}.bin\n" for i in range(files))
        (bag / f"manifest-{algorithm}.txt").write_text(lines)
    for i in range(files):
        with open(bag / "data" / f"f{i}.bin", "wb") as out:
            out.truncate(size)
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    (bag / "bag-info.txt").write_text(f"Payload-Oxum: {files * size}.{files}\n")
    return bag


@needs_two_cores
def test_sigterm_stops_an_audit_whose_threads_are_hashing(tmp_path: Path) -> None:
    """Issue 15: large files are hashed by threads of the CLI's own process; SIGTERM
    stops them at their next block. Hashing these four sparse 64 GiB files to the end
    would take minutes, far beyond the hang guard."""
    bag = _large_file_bag(tmp_path, files=4, size=64 << 30, digests=False)
    ledger = tmp_path / "ledger.sqlite"
    proc = start_cli("audit", str(bag), "--workers", "2", "--ledger", str(ledger), cwd=tmp_path)

    def hashing() -> bool:
        assert proc.poll() is None, finish(proc)
        try:  # the main thread and two hashing threads (Python names no OS thread)
            return len(os.listdir(f"/proc/{proc.pid}/task")) >= 3
        except OSError:
            return False

    wait_for(hashing, "the audit's hashing threads to start")
    assert children_of(proc.pid) == set()  # threads, no worker process
    proc.terminate()
    assert finish(proc) == (128 + signal.SIGTERM, b"archiver: terminated\n")
    if ledger.exists():
        with Ledger.open(ledger, create=False) as opened:
            assert opened.runs() == []


def test_the_large_file_bag_is_intact(tmp_path: Path) -> None:
    """The bag the test above interrupts is a valid one, audited to the end."""
    from archiver.audit.collection import audit

    bag = _large_file_bag(tmp_path, files=3, size=2 << 20)  # digests computed
    assert audit([bag], workers=2, checkers=(), pool_min_bytes=0).valid


def _signal_after(proc: subprocess.Popen[bytes], delay: float, signum: int) -> set[int]:
    """Send ``signum`` to ``proc`` ``delay`` seconds from now; every child it had."""
    workers: set[int] = set()
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        workers.update(children_of(proc.pid))
        time.sleep(0.01)
    workers.update(children_of(proc.pid))
    proc.send_signal(signum)
    return workers


@needs_two_cores
def test_sigterm_at_many_moments_of_a_parallel_build_always_stops_it(tmp_path: Path) -> None:
    # The pool's close once waited for its task queue's feeder thread to flush into a pipe
    # that no worker read any more: about one stop in four hung until SIGKILL.
    corpus = many_sources(tmp_path, [f"s{i:03d}.txt" for i in range(160)])
    moments = [0.0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0]
    for n, delay in enumerate(moments):
        out = tmp_path / f"bags{n}"
        proc = start_cli(
            "build", "--catalog", str(corpus / "metadata.csv"), "--out", str(out),
            "--config", str(ROOT / "archive.toml"), cwd=tmp_path,
        )  # fmt: skip
        workers = _signal_after(proc, delay, signal.SIGTERM)
        code, err = finish(proc)  # GUARD_SECONDS: a hang fails here instead of waiting forever
        # 143: stopped; -SIGTERM: signalled before Python set its handler (a shell says 143
        # too); 0: it had finished
        assert code in (128 + signal.SIGTERM, -signal.SIGTERM, 0), (delay, code, err)
        left = [pid for pid in workers if running(pid)]
        assert not left, (delay, [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left])
        if out.is_dir():
            assert not [p for p in out.iterdir() if p.name.startswith(".")], (delay, err)
            for bag in out.iterdir():
                bagit.Bag(str(bag)).validate(fast=True)


@needs_two_cores
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_at_many_moments_of_a_parallel_audit_always_stops_it(
    tmp_path: Path, signum: int
) -> None:
    root = _collection(tmp_path, bags=60)
    ledger = tmp_path / "ledger.sqlite"
    for n, delay in enumerate([0.0, 0.1, 0.25, 0.4, 0.6, 0.9, 1.2]):
        proc = start_cli(
            "audit", str(root), "--workers", "2", "--ledger", str(ledger), cwd=tmp_path
        )
        workers = _signal_after(proc, delay, signum)
        code, err = finish(proc)  # GUARD_SECONDS: a hang fails here
        # 128+N: stopped; -N: signalled before Python set its handler; 0: it had finished
        assert code in (128 + signum, -signum, 0), (n, delay, code, err)
        assert not any(running(pid) for pid in workers), (n, delay)
        if ledger.exists():  # a stopped audit records nothing; what is recorded verifies
            check = subprocess.run(
                [sys.executable, "-m", "archiver", "ledger", "verify", "--ledger", str(ledger)],
                cwd=tmp_path, capture_output=True, text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
            assert check.returncode == 0, check.stdout + check.stderr


def _serve_and_die(settings: Any, tasks: Any, results: Any, run_pid: int) -> None:
    """A build worker killed the instant after it made its staging directory (before
    anything guards it): the directory stays, its process is gone."""
    out_dir = settings[1]
    os.mkdir(out_dir / f"{STAGING_PREFIX}{os.getpid()}-00c0ffee")
    os._exit(1)


def test_a_closed_build_pool_leaves_no_staging_of_its_dead_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.build.collection as collection
    from archiver.config import load_config
    from archiver.model.clock import FixedClock

    out = tmp_path / "bags"
    out.mkdir()
    alive = out / f"{STAGING_PREFIX}{os.getpid()}-0000beef"  # this process: alive, kept
    alive.mkdir()
    monkeypatch.setattr(collection, "_serve", _serve_and_die)
    monkeypatch.setattr(collection, "worker_context", lambda _: multiprocessing.get_context("fork"))
    config = load_config(ROOT / "archive.toml")
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    pool = collection.BuildPool(config, out, clock, replace=False, workers=2)
    deadline = time.monotonic() + 30
    while len(list(out.iterdir())) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(list(out.iterdir())) == 3  # both workers made theirs and died
    pool.close(abort=True)
    assert list(out.iterdir()) == [alive]
