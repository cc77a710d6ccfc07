"""Writing a bag to disk: payload copied while hashed, tag files, verification, install.

Everything is written inside a staging directory beside the destination, and renamed into
place (``move_into_place``; ``install_bag`` for a single bag) only after ``BagVerifier``
has accepted it.

Durability: a bag is on disk before its name appears. ``make_durable`` flushes staged
bags (files, directories, the parent) before they are renamed into place, and the parent
is flushed after the renames. A build flushes a batch of bags at once with one Linux
``syncfs`` on a descriptor opened before the batch was written
(``fileio.write_back_watch``; elsewhere, and on kernels before 5.8, an fsync of every
file and directory), so the disk's cache is flushed once a batch rather than 17 times a
bag; a power cut after "built" cannot leave a bag of empty files, and one before the
renames leaves only staging directories, which the next build removes.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import bagit

from archiver.adapters.bagit_staged import StagedBag
from archiver.build.characterize import TextProfiler
from archiver.model.digest import ReadBack, digest_stream
from archiver.model.errors import ArchiverError, OutputError, SourceError
from archiver.model.formats import TextProfile
from archiver.policy import (
    ProfileChecker,
    StagedTags,
    declared_profile,
    later_profiles,
    load_profile,
)
from archiver.storage.fileio import (
    bag_lock,
    exchange_paths,
    fsync_dir,
    fsync_tree,
    remove_tree,
    walk_tree,
)


class BagVerificationError(ArchiverError):
    """A freshly written bag failed bagit-python's validator or the BagIt profile."""


@dataclass(frozen=True, slots=True)
class CopiedFile:
    """One payload file copied into the staging bag: its path there and what was found."""

    path: str  # in the bag: "data/<name>" or "data/<folder>/<tree path>"
    source: Path
    size: int
    digests: dict[str, str]
    text: TextProfile


def write_payload(
    source: Path, destination: Path, algorithms: Sequence[str]
) -> tuple[dict[str, str], int, TextProfile]:
    """Copy ``source`` to ``destination`` in one read that also hashes and profiles it.

    A source that changes while it is read (its size or modification time differ after
    the copy) or vanishes is refused (``SourceError``): the copy would not be the file.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    profiler = TextProfiler()
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError(f"{source}: is a symbolic link (links are not followed)") from None
        raise SourceError(f"{source}: cannot read: {exc.strerror or exc}") from None
    src = os.fdopen(fd, "rb", buffering=0)
    with src:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise SourceError(f"{source}: not a regular file (a FIFO, device or socket); not read")
        os.set_blocking(fd, True)
        try:
            # the copy is read back and hashed as it is written (ReadBack, its own thread
            # for large files, overlapped with the source's hashing): the staged check
            # then need not read the payload a second time
            with open(destination, "xb") as out, ReadBack(out) as copy:
                digests, size = digest_stream(src, algorithms, sinks=(copy, profiler), threads=True)
                copy.check(digests)
        except OSError as exc:
            where = source if exc.filename is None else exc.filename
            raise OutputError(f"{where}: cannot copy payload: {exc.strerror or exc}") from None
        after = os.fstat(fd)
    try:
        now = os.stat(source, follow_symlinks=False)
    except FileNotFoundError:
        raise SourceError(f"{source}: vanished while it was being copied") from None
    if (
        size != before.st_size
        or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)
        or (now.st_ino, now.st_dev) != (before.st_ino, before.st_dev)
    ):
        raise SourceError(f"{source}: changed while it was being copied; build it again")
    shutil.copystat(source, destination, follow_symlinks=False)
    return digests, size, profiler.result()


def name_problem(name: str) -> str | None:
    """Why a file or folder name inside an item cannot be kept in a bag, or None.

    Refused: names that are not valid UTF-8 (BagIt manifests are UTF-8), that hold a
    control character (XML records cannot carry most of them), or a backslash (a path
    separator on Windows, invalid in BagIt paths there). Everything else a file system
    holds is kept byte for byte: any script, spaces, '%', several dots.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape")
        return f"its name is not valid UTF-8 ({shown!r}); rename it"
    for char in name:
        if unicodedata.category(char) == "Cc":
            return f"its name holds the control character U+{ord(char):04X}; rename it"
    if "\\" in name:
        return "its name holds a backslash, a path separator on Windows; rename it"
    if len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
        return f"its name is longer than {MAX_COMPONENT_BYTES} bytes; rename it"
    return None


