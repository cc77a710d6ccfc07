"""The genre of a statement (``dcterms.type``): what the text says it is.

The value is the URI of an LCGFT term of ``archiver/metadata/schemas/genres.json`` (read
through :func:`archiver.metadata.rights.genre_terms`): Open letters, Petitions, Press
releases or Speeches. It is drafted only from a cue in the text; a text without one drafts
no genre (never a guess). The cues, strongest first:

1. a **form word** in the title line or in a heading (a line before the body, or a short
   line before the end of the body such as ``APPEAL``) — confidence 0.9 in the title,
   0.85 in another heading. *Open letter* (``открытое письмо``, ``ашық хат``, ``lettre
   ouverte``; ``open appeal``, ``открытое обращение``), and a *letter to* someone (the
   text is published, so its letter is an open one); *press release* (``пресс-релиз``,
   ``news release``, ``communiqué de presse``, ``press statement``); *petition*,
   *appeal* (``обращение``, ``воззвание``, ``үндеу``, ``appel``); *remarks*, *speech*,
   *address by* (``выступление``, ``вступительное слово``, ``речь``, ``сөйлеген сөз``,
   ``discours``, ``allocution``);
2. a form phrase specific enough to count anywhere in the text (``the following open
   letter``, ``заявление для прессы``, ``for immediate release``) — 0.8;
3. the generic word *statement* (``statement``, ``заявление``, ``мәлімдеме``,
   ``déclaration``, ``communiqué``, a ``Newsroom`` section) in the title or a heading —
   0.75. A public statement by an organization is catalogued as a press release, unless
   the heading addresses it to someone (``To the President ...``, ``Кому:``,
   ``Уважаемый ...``, ``Құрметті ...``): a statement addressed to named recipients and
   published is an open letter;
4. the voice of the text: a speaker's address (``ladies and gentlemen``, ``дамы и
   господа``, ``thank you for coming``) means a speech; the signatories' demands (``we
   call on``, ``we urge``, ``мы требуем``, ``призываем``, ``талап етеміз``) a petition
   — 0.6.

Within a cue class the title line comes first, then the earliest line. On one line the
more specific cue wins (``Open Appeal`` is an open letter, not a petition). Words that
are too ambiguous in running text are heading-only: *appeal* (a court appeal),
*обращение* (``обращение с задержанными``), *speech* and *remarks* (reported speech),
*statement* (``a statement by the ministry``). Cue words are matched in English,
Russian, Kazakh and French.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from archiver.draft.evidence import Evidence
from archiver.draft.text import Document, Line, is_paragraph
from archiver.metadata.rights import genre_terms

OPEN_LETTERS = "Open letters"
PETITIONS = "Petitions"
PRESS_RELEASES = "Press releases"
SPEECHES = "Speeches"
GENRES: tuple[str, ...] = (OPEN_LETTERS, PETITIONS, PRESS_RELEASES, SPEECHES)

HEADING_MAX_WORDS = 8  # a short line inside the text still counts as a heading

# cue classes, strongest first, with their confidences
TITLE_FORM, HEADING_FORM, PHRASE, GENERIC, VOICE = range(5)
CONFIDENCE: dict[int, float] = {
    TITLE_FORM: 0.9,
    HEADING_FORM: 0.85,
    PHRASE: 0.8,
    GENERIC: 0.75,
    VOICE: 0.6,
}


@dataclass(frozen=True)
class Cue:
    """A pattern that names a genre; ``anywhere`` cues also count in running text."""

    genre: str
    pattern: re.Pattern[str]
    label: str
    anywhere: bool = False


def _cue(genre: str, label: str, pattern: str, anywhere: bool = False) -> Cue:
    return Cue(genre, re.compile(pattern, re.IGNORECASE), label, anywhere)


# Form words, in the order they are tried on a line (the specific before the general).
FORM_CUES: tuple[Cue, ...] = (
    _cue(OPEN_LETTERS, "open letter", r"\bopen letters?\b", anywhere=True),
    _cue(OPEN_LETTERS, "открытое письмо", r"\bоткрыт\w*\s+письм\w*", anywhere=True),
    _cue(OPEN_LETTERS, "ашық хат", r"\bашық\s+хат\w*", anywhere=True),
    _cue(OPEN_LETTERS, "lettre ouverte", r"\blettres?\s+ouvertes?\b", anywhere=True),
    _cue(OPEN_LETTERS, "open appeal", r"\bopen\s+(?:appeal|address)\b"),
    _cue(OPEN_LETTERS, "открытое обращение", r"\bоткрыт\w*\s+обращени\w*"),
    _cue(OPEN_LETTERS, "ашық үндеу", r"\bашық\s+үндеу\w*"),
    _cue(OPEN_LETTERS, "appel ouvert", r"\bappel\s+ouvert\b"),
    _cue(PRESS_RELEASES, "press release", r"\bpress\s+releases?\b"),
    _cue(PRESS_RELEASES, "for immediate release", r"\bfor immediate release\b", anywhere=True),
    _cue(PRESS_RELEASES, "news release", r"\b(?:news|media)\s+releases?\b"),
    _cue(PRESS_RELEASES, "пресс-релиз", r"\bпресс-релиз\w*"),
    _cue(
        PRESS_RELEASES,
        "заявление для прессы",
        r"\bзаявлени\w*\s+для\s+(?:прессы|сми|печати|средств массовой информации)",
        anywhere=True,
    ),
    _cue(PRESS_RELEASES, "баспасөз релизі", r"\bбаспасөз\s+релиз\w*"),
    _cue(PRESS_RELEASES, "communiqué de presse", r"\bcommuniqués?\s+de\s+presse\b"),
    _cue(
        PRESS_RELEASES,
        "press statement",
        r"\b(?:press|media)\s+statements?\b|\bstatements?\s+to\s+the\s+(?:press|media)\b",
    ),
    _cue(PETITIONS, "petition", r"\bpetitions?\b|\bпетици\w*|\bpétitions?\b"),
    _cue(PETITIONS, "this petition", r"\b(?:this|our|the following)\s+petition\b", anywhere=True),
    _cue(PETITIONS, "appeal", r"\bappeals?\b"),
    _cue(PETITIONS, "обращение", r"\bобращени\w*|\bвоззвани\w*"),
    _cue(
        PETITIONS,
        "настоящее обращение",
        r"\b(?:настоящ|наш|данн)\w*\s+обращени\w*",
        anywhere=True,
    ),
    _cue(PETITIONS, "үндеу", r"\bүндеу\w*"),
    _cue(PETITIONS, "appel", r"\bappel\b"),
    _cue(
        OPEN_LETTERS,
        "letter",
        r"^letters?\b|\bletters?\s+(?:to|from)\b|\bписьм\w*|\bхат(?:ы|тары)?\b|\blettres?\b",
    ),
    _cue(
        SPEECHES,
        "remarks",
        r"\b(?:remarks|speech|keynote address|address by|opening statement|closing statement)\b",
    ),
    _cue(
        SPEECHES,
        "выступление",
        r"\bвыступлени\w*|\bвступительн\w*\s+слов\w*|\bприветственн\w*\s+слов\w*|\bречь\b",
    ),
    _cue(
        SPEECHES,
        "сөз",
        r"\bсөйлеген\s+сөз\w*|\bкіріспе\s+сөз\w*|\bқұттықтау\s+сөз\w*|\bсөз\s+сөйле\w*",
    ),
    _cue(SPEECHES, "discours", r"\bdiscours\b|\ballocution\b|\bremarques liminaires\b"),
)

# The generic "statement": a press release, or an open letter when it is addressed.
GENERIC_CUE = _cue(
    PRESS_RELEASES,
    "statement",
    r"\bstatements?\b|\bзаявлени\w*|\bмәлімдеме\w*|\bdéclarations?\b|\bcommuniqués?\b|"
    r"^newsroom$",
)

VOICE_CUES: tuple[Cue, ...] = (
    _cue(
        SPEECHES,
        "ladies and gentlemen",
        r"\bladies and gentlemen\b|\bдамы и господа\b|\bханымдар\s+мен\s+мырзалар\b|"
        r"\bmesdames et messieurs\b|\bthank you for coming\b|\bблагодарю вас за внимание\b|"
        r"\bthank you for your attention\b|\bназарларыңызға рахмет\b",
        anywhere=True,
    ),
    _cue(
        PETITIONS,
        "we call on",
        r"\bwe\b(?:,[^.,]{1,60},)?\s+(?:\w+\s+)?(?:demand|urge|call\s+(?:on|upon|for)|appeal\s+to|"
        r"petition)\b|\bмы\s+(?:\w+\s+)?(?:требуем|призываем|просим)\b|\bтребуем\b|"
        r"\bпризываем\b|\bталап\s+етеміз\b|\bшақырамыз\b|\bсұраймыз\b|"
        r"\bnous\s+(?:demandons|exhortons|appelons)\b",
        anywhere=True,
    ),
)

# A heading that addresses the text to someone (as in title.py, plus Russian datives).
_ADDRESS_RE = re.compile(
    r"^(?:to\b|to:|dear\b|кому\b|уважаем\w*|құрметті\b|monsieur\b|madame\b|"
    r"à l[’']attention|his excellency|her excellency|в адрес\b|президенту\b|"
    r"премьер-министру\b|генеральному прокурору\b|председателю\b|министру\b|"
    r"\S*президентіне\b)",
    re.IGNORECASE,
)


@cache
def genre_uris() -> dict[str, str]:
    """Genre label -> its URI, from the package's ``genres.json``."""
    return {term.label: uri for uri, term in genre_terms().items()}


