"""`archiver validate BAG ... [--fast | --completeness-only] [--json]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from archiver.checks import validate_paths
from archiver.cli.output import kinds_epilog, make_console, print_problems, summary_line
from archiver.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE


def register(subparsers: Any) -> None:
    """Add the validate command."""
    parser = subparsers.add_parser(
        "validate",
        help="validate bags (BagIt 0.93-1.0, our profile and metadata)",
        description="Validate each BAG completely: declaration, tag files, manifests, "
        "every checksum, Payload-Oxum, completeness, path safety, fetch.txt (never "
        "fetched). A serialized bag (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip) is "
        "checked against its .sha256/.sha512 sidecars when present, extracted safely into a "
        "temporary directory (links, devices, '..', absolute paths and absurd sizes are "
        "refused as unsafe-path) and validated under the archive's path. "
        "Exit 0 all valid, 1 a bag is invalid, 2 a path is not a bag.",
        epilog=kinds_epilog(),
    )
    parser.add_argument(
        "bags", metavar="BAG", nargs="+", type=Path, help="bag directory or serialized bag"
    )
    add_mode_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the machine report")
    parser.set_defaults(run=run)


def add_mode_arguments(parser: argparse.ArgumentParser) -> None:
    """--fast / --completeness-only, shared with audit."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--fast",
        dest="mode",
        action="store_const",
        const="fast",
        help="check structure, tag files and Payload-Oxum only (no hashing)",
    )
    group.add_argument(
        "--completeness-only",
        dest="mode",
        action="store_const",
        const="completeness",
        help="check that every listed file is present and nothing else (no hashing)",
    )
    parser.set_defaults(mode="full")


def run(args: argparse.Namespace) -> int:
    """Validate every path given; report the unusable ones and go on with the rest.

    Exit 2 if any path could not be read as a bag, else 1 if any bag is invalid, else 0.
    """
    result = validate_paths(args.bags, args.mode)
    entries: list[dict[str, Any]] = []
    for item in result.results:
        if item.error is not None:
            print(f"archiver: error: {item.error}", file=sys.stderr)
            entries.append({"bag": str(item.path), "status": "error", "message": str(item.error)})
        elif item.report is not None:
            entries.append(item.report.to_json())
    if args.json:
        document = {"mode": result.mode, "status": result.status, "bags": entries}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        console = make_console()
        for report in result.reports:
            console.print(summary_line(report))
        print_problems(console, [f for r in result.reports for f in r.findings])
    if result.unusable:
        return EXIT_UNUSABLE
    return EXIT_OK if result.valid else EXIT_INTEGRITY
