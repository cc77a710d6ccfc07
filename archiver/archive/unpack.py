"""Safe reading of a serialized bag (tar, tar.gz, tar.bz2, tar.xz, zip).

Nothing is extracted until the whole member list has passed ``check_members`` (pure,
testable without disk): every member must be a plain file or directory inside one
top-level directory, with no absolute path, no ``..`` component, no duplicate, and sizes
and counts within ``Limits``. Links, devices and FIFOs are refused. Extraction then writes
each member to a path computed and checked under the target, copying at most the declared
size, so nothing is ever written outside the target.

Compression bombs are bounded for every format, before and while extracting: the bytes
the members declare must fit ``Limits.max_total_size``, the free space of the target,
and ``Limits.max_ratio`` times the archive's size on disk (above ``Limits.ratio_floor``);
while the member list is read and while members are extracted, a tar's decompressed
stream is counted as it is produced (``_CountedStream``) against the same bounds, and the
bytes written against the total. A refused archive is ``unsafe-path`` findings
(``UnsafeArchiveError``) and whatever was written is removed.

Too little room here is not a fault of the archive: members that need more than the
target's free space, a temporary directory that cannot be made, and running out of space,
quota, descriptors or memory (or our own target refusing a write) while extracting raise
``WorkspaceError`` (exit 2, nothing to record against the bag), never findings.

``open_serialized(path)`` extracts into a temporary directory, yields the bag directory
inside it and removes everything on exit: the validator and audit use it to read
serialized bags directly.
"""

from __future__ import annotations

import bz2
import contextlib
import errno
import gzip
import io
import lzma
import os
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from archiver.archive.names import ARCHIVE_SUFFIXES as ARCHIVE_SUFFIXES
from archiver.archive.names import is_serialized as is_serialized
from archiver.model.errors import BagReadError, WorkspaceError
from archiver.model.findings import Finding, Kind
from archiver.storage.fileio import remove_tree

_COPY_BLOCK = 1 << 20
# This machine ran short (space, quota, descriptors, memory): whatever the file, not the
# archive's fault.
_SHORTAGE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE, errno.ENOMEM})
# Refused: not the archive's fault when the file is in our own target directory.
_REFUSED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class MemberType(StrEnum):
    """What an archive member is."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    DEVICE = "device"
    FIFO = "fifo"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member as its header declares it."""

    name: str
    type: MemberType
    size: int = 0
    compressed_size: int | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds above which an archive is refused as absurd."""

    max_members: int = 1_000_000
    max_member_size: int = 1 << 40  # 1 TiB
    max_total_size: int = 1 << 42  # 4 TiB
    max_ratio: int = 1000  # uncompressed / compressed size (a zip member; a whole archive)
    ratio_floor: int = 1 << 20  # below this many bytes produced, any ratio is fine


DEFAULT_LIMITS = Limits()


class UnsafeArchiveError(BagReadError):
    """A serialized bag was refused; ``findings`` lists every unsafe member."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings: tuple[Finding, ...] = tuple(findings)


def _unsafe(archive: str, path: str, message: str) -> Finding:
    return Finding(kind=Kind.UNSAFE_PATH, bag=archive, path=path, message=message)


def _name_problem(name: str) -> str | None:
    if not name or name in {".", "./"}:
        return "empty member name"
    if "\x00" in name:
        return "member name contains a NUL byte"
    if "\\" in name:
        return "member name contains a backslash"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute member path"
    parts = [p for p in name.split("/") if p not in {"", "."}]
    if ".." in parts:
        return "member path contains '..'"
    if parts and parts[0].startswith("~"):
        return "member path starts with '~'"
    return None


