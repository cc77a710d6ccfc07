"""`archiver describe FILE`: what archiver would record about a file, without bagging it.

With ``--draft`` it also drafts the file's catalog row (title, date, creators, places,
languages, type) from its text, each value with its evidence; that needs the optional
``describe`` extra (``pip install 'archiver[describe]'``), imported only then.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from archiver.build.characterize import Characterization, FormatIdentifier, characterize_file
from archiver.cli.output import make_console, safe
from archiver.errors import EXIT_OK, EXIT_UNUSABLE, SourceError
from archiver.text import spreadsheet_cell

if TYPE_CHECKING:
    from archiver.metadata.draft.engine import Drafter
    from archiver.metadata.draft.evidence import Draft

EXTRA_HINT = "archiver describe --draft needs the describe extra: pip install 'archiver[describe]'"


def register(subparsers: Any) -> None:
    """Add the describe command."""
    parser = subparsers.add_parser(
        "describe",
        help="characterize files (size, digests, format, encoding); --draft drafts their "
        "catalog rows",
        description="Characterize files as archiver build does (one read for every digest "
        "and the text profile; FIDO for the PRONOM format) and print what it finds. With "
        "--draft, also draft each file's catalog row from its text (dc.title, dc.date, "
        "dc.creator, dcterms.spatial, dc.language, dc.type), each value with the line it "
        "comes from and a confidence, for a person to confirm.",
        epilog="Exit status: 0 described; 2 a file cannot be read (or is not a regular "
        "file, or for --draft not UTF-8 text), or --draft without archiver[describe].",
    )
    parser.add_argument("files", metavar="FILE", nargs="+", type=Path)
    parser.add_argument(
        "--draft", action="store_true", help="draft the catalog row of each file from its text"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument(
        "--csv",
        action="store_true",
        help="with --draft: print the drafted rows in the columns of the catalog",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        metavar="F",
        help="with --csv: use the header of this catalog (default: the layout of "
        "sources/metadata.csv)",
    )
    parser.set_defaults(run=run)


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

        from archiver.metadata.draft.engine import Drafter
    except ImportError:
        raise SourceError(EXTRA_HINT) from None
    return Drafter()


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "--draft reads UTF-8 text files"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Describe each file (and draft its row with --draft)."""
    if (args.csv or args.catalog) and not args.draft:
        print("archiver describe: --csv and --catalog go with --draft", file=sys.stderr)
        return EXIT_UNUSABLE
    for path in args.files:
        _check_regular(path)
    drafter = _load_drafter() if args.draft else None
    columns = _columns(args.catalog) if args.csv else None
    identifier = FormatIdentifier()
    found = [characterize_file(p, ("sha256", "sha512"), identifier) for p in args.files]
    drafts: list[Draft] = []
    if drafter is not None:
        drafts = [drafter.draft(_read_text(p)) for p in args.files]
    if args.csv:
        assert columns is not None
        _print_csv(args.files, drafts, columns)
    elif args.json:
        records = [c.to_json() for c in found]
        for record, draft in zip(records, drafts, strict=False):
            record["draft"] = draft.draft_json()
            record["evidence"] = draft.evidence_json()
        json.dump(records, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_tables(found, drafts)
    return EXIT_OK


def _columns(catalog: Path | None) -> tuple[str, ...]:
    from archiver.metadata.catalog import load_catalog
    from archiver.metadata.draft.row import DEFAULT_COLUMNS

    if catalog is None:
        return DEFAULT_COLUMNS
    return load_catalog(catalog).columns


def _print_csv(paths: list[Path], drafts: list[Draft], columns: tuple[str, ...]) -> None:
    from archiver.metadata.draft.row import catalog_row

    # RFC 4180's CRLF: Python < 3.13 quotes a cell holding a CR only when the line
    # terminator has one, and an unquoted CR ends the row for a reader.
    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(c) for c in columns])
    for path, draft in zip(paths, drafts, strict=True):
        cells, overflow = catalog_row(path.name, draft, columns)
        writer.writerow([spreadsheet_cell(c) for c in cells])
        for term in overflow:
            print(
                f"{path}: more {term} values than the catalog has {term} columns; "
                "the first ones are in the row (see --json for all)",
                file=sys.stderr,
            )


def _print_tables(found: list[Characterization], drafts: list[Draft]) -> None:
    console = make_console()
    for index, item in enumerate(found):
        table = Table(title=safe(item.path), show_header=False, title_justify="left")
        table.add_row("size", f"{item.size} bytes")
        for algorithm, digest in sorted(item.digests.items()):
            table.add_row(algorithm, digest)
        table.add_row("format", safe(item.format.describe()))
        table.add_row("mime type", item.format.mime_type or "unknown")
        table.add_row("text", safe(item.text.describe()))
        console.print(table)
        if index < len(drafts):
            console.print(_draft_table(item.path, drafts[index]))


def _draft_table(path: str, draft: Draft) -> Table:
    table = Table(title=f"draft: {safe(path)}", title_justify="left")
    for header in ("term", "value", "confidence", "line", "evidence"):
        table.add_column(header)
    for term, evidence in draft.evidence_json().items():
        if not evidence:
            table.add_row(term, "[dim](none found)[/dim]", "", "", "")
        for item in evidence:
            text = item["text"] if len(item["text"]) <= 80 else item["text"][:77] + "..."
            note = f" ({item['note']})" if item.get("note") else ""
            table.add_row(
                term,
                safe(item["value"]),
                f"{item['confidence']:.2f}",
                str(item["line"] or ""),
                safe(text + note),
            )
    return table
