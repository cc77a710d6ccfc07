"""The collection report (``archiver report``): the ledger found, read, the page rendered
and written as one self-contained HTML file, the clock read here, at the edge.

The ledger is the one ``archiver.config.resolve_ledger`` finds (``--ledger``, else
archive.toml's ``[ledger] path``, else the default of the collection at ``--root``, ``bags``
when it is here), the same one ``archiver audit`` writes. ``archiver.report`` (its model,
the ledger reading, Jinja2's rendering) is imported only when a report is written, so a
command that merely may write one starts fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.config import LedgerLocation, resolve_ledger

if TYPE_CHECKING:
    from archiver.report.model import Page


@dataclass(frozen=True, slots=True)
class ReportRun:
    """The report written: the page it shows, and the ledger it was made from."""

    page: Page
    location: LedgerLocation


def write_report(
    out: Path,
    *,
    verify: bool,
    ledger: Path | None = None,
    roots: Sequence[str] | None = None,
    config: Path | None = None,
) -> ReportRun:
    """Write the report of the collection's ledger to ``out`` (atomically).

    With ``verify`` the ledger's hash chain is recomputed and the page says whether it
    holds; LedgerError when there is no ledger where it was looked for, OutputError if
    ``out`` cannot be written.
    """
    from archiver.report.output import write_report as write_page  # Jinja2 only when needed

    location = resolve_ledger(ledger, config=config, roots=roots, create=False)
    if not location.path.exists():
        raise location.missing()
    page = write_page(location.path, out, now=datetime.now(UTC), verify=verify)
    return ReportRun(page, location)
