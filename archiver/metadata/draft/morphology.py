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

    def is_adjective(self, word: str) -> bool:
        """True if the most likely reading of ``word`` is an adjective."""
        parses = self._analyzer.parse(word)
        return bool(parses) and "ADJF" in parses[0].tag

    def nominative(self, phrase: str) -> str:
        """A Russian noun phrase in the nominative (``Алматинского совета`` -> ``... совет``)."""
        words = phrase.split()
        out: list[str] = []
        head_gender: str | None = None
        for word in reversed(words):
            if not is_cyrillic(word) or not word[:1].isalpha():
                out.append(word)
                continue
            parses = self._analyzer.parse(word)
            parse = parses[0]
            if head_gender is not None:
                # before the head noun, an adjective reading agrees with it (Атырауской)
                parse = next((p for p in parses if "ADJF" in p.tag), parse)
            if head_gender is None and "NOUN" in parse.tag:
                head_gender = parse.tag.gender
            form = None
            if "ADJF" in parse.tag and head_gender:
                form = parse.inflect({"nomn", "sing", head_gender})
            elif "NOUN" in parse.tag or "ADJF" in parse.tag:
                form = parse.inflect({"nomn"})
            new = form.word if form is not None else word.lower()
            out.append(new.capitalize() if word[:1].isupper() else new)
        return " ".join(reversed(out))
