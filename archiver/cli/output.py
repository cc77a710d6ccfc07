"""Human output shared by the commands: the console, bag summary lines, problem tables.

File names and tag values are data: everything printed for humans goes through ``safe``
(control characters shown as ``\\xNN`` escapes, rich markup escaped), and error lines
through ``error_line`` (one line, clipped). A bag with more than ``MAX_TABLE_ROWS``
problems shows the first ``MAX_TABLE_ROWS`` and a count by kind of the rest (``--json``
lists every one).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archiver.model.findings import KIND_DESCRIPTIONS, BagReport, Finding
from archiver.model.reports import ProgressCallback
from archiver.model.text import clip, escape_controls, one_line
from archiver.model.text import unexpected_error_line as unexpected_error_line

TYPE_CHECKING = False  # not typing's; rich itself is imported only when output needs it
if TYPE_CHECKING:
    from rich.console import Console

    from archiver.config import LedgerLocation

MAX_TABLE_ROWS = 100  # problems shown per bag in the human table; the rest are counted
MAX_CELL = 400  # characters of one table cell (a path or a message)


def ledger_help(collection: str) -> str:
    """--ledger's help, the same for every command that reads or writes the ledger
    (``archiver.config.resolve_ledger``); ``collection`` says which collection's default."""
    return (
        "the audit ledger (default: archive.toml's [ledger] path, relative to that file; "
        f"else the default of {collection}: its .audit-ledger.sqlite when an earlier "
        "version left one there, else one file per collection in the per-user data "
        "directory, e.g. ~/.local/share/archiver/ledgers/NAME-KEY.sqlite, keyed by the "
        "collection's resolved path; 'audit', 'report', 'ledger', 'show', 'deposit', "
        "'repair' and 'build --replace' find the same one, and say which on stderr)"
    )


def add_ledger_arguments(
    parser: argparse.ArgumentParser,
    *,
    config: bool = True,
    root: bool = True,
    collection: str = "the collection at --root",
) -> None:
    """--ledger, --root and --config: which ledger a command reads
    (``archiver.config.resolve_ledger``), for ``report``, ``ledger *`` and ``show``.
    ``collection``: whose default ledger it is; ``root``: offer --root (``show`` finds the
    collection from its bag instead)."""
    parser.add_argument(
        "--ledger", metavar="F", type=Path, default=None, help=ledger_help(collection)
    )
    if root:
        parser.add_argument(
            "--root",
            metavar="DIR",
            action="append",
            default=None,
            help="the collection, as given to 'archiver audit' (repeat for several; default: "
            "bags, when it is here), whose default ledger to read",
        )
    if config:
        parser.add_argument(
            "--config",
            metavar="F",
            type=Path,
            default=None,
            help="archive settings, for [ledger] path (default: archive.toml if present)",
        )


def safe(text: object, limit: int | None = None) -> str:
    """User data ready for rich: control characters escaped, markup escaped, optionally
    clipped to ``limit`` characters."""
    from rich.markup import escape

    shown = escape_controls(str(text))
    return escape(shown if limit is None else clip(shown, limit))


def error_line(message: object) -> str:
    """``archiver: error: MESSAGE`` on one line of reasonable length, controls escaped."""
    return one_line(f"archiver: error: {message}")


def print_error(message: object) -> None:
    """Print ``error_line(message)`` to stderr."""
    print(error_line(message), file=sys.stderr)


def make_console() -> Console:
    """Console on stdout; wide tables when not a terminal (logs, cron mail)."""
    from rich.console import Console  # ~0.09 s to import: only when something uses it

    width = None if sys.stdout.isatty() else 160
    return Console(file=sys.stdout, highlight=False, soft_wrap=True, width=width)


def kinds_epilog() -> str:
    """The problem kinds and what each means, for the --help of checking commands."""
    kinds = "; ".join(f"{kind}: {meaning}" for kind, meaning in KIND_DESCRIPTIONS.items())
    return f"Problem kinds (stable, in --json as 'kind'): {kinds}."


def summary_line(report: BagReport) -> str:
    """One line per bag: status, files, bytes, counts of errors and warnings."""
    mark = "[green]valid[/]" if report.valid else "[bold red]INVALID[/]"
    counts = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    return f"{mark}  {safe(report.bag)}  ({report.files} files, {report.bytes} bytes; {counts})"


def print_problems(console: Console, findings: list[Finding]) -> None:
    """Per bag with problems, a table: severity, kind, path, detail (and digests); beyond
    ``MAX_TABLE_ROWS`` problems in a bag, a line counting the rest by kind."""
    by_bag: dict[str, list[Finding]] = {}
    for finding in findings:
        by_bag.setdefault(finding.bag, []).append(finding)
    for bag, problems in by_bag.items():
        from rich.table import Table  # only when there are problems (~15 ms to import)

        console.print(f"Problems in {safe(bag)}")
        table = Table()
        for column in ("severity", "kind", "path", "detail"):
            table.add_column(column, overflow="fold")
        for f in problems[:MAX_TABLE_ROWS]:
            detail = f.message
            if f.algorithm is not None:
                detail += f" [{f.algorithm}] expected {f.expected} found {f.found}"
            elif f.expected is not None:
                detail += f" (expected {f.expected}, found {f.found})"
            style = "red" if f.severity == "error" else "yellow"
            table.add_row(
                f"[{style}]{f.severity}[/]",
                str(f.kind),
                safe(f.path, MAX_CELL),
                safe(detail, MAX_CELL),
            )
        console.print(table)
        rest = problems[MAX_TABLE_ROWS:]
        if rest:
            kinds = Counter(str(f.kind) for f in rest)
            counts = ", ".join(f"{kind} {n:,}" for kind, n in sorted(kinds.items()))
            console.print(
                f"… and {len(rest):,} more problems in {safe(bag)} ({counts}); "
                "--json lists every one"
            )


def print_stamp_failures(failures: list[str]) -> bool:
    """One warning line on stderr per run recorded without its timestamp token ([timestamp]
    configured, the TSA failed); True when there was any (the command then exits 2)."""
    for message in failures:
        print(one_line(f"archiver: warning: {message}"), file=sys.stderr)
    return bool(failures)


@contextmanager
def progress_bar(
    label: str,
    *,
    enabled: bool,
    data: bool = False,
    console: Console | None = None,
) -> Iterator[ProgressCallback | None]:
    """A transient rich progress bar while the block runs, fed by the workflow's
    ``(done, total)`` callback this yields; None (nothing drawn, rich not imported) unless
    ``enabled`` (stdout a terminal, and not --json to stdout).

    ``data``: done and total are bytes (size, speed, time left), else items (N/M, time
    spent, time left). ``console``: the console the command prints on meanwhile (its lines
    go above the bar).
    """
    if not enabled:
        yield None
        return
    from rich.progress import (  # only on a terminal: cron jobs and scripts skip the import
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns: tuple[ProgressColumn, ...] = (
        (TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn())
        if data
        else (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    )
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def ledger_note(location: LedgerLocation | None) -> None:
    """Say on stderr which ledger the command used, and why, when ``--ledger`` did not
    name it (one line)."""
    from archiver.config import LedgerSource

    if location is not None and location.source is not LedgerSource.OPTION:
        print(one_line(f"archiver: {location.describe()}"), file=sys.stderr)
