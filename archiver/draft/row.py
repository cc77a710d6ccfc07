"""A draft as a row of the catalog (``sources/metadata.csv``), ready to paste.

The columns are those of a catalog header: by default the layout of this project's
``sources/metadata.csv`` (:data:`DEFAULT_COLUMNS`), or the header of the catalog the rows
are meant for. The drafted genre (``dcterms.type``, a genre URI) goes in its column;
rights (``dcterms.rights``, ``dcterms.accessRights``) are never drafted and stay empty
for the archivist to fill. A term with more drafted values than the header has columns for it keeps
the first ones; :func:`catalog_row` reports the others so the CLI can say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from archiver.draft.evidence import Draft
from archiver.metadata.catalog import FILENAME_COLUMN

DEFAULT_COLUMNS: tuple[str, ...] = (
    FILENAME_COLUMN,
    "dc.identifier",
    "dc.title",
    *(["dc.creator"] * 13),
    "dc.publisher",
    "dc.date",
    "dc.description",
    *(["dc.subject"] * 5),
    *(["dc.language"] * 2),
    "dc.type",
    *(["dcterms.spatial"] * 4),
    *(["dcterms.temporal"] * 2),
    "premis.copyrightStatus",
    "dcterms.type",
    "dcterms.rights",
    "dcterms.accessRights",
)


def catalog_row(
    filename: str, draft: Draft, columns: Sequence[str] = DEFAULT_COLUMNS
) -> tuple[list[str], list[str]]:
    """The cells of the row for ``filename`` and the terms whose values did not all fit."""
    values: dict[str, list[str]] = {term: list(v) for term, v in draft.draft_json().items()}
    values[FILENAME_COLUMN] = [filename]
    values["dc.identifier"] = [PurePath(filename).stem]
    values["premis.copyrightStatus"] = ["unknown"]
    cells: list[str] = []
    used: dict[str, int] = {}
    for column in columns:
        index = used.get(column, 0)
        used[column] = index + 1
        column_values = values.get(column, [])
        cells.append(column_values[index] if index < len(column_values) else "")
    overflow = [term for term, v in values.items() if len(v) > used.get(term, 0) and v]
    return cells, sorted(overflow)
