"""`archiver package BAG ... --format tar|tar.gz|zip [--out DIR]`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from archiver.archive.serialize import DEFAULT_EPOCH, FORMATS, serialize_bag, source_date_epoch
from archiver.bag.findings import Finding
from archiver.bag.validator import validate_bag
from archiver.cli.output import (
    make_console,
    print_error,
    print_problems,
    safe,
    summary_line,
    unexpected_error_line,
)
from archiver.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE, ArchiverError, OutputError
from archiver.fileio import check_output_path
from archiver.policy import default_checkers

DEFAULT_OUT = Path("packages")


def register(subparsers: Any) -> None:
    """Add the package command."""
    parser = subparsers.add_parser(
        "package",
        help="serialize bags reproducibly as tar, tar.gz or zip with checksum sidecars",
        description="Write each BAG as DIR/<bag>.<format>: one top-level directory named "
        "after the bag, sorted entries, owners 0/'' and modes 0644/0755, every time set to "
        f"SOURCE_DATE_EPOCH (default {DEFAULT_EPOCH}, 1980-01-01T00:00:00Z), so a rebuild "
        "is byte-identical; then <archive>.sha256 and <archive>.sha512 in sha256sum format. "
        "Each BAG is fully validated first; an invalid bag is refused (nothing written for "
        "it: fresh sidecars would vouch for the damage). "
        "Exit 0 all written, 1 a bag is invalid, 2 a bag could not be packaged.",
    )
    parser.add_argument("bags", metavar="BAG", nargs="+", type=Path, help="bag directory")
    parser.add_argument("--format", required=True, choices=FORMATS, help="archive format")
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output directory, created if missing (default: {DEFAULT_OUT})",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Validate and package every bag; print a table of archives and digests.

    An invalid bag is not packaged: its findings are listed and the exit status is 1.
    """
    mtime = source_date_epoch(os.environ)
    out: Path = args.out
    check_output_path(out, args.bags, what="package", directory=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create output directory ({exc.strerror})") from exc
    console = make_console()
    table = Table(title=f"Packages ({args.format}, mtime {mtime})")
    for column in ("bag", "archive", "bytes", "sha256"):
        table.add_column(column, overflow="fold")
    checkers = default_checkers()  # schemas compiled once for all the bags
    status = EXIT_OK
    invalid: list[Finding] = []
    for bag in args.bags:
        try:
            report = validate_bag(bag, mode="full", checkers=checkers)
            if not report.valid:
                console.print(summary_line(report) + " — not packaged")
                invalid.extend(report.findings)
                status = max(status, EXIT_INTEGRITY)
                continue
            result = serialize_bag(bag, out, args.format, mtime)
        except ArchiverError as exc:
            print_error(exc)
            status = EXIT_UNUSABLE
            continue
        except Exception as exc:  # input no check foresaw: this bag fails, the others go on
            print(unexpected_error_line("package", [str(bag)], exc), file=sys.stderr)
            status = EXIT_UNUSABLE
            continue
        table.add_row(
            safe(str(bag)),
            safe(str(result.archive)),
            str(result.size),
            result.digests["sha256"],
        )
    print_problems(console, invalid)
    if table.row_count:
        console.print(table)
    return status
