"""Reproducible serialization of a bag as tar, tar.gz or zip, with checksum sidecars.

The archive holds one top-level directory named after the bag (the BagIt convention).
Rebuilding from the same bag gives the same bytes: entries are sorted (a directory before
its contents), every entry carries the same mtime, uid/gid 0 and empty owner names, modes
are normalized to 0755 (directories and executable files) or 0644, the gzip header has a
fixed mtime and no file name, and zip entries have a fixed date_time and Unix external
attributes.

The mtime is ``SOURCE_DATE_EPOCH`` when set, else ``DEFAULT_EPOCH``
(1980-01-01T00:00:00Z, the earliest time a zip entry can store); the bag's own dates are
not used, so the archive of an unchanged bag never depends on when it was built.

Each archive gets ``<archive>.sha256`` and ``<archive>.sha512`` sidecars in ``sha256sum``
format. The archive is written to a temporary sibling and renamed into place; the sidecars
are written last, so an archive without sidecars is an unfinished one.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import stat
import tarfile
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from archiver.model.clock import source_date_epoch
from archiver.model.digest import PRESERVATION_ALGORITHMS
from archiver.model.errors import BagReadError, ConfigError, OutputError
from archiver.storage.fileio import hash_file, new_temporary, walk_tree, write_bytes_atomic

FORMATS: tuple[str, ...] = ("tar", "tar.gz", "zip")
DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z
ZIP_MIN_EPOCH = 315532800  # zip's DOS date_time cannot go earlier
SIDECAR_ALGORITHMS = PRESERVATION_ALGORITHMS
DIR_MODE = 0o755
FILE_MODE = 0o644
EXEC_MODE = 0o755
_COPY_BLOCK = 1 << 20
MAX_SIDECAR_BYTES = 64 << 10


@dataclass(frozen=True, slots=True)
class Entry:
    """One archive member: its name inside the archive and where its bytes come from."""

    arcname: str
    is_dir: bool
    mode: int
    size: int = 0
    source: Path | None = None


@dataclass(frozen=True, slots=True)
class SerializedBag:
    """An archive written by ``serialize_bag`` and its sidecars' digests."""

    bag: Path
    archive: Path
    format: str
    size: int
    digests: Mapping[str, str]
    sidecars: tuple[Path, ...]


def archive_mtime(environ: Mapping[str, str]) -> int:
    """The archive mtime: ``SOURCE_DATE_EPOCH`` from ``environ`` if set, else DEFAULT_EPOCH."""
    seconds = source_date_epoch(environ)
    return DEFAULT_EPOCH if seconds is None else seconds


def archive_name(bag_name: str, fmt: str) -> str:
    """The archive's file name for a bag: ``<bag>.<fmt>``."""
    check_format(fmt)
    return f"{bag_name}.{fmt}"


def check_format(fmt: str) -> None:
    """Raise ConfigError unless ``fmt`` is one of FORMATS."""
    if fmt not in FORMATS:
        raise ConfigError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def normalized_mode(st_mode: int) -> int:
    """0755 for directories and files with any execute bit, else 0644."""
    if stat.S_ISDIR(st_mode):
        return DIR_MODE
    return EXEC_MODE if st_mode & 0o111 else FILE_MODE


def sidecar_text(digest: str, name: str) -> str:
    """One ``sha256sum``-format line (binary-agnostic two-space form) for ``name``."""
    return f"{digest}  {name}\n"


def collect_entries(bag: Path) -> list[Entry]:
    """The bag's entries in archive order, under a top-level directory named after the bag.

    Refuses (BagReadError) a bag that is not a directory or holds links or special files.
    """
    if not bag.is_dir() or bag.is_symlink():
        raise BagReadError(f"{bag}: not a bag directory")
    if not (bag / "bagit.txt").is_file():
        raise BagReadError(f"{bag}: no bagit.txt, not a bag")
    top = bag.resolve().name
    entries = [Entry(arcname=top, is_dir=True, mode=DIR_MODE)]
    _walk(bag, top, entries)
    return entries


def _walk(directory: Path, prefix: str, entries: list[Entry]) -> None:
    """Append the entries under ``directory`` in archive order (iterative: no depth limit)."""
    for rel, child in walk_tree(directory):
        arcname = f"{prefix}/{rel}"
        st = child.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            entries.append(Entry(arcname=arcname, is_dir=True, mode=DIR_MODE))
        elif stat.S_ISREG(st.st_mode):
            entries.append(
                Entry(
                    arcname=arcname,
                    is_dir=False,
                    mode=normalized_mode(st.st_mode),
                    size=st.st_size,
                    source=Path(child.path),
                )
            )
        else:
            raise BagReadError(f"{child.path}: not a regular file or directory, refusing")


