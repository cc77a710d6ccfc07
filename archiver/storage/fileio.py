"""Small I/O helpers: hashing a file on disk, atomic writes through a temporary path,
durable renames (``fsync_tree``, ``fsync_dir``), and directory walks, copies and removals
that never recurse (``walk_tree``, ``copy_tree``, ``remove_tree``: a payload 1,500
directories deep must not raise RecursionError, as os.walk, shutil.copytree and
shutil.rmtree do on Python 3.11).

Temporary names carry the id of the process that made them (``.archiver-staging-<pid>-…``
directories of a build, ``.<name>.<pid>.….tmp`` files of an atomic write), so a later run
can tell what a killed run left behind (its process is gone) from what a running one is
still writing: ``remove_stale`` deletes only the former.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import mmap
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from archiver.model.digest import digest_stream
from archiver.model.errors import ConflictError, OutputError
from archiver.storage.libc import errno_value, libc
from archiver.storage.workers import process_alive


class NotRegularFileError(OSError):
    """A path ``read_bounded`` will not read: a FIFO, device, socket or directory."""


class FileTooLargeError(OSError):
    """A file larger than the limit ``read_bounded`` was given."""


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bounded(path: Path | str, limit: int) -> bytes:
    """Read a regular file whole, never more than ``limit`` bytes, never blocking.

    The one way archiver reads a file it did not write (tag files, records, catalogs,
    settings): opened non-blocking without following a link in its last component, checked
    with ``fstat`` on the open descriptor (a FIFO, device, socket or directory raises
    ``NotRegularFileError`` before any read: a FIFO cannot hang the command), then read in
    bounded steps (a file over ``limit``, or one growing past it meanwhile, raises
    ``FileTooLargeError``; a sparse 1 TiB file costs nothing). Other OSErrors propagate.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(
                errno.EINVAL, f"{file_kind(info.st_mode)}, not a regular file; not read", str(path)
            )
        if info.st_size > limit:
            raise FileTooLargeError(
                errno.EFBIG, f"{info.st_size} bytes, more than the {limit} allowed", str(path)
            )
        chunks: list[bytes] = []
        total = 0
        step = info.st_size + 1  # the whole file in one read, unless it grew since fstat
        while True:
            asked = min(step, 1 << 20, limit + 1 - total)
            data = os.read(fd, asked)
            step = 1 << 20
            if not data:
                return b"".join(chunks)
            chunks.append(data)
            total += len(data)
            if total > limit:
                raise FileTooLargeError(
                    errno.EFBIG, f"more than the {limit} bytes allowed", str(path)
                )
            # a short read once fstat's size is in: the end (not for files that claim
            # no size, as /proc's do: those are read until a read returns nothing)
            if len(data) < asked and 0 < info.st_size <= total:
                return b"".join(chunks)
    finally:
        os.close(fd)


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
            remove_tree(tmp)


def walk_tree(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every entry under ``root`` (not ``root`` itself) as ('/'-separated relative path,
    entry), depth first in name order (a directory, then its contents, then its next
    sibling: the order ``sorted(rglob)`` would give per level); links are not followed.
    Iterative, so depth costs no stack."""

    def listing(directory: str) -> Iterator[os.DirEntry[str]]:
        with os.scandir(directory) as it:
            return iter(sorted(it, key=lambda e: e.name))

    stack: list[tuple[Iterator[os.DirEntry[str]], str]] = [(listing(os.fspath(root)), "")]
    while stack:
        children, prefix = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        rel = prefix + child.name
        yield rel, child
        if child.is_dir(follow_symlinks=False):
            stack.append((listing(child.path), rel + "/"))


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a directory tree (files with their metadata, links as links) to the new
    directory ``dst``, iteratively."""
    os.mkdir(dst)
    shutil.copystat(src, dst, follow_symlinks=False)
    for rel, entry in walk_tree(src):
        target = os.path.join(dst, *rel.split("/"))
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir(follow_symlinks=False):
            os.mkdir(target)
        else:
            shutil.copy2(entry.path, target, follow_symlinks=False)
    for rel, entry in walk_tree(dst):  # directory times last: copying into them changed them
        if entry.is_dir(follow_symlinks=False):
            shutil.copystat(os.path.join(src, *rel.split("/")), entry.path, follow_symlinks=False)


def remove_tree(path: Path) -> None:
    """Remove a directory tree, iteratively, ignoring errors (best effort, like
    ``shutil.rmtree(path, ignore_errors=True)``); links are removed, never followed."""
    directories: list[str] = [os.fspath(path)]
    with contextlib.suppress(OSError):
        for _, entry in walk_tree(path):
            if entry.is_dir(follow_symlinks=False):
                directories.append(entry.path)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    for directory in reversed(directories):
        with contextlib.suppress(OSError):
            for item in os.scandir(directory):  # anything the walk could not list
                if not item.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(item.path)
        with contextlib.suppress(OSError):
            os.rmdir(directory)


_RENAME_EXCHANGE = 2  # linux/fs.h
_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP})  # the call, not a fault


def _renameat2() -> Callable[..., int] | None:
    """The C library's renameat2, or None where it has none."""
    c = libc()
    function: Callable[..., int] | None = getattr(c, "renameat2", None)
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
    err = errno_value()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(b))


