"""`archiver repair BAG ... [--from REPLICA ...] [--dry-run] [--json] [--ledger F] [--config F]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from archiver.cli.output import (
    ledger_help,
    make_console,
    print_stamp_failures,
    progress_bar,
    safe,
)
from archiver.config import DEFAULT_CONFIG
from archiver.model.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE
from archiver.repair.plan import BagRepair, RepairStatus
from archiver.workflows.repair import repair

if TYPE_CHECKING:
    from archiver.config import LedgerLocation


def register(subparsers: Any) -> None:
    """Add the repair command."""
    parser = subparsers.add_parser(
        "repair",
        help="restore damaged bags from verified replicas",
        description="Check each BAG in full and restore every missing or damaged file from "
        "the first REPLICA holding bytes that match every digest of the reference (sha256 "
        "AND sha512); move unexpected payload files to <bag parent>/.archiver-quarantine/"
        "<bag>/<run id>/ (never deleted). The reference is the bag's tag manifests as "
        "recorded at its last good audit in the ledger; with no record, the bag's own, "
        "only if every tag file verifies. REPLICA: a directory holding the bag, a "
        "serialized bag (.tar, .tar.gz, .zip; sidecars checked first), ocfl:///root, "
        "s3://bucket/prefix or file:///dir; default: the deposits the ledger recorded for "
        "the bag. Replicas are only read. The run is recorded in the ledger. Exit 0 every "
        "bag intact or repaired, 1 a bag could not be healed (each file, replica and what "
        "it held is named), 2 the repair could not run.",
    )
    parser.add_argument("bags", metavar="BAG", nargs="+", type=Path, help="a bag directory")
    parser.add_argument(
        "--from",
        dest="replicas",
        metavar="REPLICA",
        action="append",
        default=[],
        help="a replica to restore from (repeat; tried in order; default: the bag's "
        "deposits recorded in the ledger, newest first)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would be restored from where; change nothing",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a machine report (JSON) instead of the table"
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
        help=f"archive settings, for [deposit.s3] and [ledger] path (default: {DEFAULT_CONFIG} "
        "if present)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Repair every bag and record the run (the ``repair`` workflow); print a summary or
    JSON."""
    with progress_bar("repair", enabled=sys.stdout.isatty() and not args.json) as progress:
        result = repair(
            args.bags,
            replicas=args.replicas,
            dry_run=args.dry_run,
            ledger_path=args.ledger,
            config=args.config,
            environ=os.environ,
            progress=progress,
        )
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        print_repairs(
            make_console(),
            result.repairs,
            result.run_id,
            result.ledger,
            args.dry_run,
            result.location,
        )
    unstamped = print_stamp_failures(list(result.stamp_failures))
    if not result.ok:
        return EXIT_INTEGRITY
    return EXIT_UNUSABLE if unstamped else EXIT_OK


def print_repairs(
    console: Console,
    repairs: Sequence[BagRepair],
    run_id: str,
    ledger: Path,
    dry_run: bool,
    location: LedgerLocation | None = None,
) -> None:
    """One line per bag, then what was restored, quarantined, and what could not be; the
    run and its ledger (with ``location``, how it was chosen)."""
    styles = {
        RepairStatus.INTACT: "green",
        RepairStatus.REPAIRED: "green",
        RepairStatus.WOULD_REPAIR: "yellow",
    }
    for r in repairs:
        style = styles.get(r.status, "bold red")
        line = (
            f"[{style}]{r.status}[/]  {safe(r.bag)}  ({len(r.restored)} restored, "
            f"{len(r.quarantined)} quarantined, {len(r.unhealed)} not healed)"
        )
        if r.reason:
            line += f": {safe(r.reason)}"
        console.print(line)
        for note in r.notes:
            console.print(f"  note: {safe(note)}")
        for a in r.unreachable:
            console.print(f"  [yellow]unreachable[/] {safe(a.replica)}: {safe(a.detail)}")
        if r.restored or r.quarantined:
            table = Table("action", "path")
            table.add_column("from / to", overflow="fold")
            table.add_column("digests")
            rows = [
                ("restore", "restored", item.path, item.where, item.digests) for item in r.restored
            ]
            rows += [
                ("keep damaged", "kept damaged", q.path, q.moved_to, q.digests) for q in r.kept
            ]
            rows += [
                ("quarantine", "quarantined", q.path, q.moved_to, q.digests) for q in r.quarantined
            ]
            for would, did, path, where, digests in rows:
                short = ", ".join(f"{a} {d[:16]}…" for a, d in sorted(digests.items()))
                action = f"would {would}" if dry_run else did
                table.add_row(action, safe(path), safe(str(where)), safe(short))
            console.print(table)
        for u in r.unhealed:
            console.print(f"  [bold red]not healed[/] {safe(u.path)}:")
            if not u.attempts:
                console.print("    no replica to try (pass --from, or deposit the bag)")
            for a in u.attempts:
                console.print(f"    {safe(a.replica)}: {a.status} ({safe(a.detail)})")
    where = location.describe() if location is not None else f"ledger {ledger}"
    ran = "dry run, nothing changed" if dry_run else f"run {run_id}, {safe(where)}"
    console.print(f"repair: {len(repairs)} bags; {ran}")
