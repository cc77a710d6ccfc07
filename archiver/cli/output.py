"""Human output shared by the commands: the console, bag summary lines, problem tables."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from archiver.bag.findings import KIND_DESCRIPTIONS, BagReport, Finding


def make_console() -> Console:
    """Console on stdout; wide tables when not a terminal (logs, cron mail)."""
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
    return f"{mark}  {escape(report.bag)}  ({report.files} files, {report.bytes} bytes; {counts})"


def print_problems(console: Console, findings: list[Finding]) -> None:
    """Per bag with problems, a table: severity, kind, path, detail (and digests)."""
    by_bag: dict[str, list[Finding]] = {}
    for finding in findings:
        by_bag.setdefault(finding.bag, []).append(finding)
    for bag, problems in by_bag.items():
        from rich.table import Table  # only when there are problems (~15 ms to import)

        console.print(f"Problems in {escape(bag)}")
        table = Table()
        for column in ("severity", "kind", "path", "detail"):
            table.add_column(column, overflow="fold")
        for f in problems:
            detail = f.message
            if f.algorithm is not None:
                detail += f" [{f.algorithm}] expected {f.expected} found {f.found}"
            elif f.expected is not None:
                detail += f" (expected {f.expected}, found {f.found})"
            style = "red" if f.severity == "error" else "yellow"
            table.add_row(f"[{style}]{f.severity}[/]", str(f.kind), escape(f.path), escape(detail))
        console.print(table)