_NEW_TEMPORARY = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def new_temporary(path: Path) -> tuple[int, str]:
    """Create a new temporary sibling of ``path``; its open descriptor and its name.

    Like ``tempfile.mkstemp`` (``O_EXCL``, a random name that ``stale_owner`` reads the
    pid from), but created with mode 0666 less the umask, as ``open`` makes a new file:
    mkstemp's 0600 would leave reports and archives readable by their owner alone.
    """
    prefix = os.path.join(path.parent, temporary_prefix(path.name))
    for _ in range(100):
        name = f"{prefix}{secrets.token_hex(4)}.tmp"
        try:
            return os.open(name, _NEW_TEMPORARY, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file by writing a temporary sibling, fsyncing and renaming it into place.

    The temporary name is short whatever the target's (a 250-character name stays
    writable); a failure is ``OutputError`` naming the path, and leaves nothing behind.
    """
    try:
        fd, tmp = new_temporary(path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
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
    """The prefix of a temporary sibling of ``name`` (hidden, with this process's id; the
    name cut to 64 characters so a 250-character target stays writable)."""
    return f".{name[:64]}.{os.getpid()}."


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
                remove_tree(path)  # never recurses (a deep payload)
                if os.path.lexists(path):
                    continue
            elif kind == "tmp":
                path.unlink()
            else:
                continue
        except OSError:
            continue
        removed.append(path)
    return removed


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (new names, renames) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


SYNCFS_REPORTS_ERRORS = (5, 8)  # Linux from which syncfs returns write-back errors


def _kernel_at_least(version: tuple[int, int]) -> bool:
    """Whether this is Linux at ``version`` or later (from ``uname``'s release)."""
    if not sys.platform.startswith("linux"):
        return False
    found = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return found is not None and (int(found[1]), int(found[2])) >= version


@contextlib.contextmanager
def write_back_watch(directory: Path) -> Iterator[Callable[[], bool]]:
    """Watch the filesystem holding ``directory`` for write-back errors from now on, and
    yield ``flush()``, which puts everything written to it on disk in one call.

    Linux's ``syncfs`` flushes every dirty file and directory of the filesystem, then the
    disk's write cache, and reports the write-back errors that its file descriptor has
    not seen: those since the descriptor was opened, here on entering, before anything
    is written (since Linux 5.8; older kernels report none). ``flush()`` returns True
    once all is on disk, False where ``syncfs`` cannot vouch for it (no ``syncfs``, an
    older kernel, a filesystem without it: flush file by file instead), and raises
    OSError if write-back failed.
    """
    c = libc() if _kernel_at_least(SYNCFS_REPORTS_ERRORS) else None
    syncfs: Callable[[int], int] | None = getattr(c, "syncfs", None)
    fd = -1
    if syncfs is not None:
        with contextlib.suppress(OSError):  # the file-by-file flush then names the problem
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    if syncfs is None or fd < 0:
        yield lambda: False
        return

    def flush() -> bool:
        if syncfs(fd) == 0:
            return True
        err = errno_value()
        if err in _UNSUPPORTED:
            return False
        raise OSError(err, os.strerror(err), str(directory))

    try:
        yield flush
    finally:
        os.close(fd)


def fsync_tree(root: Path, *, files: bool = True) -> None:
    """Flush every directory under ``root`` (and ``root``) and, with ``files``, every
    regular file, so what a rename makes visible is on disk, not only in the page cache."""
    directories = [os.fspath(root)]
    for _, entry in walk_tree(root):
        if entry.is_dir(follow_symlinks=False):
            directories.append(entry.path)
        elif files and entry.is_file(follow_symlinks=False):
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for directory in directories:
        fsync_dir(Path(directory))


def _inside_bag(real: str, bags: Iterable[Path | str]) -> str | None:
    """The bag (one of ``bags``, or any directory holding bagit.txt) that holds ``real``,
    a resolved path: its nearest ancestor that is a bag.

    A listed bag is matched by identity (device and inode, links followed), so one stat
    per listed bag is enough however deep they are, instead of resolving every bag's path.
    """
    ancestors: list[str] = []
    current = real
    while True:
        ancestors.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    identities: dict[tuple[int, int], str] = {}
    for ancestor in reversed(ancestors):  # the nearest ancestor wins
        try:
            info = os.stat(ancestor)
        except OSError:
            continue
        identities[(info.st_dev, info.st_ino)] = ancestor
    listed: set[str] = set()
    for bag in bags:
        try:
            info = os.stat(bag)
        except OSError:  # a bag that is not there holds nothing
            continue
        holder = identities.get((info.st_dev, info.st_ino))
        if holder is not None:
            listed.add(holder)
    for ancestor in ancestors:
        if ancestor in listed or os.path.isfile(os.path.join(ancestor, "bagit.txt")):
            return ancestor
    return None


def check_output_path(
    path: Path,
    bags: Iterable[Path | str] = (),
    *,
    what: str = "output",
    directory: bool = False,
    inside_only: bool = False,
) -> None:
    """Refuse an output location before anything is written (``OutputError``, one line).

    Refused: a location inside a bag, whether one of ``bags`` (the bags being read) or any
    directory holding a bagit.txt, links resolved (writing there would change the bag);
    for a file (``directory=False``), a parent directory that does not exist or a path
    that is a directory (``inside_only`` skips these, for outputs whose opener creates
    or checks its own directory). The one check every --out, --json, --ledger and
    deposit target goes through.
    """
    real = os.path.realpath(path)
    holder = _inside_bag(real, bags)
    if holder is not None:
        raise OutputError(
            f"{path}: {what} would be written inside the bag {holder}, refusing "
            "(nothing written: it would change the bag)"
        )
    if inside_only:
        return
    if directory:
        if os.path.exists(real) and not os.path.isdir(real):
            raise OutputError(f"{path}: {what} directory is not a directory")
        return
    parent = os.path.dirname(real)
    if not os.path.isdir(parent):
        raise OutputError(f"{path}: the {what} file's directory {parent} does not exist")
    if os.path.isdir(real):
        raise OutputError(f"{path}: {what} is a directory, expected a file")