def write_tar(entries: Iterable[Entry], out: BinaryIO, mtime: int) -> None:
    """Write entries as a PAX tar stream with fixed owners, modes and mtime."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.arcname)
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = entry.mode
            if entry.is_dir:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            assert entry.source is not None
            info.size = entry.size
            with open(entry.source, "rb") as fh:
                tar.addfile(info, fh)


def write_tar_gz(entries: Iterable[Entry], out: BinaryIO, mtime: int) -> None:
    """Write a tar stream through gzip with a fixed header mtime and no file name."""
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=mtime, compresslevel=6) as gz:
        write_tar(entries, gz, mtime)  # type: ignore[arg-type]


def write_zip(entries: Iterable[Entry], out: BinaryIO, mtime: int) -> None:
    """Write a zip (deflated) with fixed date_time and Unix external attributes."""
    date_time = time.gmtime(max(mtime, ZIP_MIN_EPOCH))[:6]
    with zipfile.ZipFile(out, mode="w", compression=zipfile.ZIP_DEFLATED) as zf:
        for entry in entries:
            name = entry.arcname + ("/" if entry.is_dir else "")
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3  # Unix, so external_attr carries the mode
            if entry.is_dir:
                info.external_attr = ((stat.S_IFDIR | entry.mode) << 16) | 0x10
                info.compress_type = zipfile.ZIP_STORED
                zf.writestr(info, b"")
                continue
            assert entry.source is not None
            info.external_attr = (stat.S_IFREG | entry.mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = entry.size
            with (
                open(entry.source, "rb") as src,
                zf.open(info, "w", force_zip64=entry.size >= zipfile.ZIP64_LIMIT) as dst,
            ):
                shutil.copyfileobj(src, dst, _COPY_BLOCK)


_WRITERS = {"tar": write_tar, "tar.gz": write_tar_gz, "zip": write_zip}


def serialize_bag(bag: Path, out_dir: Path, fmt: str, mtime: int) -> SerializedBag:
    """Write ``out_dir/<bag>.<fmt>`` reproducibly, then its .sha256 and .sha512 sidecars."""
    check_format(fmt)
    entries = collect_entries(bag)
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir}: output directory does not exist")
    name = archive_name(entries[0].arcname, fmt)
    target = out_dir / name
    sidecars = tuple(out_dir / f"{name}.{alg}" for alg in SIDECAR_ALGORITHMS)
    try:
        fd, tmp_name = new_temporary(target)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write ({exc.strerror})") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            _WRITERS[fmt](entries, fh, mtime)
            fh.flush()
            os.fsync(fh.fileno())
        digests, size = hash_file(tmp, SIDECAR_ALGORITHMS)
        for sidecar in sidecars:  # stale sidecars must never vouch for the new archive
            with contextlib.suppress(FileNotFoundError):
                sidecar.unlink()
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    for alg, sidecar in zip(SIDECAR_ALGORITHMS, sidecars, strict=True):
        write_bytes_atomic(sidecar, sidecar_text(digests[alg], name).encode("ascii"))
    return SerializedBag(
        bag=bag, archive=target, format=fmt, size=size, digests=digests, sidecars=sidecars
    )


def read_sidecar(path: Path) -> tuple[str, str]:
    """Parse a ``sha256sum``-format sidecar: returns (digest, file name).

    A sidecar is one short line: one over ``MAX_SIDECAR_BYTES``, or not UTF-8, is refused
    (``BagReadError``) without being read further.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SIDECAR_BYTES + 1)
    except OSError as exc:
        raise BagReadError(f"{path}: cannot read sidecar ({exc.strerror})") from exc
    if len(data) > MAX_SIDECAR_BYTES:
        raise BagReadError(f"{path}: sidecar is over {MAX_SIDECAR_BYTES} bytes, not read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BagReadError(f"{path}: sidecar is not valid UTF-8 at byte {exc.start}") from None
    return parse_sidecar(text, str(path))


def parse_sidecar(text: str, where: str) -> tuple[str, str]:
    """Parse one ``<hex>  <name>`` line (``*`` binary marker allowed); pure."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise BagReadError(f"{where}: expected one checksum line, found {len(lines)}")
    parts = lines[0].split(maxsplit=1)
    if len(parts) != 2 or not all(c in "0123456789abcdef" for c in parts[0].lower()):
        raise BagReadError(f"{where}: line 1 is not '<hex digest>  <file name>'")
    return parts[0].lower(), parts[1].lstrip("*")
