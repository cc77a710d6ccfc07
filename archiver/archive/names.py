"""Which file names are serialized bags: cheap to import (the audit's scan needs only
this, not ``archiver.archive.unpack`` with tarfile, zipfile and the decompressors)."""

from __future__ import annotations

from pathlib import Path

ARCHIVE_SUFFIXES: tuple[str, ...] = (
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tar.xz",
    ".zip",
)


def is_serialized(path: Path) -> bool:
    """True when ``path`` names a file with an archive suffix archiver can read."""
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)
