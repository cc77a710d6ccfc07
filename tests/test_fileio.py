"""archiver.storage.fileio: hashing, staging directories, atomic writes, exchange, stale leftovers;
depth-proof walks, copies and removals; output checks; fsync helpers."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from archiver.model.errors import OutputError
from archiver.storage import fileio
from archiver.storage.fileio import (
    STAGING_PREFIX,
    check_output_path,
    copy_tree,
    exchange_paths,
    fsync_tree,
    hash_file,
    remove_stale,
    remove_tree,
    staging_dir,
    stale_owner,
    temporary_prefix,
    walk_tree,
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


def _with_syncfs(monkeypatch: pytest.MonkeyPatch, syncfs: object, release: str) -> None:
    monkeypatch.setattr(fileio, "libc", lambda: SimpleNamespace(syncfs=syncfs))
    monkeypatch.setattr(fileio.sys, "platform", "linux")
    uname = os.uname()
    fake = SimpleNamespace(release=release, sysname=uname.sysname)
    monkeypatch.setattr(fileio.os, "uname", lambda: fake)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs is Linux's")
def test_write_back_watch_opens_the_directory_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fileio.write_back_watch(tmp_path) as flush:  # the real call, on this kernel
        (tmp_path / "f").write_bytes(b"x")
        assert flush() is fileio._kernel_at_least(fileio.SYNCFS_REPORTS_ERRORS)
    seen: list[str] = []

    def syncfs(fd: int) -> int:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        return 0

    _with_syncfs(monkeypatch, syncfs, "6.1.0-13-amd64")
    opened = len(os.listdir("/proc/self/fd"))
    with fileio.write_back_watch(tmp_path) as flush:
        assert len(os.listdir("/proc/self/fd")) == opened + 1  # held from the start
        assert flush() is True and flush() is True
    assert seen == [str(tmp_path)] * 2
    assert len(os.listdir("/proc/self/fd")) == opened  # and closed


@pytest.mark.parametrize("release", ["5.4.0-150-generic", "4.18.0-553.el8_10.x86_64", "junk"])
def test_write_back_watch_does_not_trust_syncfs_before_linux_5_8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: str
) -> None:
    """Before 5.8 syncfs reported no write-back error: the caller fsyncs file by file."""
    _with_syncfs(monkeypatch, lambda fd: 0, release)
    opened = len(os.listdir("/proc/self/fd")) if sys.platform.startswith("linux") else 0
    with fileio.write_back_watch(tmp_path) as flush:
        assert flush() is False
        if opened:
            assert len(os.listdir("/proc/self/fd")) == opened  # no descriptor held, or leaked


@pytest.mark.parametrize("code", [errno.ENOSYS, errno.EINVAL, errno.ENOTSUP])
def test_write_back_watch_reports_a_filesystem_without_syncfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    _with_syncfs(monkeypatch, failing_renameat2(code), "5.8.0")
    with fileio.write_back_watch(tmp_path) as flush:
        assert flush() is False
    monkeypatch.setattr(fileio, "libc", lambda: None)  # not Linux
    with fileio.write_back_watch(tmp_path) as flush:
        assert flush() is False


def test_write_back_watch_of_a_directory_gone_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No descriptor, no syncfs: the caller's file-by-file flush then names the problem."""
    _with_syncfs(monkeypatch, lambda fd: 0, "6.18.0")
    with fileio.write_back_watch(tmp_path / "gone") as flush:
        assert flush() is False


def test_a_failed_flush_is_one_clear_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.build.writer import make_durable

    _with_syncfs(monkeypatch, failing_renameat2(errno.EIO), "6.18.0")
    with fileio.write_back_watch(tmp_path) as flush:
        with pytest.raises(OSError, match="Input/output error"):
            flush()
        with pytest.raises(OutputError, match=r"cannot flush the bag to disk: Input/output error$"):
            make_durable([tmp_path / ".staging"], tmp_path, flush)


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


DEPTH = 1100  # deeper than Python's default recursion limit of 1000


def make_deep(root: Path, depth: int = DEPTH) -> str:
    """``root/d/d/.../f.txt`` ``depth`` levels down; returns the file's relative path."""
    root.mkdir(parents=True)
    current = root
    for _ in range(depth):
        current = current / "d"
        os.mkdir(current)
    (current / "f.txt").write_bytes(b"deep\n")
    return "d/" * depth + "f.txt"


