"""The catalog, ``sources/metadata.csv``: one row of descriptive metadata per item.

An item is the file or the folder (an item of several files) its ``filename`` names, in any
script, with spaces, ``%`` or several dots; a name that is not one plain name (``..``, a
path, an absolute path), that holds a control character, or that no file system could hold
is refused for its row. The item's bag is named by its ``dc.identifier``
(``archiver.model.identity``).

Archivematica's convention: the first column is ``filename``; the others are named
``dc.<element>`` (the 15 DCMES elements) or ``dcterms.<term>`` (DCMI Metadata Terms), and
a column name may repeat to give several values (one creator per ``dc.creator`` column).
This project adds ``premis.*`` columns for rights (``premis.copyrightStatus``: copyrighted,
public domain or unknown; ``premis.copyrightJurisdiction``: an ISO 3166 country code) and
for the provenance of a captured source (``premis.captureSource``: the URL it was captured
from; ``premis.captureDate``: when; ``premis.captureAgent`` and ``premis.captureAgentType``:
who), which become a PREMIS capture event and ``dcterms:source``.

Parsing is pure: :func:`parse_catalog` takes the text and a display name for messages.
Problems with the file as a whole (header, unknown column, duplicate filename or
identifier) raise :class:`CatalogError`. Problems confined to one row are recorded on the
row (``CatalogRow.problems``) so that the other rows can still be used; the Dublin Core
layer raises them for that row only.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from archiver.model.errors import CatalogError
from archiver.model.text import clip
from archiver.storage.fileio import read_bounded

# Characters no catalog cell may hold: C0 controls but tab and line breaks, DEL, C1
# controls, and the non-characters XML cannot carry (the records are rendered as XML).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

FILENAME_COLUMN = "filename"
MAX_NAME_BYTES = 255  # a name on ext4, XFS, APFS and NTFS
MAX_CATALOG_BYTES = 1 << 30  # a million rows of a few hundred bytes

DC_ELEMENTS: tuple[str, ...] = (
    "title",
    "creator",
    "subject",
    "description",
    "publisher",
    "contributor",
    "date",
    "type",
    "format",
    "identifier",
    "source",
    "language",
    "relation",
    "coverage",
    "rights",
)

# The refinements of dcterms:date (DCMI 2008 ``dcterms.xsd``).
DATE_REFINEMENTS: tuple[str, ...] = (
    "created",
    "valid",
    "available",
    "issued",
    "modified",
    "dateAccepted",
    "dateCopyrighted",
    "dateSubmitted",
)

# DCMI Metadata Terms declared in the DCMI 2008 ``dcterms.xsd`` (elements and refinements).
DCTERMS_TERMS: frozenset[str] = frozenset(
    DC_ELEMENTS
    + (
        "alternative",
        "tableOfContents",
        "abstract",
    )
    + DATE_REFINEMENTS
    + (
        "extent",
        "medium",
        "isVersionOf",
        "hasVersion",
        "isReplacedBy",
        "replaces",
        "isRequiredBy",
        "requires",
        "isPartOf",
        "hasPart",
        "isReferencedBy",
        "references",
        "isFormatOf",
        "hasFormat",
        "conformsTo",
        "spatial",
        "temporal",
        "audience",
        "accrualMethod",
        "accrualPeriodicity",
        "accrualPolicy",
        "instructionalMethod",
        "provenance",
        "rightsHolder",
        "mediator",
        "educationLevel",
        "accessRights",
        "license",
        "bibliographicCitation",
    )
)

PREMIS_COLUMNS: frozenset[str] = frozenset(
    {
        "copyrightStatus",
        "copyrightJurisdiction",
        "captureSource",
        "captureDate",
        "captureAgent",
        "captureAgentType",
    }
)

KNOWN_TERMS: dict[str, frozenset[str]] = {
    "dc": frozenset(DC_ELEMENTS),
    "dcterms": DCTERMS_TERMS,
    "premis": PREMIS_COLUMNS,
}


@dataclass(frozen=True)
class CatalogRow:
    """One catalog row: its file name, spreadsheet row number and non-empty values.

    ``row`` counts the header as row 1, as a spreadsheet shows it. ``values`` keeps the
    column order of the file; a repeated column contributes several values in order.
    ``problems`` holds messages about this row alone (e.g. an unsafe file name).
    """

    source: str
    row: int
    filename: str
    values: tuple[tuple[str, tuple[str, ...]], ...]
    problems: tuple[str, ...] = ()

    def get(self, column: str) -> tuple[str, ...]:
        """Every non-empty value of ``column`` (empty tuple when there is none)."""
        for name, values in self.values:
            if name == column:
                return values
        return ()

    def first(self, column: str) -> str | None:
        """The first value of ``column``, or None."""
        values = self.get(column)
        return values[0] if values else None

    @property
    def identifiers(self) -> tuple[str, ...]:
        """The row's ``dc.identifier`` values, or else the file name's stem."""
        return self.get("dc.identifier") or (PurePosixPath(self.filename).stem,)

    def where(self, column: str | None = None) -> str:
        """``<catalog>: row N[, column C]`` for messages."""
        place = f"{self.source}: row {self.row}"
        return f"{place}, column {column}" if column else place


@dataclass(frozen=True)
class Catalog:
    """A parsed catalog: its display name, header and rows in file order."""

    source: str
    columns: tuple[str, ...]
    rows: tuple[CatalogRow, ...]

    def row_for(self, filename: str) -> CatalogRow | None:
        """The row describing ``filename``, or None."""
        for row in self.rows:
            if row.filename == filename:
                return row
        return None

    @property
    def filenames(self) -> tuple[str, ...]:
        """The file names in catalog order."""
        return tuple(row.filename for row in self.rows)


def _check_header(header: list[str], source: str) -> tuple[str, ...]:
    columns = tuple(cell.strip() for cell in header)
    for number, name in enumerate(columns, start=1):
        problem = control_problem(name)
        if problem is not None:
            raise CatalogError(f"{source}: row 1, column {number}: {problem}")
    if not columns or columns[0] != FILENAME_COLUMN:
        found = columns[0] if columns else ""
        raise CatalogError(
            f"{source}: row 1, column 1: the first column must be '{FILENAME_COLUMN}', "
            f"found '{found}'"
        )
    for number, name in enumerate(columns[1:], start=2):
        if not name:
            raise CatalogError(f"{source}: row 1, column {number}: column has no name")
        if name == FILENAME_COLUMN:
            raise CatalogError(f"{source}: row 1, column {number}: '{name}' repeated")
        prefix, dot, term = name.partition(".")
        if not dot or prefix not in KNOWN_TERMS:
            raise CatalogError(
                f"{source}: row 1, column {number}: unknown column '{name}' "
                "(expected dc.*, dcterms.* or premis.*)"
            )
        if term not in KNOWN_TERMS[prefix]:
            raise CatalogError(
                f"{source}: row 1, column {number}: '{name}' is not a known {prefix} term"
            )
    return columns


def _filename_problem(filename: str) -> str | None:
    posix, windows = PurePosixPath(filename), PureWindowsPath(filename)
    if (
        filename in {".", ".."}
        or len(posix.parts) != 1
        or len(windows.parts) != 1
        or "\x00" in filename
    ):
        return f"'{clip(filename)}' is not a plain file name"
    if filename != filename.strip():
        return f"'{clip(filename)}' has leading or trailing spaces"
    if len(filename.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"'{clip(filename)}' is longer than the {MAX_NAME_BYTES} bytes a file system holds"
    return None


def control_problem(cell: str) -> str | None:
    """Why a cell cannot be used: it holds a control character (named as U+XXXX); or None."""
    match = _FORBIDDEN.search(cell)
    if match is None:
        return None
    code = ord(match.group())
    return f"contains the control character U+{code:04X} at position {match.start() + 1}"


def _rows(records: list[list[str]], columns: tuple[str, ...], source: str) -> list[CatalogRow]:
    rows: list[CatalogRow] = []
    for number, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank line
        problems: list[str] = []
        for index, cell in enumerate(record):
            problem = control_problem(cell)
            if problem is not None:
                column = columns[index] if index < len(columns) else f"{index + 1}"
                problems.append(f"{source}: row {number}, column {column}: {problem}")
        filename = record[0] if record else ""
        if not filename.strip():
            raise CatalogError(f"{source}: row {number}, column {FILENAME_COLUMN}: empty")
        problem = _filename_problem(filename)
        if problem:
            problems.append(f"{source}: row {number}, column {FILENAME_COLUMN}: {problem}")
        extra = [cell for cell in record[len(columns) :] if cell.strip()]
        if extra:
            problems.append(
                f"{source}: row {number}: {len(record)} cells but the header has "
                f"{len(columns)} columns"
            )
        grouped: dict[str, list[str]] = {}
        for name, cell in zip(columns[1:], record[1:], strict=False):
            grouped.setdefault(name, [])
            value = cell.strip()
            if value:
                grouped[name].append(value)
        values = tuple((name, tuple(v)) for name, v in grouped.items() if v)
        rows.append(CatalogRow(source, number, filename, values, tuple(problems)))
    return rows


def _check_duplicates(rows: list[CatalogRow], source: str) -> None:
    seen_files: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for row in rows:
        if row.filename in seen_files:
            raise CatalogError(
                f"{source}: rows {seen_files[row.filename]} and {row.row}, column "
                f"{FILENAME_COLUMN}: duplicate file name '{row.filename}'"
            )
        seen_files[row.filename] = row.row
        for identifier in row.identifiers:
            if identifier in seen_ids and seen_ids[identifier] != row.row:
                raise CatalogError(
                    f"{source}: rows {seen_ids[identifier]} and {row.row}, column "
                    f"dc.identifier: duplicate identifier '{identifier}'"
                )
            seen_ids[identifier] = row.row


def parse_catalog(text: str | Iterable[str], source: str) -> Catalog:
    """Parse catalog text (a string or lines) into a :class:`Catalog`.

    ``source`` is the name used in messages (e.g. ``sources/metadata.csv``).
    """
    if isinstance(text, str):
        lines: Iterable[str] = io.StringIO(text.removeprefix("\ufeff"), newline="")
    else:
        lines = text
    reader = csv.reader(lines, strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise CatalogError(
            f"{source}: line {reader.line_num}: not valid CSV: {clip(str(exc), 200)}"
        ) from exc
    if not records:
        raise CatalogError(f"{source}: empty catalog (expected a header row)")
    columns = _check_header(records[0], source)
    rows = _rows(records[1:], columns, source)
    _check_duplicates(rows, source)
    return Catalog(source, columns, tuple(rows))


def decode_catalog(data: bytes, source: str) -> str:
    """Decode catalog bytes strictly as UTF-8 (a leading BOM is allowed and dropped)."""
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        raise CatalogError(
            f"{source}: not valid UTF-8 (byte 0x{data[offset]:02x} at offset {offset})"
        ) from exc


def load_catalog(path: Path, source: str | None = None) -> Catalog:
    """Read and parse the catalog at ``path``; ``source`` names it in messages."""
    name = source if source is not None else str(path)
    try:
        data = read_bounded(path, MAX_CATALOG_BYTES)
    except OSError as exc:
        raise CatalogError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    return parse_catalog(decode_catalog(data, name), name)
