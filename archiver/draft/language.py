"""The languages of a statement: the statement's own language first, a second only if a
real part of the statement (a paragraph, a heading) is written in it.

Detection is lingua's, restricted to the languages of the collection (all of lingua's
languages would cost 1.3 GB) and in low-accuracy mode (trigram models only), line by line;
lines of clutter (menus, language switchers) are not looked at.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from archiver.draft.evidence import Evidence
from archiver.draft.text import Document, Line

if TYPE_CHECKING:
    from lingua import LanguageDetector

# ISO 639-1 codes of the languages the detector chooses among.
LANGUAGES: tuple[str, ...] = ("en", "ru", "kk", "fr", "uk", "de", "es")
MIN_WORDS = 3  # lines with fewer words are too short to tell
DETECT_CHARS = 300  # the start of a long paragraph is enough to tell its language
SECOND_MIN_LETTERS = 40  # a second language needs this many letters in sure lines
SECOND_MIN_CONFIDENCE = 0.7  # lines guessed with less are not counted for a second language
CYRILLIC = frozenset({"ru", "uk", "kk"})
KAZAKH_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
UKRAINIAN_LETTERS = frozenset("їєґЇЄҐ")


# Function words: a line's own little words confirm or overrule the detector's guess
# (trigram models alone take "Statement by the UN Special Rapporteur" for French).
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to in on for is are by with from that this we our".split()),
    "fr": frozenset("le la les des du de et aux au un une est pour dans sur nous qui l d".split()),
    "de": frozenset("der die das und von zu mit den dem ist für auf wir".split()),
    "es": frozenset("el los las del y que por para con una es en".split()),
    "ru": frozenset("и в на с по о для не от к что мы это из".split()),
    "uk": frozenset("і й та у з на до що ми це для від".split()),
    "kk": frozenset("және мен бен пен үшін бұл біз осы мен де да".split()),
}


def stopword_language(text: str) -> str | None:
    """The language whose function words the line uses most (at least two), or None."""
    words = [w.strip("’'").lower() for w in re.split(r"[^\w’']+|['’]", text) if w]
    counts = {code: sum(1 for w in words if w in stop) for code, stop in STOPWORDS.items()}
    best = max(counts, key=lambda code: counts[code])
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] >= 2 and ranked[0] > ranked[1]:
        return best
    return None


class Detector(Protocol):
    """Guesses the language of a line: (ISO 639-1 code, confidence) or None."""

    def __call__(self, text: str) -> tuple[str, float] | None: ...


def lingua_detector() -> Detector:
    """A detector backed by lingua, restricted to :data:`LANGUAGES`, low-accuracy mode."""
    # lingua is imported here, not at module level: it is an optional extra.
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in LANGUAGES]
    # Models are loaded up front (about 30 MB) so that no later file pays for them.
    detector: LanguageDetector = (
        LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )

    def detect(text: str) -> tuple[str, float] | None:
        values = detector.compute_language_confidence_values(text)
        if not values:
            return None
        best = values[0]
        return best.language.iso_code_639_1.name.lower(), float(best.value)

    return detect


@dataclass(frozen=True)
class LineLanguage:
    """The language found for one line and the number of letters it counts for."""

    line: Line
    code: str
    confidence: float
    letters: int


def _script_hint(text: str) -> str | None:
    """Letters that only Kazakh (or only Ukrainian) uses among our languages."""
    if any(ch in KAZAKH_LETTERS for ch in text):
        return "kk"
    if any(ch in UKRAINIAN_LETTERS for ch in text):
        return "uk"
    return None


def line_languages(document: Document, detect: Detector) -> list[LineLanguage]:
    """The language of every content line long enough to tell."""
    found: list[LineLanguage] = []
    for line in document.content():
        words = line.words
        if len(words) < MIN_WORDS:
            continue
        guess = detect(line.text[:DETECT_CHARS])
        if guess is None:
            continue
        code, confidence = guess
        by_words = stopword_language(line.text)
        if by_words is not None and by_words != code:
            same_script = (by_words in CYRILLIC) == (code in CYRILLIC)
            if same_script:
                code, confidence = by_words, max(confidence, SECOND_MIN_CONFIDENCE)
        hint = _script_hint(line.text)
        if hint == "kk" and code in {"ru", "uk"}:
            kazakh_words = sum(1 for w in words if any(ch in KAZAKH_LETTERS for ch in w))
            if kazakh_words * 3 >= len(words):
                code = "kk"
        letters = sum(1 for ch in line.text if ch.isalpha())
        found.append(LineLanguage(line, code, confidence, letters))
    return found


def draft_languages(found: Sequence[LineLanguage], exclude: Collection[int] = ()) -> list[Evidence]:
    """``dc.language``: the main language, then any other language with a real share.

    ``found`` is :func:`line_languages`; lines in ``exclude`` (e.g. the signatories'
    names, which say nothing of the statement's language) are not counted.
    """
    found = [item for item in found if item.line.number not in exclude]
    if not found:
        return []
    totals: dict[str, int] = {}
    sure: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    for item in found:
        totals[item.code] = totals.get(item.code, 0) + item.letters
        if item.confidence >= SECOND_MIN_CONFIDENCE:
            sure[item.code] = sure.get(item.code, 0) + item.letters
        first_seen.setdefault(item.code, item.line.number)
    all_letters = sum(totals.values())
    ranked = sorted(totals, key=lambda c: (-totals[c], first_seen[c]))
    main = ranked[0]
    # Two languages of comparable weight (a bilingual statement): the first one leads.
    if len(ranked) > 1 and totals[ranked[1]] >= 0.8 * totals[main]:
        if first_seen[ranked[1]] < first_seen[main]:
            main = ranked[1]
    result = [_evidence(main, found, totals[main] / all_letters)]
    for code in ranked:
        if code == main:
            continue
        if sure.get(code, 0) >= SECOND_MIN_LETTERS:
            result.append(_evidence(code, found, totals[code] / all_letters))
    return result


def _evidence(code: str, found: Sequence[LineLanguage], share: float) -> Evidence:
    lines = [item for item in found if item.code == code]
    best = max(lines, key=lambda item: (item.letters, item.confidence))
    mean = sum(item.confidence for item in lines) / len(lines)
    confidence = min(0.99, 0.5 * mean + 0.5 * min(1.0, share * 2))
    return Evidence(code, best.line.number, best.line.text, confidence, f"{share:.0%} of the text")
