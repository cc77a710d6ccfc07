"""Write the report: collect, render, and write the HTML atomically (temp file + rename)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from archiver.model.errors import OutputError
from archiver.report.collect import collect
from archiver.report.model import Page
from archiver.report.render import PLAIN_ROWS, render_page
from archiver.storage.fileio import check_output_path, write_bytes_atomic


def write_report(
    ledger: Path, out: Path, *, now: datetime, verify: bool = True, plain_rows: int = PLAIN_ROWS
) -> Page:
    """Write the collection report of ``ledger`` to ``out``; the page it shows.

    ``out`` goes through the one output-path check (``check_output_path``): never inside
    a bag, links resolved, before the ledger is read."""
    check_output_path(out, what="report")
    page = collect(ledger, now=now, verify=verify)
    html = render_page(page, plain_rows=plain_rows)
    try:
        write_bytes_atomic(out, html.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the report ({exc.strerror or exc})") from exc
    return page
