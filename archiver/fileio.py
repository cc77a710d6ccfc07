"""Small I/O helpers: hashing a file on disk, atomic writes through a temporary path."""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from archiver.digest import digest_stream


def hash_file(
    path: Path, algorithms: Iterable[str], buffer: mmap.mmap | None = None
) -> tuple[dict[str, str], int]:
    """Digest a file with every algorithm from one unbuffered read; returns (digests, size)."""
    with open(path, "rb", buffering=0) as stream:
        return digest_stream(stream, algorithms, buffer)


@contextlib.contextmanager
def staging_dir(destination: Path) -> Iterator[Path]:
    """A temporary directory beside ``destination`` (same filesystem, so rename is atomic).

    Removed on exit unless it has been renamed away.
    """
    parent = destination.parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file by writing a temporary sibling, fsyncing and renaming it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
