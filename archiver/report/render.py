"""Render a ``Page`` as one self-contained HTML file (Jinja2, autoescaping on).

Everything is inline: the style sheet, the few lines of script that sort, filter and page
the table, and the charts as SVG; nothing is fetched, so the file opens from disk or as an
e-mail attachment. Without script the page is plain HTML. A large collection keeps the
HTML small: the first ``plain_rows`` bags (the most in need of attention) are table rows,
the rest compact JSON that the script turns into rows on demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
import orjson
from markupsafe import Markup

from archiver import __version__
from archiver.report.model import BagRow, Page, RunView

PLAIN_ROWS = 2_000  # bags written as HTML table rows; the others as data for the script
MAX_HISTORIES = 1_000  # notable bag histories written out
MAX_PROBLEM_BAGS = 1_000  # failing bags listed under "Open problems"
MAX_PROBLEMS_PER_BAG = 20
MAX_RUNS = 1_000  # runs listed (the latest)
_UNITS = ("bytes", "KB", "MB", "GB", "TB", "PB")
# JSON inside <script>: nothing in it may close the element or open a comment.
_SCRIPT_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def when(text: str) -> str:
    """An ISO 8601 time to the minute, as people read it: "2026-01-02 03:04 UTC"."""
    if not text:
        return ""
    shown = text[:16].replace("T", " ")
    zone = text[19:]
    if zone.startswith("."):
        zone = zone.lstrip(".0123456789")
    return f"{shown} UTC" if zone in ("+00:00", "Z") else f"{shown}{zone and ' ' + zone}"


def size(value: int) -> str:
    """Bytes in decimal units: 1.2 GB."""
    amount = float(value)
    for unit in _UNITS:
        if amount < 1000 or unit == _UNITS[-1]:
            return f"{amount:.0f} {unit}" if unit == "bytes" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{value} bytes"  # pragma: no cover - the loop always returns


def num(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def row_class(row: BagRow) -> str:
    """The row's classes: bad (failing), never (never checked good), ok (neither), repaired."""
    if row.failing:
        base = "bad never" if not row.last_good else "bad"
    else:
        base = "never" if not row.last_good else "ok"
    return base + " repaired" if row.repairs else base


def history_text(row: BagRow) -> str:
    """The bag's history in a few words: "30 checks, 2 failed"."""
    if not row.checks:
        return "never checked"
    text = f"{row.checks:,} check{'s' if row.checks != 1 else ''}"
    if row.failed_runs:
        return f"{text}, {len(row.failed_runs):,} failed"
    return f"{text}, all valid"


class _Interned:
    """Repeated strings (directories, copy lists) kept once, rows point at them."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        return self.index.setdefault(text, len(self.index))

    @property
    def values(self) -> list[str]:
        return list(self.index)


def data_rows(rows: Sequence[BagRow], runs: Sequence[RunView]) -> dict[str, Any]:
    """The bags beyond the plain rows, compact, as the script reads them (see report.js).

    Each row: [index, identifier, directory (into ``dirs``), title, status, run of the
    last good check (0: never), checks, failed checks, open problems as text, their
    count, copies (into ``copies``), repairs as text, their count, row classes].
    """
    dirs, copies = _Interned(), _Interned()
    out = []
    for row in rows:
        problems, count = "", 0
        if row.problems:
            places = row.places
            count = len(places)
            problems = "; ".join(f"{kind} {path}" for kind, path in places[:3])
            if count > 3:
                problems += f"; +{count - 3} more"
        held = ""
        if row.copies:
            held = "; ".join(f"{c.target} {c.version}".rstrip() for c in row.copies)
        repairs = f"{len(row.repairs)}, last {when(row.repairs[-1].when)}" if row.repairs else ""
        out.append(
            [
                row.number,
                row.identifier,
                dirs(row.bag[: len(row.bag) - len(row.identifier)]),
                row.title,
                row.status,
                row.last_good_seq or 0,
                row.checks,
                len(row.failed_runs),
                problems,
                count,
                copies(held),
                repairs,
                len(row.repairs),
                row_class(row),
            ]
        )
    return {
        "runs": {str(run.seq): when(run.ended) for run in runs},
        "dirs": dirs.values,
        "copies": copies.values,
        "rows": out,
    }


def environment() -> jinja2.Environment:
    """The template environment: package templates, autoescaping always on."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("archiver.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(when=when, size=size, num=num)
    env.globals.update(row_class=row_class, history_text=history_text)
    return env


def render_page(page: Page, *, plain_rows: int = PLAIN_ROWS) -> str:
    """The report as one HTML document."""
    plain = page.rows[:plain_rows]
    rest = page.rows[plain_rows:]
    notable = [row for row in page.rows if row.notable]
    histories = notable[:MAX_HISTORIES]
    data_json = ""
    if rest:
        encoded = orjson.dumps(data_rows(rest, page.runs)).decode("utf-8")
        data_json = Markup(encoded.translate(_SCRIPT_SAFE))  # noqa: S704 - escaped above
    template = environment().get_template("report.html")
    return template.render(
        page=page,
        s=page.summary,
        version=__version__,
        plain=plain,
        data_rows=len(rest),
        data_json=data_json,
        histories=histories,
        histories_shown={row.number for row in histories},
        more_histories=len(notable) - len(histories),
        runs=page.runs[-MAX_RUNS:],
        max_problem_bags=MAX_PROBLEM_BAGS,
        max_problems_per_bag=MAX_PROBLEMS_PER_BAG,
    )
