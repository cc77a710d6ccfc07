"""Human output shared by the commands: the console, bag summary lines, problem tables.

File names and tag values are data: everything printed for humans goes through ``safe``
(control characters shown as ``\\xNN`` escapes, rich markup escaped), and error lines
through ``error_line`` (one line, clipped). A bag with more than ``MAX_TABLE_ROWS``
problems shows the first ``MAX_TABLE_ROWS`` and a count by kind of the rest (``--json``
lists every one).
"""

from __future__ import annotations

import sys
from collections import Counter

from archiver.bag.findings import KIND_DESCRIPTIONS, BagReport, Finding
from archiver.text import clip, escape_controls, one_line
from archiver.text import unexpected_error_line as unexpected_error_line

TYPE_CHECKING = False  # not typing's; rich itself is imported only when output needs it
if TYPE_CHECKING:
    from rich.console import Console

MAX_TABLE_ROWS = 100  # problems shown per bag in the human table; the rest are counted
MAX_CELL = 400  # characters of one table cell (a path or a message)


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
