"""`archiver package BAG ... --format tar|tar.gz|zip [--out DIR]`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from archiver.archive.serialize import DEFAULT_EPOCH, FORMATS, archive_mtime
from archiver.cli.output import (
    make_console,
    print_error,
    print_problems,
    progress_bar,
    safe,
    summary_line,
    unexpected_error_line,
)
from archiver.model.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE, ArchiverError
from archiver.model.findings import Finding
from archiver.workflows.package import package_bags

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
    parser.add_argument("bags", metavar="BAG", nargs="+", type=Path, help="a bag directory")
    parser.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="the archive format: tar, tar.gz (gzip) or zip",
    )
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
    mtime = archive_mtime(os.environ)
    with progress_bar("packaging", enabled=sys.stdout.isatty()) as progress:
        result = package_bags(args.bags, args.out, args.format, mtime, progress=progress)
    for path in result.stale_removed:
        print(
            f"archiver: removed {safe(path)}, left by a package run that was killed",
            file=sys.stderr,
        )
    console = make_console()
    table = Table(title=f"Packages ({args.format}, mtime {mtime})")
    for column in ("bag", "archive", "bytes", "sha256"):
        table.add_column(column, overflow="fold")
    status = EXIT_OK
    invalid: list[Finding] = []
    for outcome in result.outcomes:
        if isinstance(outcome.error, ArchiverError):
            print_error(outcome.error)
            status = EXIT_UNUSABLE
        elif outcome.error is not None:
            line = unexpected_error_line("package", [str(outcome.bag)], outcome.error)
            print(line, file=sys.stderr)
            status = EXIT_UNUSABLE
        elif outcome.archive is not None:
            archive = outcome.archive
            table.add_row(
                safe(str(outcome.bag)),
                safe(str(archive.archive)),
                str(archive.size),
                archive.digests["sha256"],
            )
        elif outcome.report is not None:
            console.print(summary_line(outcome.report) + " — not packaged")
            invalid.extend(outcome.report.findings)
            status = max(status, EXIT_INTEGRITY)
    print_problems(console, invalid)
    if table.row_count:
        console.print(table)
    return status