def check_members(
    members: Iterable[Member],
    archive: str,
    limits: Limits = DEFAULT_LIMITS,
    archive_size: int | None = None,
    free_space: int | None = None,
) -> list[Finding]:
    """Every reason the member list is unsafe to extract, as ``unsafe-path`` findings.

    Pure: works on the declared names, types and sizes, and, when given, the archive's
    size on disk (the whole archive's expansion ratio) and the target's free space. An
    empty list means safe.
    """
    findings: list[Finding] = []
    seen: set[str] = set()
    tops: set[str] = set()
    count = 0
    total = 0
    for member in members:
        count += 1
        problem = _name_problem(member.name)
        if problem is not None:
            findings.append(_unsafe(archive, member.name, problem))
            continue
        norm = _normalize(member.name)
        tops.add(norm.split("/", 1)[0])
        if member.type not in (MemberType.FILE, MemberType.DIR):
            findings.append(_unsafe(archive, norm, f"member is a {member.type}, not followed"))
            continue
        if norm in seen and member.type is MemberType.FILE:
            findings.append(_unsafe(archive, norm, "duplicate member would overwrite another"))
        seen.add(norm)
        if member.size < 0 or member.size > limits.max_member_size:
            findings.append(_unsafe(archive, norm, f"member size {member.size} exceeds the limit"))
        total += max(member.size, 0)
        if (
            member.compressed_size is not None
            and member.size > (1 << 20)
            and member.size > limits.max_ratio * max(member.compressed_size, 1)
        ):
            findings.append(_unsafe(archive, norm, f"compression ratio over {limits.max_ratio}:1"))
    if count > limits.max_members:
        findings.append(_unsafe(archive, "", f"{count} members exceed {limits.max_members}"))
    if total > limits.max_total_size:
        findings.append(_unsafe(archive, "", f"total size {total} exceeds the limit"))
    elif archive_size is not None and _too_expanded(total, archive_size, limits):
        findings.append(
            _unsafe(
                archive,
                "",
                f"members expand to {total} bytes from {archive_size} on disk: "
                f"compression ratio over {limits.max_ratio}:1",
            )
        )
    elif free_space is not None and total > free_space:
        findings.append(
            _unsafe(archive, "", f"members need {total} bytes, only {free_space} free to extract")
        )
    if len(tops) > 1:
        findings.append(
            _unsafe(archive, "", f"members outside one top-level directory: {sorted(tops)}")
        )
    return findings


def _too_expanded(produced: int, compressed: int, limits: Limits) -> bool:
    return produced > limits.ratio_floor and produced > limits.max_ratio * max(compressed, 1)


class _Bomb(Exception):
    """A decompressed stream grew past its bounds (raised inside tarfile's reads)."""


class _CountedStream(io.RawIOBase):
    """A decompressing reader that counts the bytes it produces and stops (``_Bomb``) past
    ``Limits.max_total_size`` plus tar overhead, or past ``max_ratio`` times the archive's
    size once over ``ratio_floor``: a bomb is caught while it inflates, not after."""

    def __init__(self, inner: IO[bytes], compressed: int, limits: Limits) -> None:
        self._inner = inner
        self._compressed = compressed
        self._limits = limits
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        n = len(data)
        view[:n] = data
        self.produced += n
        limits = self._limits
        if self.produced > limits.max_total_size + (64 << 20) or _too_expanded(
            self.produced, self._compressed, limits
        ):
            raise _Bomb(
                f"decompresses to over {self.produced} bytes from {self._compressed} on disk: "
                f"compression ratio over {limits.max_ratio}:1"
            )
        return n


