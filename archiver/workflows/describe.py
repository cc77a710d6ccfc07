"""Describing files (``archiver describe``): what archiver would record about each file,
without bagging it, and with ``draft`` its drafted catalog row.

Characterization is build's (``archiver.build.characterize``: one read for every digest
and the text profile, FIDO for the format). The drafter, ``archiver.draft``, needs the
optional ``describe`` extra (``pip install 'archiver[describe]'``) and is imported only
when a draft is asked for.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.build.characterize import Characterization, FormatIdentifier, characterize_file
from archiver.model.digest import PRESERVATION_ALGORITHMS
from archiver.model.errors import SourceError
from archiver.storage.fileio import read_bounded

if TYPE_CHECKING:
    from archiver.draft.engine import Drafter
    from archiver.draft.evidence import Draft

EXTRA_HINT = "archiver describe --draft needs the describe extra: pip install 'archiver[describe]'"


@dataclass(frozen=True, slots=True)
class DraftedRow:
    """A draft laid out as a catalog row: its cells, and the terms with more values than
    the catalog has columns for (the first ones are in the cells)."""

    cells: tuple[str, ...]
    overflow: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FileDescription:
    """One file: what characterization found, and its draft (and row) when asked for."""

    path: Path
    characterization: Characterization
    draft: Draft | None = None
    row: DraftedRow | None = None


@dataclass(frozen=True, slots=True)
class DescribeRun:
    """The files described, in the order given; ``columns`` when rows were laid out."""

    files: tuple[FileDescription, ...]
    columns: tuple[str, ...] | None = None


def describe_files(
    paths: Sequence[Path],
    *,
    draft: bool = False,
    rows: bool = False,
    catalog: Path | None = None,
) -> DescribeRun:
    """Characterize each file; with ``draft`` also draft its catalog row from its text.

    With ``rows`` (and ``draft``) each draft is also laid out in the columns of
    ``catalog``'s header (default: the layout of sources/metadata.csv). Raises
    SourceError when a file cannot be read or is not a regular file, when a drafted file
    is not UTF-8 text, or when ``draft`` is asked for without the ``describe`` extra;
    every file is checked before any is read.
    """
    for path in paths:
        _check_regular(path)
    drafter = _load_drafter() if draft else None
    columns = _columns(catalog) if rows and drafter is not None else None
    identifier = FormatIdentifier()
    found = [characterize_file(p, PRESERVATION_ALGORITHMS, identifier) for p in paths]
    drafts: list[Draft | None] = [None] * len(found)
    if drafter is not None:
        drafts = [drafter.draft(_read_text(p)) for p in paths]
    laid_out: list[DraftedRow | None] = [None] * len(found)
    if columns is not None:
        laid_out = [_row(p, d, columns) for p, d in zip(paths, drafts, strict=True)]
    files = tuple(
        FileDescription(p, c, d, r)
        for p, c, d, r in zip(paths, found, drafts, laid_out, strict=True)
    )
    return DescribeRun(files, columns)


def _check_regular(path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise SourceError(f"{path}: not a regular file")


def _load_drafter() -> Drafter:
    try:
        import lingua  # noqa: F401
        import pymorphy3  # noqa: F401

        from archiver.draft.engine import Drafter
    except ImportError:
        raise SourceError(EXTRA_HINT) from None
    return Drafter()


MAX_DRAFT_BYTES = 64 << 20  # a statement's text; --draft reads it whole


def _read_text(path: Path) -> str:
    try:
        data = read_bounded(path, MAX_DRAFT_BYTES)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "--draft reads UTF-8 text files"
        ) from None


def _columns(catalog: Path | None) -> tuple[str, ...]:
    from archiver.draft.row import DEFAULT_COLUMNS
    from archiver.metadata.catalog import load_catalog

    if catalog is None:
        return DEFAULT_COLUMNS
    return load_catalog(catalog).columns


def _row(path: Path, draft: Draft | None, columns: tuple[str, ...]) -> DraftedRow:
    from archiver.draft.row import catalog_row

    assert draft is not None  # rows are laid out only for drafts
    cells, overflow = catalog_row(path.name, draft, columns)
    return DraftedRow(tuple(cells), tuple(overflow))
