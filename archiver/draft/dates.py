"""The date of a statement, and the dates written in it.

Dates are found in the forms the statements use: ``20.12.2011``, ``2011-12-20``,
``12 juillet 2012``, ``January 10, 2022``, ``20 декабря 2011 г.``, ``2021 жылғы 16
желтоқсан``, month names in English, French, German, Russian, Ukrainian and Kazakh (any
case ending), and month-only forms (``December 2011``, ``Март 2020 года``).

The document date is the one the page gives as such: after a "published" label, in a
dateline (``Almaty, 14 March 2019``, ``GENEVA (20 May 2022) –``), in a byline, or alone on
a line of the header or the closing. Dates inside the body's sentences are event dates;
only when nothing else is found is the latest of them used, reduced to its month and
flagged approximate.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from archiver.draft.evidence import Evidence
from archiver.draft.text import Document, Line

# Month names: exact words (any case) and, for the inflected languages, stems.
_MONTH_WORDS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan janvier januar",
        "february feb février fevrier februar",
        "march mar mars märz",
        "april apr avril",
        "may mai",
        "june jun juin juni",
        "july jul juillet juli",
        "august aug août aout",
        "september sep sept septembre",
        "october oct octobre oktober",
        "november nov novembre",
        "december dec décembre decembre dezember",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTH_WORDS[_name] = _number

_MONTH_STEMS: tuple[tuple[str, int], ...] = (
    # Russian
    ("январ", 1), ("феврал", 2), ("март", 3), ("апрел", 4), ("мая", 5), ("май", 5),
    ("мае", 5), ("июн", 6), ("июл", 7), ("август", 8), ("сентябр", 9), ("октябр", 10),
    ("ноябр", 11), ("декабр", 12),
    # Ukrainian
    ("січ", 1), ("лют", 2), ("берез", 3), ("квіт", 4), ("трав", 5), ("черв", 6),
    ("лип", 7), ("серп", 8), ("верес", 9), ("жовт", 10), ("листопад", 11), ("груд", 12),
    # Kazakh
    ("қаңтар", 1), ("ақпан", 2), ("наурыз", 3), ("сәуір", 4), ("мамыр", 5), ("маусым", 6),
    ("шілде", 7), ("тамыз", 8), ("қыркүйек", 9), ("қазан", 10), ("қараша", 11),
    ("желтоқсан", 12),
)  # fmt: skip

_W = r"[^\W\d_]+"
_DMY_NUM = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{4})(?![\d.]?\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_D_M_Y = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:er|st|nd|rd|th|-?го)?\.?\s+({_W})\.?,?\s+(\d{{4}})(?!\d)"
)
_M_D_Y = re.compile(rf"\b({_W})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)")
_Y_D_M = re.compile(
    rf"(?<!\d)(\d{{4}})\s*(?:жылғы|жылдың|жылы|ж\.)\s*(\d{{1,2}})(?:-?ші|-?шы)?\s+({_W})"
)
_M_Y = re.compile(rf"\b({_W})\s+(\d{{4}})(?!\d)")

DATE_LABEL_RE = re.compile(
    r"(?:published|publication date|posted|date of publication|date:|updated|"
    r"опубликовано|дата публикации|дата:|жарияланды|жарияланған|жарияланым|"
    r"publié|date de publication|опубліковано|veröffentlicht)",
    re.IGNORECASE,
)
_DATE_WORDS_RE = re.compile(
    r"\b(?:г|года|год|гг|ж|жыл|жылғы|le|the|on|of|am|du|de|року|р)\b\.?", re.IGNORECASE
)
_DATELINE_START = re.compile(
    r"^[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][\w’'\- —–]{1,40}?(?:,\s*(?:le\s+)?|\s*\()$", re.UNICODE
)


def month_number(word: str) -> int | None:
    """The month a word names (English, French, German, Russian, Ukrainian, Kazakh)."""
    lower = word.lower().rstrip(".")
    if lower in _MONTH_WORDS:
        return _MONTH_WORDS[lower]
    for stem, number in _MONTH_STEMS:
        if lower.startswith(stem) and len(lower) <= len(stem) + 6:
            return number
    return None


@dataclass(frozen=True)
class FoundDate:
    """A date written in the text: its ISO form, precision, line and where it sits in the line."""

    iso: str
    line: Line
    start: int
    end: int

    @property
    def month_only(self) -> bool:
        """True when the text gives only a month and a year."""
        return len(self.iso) == 7


def _iso(year: int, month: int, day: int | None) -> str | None:
    try:
        if day is None:
            datetime.date(year, month, 1)
            return f"{year:04d}-{month:02d}"
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def find_dates(line: Line) -> list[FoundDate]:
    """Every date written in ``line``, left to right, without overlaps."""
    text = line.text
    hits: list[tuple[int, int, str]] = []

    def add(match: re.Match[str], year: int, month: int | None, day: int | None) -> None:
        if month is None or not 1900 <= year <= 2100:
            return
        iso = _iso(year, month, day)
        if iso and not any(s < match.end() and match.start() < e for s, e, _ in hits):
            hits.append((match.start(), match.end(), iso))

    for m in _ISO.finditer(text):
        add(m, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    for m in _DMY_NUM.finditer(text):
        add(m, int(m.group(3)), int(m.group(2)), int(m.group(1)))
    for m in _Y_D_M.finditer(text):
        add(m, int(m.group(1)), month_number(m.group(3)), int(m.group(2)))
    for m in _D_M_Y.finditer(text):
        add(m, int(m.group(3)), month_number(m.group(2)), int(m.group(1)))
    for m in _M_D_Y.finditer(text):
        add(m, int(m.group(3)), month_number(m.group(1)), int(m.group(2)))
    for m in _M_Y.finditer(text):
        add(m, int(m.group(2)), month_number(m.group(1)), None)
    return [FoundDate(iso, line, s, e) for s, e, iso in sorted(hits)]


def _rest(found: FoundDate) -> str:
    """The line without the date and the little words around dates."""
    text = found.line.text
    rest = text[: found.start] + " " + text[found.end :]
    return _DATE_WORDS_RE.sub(" ", rest)


def _score(found: FoundDate, document: Document) -> tuple[float, str]:
    """How likely ``found`` is the document's own date, and why."""
    line = found.line
    before = line.text[: found.start]
    rest_words = re.findall(r"[^\W\d_]+", _rest(found))
    in_body = document.is_body(line)
    if DATE_LABEL_RE.search(before):
        return 10.0, "after a publication label"
    if re.match(r"^\s*by\b|^\s*par\b|^\s*автор", before, re.IGNORECASE) and len(rest_words) <= 8:
        return 9.0, "in the byline"
    if _DATELINE_START.match(before) and found.start <= 45:
        after = line.text[found.end :].lstrip(" )")
        if not after or after[:1] in "–—-:":
            return 8.5, "in the dateline"
    if not in_body and len(rest_words) <= 6:
        if line.number < document.body_start:
            return 8.0 - 0.01 * len(rest_words), "on its own line in the header"
        return 7.0 - 0.01 * len(rest_words), "on its own line after the text"
    return 1.0, "in the text (an event date)"


def draft_date(document: Document) -> list[Evidence]:
    """``dc.date``: the statement's date with its evidence (empty if the text has none)."""
    found = [d for line in document.content() for d in find_dates(line)]
    if not found:
        return []
    scored = [(_score(d, document), d) for d in found]
    (score, why), best = max(scored, key=lambda item: (item[0][0], -item[1].line.number))
    if score > 1.0:
        confidence = min(0.95, 0.5 + score / 20)
        note = why
        if best.month_only:
            note, confidence = f"{why}; approximate: only the month is given", confidence - 0.2
        return [Evidence(best.iso, best.line.number, best.line.text, confidence, note)]
    latest = max(found, key=lambda d: (d.iso[:7], -d.line.number))
    note = "approximate: no date of issue; month of the latest date in the text"
    return [Evidence(latest.iso[:7], latest.line.number, latest.line.text, 0.35, note)]
