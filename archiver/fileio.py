"""Small I/O helpers: hashing a file on disk, atomic writes through a temporary path.

Temporary names carry the id of the process that made them (``.archiver-staging-<pid>-…``
directories of a build, ``.<name>.<pid>.….tmp`` files of an atomic write), so a later run
can tell what a killed run left behind (its process is gone) from what a running one is
still writing: ``remove_stale`` deletes only the former.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import mmap
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from archiver.bag.digest import digest_stream
from archiver.errors import ConflictError, OutputError
from archiver.workers import process_alive


def hash_file(
    path: Path, algorithms: Iterable[str], buffer: mmap.mmap | None = None
) -> tuple[dict[str, str], int]:
    """Digest a file with every algorithm from one unbuffered read; returns (digests, size)."""
    with open(path, "rb", buffering=0) as stream:
        return digest_stream(stream, algorithms, buffer)


STAGING_PREFIX = ".archiver-staging-"
_STAGING_NAME = re.compile(re.escape(STAGING_PREFIX) + r"([0-9]+)-[0-9a-f]+(?:\.old)?")
_TEMPORARY_NAME = re.compile(r"\..+\.([0-9]+)\.[A-Za-z0-9_]+\.tmp")


@contextlib.contextmanager
def staging_dir(destination: Path) -> Iterator[Path]:
    """A new directory beside ``destination`` (same filesystem, so rename is atomic).

    Its mode follows the umask like any directory (not mkdtemp's 0700), so the bag it
    becomes is readable by the audit and deposit jobs. The name is short whatever the
    destination's. Removed on exit unless it has been renamed away.
    """
    parent = destination.parent
    while True:
        tmp = parent / f"{STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
        try:
            os.mkdir(tmp, 0o777)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(
                f"{parent}: cannot create a staging directory: {exc.strerror}"
            ) from None
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _renameat2() -> Callable[..., int] | None:
    """The C library's renameat2, or None where it has none."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)
    function: Callable[..., int] | None = getattr(libc, "renameat2", None)
    return function


def exchange_paths(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE), where Linux offers it.

    Returns False when the system or filesystem cannot (ENOSYS, EINVAL, ENOTSUP: the
    caller then falls back); raises OSError for any other failure.
    """
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file by writing a temporary sibling, fsyncing and renaming it into place."""
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def bag_lock(bag: Path, doing: str) -> Iterator[Path | None]:
    """Hold the bag's exclusive lock while building over, repairing or depositing it;
    ``ConflictError`` at once when another process holds it.

    The lock is ``flock(2)`` on the bag directory itself (opened read-only), so nothing is
    written beside or inside the bag and the kernel releases it when the holder exits,
    however it exits. A bag that does not exist yet has nothing to lock (yields None).
    """
    try:
        fd = os.open(bag, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        raise OutputError(f"{bag}: cannot open the bag to lock it: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(
                f"{bag}: busy, another archiver process is building, repairing or depositing "
                f"it; not {doing}"
            ) from None
        yield bag
    finally:
        os.close(fd)


def temporary_prefix(name: str) -> str:
    """The prefix of a temporary sibling of ``name`` (hidden, with this process's id)."""
    return f".{name}.{os.getpid()}."


def stale_owner(name: str, kind: str) -> int | None:
    """The process id in a temporary name of ``kind`` ('staging' or 'tmp'), else None."""
    pattern = _STAGING_NAME if kind == "staging" else _TEMPORARY_NAME
    match = pattern.fullmatch(name)
    return int(match.group(1)) if match else None


def remove_stale(directory: Path, kind: str) -> list[Path]:
    """Remove what killed runs left in ``directory``: temporaries of ``kind`` ('staging'
    directories or 'tmp' files) whose owner process is gone; return what was removed.

    Names without a process id (made by older versions) and those of live processes are
    left alone; so is anything that cannot be removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in sorted(entries, key=lambda e: e.name):
        pid = stale_owner(entry.name, kind)
        if pid is None or pid == os.getpid() or process_alive(pid):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                if kind != "staging":
                    continue
                shutil.rmtree(path)
            elif kind == "tmp":
                path.unlink()
            else:
                continue
        except OSError:
            continue
        removed.append(path)
    return removed
