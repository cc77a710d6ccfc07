"""`archiver ledger show|verify|premis`: read, check and export the audit ledger."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from archiver.cli.output import add_ledger_arguments, ledger_note, make_console, safe
from archiver.ledger.store import EmptyLedgerError
from archiver.model.errors import EXIT_INTEGRITY, EXIT_OK
from archiver.model.records import BagOutcome, Problem, RecordedEvent, RunRecord
from archiver.workflows.ledger import export_premis, show_ledger, verify_ledger


def register(subparsers: Any) -> None:
    """Add the ledger command and its subcommands."""
    parser = subparsers.add_parser(
        "ledger",
        help="show, verify or export the audit ledger (the hash-chained audit history)",
        description="The audit ledger records every audit run and every bag's outcome, "
        "hash-chained. Default: the one 'archiver audit' keeps for the collection at --root "
        "(default bags/, when it is here), in the per-user data directory "
        "(~/.local/share/archiver/ledgers/ on Linux), unless archive.toml's [ledger] path "
        "(--config, default ./archive.toml) names another or an earlier version left "
        "ROOT/.audit-ledger.sqlite. Which one is said on stderr. These commands open it "
        "read-only.",
    )
    commands = parser.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND", required=True)

    show = commands.add_parser(
        "show",
        help="list the runs, or one bag's audit history",
        description="Without BAG: every run in the ledger. With BAG (a path or a name the "
        "recorded path ends with): that bag's audits and deposit events.",
    )
    show.add_argument("bag", metavar="BAG", nargs="?", help="a bag path or name")
    show.add_argument(
        "--json", action="store_true", help="print JSON instead of the table (default: table)"
    )
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
        help="the head hash printed by an earlier verify and kept outside the ledger: a "
        "rewrite of the whole chain is caught (default: check the chain as it is)",
    )
    verify.add_argument(
        "--json", action="store_true", help="print JSON instead of the summary (default: text)"
    )
    verify.add_argument(
        "--config",
        metavar="F",
        type=Path,
        default=None,
        help="archive settings, for [ledger] path and [timestamp] ca: every run's RFC 3161 "
        "token is verified and dated against the run's end (default: archive.toml if "
        "present)",
    )
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
    premis.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        default=None,
        help="write the PREMIS XML to FILE (default: stdout)",
    )
    premis.set_defaults(run=run_premis)

    for sub in (show, verify, premis):
        add_ledger_arguments(sub, config=sub is not verify)  # verify has its own --config


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def run_show(args: argparse.Namespace) -> int:
    """Print the runs, or one bag's history."""
    result = show_ledger(args.bag, ledger=args.ledger, roots=args.root, config=args.config)
    ledger_note(result.location)
    if result.bag is None:
        if args.json:
            rows = [{**r.to_json(), "timestamp": result.stamped.get(r.seq)} for r in result.runs]
            _print_json({"ledger": str(result.ledger), "runs": rows})
        else:
            _print_runs(make_console(), result.ledger, list(result.runs), result.stamped)
        return EXIT_OK
    if args.json:
        _print_json(
            {
                "ledger": str(result.ledger),
                "bag": result.bag,
                "audits": [h.to_json() for h in result.history],
                "events": [
                    {"seq": e.seq, "run_id": e.run_id, **e.event.to_json()} for e in result.events
                ],
            }
        )
    else:
        _print_history(
            make_console(), result.ledger, result.bag, list(result.history), list(result.events)
        )
    return EXIT_OK


def _print_runs(
    console: Console, path: Path, runs: list[RunRecord], stamped: Mapping[int, str] | None = None
) -> None:
    if not runs:
        console.print(f"ledger {safe(str(path))}: no runs recorded")
        return
    console.print(f"ledger {safe(str(path))}: {len(runs)} runs, head {runs[-1].hash}")
    stamped = stamped or {}
    columns = ["seq", "run id", "kind", "ended", "mode", "bags", "failed", "files", "bytes"]
    table = Table(*columns, *(["timestamp (TSA)"] if stamped else []))
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
            *([safe(stamped.get(run.seq, "none"))] if stamped else []),
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
        result = verify_ledger(
            args.head,
            ledger=args.ledger,
            roots=args.root,
            config=args.config,
        )
    except EmptyLedgerError as exc:
        if args.head is None:
            raise
        message = f"{exc}; head {args.head} was expected: its history was wiped"
        if args.json:
            problem = Problem("wiped", message)
            _print_json(
                {
                    "ledger": None if args.ledger is None else str(args.ledger),
                    "status": "tampered",
                    "runs": 0,
                    "head": None,
                    "problems": [problem.to_json()],
                }
            )
        else:
            make_console().print(f"[bold red]TAMPERED[/] — {safe(message)}")
        return EXIT_INTEGRITY
    ledger_note(result.location)
    problems, seq, head = result.problems, result.runs, result.head
    status = EXIT_OK if result.intact else EXIT_INTEGRITY
    if args.json:
        _print_json(
            {
                "ledger": str(result.ledger),
                "status": "intact" if result.intact else "tampered",
                "runs": seq,
                "head": head,
                "problems": [p.to_json() for p in problems],
            }
        )
        return status
    console = make_console()
    where = safe(str(result.ledger))
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


def run_premis(args: argparse.Namespace) -> int:
    """Write one bag's fixity checks and deposit events as PREMIS 3 XML."""
    result = export_premis(
        args.bag,
        object_id=args.object_id,
        out=args.out,
        ledger=args.ledger,
        roots=args.root,
        config=args.config,
    )
    ledger_note(result.location)
    if result.out is None:
        sys.stdout.buffer.write(result.document)
        sys.stdout.flush()
    return EXIT_OK
