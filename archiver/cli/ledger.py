"""`archiver ledger show|verify|premis`: read, check and export the audit ledger."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from archiver.cli.output import make_console, safe
from archiver.deposit.source import bag_identifier
from archiver.errors import EXIT_INTEGRITY, EXIT_OK
from archiver.fileio import check_output_path, write_bytes_atomic
from archiver.ledger.premis_export import package_identity
from archiver.ledger.records import Problem
from archiver.ledger.store import (
    BagOutcome,
    EmptyLedgerError,
    Ledger,
    RecordedEvent,
    RunRecord,
    default_ledger_path,
)


def register(subparsers: Any) -> None:
    """Add the ledger command and its subcommands."""
    parser = subparsers.add_parser(
        "ledger",
        help="show, verify or export the audit ledger (the hash-chained audit history)",
        description="The audit ledger records every audit run and every bag's outcome, "
        "hash-chained. Default: the ledger 'archiver audit' keeps for the collection at "
        "--root (default bags/): ROOT/.audit-ledger.sqlite when an earlier version put one "
        "there, else one file per collection in the per-user data directory "
        "(~/.local/share/archiver/ledgers/ on Linux). These commands open it read-only.",
    )
    commands = parser.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND", required=True)

    show = commands.add_parser(
        "show",
        help="list the runs, or one bag's audit history",
        description="Without BAG: every run in the ledger. With BAG (a path or a name the "
        "recorded path ends with): that bag's audits and deposit events.",
    )
    show.add_argument("bag", metavar="BAG", nargs="?", help="a bag path or name")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=run_show)

    verify = commands.add_parser(
        "verify",
        help="recompute the hash chain; exit 1 if the history was edited",
        description="Recompute every hash of the ledger and report the first broken link "
        "(edited run or bag outcome, deleted or reordered run). Exit 0 intact, 1 tampered, "
        "2 unreadable.",
    )
    verify.add_argument(
        "--head",
        metavar="HASH",
        default=None,
        help="the head hash recorded earlier (outside the ledger); a rewritten chain is caught",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(run=run_verify)

    premis = commands.add_parser(
        "premis",
        help="a bag's fixity checks (and deposits) as PREMIS 3 events",
        description="Write the bag's recorded fixity checks (full audits), and its "
        "replication / transfer events, as a PREMIS 3 document, checked against the "
        "PREMIS 3.0 XSD. When the bag is still there, the events link to the package "
        "object of its metadata/premis.json (with the intellectual entity it represents) "
        "and name archiver as that file does, so the two documents join; else to its "
        "External-Identifier or directory name.",
    )
    premis.add_argument("bag", metavar="BAG", help="a bag path or name")
    premis.add_argument(
        "--object-id",
        metavar="ID",
        default=None,
        help="the object identifier to link to (instead of the bag's package object)",
    )
    premis.add_argument("--out", metavar="FILE", type=Path, default=None, help="default: stdout")
    premis.set_defaults(run=run_premis)

    for sub in (show, verify, premis):
        sub.add_argument(
            "--ledger",
            metavar="F",
            type=Path,
            default=None,
            help="ledger database (default: the ledger of the collection at --root)",
        )
        sub.add_argument(
            "--root",
            metavar="ROOT",
            action="append",
            default=None,
            help="the collection's root, as given to 'archiver audit' (repeat for several; "
            "default: bags)",
        )


def _ledger_path(args: argparse.Namespace) -> Path:
    """--ledger, else the default ledger of the --root collection."""
    if args.ledger is not None:
        path: Path = args.ledger
    else:
        path = default_ledger_path(args.root or [])
    args.ledger = path
    return path


def _bag_name(ledger: Ledger, text: str) -> str:
    """The recorded name for a bag given as a path (absolute or not) or a name."""
    absolute = os.path.abspath(text)
    if absolute in ledger.bags():
        return absolute
    return ledger.resolve_bag(text)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def run_show(args: argparse.Namespace) -> int:
    """Print the runs, or one bag's history."""
    with Ledger.open(_ledger_path(args), readonly=True) as ledger:
        if args.bag is None:
            runs = ledger.runs()
            if args.json:
                _print_json({"ledger": str(args.ledger), "runs": [r.to_json() for r in runs]})
            else:
                _print_runs(make_console(), args.ledger, runs)
            return EXIT_OK
        name = _bag_name(ledger, args.bag)
        history = ledger.history(name)
        events = ledger.events(name)
    if args.json:
        _print_json(
            {
                "ledger": str(args.ledger),
                "bag": name,
                "audits": [h.to_json() for h in history],
                "events": [{"seq": e.seq, "run_id": e.run_id, **e.event.to_json()} for e in events],
            }
        )
    else:
        _print_history(make_console(), args.ledger, name, history, events)
    return EXIT_OK


