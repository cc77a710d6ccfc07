"""Word forms: Russian lemmas and name tags (pymorphy3 with its OpenCorpora dictionaries)
and the case endings of Kazakh place names (no Kazakh analyzer is on PyPI; the endings
are few and regular)."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pymorphy3

# Kazakh case and derivation endings that follow a place name, longest first:
# locative + -ғы/-гі (Жаңаөзендегі), locative, dative, genitive, ablative, accusative.
_KAZAKH_ENDINGS: tuple[str, ...] = tuple(
    sorted(
        (
            "дағы дегі тағы тегі ндағы ндегі ның нің дың дің тың тің нан нен дан ден тан тен "
            "ға ге қа ке на не да де та те ны ні ды ді ты ті мен бен пен лық лік дық дік "
            "тық тік қы"
        ).split(),
        key=len,
        reverse=True,
    )
)
_CYRILLIC_RE = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")


def is_cyrillic(word: str) -> bool:
    """True if the word has Cyrillic letters."""
    return bool(_CYRILLIC_RE.search(word))


def kazakh_stems(word: str) -> list[str]:
    """``word`` without one or two Kazakh case endings (Қарағандыдағы -> Қарағанды)."""
    stems: list[str] = []
    lower = word.lower()
    frontier = [lower]
    for _ in range(2):
        following: list[str] = []
        for form in frontier:
            for ending in _KAZAKH_ENDINGS:
                if form.endswith(ending) and len(form) - len(ending) >= 3:
                    stem = form[: -len(ending)]
                    if stem not in stems:
                        stems.append(stem)
                        following.append(stem)
        frontier = following
    return stems


class Morphology:
    """Russian analysis with pymorphy3 (loaded once; about 15 MB of dictionaries)."""

    def __init__(self) -> None:
        import pymorphy3

        self._analyzer: pymorphy3.MorphAnalyzer = pymorphy3.MorphAnalyzer()
        self.lemmas = functools.lru_cache(maxsize=20000)(self._lemmas)
        self.name_tags = functools.lru_cache(maxsize=20000)(self._name_tags)

    def _lemmas(self, word: str) -> tuple[str, ...]:
        """Normal forms of a Russian word (most likely first)."""
        out: list[str] = []
        for parse in self._analyzer.parse(word)[:3]:
            if parse.normal_form not in out:
                out.append(parse.normal_form)
        return tuple(out)

    def _name_tags(self, word: str) -> frozenset[str]:
        """The name tags (``Name``, ``Surn``, ``Patr``, ``Geox``, ``Orgn``) of a word."""
        tags: set[str] = set()
        for parse in self._analyzer.parse(word)[:3]:
            if parse.score < 0.1:
                continue
            for tag in ("Name", "Surn", "Patr", "Geox", "Orgn"):
                if tag in parse.tag:
                    tags.add(tag)
        return frozenset(tags)

    def is_genitive(self, word: str) -> bool:
        """True if the most likely reading of a Russian word is a genitive (``Казахстана``)."""
        parses = self._analyzer.parse(word)
        return bool(parses) and "gent" in parses[0].tag

    def is_adjective(self, word: str) -> bool:
        """True if the most likely reading of ``word`` is an adjective."""
        parses = self._analyzer.parse(word)
        return bool(parses) and "ADJF" in parses[0].tag

    def nominative(self, phrase: str) -> str:
        """A Russian noun phrase in the nominative (``Алматинского совета`` -> ``... совет``).

        Only the leading adjectives and the head noun change; what follows the head (a
        genitive, a prepositional phrase: ``Коалиции НКО Казахстана``) stays as written.
        """
        words = phrase.split()
        head = None
        for index, word in enumerate(words):
            parses = self._analyzer.parse(word)[:3] if is_cyrillic(word) else []
            if not parses:
                continue
            last = index == len(words) - 1
            if not last and any("ADJF" in p.tag for p in parses):
                continue  # an adjective before its noun (Атырауской области)
            if "NOUN" in parses[0].tag:
                head = index
                break
        if head is None:
            return phrase
        noun = self._analyzer.parse(words[head])[0]
        gender, number = noun.tag.gender, noun.tag.number or "sing"
        out = list(words)
        form = noun.inflect({"nomn", number})
        if form is not None:
            out[head] = _same_case(words[head], form.word)
        for index in range(head):
            parses = self._analyzer.parse(words[index])
            adjective = next((p for p in parses if "ADJF" in p.tag), None)
            if adjective is None:
                continue
            wanted = {"nomn", number} | ({gender} if gender and number == "sing" else set())
            inflected = adjective.inflect(wanted)
            if inflected is not None:
                out[index] = _same_case(words[index], inflected.word)
        return " ".join(out)


def _same_case(original: str, word: str) -> str:
    """``word`` capitalized like ``original``."""
    if original.isupper() and len(original) > 1:
        return word.upper()
    old_parts, new_parts = original.split("-"), word.split("-")
    if len(old_parts) == len(new_parts):
        return "-".join(
            n[:1].upper() + n[1:] if o[:1].isupper() else n
            for o, n in zip(old_parts, new_parts, strict=True)
        )
    return word[:1].upper() + word[1:] if original[:1].isupper() else word
