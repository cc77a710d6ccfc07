"""`archiver validate BAG ... [--fast | --completeness-only] [--json]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from archiver.bag.validator import MAX_TAG_BYTES
from archiver.cli.output import (
    kinds_epilog,
    make_console,
    print_error,
    print_problems,
    summary_line,
    unexpected_error_line,
)
from archiver.config import DEFAULT_CONFIG
from archiver.model.errors import (
    EXIT_INTEGRITY,
    EXIT_OK,
    EXIT_UNUSABLE,
    BagReadError,
    WorkspaceError,
)
from archiver.model.text import parse_natural, shown
from archiver.workflows.validate import validate_paths


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
        epilog=kinds_epilog()
        + " Examples: 'archiver validate bags/*/' (every bag, in full); 'archiver validate "
        "--fast bags/letter-almaty' (structure and Payload-Oxum, no hashing); 'archiver "
        "validate packages/letter-almaty.tar.gz' (a serialized bag and its sidecars); "
        "'archiver validate --json bags/*/ > validation.json'.",
    )
    parser.add_argument(
        "bags",
        metavar="BAG",
        nargs="+",
        type=Path,
        help="a bag directory, or a serialized bag (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip)",
    )
    add_mode_arguments(parser)
    add_tag_limit_argument(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the machine report (JSON: every bag's status and findings) on stdout "
        "instead of the summary and table",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"archive settings, for [timestamp] ca (default: {DEFAULT_CONFIG} if present)",
    )
    parser.set_defaults(run=run)


def add_mode_arguments(parser: argparse.ArgumentParser) -> None:
    """--fast / --completeness-only, shared with audit."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--fast",
        dest="mode",
        action="store_const",
        const="fast",
        help="check structure, tag files and Payload-Oxum only, no hashing (default: full "
        "validation, every checksum)",
    )
    group.add_argument(
        "--completeness-only",
        dest="mode",
        action="store_const",
        const="completeness",
        help="check only that every listed file is present and nothing else is, no hashing "
        "(default: full validation)",
    )
    parser.set_defaults(mode="full")


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """'65536', '64K', '64M', '1G' (binary units) → bytes (argparse type)."""
    value = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = value[-1:] if value[-1:] in _UNITS else ""
    number = parse_natural(value[: len(value) - len(unit)], 12)
    if number is None or number < 1:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a size like 65536, 512K, 64M, 1G")
    return number * _UNITS[unit]


def add_tag_limit_argument(parser: argparse.ArgumentParser) -> None:
    """--max-tag-size, shared with audit."""
    parser.add_argument(
        "--max-tag-size",
        metavar="SIZE",
        type=parse_size,
        default=MAX_TAG_BYTES,
        help="largest tag file (bagit.txt, bag-info.txt, manifests, fetch.txt) read, e.g. "
        f"512K, 64M, 1G (default: {MAX_TAG_BYTES >> 20}M); a larger one is the finding "
        "oversized-tag-file and is not read",
    )


def run(args: argparse.Namespace) -> int:
    """Validate every path given; report the unusable ones and go on with the rest.

    Exit 2 if any path could not be read as a bag, else 1 if any bag is invalid, else 0.
    """
    result = validate_paths(
        args.bags,
        args.mode,
        max_tag_bytes=args.max_tag_size,
        config=args.config,
    )
    entries: list[dict[str, Any]] = []
    for item in result.results:
        if isinstance(item.error, BagReadError | WorkspaceError):
            print_error(item.error)
            entries.append({"bag": str(item.path), "status": "error", "message": str(item.error)})
        elif item.error is not None:
            line = unexpected_error_line("validate", [str(item.path)], item.error)
            print(line, file=sys.stderr)
            entries.append({"bag": str(item.path), "status": "error", "message": line})
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