def _print_runs(console: Console, path: Path, runs: list[RunRecord]) -> None:
    if not runs:
        console.print(f"ledger {safe(str(path))}: no runs recorded")
        return
    console.print(f"ledger {safe(str(path))}: {len(runs)} runs, head {runs[-1].hash}")
    table = Table("seq", "run id", "kind", "ended", "mode", "bags", "failed", "files", "bytes")
    for run in runs:
        failed = f"[bold red]{run.failed}[/]" if run.failed else "0"
        table.add_row(
            str(run.seq),
            safe(run.run_id),
            run.kind,
            safe(run.ended),
            safe(run.mode),
            str(run.bags),
            failed,
            str(run.files),
            str(run.bytes),
        )
    console.print(table)


def _print_history(
    console: Console,
    path: Path,
    bag: str,
    history: list[BagOutcome],
    events: list[RecordedEvent],
) -> None:
    if not history and not events:
        console.print(f"ledger {safe(str(path))}: nothing recorded for {safe(bag)}")
        return
    console.print(
        f"{safe(bag)}: {len(history)} audits, {len(events)} deposit/repair events "
        f"(ledger {safe(str(path))})"
    )
    if history:
        table = Table("seq", "run id", "checked", "mode", "status", "files", "bytes", "problems")
        for h in history:
            status = "[green]valid[/]" if h.status == "valid" else f"[bold red]{h.status}[/]"
            problems = ", ".join(
                f"{f.kind} {f.path}" + (f" ({f.algorithm})" if f.algorithm else "")
                for f in h.findings
                if f.severity == "error"
            )
            table.add_row(
                str(h.seq),
                safe(h.run_id),
                safe(h.checked),
                safe(h.mode),
                status,
                str(h.files),
                str(h.bytes),
                safe(problems),
            )
        console.print(table)
    if events:
        table = Table("seq", "event", "time", "outcome")
        table.add_column("target", overflow="fold")
        table.add_column("detail", overflow="fold")
        for e in events:
            table.add_row(
                str(e.seq),
                safe(e.event.event_type),
                safe(e.event.date_time),
                safe(e.event.outcome),
                safe(e.event.target),
                safe(
                    e.event.detail
                    + (f": {e.event.outcome_detail}" if e.event.outcome_detail else "")
                ),
            )
        console.print(table)


def run_verify(args: argparse.Namespace) -> int:
    """Recompute the chain: exit 0 intact, 1 tampered (saying where); never writes.

    With ``--head``, an emptied ledger (0 bytes, or an SQLite database with nothing in
    it) is tampered too: that head should be there, so its history was wiped.
    """
    try:
        with Ledger.open(_ledger_path(args), readonly=True) as ledger:
            problems = ledger.verify(args.head)
            seq, head = ledger.head()
    except EmptyLedgerError as exc:
        if args.head is None:
            raise
        message = f"{exc}; head {args.head} was expected: its history was wiped"
        if args.json:
            problem = Problem("wiped", message)
            _print_json(
                {
                    "ledger": str(args.ledger),
                    "status": "tampered",
                    "runs": 0,
                    "head": None,
                    "problems": [problem.to_json()],
                }
            )
        else:
            make_console().print(f"[bold red]TAMPERED[/] — {safe(message)}")
        return EXIT_INTEGRITY
    status = EXIT_INTEGRITY if problems else EXIT_OK
    if args.json:
        _print_json(
            {
                "ledger": str(args.ledger),
                "status": "tampered" if problems else "intact",
                "runs": seq,
                "head": head,
                "problems": [p.to_json() for p in problems],
            }
        )
        return status
    console = make_console()
    where = safe(str(args.ledger))
    if not problems:
        console.print(f"ledger {where}: [green]intact[/] — {seq} runs, head {head}")
        return status
    console.print(
        f"ledger {where}: [bold red]TAMPERED[/] — {len(problems)} problems; first broken link: "
        f"{safe(problems[0].message)}"
    )
    table = Table("kind", "seq", "run id", "problem")
    for p in problems:
        table.add_row(
            p.kind,
            "" if p.seq is None else str(p.seq),
            safe(p.run_id or ""),
            safe(p.message),
        )
    console.print(table)
    return status


def _package_identity(bag: Path) -> tuple[str, str] | None:
    """(entity, package) identifiers from the bag's metadata/premis.json, if readable."""
    try:
        record = json.loads((bag / "metadata" / "premis.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return package_identity(record) if isinstance(record, dict) else None


def run_premis(args: argparse.Namespace) -> int:
    """Write one bag's fixity checks and deposit events as PREMIS 3 XML."""
    with Ledger.open(_ledger_path(args), readonly=True) as ledger:
        name = _bag_name(ledger, args.bag)
        identifier = args.object_id
        entity = None
        if identifier is None and Path(name).is_dir():
            identity = _package_identity(Path(name))
            if identity is not None:
                entity, identifier = identity
            else:
                identifier, _ = bag_identifier(Path(name))
        document = ledger.premis_xml(name, identifier, entity_identifier=entity)
    if args.out is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        check_output_path(args.out, what="PREMIS document")
        write_bytes_atomic(args.out, document)
    return EXIT_OK
