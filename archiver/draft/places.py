"""Places a statement is about (``dcterms.spatial``).

Names are matched against the gazetteer in their written form, as Russian lemmas
(``в Жанаозене``), without Kazakh case endings (``Жаңаөзендегі``), and as region phrases
(``Mangistau region``, ``Мангистауской области``, ``Маңғыстау облысында``). Not places of
the statement: place words inside organization names (``Almaty Helsinki Committee``,
``Ақтау құқық қорғау орталығы``, quoted names), the signatories' lines, the city of a
dateline, and the clutter. Places of a country the statement is not about, mentioned only
once, are left out.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from archiver.draft.evidence import Evidence
from archiver.draft.gazetteer import Gazetteer, Place
from archiver.draft.morphology import Morphology, is_cyrillic, kazakh_stems
from archiver.draft.text import Document, Line

ORG_WORDS = frozenset(
    """committee bureau union group foundation fund center centre council network coalition
    association institute university helsinki watch initiative monitor forum clinic office
    ministry commission platform alliance league society party movement federation
    observatory school project agency club trust chamber campaign syndicate bar
    комитет бюро союз фонд центр совет сеть коалиция ассоциация институт университет
    инициатива группа объединение движение партия лига организация клуб палата
    орталығы қоры бірлестігі комитеті одағы альянс альянсы кәсіподағы қоғамы ұйымы желісі
    қауымдастығы бюросы
    comité fondation centre conseil réseau institut observatoire ligue fédération""".split()
)
_REGION_WORD_RE = re.compile(
    r"\b(oblast|region|province|autonomous region|област\w*|облыс\w*|велаят\w*)\b",
    re.IGNORECASE,
)
_FRENCH_REGION_RE = re.compile(r"\brégion\s+(?:de\s+la\s+|du\s+|de\s+|d['’])([\w\-]+)", re.I)
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:[’'\-][^\W\d_]+)*")
_QUOTED_RE = re.compile(r"«[^»]{1,80}»|“[^”]{1,80}”|\"[^\"]{1,80}\"")
_CONNECTORS = frozenset("of for and the in on de des du la le pour et по и за для".split())


@dataclass
class _Mentions:
    place: Place
    lines: list[Line] = field(default_factory=list)
    in_title: bool = False
    in_body: bool = False


def _capitalized(word: str) -> bool:
    return word[:1].isupper()


def _in_organization(
    tokens: list[str], start: int, end: int, morphology: Morphology | None = None
) -> bool:
    """True if the name tokens[start:end] sit inside an organization's name.

    Latin script: the run of capitalized words after the name has a word such as
    Committee (``Almaty Helsinki Committee``; but ``Ministry of Justice of Tajikistan``
    names the country the statement is about). Cyrillic: such a word follows within three
    words (``Ақтау ... орталығы``), or, for a Russian genitive (``Фонд защиты СМИ
    Казахстана``), precedes within three.
    """
    cyrillic = is_cyrillic(tokens[start])
    after = tokens[end : end + 4]
    for word in after[:3] if cyrillic else after:
        if word.lower() in ORG_WORDS:
            return True
        if not cyrillic and not _capitalized(word) and word.lower() not in _CONNECTORS:
            break
    if cyrillic:
        if morphology is None or not morphology.is_genitive(tokens[end - 1]):
            return False
        for word in tokens[max(0, start - 3) : start]:
            if word.lower() in ORG_WORDS or any(
                lemma in ORG_WORDS for lemma in morphology.lemmas(word.lower())
            ):
                return True
    return False


class PlaceFinder:
    """Finds places in statements (gazetteer and Russian morphology loaded once)."""

    def __init__(self, gazetteer: Gazetteer, morphology: Morphology) -> None:
        self.gazetteer = gazetteer
        self.morphology = morphology

    def _forms(self, words: list[str]) -> list[str]:
        phrase = " ".join(words)
        forms = [phrase]
        last = words[-1]
        if last.endswith(("'s", "’s")):
            forms.append(" ".join([*words[:-1], last[:-2]]))
        if is_cyrillic(last):
            if len(words) > 1:  # Кыргызской Республики -> Кыргызская Республика
                forms.append(self.morphology.nominative(phrase))
            head = " ".join(words[:-1])
            for lemma in self.morphology.lemmas(last):
                forms.append(f"{head} {lemma}".strip())
            for stem in kazakh_stems(last):
                forms.append(f"{head} {stem}".strip())
        return forms

    def _lookup(self, words: list[str]) -> Place | None:
        for form in self._forms(words):
            place = self.gazetteer.best(form)
            if place is not None:
                return place
        return None

    def _part_of_person_name(self, tokens: list[str], start: int, end: int) -> bool:
        """True for a surname after a given name (``Дмитрий Шевченко``: not Aktau's old name)."""
        if end - start != 1 or not is_cyrillic(tokens[start]) or start == 0:
            return False
        before = tokens[start - 1]
        return _capitalized(before) and "Name" in self.morphology.name_tags(before)

    def _regions(self, text: str) -> list[tuple[int, int, Place]]:
        found: list[tuple[int, int, Place]] = []
        for match in _REGION_WORD_RE.finditer(text):
            before = _TOKEN_RE.findall(text[: match.start()])[-3:]
            for size in range(len(before), 0, -1):
                words = before[-size:]
                if not words or not _capitalized(words[0]):
                    continue
                place = self._region_phrase(words, match.group(1))
                if place is not None:
                    start = text.rfind(words[0], 0, match.start())
                    found.append((start, match.end(), place))
                    break
        for match in _FRENCH_REGION_RE.finditer(text):
            place = self.gazetteer.best(f"{match.group(1)} region")
            if place is not None:
                found.append((match.start(), match.end(), place))
        return found

    def _region_phrase(self, words: list[str], region_word: str) -> Place | None:
        phrase = " ".join(words)
        lower = region_word.lower()
        candidates = [f"{phrase} {lower}", f"{phrase} region", f"{phrase} oblast"]
        if lower.startswith("облыс"):
            candidates.append(f"{phrase} облысы")
        if lower.startswith("областн"):  # Западно-Казахстанский областной суд
            candidates.append(self.morphology.nominative(f"{phrase} области"))
        elif lower.startswith("област"):
            candidates.append(self.morphology.nominative(f"{phrase} {region_word}"))
        for candidate in candidates:
            place = self.gazetteer.best(candidate)
            if place is not None and place.kind == "region":
                return place
        return None

    def _names(self, text: str, lower_words: Collection[str]) -> list[tuple[int, int, Place]]:
        masked = _QUOTED_RE.sub(lambda m: " " * len(m.group(0)), text)
        spans = [(m.start(), m.end(), m.group(0)) for m in _TOKEN_RE.finditer(masked)]
        tokens = [s[2] for s in spans]
        found: list[tuple[int, int, Place]] = []
        index = 0
        while index < len(tokens):
            if not _capitalized(tokens[index]) or tokens[index].lower() in lower_words:
                index += 1
                continue
            hit = None
            for size in range(min(self.gazetteer.max_words, len(tokens) - index), 0, -1):
                words = tokens[index : index + size]
                if not all(_capitalized(w) or w.lower() in _CONNECTORS for w in words):
                    continue
                place = self._lookup(words)
                if place is not None:
                    hit = (size, place)
                    break
            if hit is None:
                index += 1
                continue
            size, place = hit
            if self._part_of_person_name(tokens, index, index + size):
                index += size
                continue
            if not _in_organization(tokens, index, index + size, self.morphology):
                found.append((spans[index][0], spans[index + size - 1][1], place))
            index += size
        return found

    def _dateline_place(self, line: Line, end: int, date_lines: Collection[int]) -> bool:
        """True if the place ends a dateline's ``City,`` just before the date."""
        if line.number not in date_lines:
            return False
        rest = line.text[end:]
        return bool(re.match(r"^\s*(?:—\s*[\w\-]+\s*)?(?:,|\()", rest)) and end <= 45

    def find(
        self,
        document: Document,
        title_line: int | None,
        skip_lines: Collection[int],
        date_lines: Collection[int],
    ) -> list[Evidence]:
        """``dcterms.spatial``: places of the statement, in order of first mention."""
        mentions: dict[tuple[str, str], _Mentions] = {}
        # words the text also writes in lower case are common words ("human rights")
        lower_words = {
            w for line in document.content() for w in _TOKEN_RE.findall(line.text) if w.islower()
        }
        for line in document.content():
            if line.number in skip_lines:
                continue
            hits = self._regions(line.text)
            covered = [(s, e) for s, e, _ in hits]
            for start, end, place in self._names(line.text, lower_words):
                if any(s <= start < e for s, e in covered):
                    continue
                if self._dateline_place(line, end, date_lines):
                    continue
                hits.append((start, end, place))
            for _, _, place in sorted(hits, key=lambda hit: hit[0]):
                entry = mentions.setdefault((place.name, place.kind), _Mentions(place))
                entry.lines.append(line)
                entry.in_title = entry.in_title or line.number == title_line
                entry.in_body = entry.in_body or document.is_body(line)
        return _select(list(mentions.values()))


def _select(mentions: list[_Mentions]) -> list[Evidence]:
    """Keep the places of the countries the statement is about, and any place named twice."""
    weight: dict[str, float] = {}
    for entry in mentions:
        country = entry.place.country
        weight[country] = (
            weight.get(country, 0.0) + len(entry.lines) + (2.0 if entry.in_title else 0.0)
        )
    if not weight:
        return []
    top = max(weight.values())
    focus = {c for c, w in weight.items() if w >= 0.5 * top}
    kept = [e for e in mentions if e.place.country in focus or len(e.lines) >= 2 or e.in_title]
    kept.sort(key=lambda e: (not e.in_title, e.lines[0].number))
    result = []
    for entry in kept:
        count = len(entry.lines)
        confidence = min(0.95, 0.45 + 0.1 * count + (0.15 if entry.in_title else 0.0))
        if entry.place.country not in focus:
            confidence -= 0.15
        first = entry.lines[0]
        note = f"{entry.place.kind}, named {count} time{'s' if count > 1 else ''}"
        result.append(Evidence(entry.place.name, first.number, first.text, confidence, note))
    return result