def _is_heading(document: Document, line: Line, title_line: int | None) -> bool:
    if line.number == title_line or line.number < document.body_start:
        return True
    return (
        line.number < document.body_end
        and len(line.words) <= HEADING_MAX_WORDS
        and not is_paragraph(line.text)
    )


def _addressee(document: Document) -> Line | None:
    for line in document.lines:
        if line.number >= document.body_start:
            break
        if line.text and _ADDRESS_RE.match(line.text):
            return line
    return None


def _first(cues: tuple[Cue, ...], text: str, heading: bool) -> tuple[Cue, str] | None:
    """The first of ``cues`` found in ``text`` (heading-only cues only in a heading)."""
    for cue in cues:
        if heading or cue.anywhere:
            match = cue.pattern.search(text)
            if match:
                return cue, match.group(0)
    return None


def draft_genre(document: Document, title_line: int | None = None) -> list[Evidence]:
    """The genre of ``document`` as one evidence (an LCGFT URI), or none without a cue."""
    found: list[tuple[int, int, Cue, Line, str]] = []  # (class, order, cue, line, words)
    for line in document.content():
        heading = _is_heading(document, line, title_line)
        # the title line first, then the lines in order
        order = -1 if line.number == title_line else line.number
        hit = _first(FORM_CUES, line.text, heading)
        if hit is not None:
            kind = PHRASE
            if heading:
                kind = TITLE_FORM if line.number == title_line else HEADING_FORM
            found.append((kind, order, hit[0], line, hit[1]))
            continue
        if heading and (generic := GENERIC_CUE.pattern.search(line.text)):
            found.append((GENERIC, order, GENERIC_CUE, line, generic.group(0)))
            continue
        hit = _first(VOICE_CUES, line.text, heading)
        if hit is not None:
            found.append((VOICE, order, hit[0], line, hit[1]))
    if not found:
        return []
    kind, _, cue, line, words = min(found, key=lambda item: (item[0], item[1]))
    genre = cue.genre
    if line.number == title_line:
        where = "in the title"
    else:
        where = "in a heading" if kind in (HEADING_FORM, GENERIC) else "in the text"
    note = f"{genre}: cue “{words}” {where}"
    if cue is GENERIC_CUE:
        addressee = _addressee(document)
        if addressee is not None:
            genre = OPEN_LETTERS
            note = (
                f"{genre}: a statement addressed to recipients "
                f"(line {addressee.number}: “{addressee.text}”)"
            )
        else:
            note = f"{genre}: a public statement (cue “{words}” {where})"
    uri = genre_uris().get(genre)
    if uri is None:  # genres.json no longer has the term: draft nothing rather than guess
        return []
    return [Evidence(uri, line.number, line.text, CONFIDENCE[kind], note)]
