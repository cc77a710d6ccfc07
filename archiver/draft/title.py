"""The title of a statement: its heading, not the menu, the section name or the addressee.

The heading is looked for among the lines before the body. Web pages often repeat it (in
the breadcrumb, the page title and the heading), which makes it more likely; lines that
are dates, addressees ("To the President"), labels ("Statements", "Press releases") or
in another language than the statement count against a line. A dateline glued to the end
of the heading ("... Kazakhstan Astana, 12 July 2012") is cut off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from archiver.draft.dates import DATE_LABEL_RE, find_dates
from archiver.draft.evidence import Evidence
from archiver.draft.text import Document, Line

_ADDRESS_RE = re.compile(
    r"^(?:to\b|to:|dear\b|кому|уважаем|құрметті|monsieur|madame|à l[’']attention|"
    r"mr\.?\s|ms\.?\s|his excellency|her excellency|his honour)",
    re.IGNORECASE,
)
_LABEL_RE = re.compile(
    r"^(?:statements?|press releases?|news|speeches|appeals?|open letters?|"
    r"joint statements?|déclarations?|communiqués?|заявления|новости|мәлімдемелер|"
    r"жаңалықтар|actualités|publications?)$",
    re.IGNORECASE,
)
_BYLINE_RE = re.compile(r"^(?:by|par|автор)\b", re.IGNORECASE)
_KICKER_RE = re.compile(r"^[^\W\d_][\w’'\- ]{2,30}\s?:\s+\S")
# Words that name the genre: a heading with one is more likely the statement's title.
_GENRE_RE = re.compile(
    r"\b(?:statement|appeal|open letter|letter|declaration|remarks|communiqué|déclaration|"
    r"lettre|appel|заявлени\w*|обращени\w*|открытое письмо|мәлімдеме\w*|үндеу\w*|"
    r"ашық хат)\b",
    re.IGNORECASE,
)
MIN_WORDS = 3
MAX_WORDS = 40


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def strip_dateline(title: str, line: Line, is_place: Callable[[str], bool] | None = None) -> str:
    """``title`` without a trailing ``Place, date`` (or ``– date``).

    The place is the last word before the comma, or the last two words if only they
    together name a place (``is_place``).
    """
    dates = find_dates(line)
    if not dates or dates[-1].end < len(line.text.rstrip(" .")) - 1:
        return title
    head = line.text[: dates[-1].start].rstrip(" ,–—-(")
    head = re.sub(r"\s+(?:le|the)$", "", head)
    # the place of a dateline: the capitalized word(s) before the comma
    comma = line.text[len(head) : dates[-1].start].strip().startswith(",")
    words = head.split()
    if comma and len(words) > 2 and words[-1][:1].isupper():
        two = " ".join(words[-2:])
        if is_place is not None and not is_place(words[-1]) and is_place(two):
            words = words[:-2]
        else:
            words = words[:-1]
        head = " ".join(words)
    return head.rstrip(" ,–—-:") or title


def draft_title(
    document: Document,
    languages: Mapping[int, str],
    main: str | None,
    is_place: Callable[[str], bool] | None = None,
) -> list[Evidence]:
    """``dc.title``: the heading of the statement with its line, or nothing if there is none.

    ``languages`` maps line numbers to their detected language, ``main`` is the statement's;
    ``is_place`` tells place names (to cut a dateline off the heading).
    """
    candidates = [line for line in document.header() if not line.text.endswith(":")]
    if not candidates:
        candidates = [line for line in document.content() if not document.is_body(line)][:3]
    all_keys = [_key(line.text) for line in document.lines if line.text]
    best: tuple[float, Line] | None = None
    for rank, line in enumerate(candidates):
        score = _score(line, rank, all_keys, languages, main)
        if _next_to_menu(document, line):
            score -= 1.5  # the site's name above or below its menu bar
        if best is None or score > best[0]:
            best = (score, line)
    if best is None or best[0] <= 0:
        return []
    score, line = best
    title = strip_dateline(line.text, line, is_place).strip(' "“”')
    confidence = max(0.3, min(0.95, 0.45 + score / 10))
    return [Evidence(title, line.number, line.text, confidence, "heading before the text")]


def _score(
    line: Line, rank: int, all_keys: list[str], languages: Mapping[int, str], main: str | None
) -> float:
    words = len(line.words)
    text = line.text
    if words < MIN_WORDS and not _repeated(text, all_keys):
        return -1.0
    dates = find_dates(line)
    dated = sum(d.end - d.start for d in dates)
    if dates and dated >= len(text) * 0.5:
        return -1.0
    if _ADDRESS_RE.match(text) or _LABEL_RE.match(text.strip(" :")) or _BYLINE_RE.match(text):
        return -1.0
    if dates and DATE_LABEL_RE.match(text):  # "Posted on March 3, 2021 by admin"
        return -1.0
    score = 3.0 - 0.5 * rank
    if words > MAX_WORDS:
        score -= 2.0
    if 4 <= words <= 25:
        score += 1.0
    if _repeated(text, all_keys):
        score += 2.0
    if text.endswith("."):
        score -= 1.5
    if _GENRE_RE.search(text):
        score += 0.5
    if _KICKER_RE.match(text):
        score += 0.5  # "Kazakhstan: end the harassment ..."
    language = languages.get(line.number)
    if main and language and language != main:
        score -= 2.5
    return score


def _next_to_menu(document: Document, line: Line) -> bool:
    """True if the nearest non-empty line above or below is a menu (clutter)."""
    for step in (-1, 1):
        number = line.number + step
        while 1 <= number <= len(document.lines) and not document.line(number).text:
            number += step
        if 1 <= number <= len(document.lines) and document.line(number).boilerplate:
            if number == line.number + step:  # directly adjacent, no blank line between
                return True
    return False


def _repeated(text: str, all_keys: list[str]) -> bool:
    key = _key(text)
    return bool(key) and sum(1 for k in all_keys if k == key or k.endswith(" " + key)) >= 2