_MAGIC: tuple[tuple[bytes, Any], ...] = (
    (b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    (b"BZh", bz2.BZ2File),
    (b"\xfd7zXZ\x00", lzma.LZMAFile),
)


@contextlib.contextmanager
def _open_tar(path: Path, limits: Limits) -> Iterator[tarfile.TarFile]:
    """A tar (plain, gzip, bzip2 or xz, told by its magic bytes) opened as a stream whose
    decompressed bytes are counted against ``limits``."""
    compressed = os.path.getsize(path)
    with open(path, "rb") as raw:
        head = raw.read(6)
        raw.seek(0)
        opener = next((o for magic, o in _MAGIC if head.startswith(magic)), None)
        inner: IO[bytes] = raw if opener is None else opener(raw)
        with contextlib.closing(inner):
            counted = io.BufferedReader(_CountedStream(inner, compressed, limits), 1 << 16)
            with tarfile.open(fileobj=counted, mode="r|") as tar:
                yield tar


def _tar_type(info: tarfile.TarInfo) -> MemberType:
    if info.isreg():
        return MemberType.FILE
    if info.isdir():
        return MemberType.DIR
    if info.issym():
        return MemberType.SYMLINK
    if info.islnk():
        return MemberType.HARDLINK
    if info.ischr() or info.isblk():
        return MemberType.DEVICE
    if info.isfifo():
        return MemberType.FIFO
    return MemberType.OTHER


def _zip_type(info: zipfile.ZipInfo) -> MemberType:
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode:
        if stat.S_ISLNK(mode):
            return MemberType.SYMLINK
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            return MemberType.DEVICE
        if stat.S_ISFIFO(mode):
            return MemberType.FIFO
        if stat.S_ISSOCK(mode):
            return MemberType.OTHER
    return MemberType.DIR if info.is_dir() else MemberType.FILE


def list_members(
    path: Path, max_members: int | None = None, limits: Limits = DEFAULT_LIMITS
) -> list[Member]:
    """Read the member list of a tar (any compression) or zip archive, without extracting.

    With ``max_members``, stops reading after ``max_members + 1`` entries, so an archive
    with absurdly many members costs bounded memory (the extra entry trips the limit).
    A tar whose decompressed stream outgrows ``limits`` while it is read is refused
    (``UnsafeArchiveError``).
    """
    stop = None if max_members is None else max_members + 1
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()[:stop]
                return [
                    Member(i.filename, _zip_type(i), i.file_size, i.compress_size) for i in infos
                ]
        members: list[Member] = []
        with _open_tar(path, limits) as tar:
            for info in tar:
                members.append(Member(info.name, _tar_type(info), info.size))
                if stop is not None and len(members) >= stop:
                    break
        return members
    except _Bomb as exc:
        raise _refused(path, [_unsafe(path.name, "", str(exc))]) from None
    except MemoryError:
        raise WorkspaceError(f"{path}: out of memory reading its member list") from None
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError) as exc:
        if isinstance(exc, OSError) and (shortage := _workspace_error(exc, path, None)):
            raise shortage from exc
        raise BagReadError(f"{path}: not a readable tar or zip archive ({_one_line(exc)})") from exc


