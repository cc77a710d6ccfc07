"""Tests for `archiver audit --scheduler`: a real `dask scheduler` and two `dask worker`
processes on 127.0.0.1, started here; results compared with the local pool's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_validator import build_fixture_bag, flip_bit

from archiver.audit import dask_backend
from archiver.model.errors import ClusterError, ConfigError
from archiver.workflows.audit import scheduler_for

DASK = Path(sys.executable).parent / "dask"
BAGS = 96  # 8 batches of 12 bags over 2 workers: a kill lands mid-audit


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes]) -> None:
    while text not in (path.read_text(errors="replace") if path.exists() else ""):
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited: {path.read_text(errors='replace')}")
        time.sleep(0.1)


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A scheduler and two single-thread workers (no nanny: a worker's pid is the worker),
    started in a directory of their own."""
    home = tmp_path_factory.mktemp("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        log = home / "scheduler.log"
        with log.open("wb") as out:
            scheduler = subprocess.Popen(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port)]
                + ["--no-dashboard"],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=home,
            )
        procs.append(scheduler)
        _wait_for(log, "Scheduler at:", scheduler)
        workers = []
        for name in ("w1", "w2"):
            log = home / f"{name}.log"
            with log.open("wb") as out:
                worker = subprocess.Popen(
                    [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny"]
                    + ["--no-dashboard", "--name", name, "--death-timeout", "60"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=home,
                )
            procs.append(worker)
            workers.append(worker)
        for name, worker in zip(("w1", "w2"), workers, strict=True):
            _wait_for(home / f"{name}.log", "Registered to:", worker)
        yield Cluster(address, scheduler, workers)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def seed_collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BAGS small bags (copies of one fixture bag), the 7th with a flipped bit."""
    root = tmp_path_factory.mktemp("seed") / "bags"
    first = build_fixture_bag(root / "bag-000")
    for i in range(1, BAGS):
        shutil.copytree(first, root / f"bag-{i:03d}")
    flip_bit(root / "bag-006")
    return root


@pytest.fixture
def collection(seed_collection: Path, tmp_path: Path) -> Path:
    root = tmp_path / "coll" / "bags"
    shutil.copytree(seed_collection, root)
    return root


def run_cli(*argv: str, cwd: Path | None = None, script: str | None = None) -> tuple[int, str, str]:
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "archiver"]
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVER_SCHEDULER"}
    done = subprocess.run(
        [*command, *argv], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )
    return done.returncode, done.stdout, done.stderr


def bags_of(report_json: str) -> list[tuple[Any, ...]]:
    """What must agree between two audits of the same bags: every bag once, its result."""
    document = json.loads(report_json)
    assert document["totals"]["bags"] == len(document["bags"])
    return [
        (b["bag"], b["status"], b["files"], b["bytes"], json.dumps(b["problems"]))
        for b in document["bags"]
    ]


def last_run(ledger: Path) -> tuple[Any, ...]:
    """The recorded run's bags, failures, files, bytes and Merkle root over its outcomes."""
    with closing(sqlite3.connect(ledger)) as db:
        row = db.execute(
            "SELECT kind, mode, bags, failed, files, bytes, children, children_hash FROM runs "
            "ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    return tuple(row)


def local_audit(collection: Path, tmp_path: Path, *extra: str) -> tuple[int, str, Path]:
    ledger = tmp_path / "local.sqlite"
    status, out, err = run_cli(
        "audit", str(collection), "--workers", "2", "--ledger", str(ledger), "--json", "-", *extra
    )
    assert status in (0, 1), err
    return status, out, ledger


# ---------------------------------------------------------------- same audit, same result


def test_cluster_audit_equals_local_audit(
    cluster: Cluster, collection: Path, tmp_path: Path
) -> None:
    status, out, err = run_cli(
        "audit",
        str(collection),
        "--scheduler",
        cluster.address,
        "--ledger",
        str(tmp_path / "dask.sqlite"),
        "--json",
        "-",
    )
    assert err == ""
    local_status, local_out, local_ledger = local_audit(collection, tmp_path)
    assert status == local_status == 1  # bag-006 has a flipped bit
    assert bags_of(out) == bags_of(local_out)
    assert len(bags_of(out)) == BAGS
    assert last_run(tmp_path / "dask.sqlite") == last_run(local_ledger)
    assert run_cli("ledger", "verify", "--ledger", str(tmp_path / "dask.sqlite"))[0] == 0

    # --oldest picks the same bags: never audited first, then the oldest good check
    for ledger in (tmp_path / "dask.sqlite", local_ledger):
        ledger.unlink()
        assert run_cli("audit", str(collection), "--oldest", "60", "--ledger", str(ledger))[0]
    picked = []
    for ledger, extra in (
        (tmp_path / "dask.sqlite", ["--scheduler", cluster.address]),
        (
            local_ledger,
            ["--workers", "2"],
        ),
    ):
        status, out, err = run_cli(
            "audit",
            str(collection),
            "--oldest",
            "80",
            "--ledger",
            str(ledger),
            "--json",
            "-",
            *extra,
        )
        assert status == 1, err
        picked.append(bags_of(out))
    assert picked[0] == picked[1]
    # never audited (060-095), never good (006), then the oldest good in order
    numbers = {int(b[0].rsplit("-", 1)[1]) for b in picked[0]}
    assert numbers == {*range(60, BAGS), *range(0, 80 - (BAGS - 60))}


def test_environment_variable_selects_the_scheduler(
    cluster: Cluster, collection: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "ARCHIVER_SCHEDULER": "tcp://127.0.0.1:1"}  # unreachable
    done = subprocess.run(
        [sys.executable, "-m", "archiver", "audit", str(collection), "--scheduler-timeout", "1"]
        + ["--ledger", str(tmp_path / "l.sqlite")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("archiver: error: scheduler tcp://127.0.0.1:1: cannot connect")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "l.sqlite").exists()  # the ledger untouched: not even created


def test_local_cluster_equals_local_pool(collection: Path, tmp_path: Path) -> None:
    status, out, err = run_cli(
        "audit",
        str(collection),
        "--scheduler",
        "local",
        "--workers",
        "2",
        "--ledger",
        str(tmp_path / "dask.sqlite"),
        "--json",
        "-",
    )
    assert err == ""
    local_status, local_out, local_ledger = local_audit(collection, tmp_path)
    assert status == local_status == 1
    assert bags_of(out) == bags_of(local_out)
    assert last_run(tmp_path / "dask.sqlite") == last_run(local_ledger)


# ---------------------------------------------------------------- workers that cannot see


def test_a_worker_that_cannot_see_a_root_fails_the_run(
    cluster: Cluster, collection: Path, tmp_path: Path
) -> None:
    # /proc/self/cwd is each process's own working directory: this process runs in the
    # collection's parent, the workers elsewhere, so the same path names different places
    root = "/proc/self/cwd/bags"
    ledger = tmp_path / "l.sqlite"
    status, out, err = run_cli(
        "audit",
        root,
        "--scheduler",
        cluster.address,
        "--ledger",
        str(ledger),
        cwd=collection.parent,
    )
    assert status == 2
    assert err.startswith("archiver: error: worker tcp://127.0.0.1:")
    assert f"cannot see {root} (every worker must see the bags at the same paths" in err
    assert err.count("\n") == 1
    assert out == "" and not ledger.exists()


def test_unreachable_scheduler_exits_2_and_leaves_the_ledger(
    collection: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "l.sqlite"
    assert run_cli("audit", str(collection), "--ledger", str(ledger))[0] == 1
    before = ledger.read_bytes()
    address = f"tcp://127.0.0.1:{free_port()}"
    status, out, err = run_cli(
        "audit",
        str(collection),
        "--scheduler",
        address,
        "--scheduler-timeout",
        "2",
        "--ledger",
        str(ledger),
    )
    assert status == 2
    assert err.startswith(f"archiver: error: scheduler {address}: cannot connect or no worker")
    assert err.count("\n") == 1
    assert ledger.read_bytes() == before


# ---------------------------------------------------------------- faults mid-audit

# Runs `archiver audit` in process with a progress callback that, at the first result,
# kills the process whose pid is argv[1]: a kill that lands while tasks are in flight.
KILL_AT_FIRST_RESULT = textwrap.dedent(
    """
    import contextlib, os, signal, sys
    import archiver.cli.audit as audit_cli
    from archiver.cli import main

    victim = int(sys.argv[1])

    @contextlib.contextmanager
    def progress_bar(label, *, enabled, data=False, console=None):
        killed = []

        def update(done, total):
            if done and not killed:
                killed.append(victim)
                os.kill(victim, signal.SIGKILL)
                print(f"killed {victim} at {done} of {total} bytes", file=sys.stderr)

        yield update

    audit_cli.progress_bar = progress_bar
    sys.exit(main(sys.argv[2:]))
    """
)


def test_a_worker_killed_mid_audit_loses_no_bag_and_counts_none_twice(
    cluster: Cluster, collection: Path, tmp_path: Path
) -> None:
    victim = cluster.workers[0]
    ledger = tmp_path / "dask.sqlite"
    status, out, err = run_cli(
        str(victim.pid),
        "audit",
        str(collection),
        "--scheduler",
        cluster.address,
        "--ledger",
        str(ledger),
        "--json",
        "-",
        script=KILL_AT_FIRST_RESULT,
    )
    assert err.startswith(f"killed {victim.pid} at"), err
    assert victim.wait() == -signal.SIGKILL
    local_status, local_out, local_ledger = local_audit(collection, tmp_path)
    assert status == local_status == 1
    assert bags_of(out) == bags_of(local_out)  # every bag once, the same result
    assert last_run(ledger) == last_run(local_ledger)


def test_scheduler_gone_mid_audit_exits_2_and_records_nothing(
    cluster: Cluster, collection: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "l.sqlite"
    assert run_cli("audit", str(collection), "--ledger", str(ledger), "--workers", "2")[0] == 1
    before = ledger.read_bytes()
    status, out, err = run_cli(
        str(cluster.scheduler.pid),
        "audit",
        str(collection),
        "--scheduler",
        cluster.address,
        "--ledger",
        str(ledger),
        script=KILL_AT_FIRST_RESULT,
    )
    killed, line = err.split("\n", 1)
    assert killed.startswith(f"killed {cluster.scheduler.pid} at")
    assert status == 2, err
    assert line.startswith(f"archiver: error: scheduler {cluster.address}: lost before the audit")
    assert line.endswith("nothing recorded\n") and line.count("\n") == 1
    assert ledger.read_bytes() == before
    assert "Traceback" not in err


# ---------------------------------------------------------------- configuration


def test_scheduler_option_then_environment_then_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "archive.toml"
    base = (Path(__file__).resolve().parent.parent / "archive.toml").read_text()
    config.write_text(base + '\n[audit]\nscheduler = "tcp://10.0.0.1:8786"\n')
    env = {"ARCHIVER_SCHEDULER": "local"}
    assert scheduler_for("tcp://h:1", env, config) == "tcp://h:1"
    assert scheduler_for(None, env, config) == "local"
    assert scheduler_for(None, {}, config) == "tcp://10.0.0.1:8786"
    monkeypatch.chdir(tmp_path)
    assert scheduler_for(None, {}, None) == "tcp://10.0.0.1:8786"  # ./archive.toml
    config.rename(tmp_path / "other.toml")
    assert scheduler_for(None, {}, None) is None  # no ./archive.toml: the local pool
    config = tmp_path / "other.toml"
    config.write_text(base + '\n[audit]\nscheduler = "http://nope"\n')
    with pytest.raises(ConfigError, match="audit"):
        scheduler_for(None, {}, config)


def test_the_config_is_validated_only_when_it_sets_the_scheduler(tmp_path: Path) -> None:
    config = tmp_path / "archive.toml"
    base = (Path(__file__).resolve().parent.parent / "archive.toml").read_text()
    broken = base.replace('jurisdiction = "', 'jurisdiction = "ZZ', 1)
    assert broken != base
    config.write_text(broken)
    assert scheduler_for(None, {}, config) is None  # the audit uses nothing from it
    config.write_text(broken + '\n[audit]\nscheduler = "local"\n')
    with pytest.raises(ConfigError, match="jurisdiction"):
        scheduler_for(None, {}, config)
    config.write_text('audit = "local"\n' + base)  # a value, not a table
    with pytest.raises(ConfigError, match="audit"):
        scheduler_for(None, {}, config)
    config.write_text("[audit\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        scheduler_for(None, {}, config)


def test_without_distributed_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with (
        pytest.raises(ClusterError, match=r"pip install 'archiver\[dask\]'"),
        dask_backend.connect("local", ["/"]),
    ):
        pass
