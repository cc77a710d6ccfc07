"""`archiver describe FILE`: what archiver would record about a file, without bagging it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from archiver.build.characterize import FormatIdentifier, characterize_file
from archiver.cli.output import make_console
from archiver.errors import EXIT_OK


def register(subparsers: Any) -> None:
    """Add the describe command."""
    parser = subparsers.add_parser(
        "describe",
        help="characterize files: size, sha256/sha512, PRONOM format, encoding",
        description="Characterize files as archiver build does (one read for every digest "
        "and the text profile; FIDO for the PRONOM format) and print what it finds.",
        epilog="Exit status: 0 described; 2 a file cannot be read.",
    )
    parser.add_argument("files", metavar="FILE", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Describe each file."""
    identifier = FormatIdentifier()
    found = [characterize_file(p, ("sha256", "sha512"), identifier) for p in args.files]
    if args.json:
        json.dump([c.to_json() for c in found], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    console = make_console()
    for item in found:
        table = Table(title=escape(item.path), show_header=False, title_justify="left")
        table.add_row("size", f"{item.size} bytes")
        for algorithm, digest in sorted(item.digests.items()):
            table.add_row(algorithm, digest)
        table.add_row("format", escape(item.format.describe()))
        table.add_row("mime type", item.format.mime_type or "unknown")
        table.add_row("text", escape(item.text.describe()))
        console.print(table)
    return EXIT_OK