def _one_line(exc: BaseException) -> str:
    """An exception's message with its whitespace folded (tarfile's span several lines)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _normalize(name: str) -> str:
    return "/".join(p for p in name.split("/") if p not in {"", "."})


def _destination(target: Path, name: str) -> Path:
    """Where a member goes: checked lexically under ``target`` (names were vetted by
    ``check_members`` and extraction never creates a link, so nothing under ``target``
    can redirect a path; resolving every component of every member instead costs
    time quadratic in the depth of the tree)."""
    root = os.path.normpath(os.path.abspath(target))
    dest = os.path.normpath(os.path.join(root, *_normalize(name).split("/")))
    if not dest.startswith(root + os.sep):
        raise BagReadError(f"{name}: would be written outside {target}, refusing")
    return Path(dest)


def _workspace_error(exc: OSError, path: Path, target: Path | None) -> WorkspaceError | None:
    """The ``WorkspaceError`` an OSError is when it says this machine (or our own ``target``
    directory), not the archive, is at fault; else None."""
    where = f" in {target.parent}" if target is not None else ""
    if exc.errno in _SHORTAGE:
        return WorkspaceError(
            f"{path}: cannot be extracted to check it{where}: {exc.strerror or exc} "
            "(a shortage here, not damage to the bag; nothing recorded)"
        )
    filename = exc.filename if isinstance(exc.filename, str) else None
    if target is not None and exc.errno in _REFUSED and filename is not None:
        if Path(os.path.abspath(filename)).is_relative_to(os.path.abspath(target)):
            return WorkspaceError(
                f"{path}: cannot be extracted to check it: {target.parent} refuses the "
                f"temporary copy ({exc.strerror or exc}; not damage to the bag; nothing recorded)"
            )
    return None


def _refused(path: Path, findings: Sequence[Finding]) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"{path}: refused, {len(findings)} unsafe member(s), first: "
        f"{findings[0].path or '(archive)'}: {findings[0].message}",
        findings,
    )


def _free_space(directory: Path) -> int | None:
    try:
        st = os.statvfs(directory)
    except (OSError, AttributeError):
        return None
    return st.f_bavail * st.f_frsize


def copy_bounded(src: IO[bytes], dest: Path, size: int, name: str) -> None:
    """Copy exactly ``size`` bytes to a new file; BagReadError if the source has more or less."""
    written = 0
    with open(dest, "xb") as out:
        while True:
            block = src.read(min(_COPY_BLOCK, size - written + 1))
            if not block:
                break
            written += len(block)
            if written > size:
                raise BagReadError(f"{name}: holds more bytes than its declared size {size}")
            out.write(block)
    if written != size:
        raise BagReadError(f"{name}: holds {written} bytes, header declares {size}")


def extract_safe(path: Path, target: Path, limits: Limits = DEFAULT_LIMITS) -> Path:
    """Check every member, then extract into the empty directory ``target``.

    Returns the bag directory (the single top-level directory). Raises
    UnsafeArchiveError with the findings if any member is unsafe.
    """
    members = list_members(path, limits.max_members, limits)
    findings = check_members(members, path.name, limits, os.path.getsize(path))
    if findings:
        raise _refused(path, findings)
    if not members:
        raise BagReadError(f"{path}: archive is empty")
    needed = sum(max(m.size, 0) for m in members)
    free = _free_space(target)
    if free is not None and needed > free:  # room here, not the archive: not a finding
        raise WorkspaceError(
            f"{path}: cannot be extracted to check it in {target.parent}: its members need "
            f"{needed} bytes, only {free} free (set TMPDIR to a larger place; nothing recorded)"
        )
    try:
        if zipfile.is_zipfile(path):
            _extract_zip(path, target)
        else:
            _extract_tar(path, target, limits)
    except _Bomb as exc:
        _empty(target)
        raise _refused(path, [_unsafe(path.name, "", str(exc))]) from None
    except MemoryError:
        _empty(target)
        raise WorkspaceError(f"{path}: out of memory while extracting it") from None
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError) as exc:
        _empty(target)
        if isinstance(exc, OSError) and (shortage := _workspace_error(exc, path, target)):
            raise shortage from exc
        raise BagReadError(f"{path}: extraction failed ({_one_line(exc)})") from exc
    except BaseException:
        _empty(target)
        raise
    top = _normalize(members[0].name).split("/", 1)[0]
    bag = target / top
    if not bag.is_dir():
        raise BagReadError(f"{path}: top-level entry {top!r} is not a directory")
    return bag


def _empty(target: Path) -> None:
    """Remove what an extraction wrote into ``target`` (which is kept, empty)."""
    with contextlib.suppress(OSError):
        for item in os.scandir(target):
            if item.is_dir(follow_symlinks=False):
                remove_tree(Path(item.path))
            else:
                with contextlib.suppress(OSError):
                    os.unlink(item.path)


def _extract_tar(path: Path, target: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    with _open_tar(path, limits) as tar:
        for info in tar:
            dest = _destination(target, info.name)
            if info.isdir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(info)
            if src is None:
                raise BagReadError(f"{path}: member {info.name} has no data")
            with src:
                copy_bounded(src, dest, info.size, info.name)


def _extract_zip(path: Path, target: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            dest = _destination(target, info.filename)
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src:
                copy_bounded(src, dest, info.file_size, info.filename)


@contextlib.contextmanager
def open_serialized(
    path: Path, limits: Limits = DEFAULT_LIMITS, tmp_dir: Path | None = None
) -> Iterator[Path]:
    """Extract a serialized bag into a temporary directory and yield the bag directory.

    The temporary directory (in ``tmp_dir``, default ``$TMPDIR``) is removed on exit,
    whatever happens.
    """
    if not path.is_file():
        raise BagReadError(f"{path}: no such archive file")
    try:
        tmp = Path(tempfile.mkdtemp(prefix="archiver-unpack-", dir=tmp_dir))
    except OSError as exc:  # our own temporary directory: never the archive's fault
        where = tmp_dir if tmp_dir is not None else tempfile.gettempdir()
        raise WorkspaceError(
            f"{path}: no temporary directory to extract it in {where} "
            f"({exc.strerror or exc}; nothing recorded)"
        ) from exc
    try:
        yield extract_safe(path, tmp, limits)
    finally:
        remove_tree(tmp)
