"""`archiver report [--ledger F | --root DIR | --config F] [--out report.html]`: the
collection at a glance, as HTML."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.cli.output import add_ledger_arguments, ledger_note, make_console
from archiver.model.errors import EXIT_INTEGRITY, EXIT_OK
from archiver.workflows.report import write_report

if TYPE_CHECKING:  # the report's model and Jinja2 load only when a report is written
    from archiver.report.model import Page

DEFAULT_OUT = Path("report.html")


def register(subparsers: Any) -> None:
    """Add the report command."""
    parser = subparsers.add_parser(
        "report",
        help="write the collection report: one self-contained HTML page from the ledger",
        description="Write one self-contained HTML file (no network needed: it opens from "
        "disk or as an e-mail attachment) showing the collection from the audit ledger: a "
        "summary (bags, files, bytes, last audit, bags failing now, the ledger's head hash "
        "and whether 'ledger verify' passes), a sortable and filterable table of the bags "
        "(title from each bag's metadata/dc.json, last good check, last outcome, open "
        "problems, copies, repairs), history charts, and each notable bag's history. "
        "Exit 0 nothing failing, 1 a bag is failing or the ledger does not verify, 2 the "
        "report could not be written.",
        epilog="Examples: 'archiver report' (the ledger of bags/ here, to report.html); "
        "'archiver report --ledger /var/lib/archiver/ledger.sqlite --out "
        "/srv/www/archive/report.html'; 'archiver report --root /mnt/archive/bags "
        "--no-ledger-verify' (a quick look at a large collection).",
    )
    add_ledger_arguments(parser)
    add_report_arguments(parser)
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        default=DEFAULT_OUT,
        help=f"the HTML file to write (default: {DEFAULT_OUT})",
    )
    parser.set_defaults(run=run)


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``report`` and ``audit --html``."""
    parser.add_argument(
        "--no-ledger-verify",
        dest="verify",
        action="store_false",
        help="for the report, skip recomputing the ledger's hash chain (the report says it "
        "was not verified)",
    )


def describe(page: Page, out: Path) -> str:
    """One line about the report written."""
    from rich.markup import escape

    s = page.summary
    verified = {True: "verifies", False: "[bold red]DOES NOT VERIFY[/]", None: "not verified"}
    failing = f"[bold red]{s.failing} failing[/]" if s.failing else "none failing"
    return (
        f"report {escape(str(out))}: {s.bags} bags, {failing}; ledger {verified[s.verified]}, "
        f"head {s.head_hash[:16]}…"
    )


def run(args: argparse.Namespace) -> int:
    """Write the report; exit 1 when it shows a failing bag or a ledger that fails verify."""
    result = write_report(
        args.out, verify=args.verify, ledger=args.ledger, roots=args.root, config=args.config
    )
    page = result.page
    ledger_note(result.location)
    make_console().print(describe(page, args.out))
    s = page.summary
    return EXIT_INTEGRITY if s.failing or s.verified is False else EXIT_OK
