"""`archiver repair BAG ... [--from REPLICA ...] [--dry-run] [--json] [--ledger F] [--config F]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from archiver.cli.output import print_stamp_failures, safe
from archiver.cli.validate import timestamp_settings_for
from archiver.config import load_config
from archiver.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE
from archiver.fileio import check_output_path
from archiver.ledger.store import Ledger, default_ledger_path
from archiver.repair.plan import BagRepair
from archiver.stamps import stamper

DEFAULT_CONFIG = Path("archive.toml")


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
    parser.add_argument("bags", metavar="BAG", nargs="+", type=Path, help="bag directory")
    parser.add_argument(
        "--from",
        dest="replicas",
        metavar="REPLICA",
        action="append",
        default=[],
        help="a replica to restore from (repeat; tried in order)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would be restored from where; change nothing",
    )
    parser.add_argument("--json", action="store_true", help="print a machine report")
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
        help=f"archive settings, for [deposit.s3] (default: {DEFAULT_CONFIG} if present)",
    )
    parser.set_defaults(run=run)


def settings_from(path: Path | None) -> dict[str, Any]:
    """archive.toml's ``[deposit]`` table (S3 settings), or nothing."""
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return {}
        path = DEFAULT_CONFIG
    return dict(load_config(path).deposit)


def _now() -> datetime:
    return datetime.now(UTC)


def run(args: argparse.Namespace) -> int:
    """Repair every bag, record the run, print a summary or JSON."""
    from archiver.repair.run import repair_bags, run_events, run_report

    ledger_path: Path = args.ledger or default_ledger_path([Path(args.bags[0]).parent])
    # Nothing but the repaired files is written inside a bag: not the ledger.
    check_output_path(ledger_path, args.bags, what="ledger", inside_only=True)
    settings = settings_from(args.config)
    run_id = str(uuid.uuid4())
    started = _now()
    unstamped = False
    if args.dry_run and not ledger_path.is_file():
        repairs = repair_bags(
            args.bags,
            ledger=None,
            given=args.replicas,
            settings=settings,
            environ=os.environ,
            run_id=run_id,
            clock=_now,
            dry_run=True,
        )
    else:
        with Ledger.open(ledger_path) as ledger:
            ledger.stamp = stamper(timestamp_settings_for(args.config))
            repairs = repair_bags(
                args.bags,
                ledger=ledger,
                given=args.replicas,
                settings=settings,
                environ=os.environ,
                run_id=run_id,
                clock=_now,
                dry_run=args.dry_run,
            )
            events = run_events(repairs)
            if not args.dry_run and events:
                ended = _now()
                reports = [r.after if r.after is not None else r.before for r in repairs]
                report = run_report(
                    run_id,
                    started.isoformat(),
                    ended.isoformat(),
                    [str(b) for b in args.bags],
                    reports,
                    (ended - started).total_seconds(),
                )
                ledger.record_run(report, events, kind="repair")
            unstamped = print_stamp_failures(ledger.stamp_failures)
    ok = all(r.ok for r in repairs)
    if args.json:
        document = {
            "run_id": run_id,
            "dry_run": args.dry_run,
            "ledger": str(ledger_path),
            "status": "ok" if ok else "failed",
            "bags": [r.to_json() for r in repairs],
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        from archiver.cli.output import make_console

        print_repairs(make_console(), repairs, run_id, ledger_path, args.dry_run)
    if not ok:
        return EXIT_INTEGRITY
    return EXIT_UNUSABLE if unstamped else EXIT_OK


def print_repairs(
    console: Console, repairs: Sequence[BagRepair], run_id: str, ledger: Path, dry_run: bool
) -> None:
    """One line per bag, then what was restored, quarantined, and what could not be."""
    styles = {"intact": "green", "repaired": "green", "would-repair": "yellow"}
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
    ran = "dry run, nothing changed" if dry_run else f"run {run_id}, ledger {ledger}"
    console.print(f"repair: {len(repairs)} bags; {ran}")