def test_walk_tree_is_depth_first_in_name_order(tmp_path: Path) -> None:
    for rel in ("b/x", "a/z", "a/y/q", "c"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    assert [rel for rel, _ in walk_tree(tmp_path)] == [
        "a",
        "a/y",
        "a/y/q",
        "a/z",
        "b",
        "b/x",
        "c",
    ]


def test_walk_copy_and_remove_survive_a_deep_tree(tmp_path: Path) -> None:
    src = tmp_path / "src"
    try:
        deep = make_deep(src)
        assert [rel for rel, e in walk_tree(src) if e.is_file()] == [deep]
        copy_tree(src, tmp_path / "copy")
        assert (tmp_path / "copy" / deep).read_bytes() == b"deep\n"
        remove_tree(tmp_path / "copy")
        remove_tree(src)
        assert list(tmp_path.iterdir()) == []
    finally:  # pytest's clean-up (shutil.rmtree) would recurse
        remove_tree(tmp_path / "copy")
        remove_tree(src)


def test_copy_tree_keeps_links_as_links(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(b"x")
    (src / "l").symlink_to("f")
    copy_tree(src, tmp_path / "copy")
    assert os.readlink(tmp_path / "copy" / "l") == "f"


def test_remove_tree_removes_links_without_following(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "precious").write_bytes(b"x")
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    (doomed / "link").symlink_to(keep, target_is_directory=True)
    remove_tree(doomed)
    assert not doomed.exists()
    assert (keep / "precious").exists()


def test_fsync_tree_flushes_every_file_and_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a").write_bytes(b"a")
    (tmp_path / "bagit.txt").write_bytes(b"b")
    synced: list[str] = []
    real = os.fsync

    def record(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(fileio.os, "fsync", record)
    fsync_tree(tmp_path)
    expected = {str(tmp_path), str(tmp_path / "data"), str(tmp_path / "data" / "a")}
    assert expected | {str(tmp_path / "bagit.txt")} == set(synced)
    synced.clear()
    fsync_tree(tmp_path, files=False)
    assert set(synced) == {str(tmp_path), str(tmp_path / "data")}


@pytest.fixture
def a_bag(tmp_path: Path) -> Path:
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    return bag


@pytest.mark.parametrize("rel", ["data/out", "data/sub/deeper/x", "x.json", "."])
def test_output_inside_any_bag_is_refused(a_bag: Path, rel: str) -> None:
    """Issue 9 class 4: nothing is written inside a bag, whether it is being read or not."""
    with pytest.raises(OutputError, match="inside the bag"):
        check_output_path(a_bag / rel, directory=True)


def test_output_inside_a_listed_bag_without_bagit_txt_is_refused(tmp_path: Path) -> None:
    bag = tmp_path / "old-bag"
    (bag / "data").mkdir(parents=True)
    with pytest.raises(OutputError, match="inside the bag"):
        check_output_path(bag / "data" / "x", [bag], directory=True)


def test_output_through_a_link_into_a_bag_is_refused(a_bag: Path, tmp_path: Path) -> None:
    (tmp_path / "innocent").symlink_to(a_bag / "data", target_is_directory=True)
    with pytest.raises(OutputError, match="inside the bag"):
        check_output_path(tmp_path / "innocent" / "r.json")


def test_output_file_needs_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist") as caught:
        check_output_path(tmp_path / "missing" / "r.json", what="--json report")
    assert "\n" not in str(caught.value)
    with pytest.raises(OutputError, match="is a directory"):
        check_output_path(tmp_path)
    check_output_path(tmp_path / "r.json")  # fine
    check_output_path(tmp_path / "missing" / "l.sqlite", inside_only=True)  # opener's job


def test_output_directory_may_be_missing_but_not_a_file(tmp_path: Path) -> None:
    check_output_path(tmp_path / "new" / "dir", directory=True)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OutputError, match="not a directory"):
        check_output_path(tmp_path / "file", directory=True)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_atomic_writes_and_archives_are_made_as_the_umask_says(tmp_path: Path, umask: int) -> None:
    """Not mkstemp's 0600: a report or an archive is as readable as any new file."""
    from test_validator import build_fixture_bag

    from archiver.archive.serialize import serialize_bag

    bag = tmp_path / "bag"
    build_fixture_bag(bag)
    out = tmp_path / "out"
    out.mkdir()
    previous = os.umask(umask)
    try:
        write_bytes_atomic(out / "report.json", b"{}")
        made = serialize_bag(bag, out, "tar", 0)
    finally:
        os.umask(previous)
    for path in (out / "report.json", made.archive, *made.sidecars):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp")) == []


@pytest.mark.parametrize("size", [0, 1, 4096, (1 << 20) - 1, 1 << 20, (3 << 20) + 7])
def test_read_bounded_reads_every_byte(tmp_path: Path, size: int) -> None:
    """One read of the file's size where it can, several for a large one: the same bytes."""
    data = os.urandom(size)
    path = tmp_path / "record"
    path.write_bytes(data)
    assert fileio.read_bounded(path, 4 << 20) == data


def test_read_bounded_refuses_one_byte_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "record"
    path.write_bytes(b"x" * 101)
    assert fileio.read_bounded(path, 101) == b"x" * 101
    with pytest.raises(fileio.FileTooLargeError):
        fileio.read_bounded(path, 100)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc")
def test_read_bounded_reads_a_file_that_claims_no_size_to_its_end() -> None:
    """/proc's files say 0 bytes and hold more: read until a read returns nothing."""
    path = Path("/proc/self/smaps")  # tens of KiB, served a page or so a read
    assert path.stat().st_size == 0
    text = fileio.read_bounded(path, 16 << 20)
    assert len(text) > 8192 and text.endswith(b"\n")


def test_read_bounded_reads_on_when_the_file_grew_after_fstat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file longer than fstat said (it grew meanwhile) is read to its end."""
    path = tmp_path / "record"
    path.write_bytes(b"y" * 5000)
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        fields = list(info)
        fields[6] = 100  # st_size as it was before the file grew
        return os.stat_result(fields)

    monkeypatch.setattr(fileio.os, "fstat", stale_fstat)
    assert fileio.read_bounded(path, 1 << 20) == b"y" * 5000
