"""`archiver describe FILE`: what archiver would record about a file, without bagging it.

With ``--draft`` it also drafts the file's catalog row (title, date, creators, places,
languages, type) from its text, each value with its evidence; that needs the optional
``describe`` extra (``pip install 'archiver[describe]'``), imported only then.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from archiver.cli.output import make_console, safe
from archiver.model.errors import EXIT_OK, EXIT_UNUSABLE
from archiver.model.text import spreadsheet_cell
from archiver.workflows.describe import DescribeRun, describe_files

if TYPE_CHECKING:
    from archiver.draft.evidence import Draft


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
    parser.add_argument(
        "files", metavar="FILE", nargs="+", type=Path, help="a regular file to characterize"
    )
    parser.add_argument(
        "--draft", action="store_true", help="draft the catalog row of each file from its text"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json", action="store_true", help="print JSON, one object per file (default: tables)"
    )
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


def run(args: argparse.Namespace) -> int:
    """Describe each file (and draft its row with --draft)."""
    if (args.csv or args.catalog) and not args.draft:
        print("archiver describe: --csv and --catalog go with --draft", file=sys.stderr)
        return EXIT_UNUSABLE
    result = describe_files(args.files, draft=args.draft, rows=args.csv, catalog=args.catalog)
    if args.csv:
        _print_csv(result)
    elif args.json:
        records = []
        for item in result.files:
            record = item.characterization.to_json()
            if item.draft is not None:
                record["draft"] = item.draft.draft_json()
                record["evidence"] = item.draft.evidence_json()
            records.append(record)
        json.dump(records, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_tables(result)
    return EXIT_OK


def _print_csv(result: DescribeRun) -> None:
    assert result.columns is not None
    # RFC 4180's CRLF: Python < 3.13 quotes a cell holding a CR only when the line
    # terminator has one, and an unquoted CR ends the row for a reader.
    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(c) for c in result.columns])
    for item in result.files:
        assert item.row is not None
        writer.writerow([spreadsheet_cell(c) for c in item.row.cells])
        for term in item.row.overflow:
            print(
                f"{item.path}: more {term} values than the catalog has {term} columns; "
                "the first ones are in the row (see --json for all)",
                file=sys.stderr,
            )


def _print_tables(result: DescribeRun) -> None:
    console = make_console()
    for described in result.files:
        item = described.characterization
        table = Table(title=safe(item.path), show_header=False, title_justify="left")
        table.add_row("size", f"{item.size} bytes")
        for algorithm, digest in sorted(item.digests.items()):
            table.add_row(algorithm, digest)
        table.add_row("format", safe(item.format.describe()))
        table.add_row("mime type", item.format.mime_type or "unknown")
        table.add_row("text", safe(item.text.describe()))
        console.print(table)
        if described.draft is not None:
            console.print(_draft_table(item.path, described.draft))


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
