"""A statement's lines, with the web-capture clutter around the text marked as such.

Web captures keep menus, breadcrumbs, language switchers, share buttons, comment prompts,
footers and copyright lines around the statement. :func:`read_document` marks them as
boilerplate so that the extractors look at the statement itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

BODY_MIN_WORDS = 12
BODY_ANY_WORDS = 35  # a line this long is body text even without a closing full stop
_SENTENCE_END = tuple('.!?:;"»”…')
_BULLET_RE = re.compile(r"^[\s•·▪◦●‣∙*>›»→\-–—]+(?=\S)")
_WORD_RE = re.compile(r"[^\W_]+(?:['’\-.][^\W_]+)*")
_SEPARATORS_RE = re.compile(r"\s*(?:\||›|»|→|•|·)\s*|\s+[/>]\s+")

# Whole-line clutter (matched against the lower-cased line, anchored at its start).
_CLUTTER_START = re.compile(
    r"^(?:skip to|jump to|go to|toggle navigation|main menu|menu\b|search\b|home\b|"
    r"share\b|tweet\b|print\b|email\b|subscribe|follow us|like this|like loading|loading|"
    r"related\b|read more|see also|tags?:|leave a (?:reply|comment)|comments?\b|"
    r"post a comment|powered by|log ?in\b|sign in|register\b|donate\b|contact\b|contacts\b|"
    r"about us|who we are|what we do|sitemap|accessibility|cookie|privacy|copyright|"
    r"all rights reserved|did you find|report a mistake|if you find an error|join us|"
    r"перейти к|главная|меню\b|поиск|поделиться|комментари|читайте также|ещё по теме|"
    r"еще по теме|теги:|версия для|подписаться|нашли ошибку|все права|о нас\b|контакты|"
    r"реклама|лента новостей|басты бет|бөлісу|пікір|іздеу|барлық құқықтар|біз туралы|"
    r"байланыс|головна|пошук|поділитися|всі права|aller au contenu|passer au contenu|"
    r"accueil\b|partager|commentaires|imprimer|abonnez|mentions légales|plan du site|"
    r"tous droits|nous soutenir|faire un don|qui sommes|languages?:|языки:|"
    r"media contacts?|press contacts?|for media enquiries|contacts? presse|контакты для сми|"
    r"facebook|twitter|telegram|whatsapp|linkedin|youtube|instagram|вконтакте)"
)
_CLUTTER_ANYWHERE = re.compile(
    r"(?:^\d+\s+(?:comments?|replies|комментари\w*|пікір\w*|commentaires?)$|"
    r"©|\(c\) \d{4}|ctrl[-+ ]?enter|all rights reserved|все права защищены|"
    r"барлық құқықтар қорғалған|tous droits réservés|@\S+\.\w+|\[email protected\])",
    re.IGNORECASE,
)
_LANGUAGE_NAMES = frozenset(
    "english русский қазақша казахский kazakh russian français francais français fr en ru "
    "kz kk uk ua de español espanol deutsch українська languages language язык тілі "
    "русская версия english version".split()
)


@dataclass(frozen=True)
class Line:
    """One line of the text: 1-based number, text without bullets, and whether it is clutter."""

    number: int
    text: str
    boilerplate: bool

    @property
    def words(self) -> list[str]:
        """The words of the line."""
        return _WORD_RE.findall(self.text)


@dataclass(frozen=True)
class Document:
    """The lines of a statement and where its body (the long paragraphs) starts and ends."""

    lines: tuple[Line, ...]
    body_start: int
    body_end: int

    def content(self) -> list[Line]:
        """The lines that are not clutter and not empty."""
        return [line for line in self.lines if line.text and not line.boilerplate]

    def line(self, number: int) -> Line:
        """The line with this 1-based number."""
        return self.lines[number - 1]

    def is_body(self, line: Line) -> bool:
        """True for a long paragraph (at least ``BODY_MIN_WORDS`` words) that is not clutter."""
        return not line.boilerplate and is_paragraph(line.text)

    def header(self) -> list[Line]:
        """Content lines before the first body paragraph."""
        return [line for line in self.content() if line.number < self.body_start]

    def trailer(self) -> list[Line]:
        """Content lines after the last body paragraph."""
        return [line for line in self.content() if line.number > self.body_end]

    def body(self) -> list[Line]:
        """The body paragraphs."""
        return [line for line in self.content() if self.is_body(line)]


def is_paragraph(text: str) -> bool:
    """A sentence-like line of at least ``BODY_MIN_WORDS`` words (not a heading)."""
    words = len(_WORD_RE.findall(text))
    return words >= BODY_ANY_WORDS or (words >= BODY_MIN_WORDS and text.endswith(_SENTENCE_END))


def normalize(text: str) -> str:
    """NFC, typographic apostrophes folded, spaces collapsed."""
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u200b", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def _is_language_switcher(text: str) -> bool:
    parts = [p for p in re.split(r"[|/,\s]+", text.lower()) if p]
    return bool(parts) and all(p in _LANGUAGE_NAMES or len(p) <= 1 for p in parts)


def _is_spaced_menu(raw: str) -> bool:
    """A menu bar whose items are set apart by runs of spaces (``News   Reports   Contact``)."""
    items = [p for p in re.split(r"\s{2,}|\t", raw.strip()) if p]
    return len(items) >= 3 and all(len(p.split()) <= 3 for p in items) and len(raw.split()) <= 15


def _is_menu_line(text: str) -> bool:
    """A breadcrumb or a menu bar: several short items separated by |, ›, /, > ..."""
    parts = [p for p in _SEPARATORS_RE.split(text) if p]
    if len(parts) >= 2 and all(len(p.split()) <= 4 for p in parts[:-1]):
        return len(parts[-1].split()) <= 4 or bool(_CLUTTER_START.match(parts[0].lower()))
    words = text.split()
    spaced = re.split(r"\s{2,}", text)
    return len(spaced) >= 3 and all(len(p.split()) <= 3 for p in spaced) and len(words) <= 15


def is_clutter(text: str) -> bool:
    """True for a line that belongs to the web page rather than the statement."""
    lower = text.lower()
    if not text:
        return True
    if _CLUTTER_ANYWHERE.search(text) and len(text.split()) <= 25:
        return True
    if len(text.split()) <= 12 and _CLUTTER_START.match(lower):
        return True
    return _is_language_switcher(text) or text in {"×", "ENDS", "END", "***"}


def read_document(text: str) -> Document:
    """Split ``text`` into lines and mark the clutter (pure; line numbers are 1-based)."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines: list[Line] = []
    for number, raw in enumerate(raw_lines, start=1):
        clean = normalize(_BULLET_RE.sub("", normalize(raw)))
        lines.append(Line(number, clean, is_clutter(clean) or _is_spaced_menu(raw)))
    long_lines = [ln.number for ln in lines if not ln.boilerplate and is_paragraph(ln.text)]
    body_start = long_lines[0] if long_lines else len(lines) + 1
    body_end = long_lines[-1] if long_lines else len(lines) + 1
    marked = _mark_menus(lines, body_start)
    return Document(tuple(marked), body_start, body_end)


def _mark_menus(lines: list[Line], body_start: int) -> list[Line]:
    """Mark menus before the body: menu bars, and runs of three or more short lines."""
    out = list(lines)
    run: list[int] = []

    def close_run() -> None:
        if len(run) >= 3:
            for index in run:
                out[index] = Line(out[index].number, out[index].text, True)
        run.clear()

    for index, line in enumerate(lines):
        if line.number >= body_start:
            break
        if line.text and not line.boilerplate and _is_menu_line(line.text):
            out[index] = Line(line.number, line.text, True)
            continue
        short = bool(line.text) and len(line.words) <= 3 and not re.search(r"\d", line.text)
        if short and not line.text.endswith((".", ":", "!", "?")):
            run.append(index)
        else:
            close_run()
    close_run()
    return out
