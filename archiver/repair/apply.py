"""The I/O of a repair: verified copies from replicas, atomic replacement, quarantine.

- A file is written beside its place as ``.archiver-repair-<random>.tmp`` while its
  digests are computed, fsync'd, renamed over the damaged file (or into the missing
  file's place) and its directory fsync'd. Killed at any moment, the file is either its
  old bytes or the new ones; a leftover temporary file is removed by the next repair of
  the bag (it holds the bag's lock, so no other repair is writing it).
- Bytes from a replica are kept only if every wanted algorithm matches; otherwise the
  temporary file is removed and the next source is tried.
- Unexpected files are moved (renamed, never copied and deleted) into the quarantine
  directory ``<bag parent>/.archiver-quarantine/<bag name>/<run id>/<path>``, outside
  the bag, after ``quarantine.json`` (path, size, sha256, sha512 of each) is written there;
  the damaged bytes of each file about to be replaced are kept there too, as a hard link
  (a copy across file systems) at ``replaced/<path>``, for whoever investigates.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, cast

from archiver.bag.validator import MAX_TAG_BYTES
from archiver.model.digest import new_buffer
from archiver.repair.plan import Quarantined
from archiver.repair.replicas import Source
from archiver.storage.fileio import check_output_path, read_bounded, walk_tree, write_bytes_atomic

TEMP_PREFIX = ".archiver-repair-"
TEMP_SUFFIX = ".tmp"
QUARANTINE_DIR = ".archiver-quarantine"
MAX_IN_MEMORY = 64 << 20  # tag files and manifests are read whole; nothing legit is bigger


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stale_temporaries(bag: Path) -> list[Path]:
    """Temporary files a killed repair left in the bag."""
    found: list[Path] = []
    for _, entry in walk_tree(bag):  # iterative: a deep payload costs no stack
        name = entry.name
        if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
            if not entry.is_dir(follow_symlinks=False):
                found.append(Path(entry.path))
    return sorted(found)


def remove_stale(bag: Path) -> None:
    """Remove the temporary files of a killed repair (never anything else)."""
    for path in stale_temporaries(bag):
        path.unlink(missing_ok=True)


def list_files(bag: Path) -> dict[str, int]:
    """Every regular file in the bag (bag-relative, '/'-separated) → size; links skipped."""
    files: dict[str, int] = {}
    for rel, entry in walk_tree(bag):  # iterative, links never followed
        name = entry.name
        if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
            continue
        if entry.is_file(follow_symlinks=False):
            files[rel] = entry.stat(follow_symlinks=False).st_size
    return files


def _blocks(stream: BinaryIO) -> Iterator[memoryview]:
    buffer = new_buffer()
    view = memoryview(buffer)
    readinto = cast(io.RawIOBase, stream).readinto
    while True:
        n = readinto(buffer)
        if not n:
            return
        yield view[:n]


def read_verified(source: Source, want: Mapping[str, str]) -> tuple[bytes | None, dict[str, str]]:
    """Read a small file whole from ``source``: (bytes if every digest matches, digests)."""
    with source.open() as stream:
        data = stream.read(MAX_IN_MEMORY + 1)
    found = {alg: hashlib.new(alg, data).hexdigest() for alg in want}
    ok = len(data) <= MAX_IN_MEMORY and all(found[a] == d.lower() for a, d in want.items())
    return (data if ok else None), found


def copy_verified(
    source: Source, want: Mapping[str, str], target: Path | None
) -> tuple[bool, dict[str, str]]:
    """Stream ``source`` into a temporary file beside ``target`` (None: hash only, for a
    dry run), hashing every wanted algorithm; on a full match rename it into place
    atomically. Returns (restored or restorable, digests found)."""
    hashes = {alg: hashlib.new(alg) for alg in want}
    if target is None:
        with source.open() as stream:
            for block in _blocks(stream):
                for h in hashes.values():
                    h.update(block)
        found = {alg: h.hexdigest() for alg, h in hashes.items()}
        return all(found[a] == d.lower() for a, d in want.items()), found
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
    try:
        with source.open() as stream, open(tmp, "xb", buffering=0) as out:
            for block in _blocks(stream):
                out.write(block)
                for h in hashes.values():
                    h.update(block)
            os.fsync(out.fileno())
        found = {alg: h.hexdigest() for alg, h in hashes.items()}
        if not all(found[a] == d.lower() for a, d in want.items()):
            tmp.unlink()
            return False, found
        os.replace(tmp, target)
        fsync_dir(target.parent)
        return True, found
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_verified(target: Path, data: bytes) -> None:
    """Replace ``target`` by ``data`` atomically: a temporary sibling named like every
    repair temporary (so a killed run's leftover is removed), fsync, rename, fsync dir."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
    try:
        with open(tmp, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)


def quarantine_dir(bag: Path, run_id: str) -> Path:
    """Where this run moves the bag's unexpected files (outside the bag)."""
    absolute = Path(os.path.abspath(bag))
    return absolute.parent / QUARANTINE_DIR / absolute.name / run_id


def quarantine(
    bag: Path,
    unexpected: Mapping[str, tuple[int, Mapping[str, str]]],
    replaced: Mapping[str, tuple[int, Mapping[str, str]]],
    run_id: str,
    *,
    dry_run: bool = False,
) -> tuple[list[Quarantined], list[Quarantined]]:
    """Record, then move each unexpected file out of the bag, and keep a hard link (or a
    copy) of each damaged file about to be replaced, in the quarantine directory.

    ``unexpected`` / ``replaced``: bag-relative path → (size, digests). Unexpected files
    go to ``<qdir>/<path>``, the damaged bytes of replaced files to
    ``<qdir>/replaced/<path>``; ``quarantine.json`` lists both before anything moves.
    Never deletes anything. ``dry_run``: only say where they would go.
    """
    qdir = quarantine_dir(bag, run_id)
    moved = [
        Quarantined(path=rel, size=size, digests=dict(digests), moved_to=str(qdir / rel))
        for rel, (size, digests) in sorted(unexpected.items())
    ]
    kept = [
        Quarantined(
            path=rel, size=size, digests=dict(digests), moved_to=str(qdir / "replaced" / rel)
        )
        for rel, (size, digests) in sorted(replaced.items())
    ]
    if dry_run or not (moved or kept):
        return moved, kept
    # the one output-path check: a quarantine beside a bag is never inside one
    check_output_path(qdir, [bag], what="quarantine", directory=True)
    qdir.mkdir(parents=True, exist_ok=True)
    record = qdir / "quarantine.json"
    existing: list[dict[str, object]] = []
    if record.is_file():
        existing = json.loads(read_bounded(record, MAX_TAG_BYTES))
    listed = {str(e.get("moved_to")) for e in existing}
    document = existing + [
        {"bag": os.path.abspath(bag), "why": why, **q.to_json()}
        for why, items in (("unexpected", moved), ("replaced", kept))
        for q in items
        if q.moved_to not in listed
    ]
    write_bytes_atomic(record, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    fsync_dir(qdir)
    for q in moved:
        source = bag / q.path
        dest = Path(q.moved_to)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, dest)
        fsync_dir(dest.parent)
        fsync_dir(source.parent)
        _prune_empty(source.parent, bag / "data")
    for q in kept:
        source = bag / q.path
        dest = Path(q.moved_to)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, dest)  # the later rename over ``source`` leaves this inode alone
        except FileExistsError:
            pass
        except OSError:
            shutil.copy2(source, dest)
        fsync_dir(dest.parent)
    return moved, kept


def _prune_empty(directory: Path, stop: Path) -> None:
    """Remove directories emptied by the quarantine, up to (not including) ``stop``."""
    current = directory
    while current != stop and stop in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
