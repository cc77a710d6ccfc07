"""Scoring drafts against expected catalog rows (the evaluation in bench/draft.py and the tests).

Per statement and field, a score from 0 to 1:

- ``dc.title``: 1 if the normalized titles are equal (case, punctuation and spacing
  ignored), else the token-level F1 of the two titles if it is at least 0.8, else 0;
- ``dc.date``: 1 if equal, 0 otherwise (``2011-12`` is not ``2011-12-20``);
- ``dcterms.type`` (the genre): 1 if the drafted URI is exactly the expected one, 0
  otherwise (no normalization: ``.../label/Open%20letters`` is the URI, not a label);
- ``dc.creator``, ``dcterms.spatial``, ``dc.language``: F1 of the drafted and expected
  lists. Creators match when normalized equal (case, punctuation, quotes and a leading
  article ignored); places match when they can name the same place in the gazetteer
  (``Khorog`` = ``Khorugh``) or are equal once ``oblast``/``region`` are dropped;
  languages match on the code.
- both empty counts 1; one empty, 0.

The mean of a field is over statements; the overall mean is over the five fields
(title, date, creator, spatial, language: :data:`SCORED_FIELDS`). Place precision is
reported separately (micro-averaged over all statements).

The genre is scored only where the expected row has a genre (:data:`GENRE_FIELDS`,
:func:`score_row` with ``terms=ALL_SCORED_FIELDS``): the rows of
``tests/data/draft_eval/expected.json`` carry no ``dcterms.type``, and an unlabelled row
says nothing about the genre, so counting it as "expected none" would mark every
correctly drafted genre wrong. It is therefore not in the five-field mean; the seeds of
``sources/metadata.csv`` have it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from archiver.draft.gazetteer import Gazetteer, fold

SCORED_FIELDS: tuple[str, ...] = (
    "dc.title",
    "dc.date",
    "dc.creator",
    "dcterms.spatial",
    "dc.language",
)
# Scored by exact URI, only for rows that state them (not part of the five-field mean).
GENRE_FIELDS: tuple[str, ...] = ("dcterms.type",)
ALL_SCORED_FIELDS: tuple[str, ...] = (*SCORED_FIELDS, *GENRE_FIELDS)


def _norm(text: str) -> str:
    text = fold(text)
    text = re.sub(r"^(?:the|l'|le|la)\s*", "", text)
    return re.sub(r"[\W_]+", " ", text).strip()


def _tokens_f1(left: str, right: str) -> float:
    a, b = _norm(left).split(), _norm(right).split()
    if not a or not b:
        return 0.0
    common = sum(min(a.count(t), b.count(t)) for t in set(a))
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def _place_key(name: str) -> str:
    return re.sub(r"\b(?:oblast|region|province)\b", "", _norm(name)).strip()


@dataclass(frozen=True)
class ListScore:
    """Matches, drafted and expected counts of a list field."""

    matched: int
    drafted: int
    expected: int

    @property
    def f1(self) -> float:
        """F1 (1.0 when both lists are empty)."""
        if self.drafted == 0 and self.expected == 0:
            return 1.0
        if self.matched == 0:
            return 0.0
        precision, recall = self.matched / self.drafted, self.matched / self.expected
        return 2 * precision * recall / (precision + recall)


def match_lists(
    drafted: Sequence[str], expected: Sequence[str], same: Callable[[str, str], bool]
) -> ListScore:
    """Greedy one-to-one matching of two lists."""
    left = list(expected)
    matched = 0
    for value in drafted:
        for index, want in enumerate(left):
            if same(value, want):
                matched += 1
                del left[index]
                break
    return ListScore(matched, len(drafted), len(expected))


def score_field(
    term: str, drafted: Sequence[str], expected: Sequence[str], gazetteer: Gazetteer | None = None
) -> tuple[float, ListScore | None]:
    """The score of one field (and, for lists, the match counts)."""
    if term == "dc.title":
        if not drafted or not expected:
            return float(not drafted and not expected), None
        if _norm(drafted[0]) == _norm(expected[0]):
            return 1.0, None
        f1 = _tokens_f1(drafted[0], expected[0])
        return (f1 if f1 >= 0.8 else 0.0), None
    if term == "dc.date":
        return float(list(drafted[:1]) == list(expected[:1])), None
    if term == "dcterms.type":
        return float(list(drafted[:1]) == list(expected[:1])), None
    if term == "dcterms.spatial":

        def same(a: str, b: str) -> bool:
            if _place_key(a) == _place_key(b):
                return True
            return gazetteer is not None and gazetteer.same_place(a, b)

        counts = match_lists(drafted, expected, same)
    elif term == "dc.language":
        counts = match_lists(drafted, expected, lambda a, b: a == b)
    else:
        counts = match_lists(drafted, expected, lambda a, b: _norm(a) == _norm(b))
    return counts.f1, counts


def score_row(
    drafted: Mapping[str, Sequence[str]],
    expected: Mapping[str, Sequence[str]],
    gazetteer: Gazetteer | None = None,
    terms: Sequence[str] = SCORED_FIELDS,
) -> dict[str, tuple[float, ListScore | None]]:
    """Scores of the fields ``terms`` (by default the five of the mean) for one statement.

    A term of :data:`GENRE_FIELDS` is scored only if ``expected`` has it (an unlabelled
    row is not a row that expects no genre).
    """
    return {
        term: score_field(term, drafted.get(term, []), expected.get(term, []), gazetteer)
        for term in terms
        if term not in GENRE_FIELDS or term in expected
    }
