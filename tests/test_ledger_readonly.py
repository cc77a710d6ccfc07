"""The ledger on read-only storage: `ledger verify|show|premis` and `report` read it there.

The commands run in a subprocess whose directory (or file) really is unwritable: as root
(which ignores permission bits) a read-only bind mount in a private mount namespace
(``unshare -m``, gone with the process); otherwise ``chmod``. Each run first checks that
it cannot create a file there, so a test cannot pass on storage that is writable after all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_ledger import report

from archiver.ledger.store import Ledger

# $1: the path made read-only, $2: a file that must not open for writing, then the command.
_MOUNT_RO = (
    'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 98; '
    'if (: >>"$2") 2>/dev/null; then echo "$2: writable" >&2; exit 99; fi; '
    'shift 2; exec "$@"'
)
_CHMODDED = (
    'if (: >>"$2") 2>/dev/null; then echo "$2: writable" >&2; exit 99; fi; shift 2; exec "$@"'
)


def _can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    here = tempfile.gettempdir()
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"']
        + ["sh", here],
        capture_output=True,
    )
    return probe.returncode == 0


MOUNT = _can_mount()
pytestmark = pytest.mark.skipif(
    os.geteuid() == 0 and not MOUNT,
    reason="running as root (permissions are ignored) without unshare/mount privileges: "
    "no way to make a directory read-only here",
)


def _run(readonly: Path, probe: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``archiver ARGV`` in a subprocess that cannot write ``readonly`` (a dir or file)."""
    command = [sys.executable, "-m", "archiver", *argv]
    if MOUNT:
        wrapped = ["unshare", "-m", "sh", "-c", _MOUNT_RO, "sh", str(readonly), str(probe)]
    else:
        wrapped = ["sh", "-c", _CHMODDED, "sh", str(readonly), str(probe)]
    done = subprocess.run([*wrapped, *command], capture_output=True, text=True)
    assert done.returncode not in (98, 99), done.stderr  # the storage was not read-only
    return done


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[Path]:
    """Without mount privileges: ``chmod a-w`` for the block (restored after)."""
    if MOUNT:
        yield path
        return
    mode = path.stat().st_mode
    path.chmod(mode & ~0o222)
    try:
        yield path
    finally:
        path.chmod(mode)


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A ledger closed cleanly (no -wal left) in a directory of its own: two good runs."""
    path = tmp_path / "store" / "ledger.sqlite"
    path.parent.mkdir()
    with Ledger.open(path) as led:
        led.record_run(report("run-1", 1, beta_ok=True))
        led.record_run(report("run-2", 2, beta_ok=True))
    assert sorted(p.name for p in path.parent.iterdir()) == ["ledger.sqlite"]
    return path


COMMANDS = [
    (["ledger", "verify"], 0, "intact — 2 runs"),
    (["ledger", "show"], 0, "2 runs, head "),
    (["ledger", "premis", "/c/alpha"], 0, "premis"),
    (["report"], 0, "ledger verifies"),
]


def _argv(command: list[str], ledger: Path, out: Path) -> list[str]:
    argv = [*command, "--ledger", str(ledger)]
    return [*argv, "--out", str(out)] if command == ["report"] else argv


@pytest.mark.parametrize(("command", "status", "said"), COMMANDS, ids=lambda c: str(c))
def test_a_ledger_in_a_read_only_directory_is_read(
    ledger: Path, tmp_path: Path, command: list[str], status: int, said: str
) -> None:
    before = _snapshot(ledger.parent)
    out = tmp_path / "report.html"
    with _read_only(ledger.parent):
        done = _run(ledger.parent, ledger.parent / "probe", *_argv(command, ledger, out))
    assert (done.returncode, done.stderr) == (status, ""), done.stderr
    assert said in done.stdout
    assert out.is_file() == (command == ["report"])
    assert _snapshot(ledger.parent) == before  # nothing written, nothing created


@pytest.mark.parametrize(("command", "status", "said"), COMMANDS, ids=lambda c: str(c))
def test_a_read_only_ledger_file_is_read(
    ledger: Path, tmp_path: Path, command: list[str], status: int, said: str
) -> None:
    before = ledger.read_bytes()
    out = tmp_path / "report.html"
    with _read_only(ledger):
        done = _run(ledger, ledger, *_argv(command, ledger, out))
    assert (done.returncode, done.stderr) == (status, ""), done.stderr
    assert said in done.stdout
    assert out.is_file() == (command == ["report"])
    assert ledger.read_bytes() == before


def _copy_while_open(tmp_path: Path) -> Path:
    """A copy of a ledger taken while its writer is open: its last run only in the -wal."""
    source = tmp_path / "live" / "ledger.sqlite"
    source.parent.mkdir()
    copy = tmp_path / "copy" / "ledger.sqlite"
    copy.parent.mkdir()
    with Ledger.open(source) as led:
        led.record_run(report("run-1", 1, beta_ok=True))
        led.record_run(report("run-2", 2, beta_ok=True))
        for suffix in ("", "-wal", "-shm"):
            shutil.copyfile(f"{source}{suffix}", f"{copy}{suffix}")
    assert Path(f"{copy}-wal").stat().st_size > 0
    return copy


def test_a_read_only_directory_with_wal_and_shm_reads_the_commits_in_the_wal(
    tmp_path: Path,
) -> None:
    ledger = _copy_while_open(tmp_path)
    before = _snapshot(ledger.parent)
    with _read_only(ledger.parent):
        done = _run(
            ledger.parent, ledger.parent / "probe", "ledger", "verify", "--ledger", str(ledger)
        )
    assert (done.returncode, done.stderr) == (0, "")
    assert "intact — 2 runs" in done.stdout  # not the stale main file (immutable=1 reads 0)
    assert _snapshot(ledger.parent) == before


def test_a_read_only_directory_with_a_wal_but_no_shm_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    ledger = _copy_while_open(tmp_path)
    Path(f"{ledger}-shm").unlink()
    with _read_only(ledger.parent):
        done = _run(
            ledger.parent, ledger.parent / "probe", "ledger", "verify", "--ledger", str(ledger)
        )
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "is not writable and ledger.sqlite-wal holds commits without its" in line
