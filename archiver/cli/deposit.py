"""`archiver deposit BAG ... --to URI [--verify] [--ledger F] [--config F] [--json]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.progress import Progress
from rich.table import Table

from archiver.cli.output import make_console, print_error, print_problems, safe
from archiver.cli.validate import timestamp_settings_for
from archiver.config import load_config
from archiver.deposit import Target, parse_target
from archiver.deposit.run import deposit_run
from archiver.stamps import stamper
from archiver.text import one_line

DEFAULT_CONFIG = Path("archive.toml")


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
    )
    parser.add_argument("bags", metavar="BAG", nargs="+", type=Path, help="bag directory")
    parser.add_argument("--to", metavar="URI", required=True, help="deposit target URI")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="do not deposit: re-verify what the target holds for each BAG",
    )
    parser.add_argument(
        "--ledger",
        metavar="F",
        type=Path,
        default=None,
        help="ledger database (default: <parent of first BAG>/.audit-ledger.sqlite)",
    )
    parser.add_argument(
        "--config",
        metavar="F",
        type=Path,
        default=None,
        help=f"archive settings, for [deposit.*] (default: {DEFAULT_CONFIG} if present)",
    )
    parser.add_argument("--json", action="store_true", help="print a machine report")
    parser.set_defaults(run=run)


def _settings(path: Path | None) -> dict[str, Any]:
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return {}
        path = DEFAULT_CONFIG
    return dict(load_config(path).deposit)


def run(args: argparse.Namespace) -> int:
    """Deposit (or re-verify) every bag and record the events (``deposit_run``); print
    a table or JSON."""
    target = parse_target(args.to)
    settings = _settings(args.config)
    with _progress(len(args.bags), sys.stdout.isatty() and not args.json) as advance:
        result = deposit_run(
            args.bags,
            target,
            settings=settings,
            environ=os.environ,
            ledger_path=args.ledger,
            verify=args.verify,
            on_bag=advance,
            stamp=stamper(timestamp_settings_for(args.config)),
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
        _print_table(result.rows, target, result.ledger if result.events else None)
    return result.status


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    """A transient bar counting bags on a terminal; a no-op otherwise."""
    if not enabled or total < 2:
        yield lambda: None
        return
    with Progress(*Progress.get_default_columns(), transient=True) as bar:
        task = bar.add_task("deposit", total=total)
        yield lambda: bar.advance(task)


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


def _print_table(rows: list[dict[str, Any]], target: Target, ledger: Path | None) -> None:
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
    console.print(f"{len(rows)} bag(s): {summary}" + (f"; ledger {ledger}" if ledger else ""))
