"""archiver.fileio: hashing, staging directories, atomic writes, exchange, stale leftovers."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archiver import fileio
from archiver.errors import OutputError
from archiver.fileio import (
    STAGING_PREFIX,
    exchange_paths,
    hash_file,
    remove_stale,
    staging_dir,
    stale_owner,
    temporary_prefix,
    write_bytes_atomic,
)


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    code = "import os; print(os.getpid())"
    child = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(child.stdout)


def test_hash_file_reads_once_for_every_algorithm(tmp_path: Path) -> None:
    path = tmp_path / "f"
    data = os.urandom(3 << 20) + b"tail"
    path.write_bytes(data)
    digests, size = hash_file(path, ["sha256", "sha512"])
    assert size == len(data)
    assert digests == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
    }


def test_staging_dir_is_beside_the_destination_named_with_the_pid(tmp_path: Path) -> None:
    with staging_dir(tmp_path / "bag") as staging:
        assert staging.parent == tmp_path and staging.is_dir()
        assert staging.name.startswith(f"{STAGING_PREFIX}{os.getpid()}-")
        assert stale_owner(staging.name, "staging") == os.getpid()
        (staging / "file").write_text("x")
    assert not staging.exists()


def test_staging_dir_is_removed_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), staging_dir(tmp_path / "bag") as staging:
        raise RuntimeError
    assert not staging.exists()


def test_staging_dir_in_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot create a staging directory"):
        with staging_dir(tmp_path / "missing" / "bag"):
            pass


def test_write_bytes_atomic_replaces_whole(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b"old")
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_write_bytes_atomic_leaves_nothing_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b"old")

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_temporary_names_carry_the_pid() -> None:
    name = f"{temporary_prefix('bag.tar.gz')}k2j_x9a1.tmp"
    assert name.startswith(".bag.tar.gz.") and stale_owner(name, "tmp") == os.getpid()
    assert stale_owner(".bag.tar.gz.k2j_x9a1.tmp", "tmp") is None  # older, pid-less name
    assert stale_owner(f"{STAGING_PREFIX}0123abcd", "staging") is None
    assert stale_owner(f"{STAGING_PREFIX}42-0123abcd.old", "staging") == 42


def test_remove_stale_removes_only_what_dead_processes_left(tmp_path: Path) -> None:
    dead = dead_pid()
    stale_dir = tmp_path / f"{STAGING_PREFIX}{dead}-00ff"
    (stale_dir / "data").mkdir(parents=True)
    live_dir = tmp_path / f"{STAGING_PREFIX}{os.getppid()}-00ff"  # a live process
    live_dir.mkdir()
    old_style = tmp_path / f"{STAGING_PREFIX}00ff00ff"
    old_style.mkdir()
    stale_tmp = tmp_path / f".a.tar.{dead}.abc_1234.tmp"
    stale_tmp.write_bytes(b"partial")
    bag = tmp_path / "bag"
    bag.mkdir()
    assert remove_stale(tmp_path, "staging") == [stale_dir]
    assert remove_stale(tmp_path, "tmp") == [stale_tmp]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live_dir.name, old_style.name, "bag"]
    )
    assert remove_stale(tmp_path / "missing", "tmp") == []


def test_exchange_paths_swaps(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from-a").touch()
    (b / "from-b").touch()
    if not exchange_paths(a, b):
        pytest.skip("no renameat2(RENAME_EXCHANGE) on this system")
    assert [p.name for p in a.iterdir()] == ["from-b"]
    assert [p.name for p in b.iterdir()] == ["from-a"]


def failing_renameat2(code: int):  # type: ignore[no-untyped-def]
    def renameat2(*args: object) -> int:
        ctypes.set_errno(code)
        return -1

    return renameat2


@pytest.mark.parametrize("code", [errno.ENOSYS, errno.EINVAL, errno.ENOTSUP])
def test_exchange_paths_reports_an_unsupported_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    monkeypatch.setattr(fileio, "_renameat2", lambda: failing_renameat2(code))
    assert exchange_paths(tmp_path / "a", tmp_path / "b") is False
    monkeypatch.setattr(fileio, "_renameat2", lambda: None)  # a C library without it
    assert exchange_paths(tmp_path / "a", tmp_path / "b") is False


def test_exchange_paths_raises_other_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fileio, "_renameat2", lambda: failing_renameat2(errno.EACCES))
    with pytest.raises(PermissionError):
        exchange_paths(tmp_path / "a", tmp_path / "b")