MAX_COMPONENT_BYTES = 255  # a name on ext4, XFS, APFS, NTFS (in UTF-16 units there)


def write_item(
    source: Path, item_path: str, staging: Path, algorithms: Sequence[str]
) -> list[CopiedFile]:
    """Copy an item into the staging bag at ``item_path`` (``data/<name>``): a regular
    file, or a folder's whole tree; every file hashed and profiled in the one read that
    copies it. The source is only read.

    In a folder, links (never followed), FIFOs, devices and sockets, empty folders (a
    BagIt manifest lists files only, so an empty folder could not be kept) and names
    ``name_problem`` refuses fail the item (``SourceError`` naming the path).
    """
    if not source.is_dir() or source.is_symlink():
        digests, size, text = write_payload(source, staging / item_path, algorithms)
        return [CopiedFile(item_path, source, size, digests, text)]
    copied: list[CopiedFile] = []
    folders: dict[str, bool] = {"": False}  # relative folder -> holds a file somewhere below
    (staging / item_path).mkdir(parents=True)
    for rel, entry in walk_tree(source):
        where = source / rel
        problem = name_problem(entry.name)
        if problem is not None:
            raise SourceError(f"{where}: {problem}")
        if entry.is_symlink():
            raise SourceError(
                f"{where}: a symbolic link inside the item (links are not followed: put the "
                "file itself there, or remove the link)"
            )
        target = staging / item_path / rel
        if entry.is_dir(follow_symlinks=False):
            target.mkdir()
            folders[rel] = False
            continue
        if not entry.is_file(follow_symlinks=False):
            raise SourceError(f"{where}: not a regular file (a FIFO, device or socket); not read")
        digests, size, text = write_payload(where, target, algorithms)
        copied.append(CopiedFile(f"{item_path}/{rel}", where, size, digests, text))
        parent = rel.rpartition("/")[0]
        while True:
            folders[parent] = True
            if not parent:
                break
            parent = parent.rpartition("/")[0]
    empty = sorted(rel or "." for rel, holds in folders.items() if not holds)
    if empty:
        raise SourceError(
            f"{source}: holds no file in {', '.join(repr(e) for e in empty[:3])}"
            f"{' and more' if len(empty) > 3 else ''} (BagIt lists files only, so an empty "
            "folder cannot be kept: remove it or put a file in it)"
        )
    return copied


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def write_tag_files(bag: Path, files: Mapping[str, bytes]) -> None:
    """Write every tag file (relative path -> bytes) into the staging bag.

    Each file is new (``O_EXCL``) and written with one ``os.write`` where the system
    allows; each subdirectory is made once.
    """
    root = os.fspath(bag)
    made: set[str] = set()
    path = root
    try:
        for relpath, data in sorted(files.items()):
            directory = relpath.rpartition("/")[0]
            if directory and directory not in made:
                path = os.path.join(root, directory)
                os.makedirs(path, exist_ok=True)
                made.add(directory)
            path = os.path.join(root, relpath)
            fd = os.open(path, _NEW_FILE, 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None


class BagVerifier:
    """Checks a written bag with bagit-python's validator and our BagIt profile.

    The profile is evaluated by ``archiver.policy.ProfileChecker``, as in every audit,
    on the tag files just written (their names and bag-info values are known exactly).
    """

    def __init__(self, profile_path: Path | None = None) -> None:
        # a bag declaring a later version of our profile (timestamped: v2) is checked by it
        later = later_profiles() if profile_path is None else ()
        self._profile = ProfileChecker(load_profile(profile_path), versions=later)
        self.bagit_version: str = bagit.VERSION

    def verify(
        self,
        bag: Path,
        label: str,
        tags: StagedTags,
        verified: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """Raise BagVerificationError naming the bag and every problem found.

        ``verified``: payload files (path in the bag -> digests) whose copies were read
        back and hashed as they were written (``ReadBack``); bagit-python checks them
        against the manifests without hashing them again."""
        logger = logging.getLogger("bagit")
        previous = logger.level
        logger.setLevel(logging.CRITICAL)
        try:
            reference = StagedBag(str(bag), verified=verified)
            reference.validate()
        except bagit.BagValidationError as exc:
            details = "; ".join(str(d) for d in exc.details) or str(exc)
            raise BagVerificationError(
                f"{label}: bagit-python rejects the bag: {details}"
            ) from None
        except bagit.BagError as exc:
            raise BagVerificationError(f"{label}: bagit-python rejects the bag: {exc}") from None
        finally:
            logger.setLevel(previous)
        checker = self._profile.versions.get(declared_profile(tags) or "", self._profile)
        violations = checker.violations(tags)
        if violations:
            problems = "; ".join(f"{v.path}: {v.message}" for v in violations)
            raise BagVerificationError(f"{label}: violates the BagIt profile: {problems}")


class BagExistsError(OutputError):
    """Another process installed a bag at the destination first."""


def make_durable(
    stagings: Sequence[Path], parent: Path, flush: Callable[[], bool] = lambda: False
) -> None:
    """Put staged bags (every file and directory) and ``parent``'s entries on disk before
    they are renamed into place: ``flush`` (a ``fileio.write_back_watch`` entered before
    they were written), or where it cannot vouch for them an fsync of each file and
    directory. OutputError if the disk refuses."""
    try:
        if not flush():
            for staging in stagings:
                fsync_tree(staging)
            fsync_dir(parent)
    except OSError as exc:
        where = exc.filename or parent
        raise OutputError(f"{where}: cannot flush the bag to disk: {exc.strerror}") from None


def move_into_place(staging: Path, destination: Path, *, replace: bool) -> None:
    """Rename a durable, verified staging bag to ``destination`` (not flushed: the caller
    flushes the parent once its renames are done, with ``flush_renames``).

    With ``replace``, the two directories are exchanged atomically (renameat2
    RENAME_EXCHANGE), so readers always see one complete bag, and the old one is then
    removed. Where the system cannot exchange, the old bag is renamed aside, the new
    one renamed in, and the old one put back if that fails. The bag's lock
    (``fileio.bag_lock``) is held meanwhile: a bag being repaired is not swapped.
    """
    with bag_lock(destination, "building it"):
        _install(staging, destination, replace=replace)


def flush_renames(parent: Path) -> None:
    """Put the renames made in ``parent`` on disk (OutputError if the disk refuses)."""
    try:
        fsync_dir(parent)
    except OSError as exc:
        raise OutputError(f"{parent}: cannot flush the rename to disk: {exc.strerror}") from None


def install_bag(staging: Path, destination: Path, *, replace: bool) -> None:
    """Make one verified staging bag durable (an fsync of each of its files and
    directories), rename it to ``destination`` and flush the rename."""
    make_durable([staging], destination.parent)
    move_into_place(staging, destination, replace=replace)
    flush_renames(destination.parent)


def _install(staging: Path, destination: Path, *, replace: bool) -> None:
    if not replace:
        try:
            os.rename(staging, destination)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise BagExistsError(f"{destination}: a bag appeared there meanwhile") from None
            raise OutputError(
                f"{destination}: cannot move bag into place: {exc.strerror}"
            ) from None
        return
    try:
        if exchange_paths(staging, destination):
            remove_tree(staging)  # now holds the old bag
            return
        aside = staging.with_name(staging.name + ".old")
        os.rename(destination, aside)
        try:
            os.rename(staging, destination)
        except OSError:
            os.rename(aside, destination)
            raise
    except OSError as exc:
        raise OutputError(f"{destination}: cannot swap in the new bag: {exc.strerror}") from None
    remove_tree(aside)
