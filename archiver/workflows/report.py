"""The collection report (``archiver report``): the ledger read, the page rendered and
written as one self-contained HTML file, the clock read here, at the edge.

``archiver.report`` (its model, the ledger reading, Jinja2's rendering) is imported only
when a report is written, so a command that merely may write one starts fast.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.report.model import Page


def write_report(ledger: Path, out: Path, *, verify: bool) -> Page:
    """Write the report of ``ledger`` to ``out`` (atomically); the page it shows.

    With ``verify`` the ledger's hash chain is recomputed and the page says whether it
    holds; OutputError if ``out`` cannot be written.
    """
    from archiver.report.output import write_report as write_page  # Jinja2 only when needed

    return write_page(ledger, out, now=datetime.now(UTC), verify=verify)
