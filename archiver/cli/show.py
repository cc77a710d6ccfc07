"""`archiver show BAG [--json] [--ledger F] [--config F]`: one bag at a glance."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from archiver.cli.output import add_ledger_arguments, ledger_note, make_console, safe
from archiver.model.errors import EXIT_OK
from archiver.workflows.show import BagShow, show_bag


def register(subparsers: Any) -> None:
    """Add the show command."""
    parser = subparsers.add_parser(
        "show",
        help="one bag at a glance: what it is, what it holds, its last audit and copies",
        description="Describe BAG from its own files and the ledger: identifier, title, "
        "creators, dates and profile (metadata/dc.json, bag-info.txt), each payload file "
        "with its format and size (metadata/premis.json, the manifest), its last audit and "
        "its copies (deposits) as the ledger records them. The bag is only read, tag files "
        "within bounds and never through a link. Exit 0 shown, 2 BAG is not a bag or "
        "cannot be read.",
    )
    parser.add_argument("bag", metavar="BAG", type=Path, help="a bag directory")
    parser.add_argument(
        "--json", action="store_true", help="print a machine report (JSON) instead of the text"
    )
    add_ledger_arguments(parser, root=False, collection="the collection holding BAG (its folder)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Show the bag (the ``show`` workflow), as text or JSON."""
    result = show_bag(args.bag, ledger=args.ledger, config=args.config)
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    ledger_note(result.location)
    print_bag(result)
    return EXIT_OK


def print_bag(result: BagShow) -> None:
    """The bag's description, its files as a table, then what the ledger knows."""
    from rich.table import Table

    console = make_console()
    console.print(f"[bold]{safe(result.identifier)}[/]  {safe(result.bag)}")
    rows = [
        ("title", "; ".join(result.title)),
        ("creators", "; ".join(result.creators)),
        ("dates", "; ".join(result.dates)),
        ("profile", result.profile),
    ]
    for label, value in rows:
        console.print(f"  {label:<9} {safe(value or '—')}")
    table = Table(title=f"{len(result.files)} files, {result.payload_bytes:,} bytes")
    for column in ("path", "format", "bytes"):
        table.add_column(column, overflow="fold", justify="right" if column == "bytes" else "left")
    for f in result.files:
        table.add_row(safe(f.path), safe(f.format or "—"), "?" if f.size is None else f"{f.size:,}")
    console.print(table)
    if not result.ledger_found:
        where = result.location.path if result.location is not None else "?"
        console.print(f"  ledger    none yet at {safe(where)}: never audited")
    else:
        last = result.last_audit
        if last is None:
            console.print("  audit     never (not in the ledger)")
        else:
            style = "green" if last.status == "valid" else "bold red"
            problems = f", {len(last.findings)} problems" if last.findings else ""
            console.print(
                f"  audit     [{style}]{safe(last.status)}[/] at {safe(last.checked)} "
                f"(mode {safe(last.mode)}, run {safe(last.run_id)}{problems})"
            )
        if not result.copies:
            console.print("  copies    none recorded")
        for c in result.copies:
            console.print(
                f"  copy      {safe(c.event.target or '?')}: {safe(c.event.event_type)} "
                f"{safe(c.event.outcome)} at {safe(c.event.date_time)}"
            )
    for note in result.notes:
        console.print(f"  [yellow]note[/]      {safe(note)}")
