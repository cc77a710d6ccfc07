"""`archiver deposit BAG ... --to URI [--verify] [--ledger F] [--config F] [--json]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from archiver.cli.output import (
    ledger_help,
    make_console,
    print_error,
    print_problems,
    progress_bar,
    safe,
)
from archiver.config import DEFAULT_CONFIG
from archiver.deposit import Target, parse_target
from archiver.model.text import one_line
from archiver.workflows.deposit import deposit


def register(subparsers: Any) -> None:
    """Add the deposit command."""
    parser = subparsers.add_parser(
        "deposit",
        help="deposit bags to an OCFL root, an S3 store or a directory, and verify them",
        description="Validate each BAG, deposit it at URI and verify what landed: "
        "ocfl:///path/to/root (OCFL 1.1 storage root, created if missing, layout "
        "0003-hash-and-id-n-tuple-storage-layout; one object per bag, id = External-"
        "Identifier; a changed bag becomes a new version), s3://bucket/prefix (serialized "
        "bag + .sha256/.sha512 sidecars; endpoint and credentials from AWS_* variables or "
        "archive.toml [deposit.s3]), file:///path (a validated copy). An unchanged bag is a "
        "no-op. Every deposit is recorded in the ledger. --verify reports an OCFL bag that "
        "is an older version of its intact object as superseded (not damaged). Exit 0 all "
        "deposited (or unchanged) and verified, 1 a bag is invalid or a deposited copy is "
        "damaged, 2 the deposit could not be done.",
        epilog="Examples: 'archiver deposit bags/*/ --to ocfl:///srv/ocfl-root'; 'archiver "
        "deposit bags/*/ --to s3://preservation/bags'; 'archiver deposit bags/letter-almaty "
        "--to file:///mnt/replica' (a plain copy on another disk); 'archiver deposit "
        "bags/*/ --to ocfl:///srv/ocfl-root --verify' (re-check the copies).",
    )
    parser.add_argument("bags", metavar="BAG", nargs="+", type=Path, help="a bag directory")
    parser.add_argument(
        "--to",
        metavar="URI",
        required=True,
        help="the deposit target: ocfl:///ABSOLUTE/PATH, s3://BUCKET/PREFIX or "
        "file:///ABSOLUTE/PATH",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="do not deposit: re-verify what the target holds for each BAG (default: "
        "deposit, then verify)",
    )
    parser.add_argument(
        "--ledger",
        metavar="F",
        type=Path,
        default=None,
        help=ledger_help("the collection holding the first BAG (its folder)"),
    )
    parser.add_argument(
        "--config",
        metavar="F",
        type=Path,
        default=None,
        help=f"archive settings, for [deposit.*] and [ledger] path (default: {DEFAULT_CONFIG} "
        "if present)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a machine report (JSON) instead of the table"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Deposit (or re-verify) every bag and record the events (the ``deposit``
    workflow); print a table or JSON."""
    target = parse_target(args.to)
    on_terminal = sys.stdout.isatty() and not args.json
    with progress_bar("deposit", enabled=on_terminal) as progress:
        result = deposit(
            args.bags,
            target,
            environ=os.environ,
            ledger_path=args.ledger,
            config=args.config,
            verify=args.verify,
            progress=progress,
        )
    for message in result.errors:
        print_error(message)
    for message in result.warnings:
        print(one_line(f"archiver: warning: {message}"), file=sys.stderr)
    if args.json:  # stdout is the one JSON document: the findings are in its rows
        document = {"target": target.uri, "ledger": str(result.ledger), "bags": result.rows}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        if result.problems:
            print_problems(make_console(), result.problems)
        where = result.location.describe() if result.location else f"ledger {result.ledger}"
        _print_table(
            result.rows, target, where if result.events else f"nothing recorded in {where}"
        )
    return result.status


_STYLES = {
    "deposited": "green",
    "new-version": "green",
    "updated": "green",
    "unchanged": "dim",
    "verified": "green",
    "superseded": "yellow",
    "invalid": "bold red",
    "damaged": "bold red",
    "error": "bold red",
}


def _print_table(rows: list[dict[str, Any]], target: Target, ledger: str) -> None:
    """The bags, their status and where they went; a summary naming the ledger."""
    console = make_console()
    table = Table(title=f"Deposit to {safe(target.uri)}")
    for column in ("bag", "status", "identifier", "location"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = _STYLES.get(row["status"], "")
        table.add_row(
            safe(row["bag"]),
            f"[{style}]{row['status']}[/]" if style else row["status"],
            safe(str(row.get("identifier", ""))),
            safe(str(row.get("location", row.get("error", row.get("detail", ""))))),
        )
    console.print(table)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    console.print(f"{len(rows)} bag(s): {summary}; {safe(ledger)}")
