"""Dates in many forms and languages, and the statement's own date."""

from __future__ import annotations

import pytest
from draft_helpers import BODY, doc

from archiver.draft.dates import draft_date, find_dates, month_number
from archiver.draft.text import Line


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("20.12.2011", "2011-12-20"),
        ("2011-12-20", "2011-12-20"),
        ("12 juillet 2012", "2012-07-12"),
        ("January 10, 2022", "2022-01-10"),
        ("5th March 2020", "2020-03-05"),
        ("20 декабря 2011 г.", "2011-12-20"),
        ("10 декабря 2020 года", "2020-12-10"),
        ("2021 жылғы 16 желтоқсан", "2021-12-16"),
        ("11 қараша 2021", "2021-11-11"),
        ("16 грудня 2011 року", "2011-12-16"),
        ("1er juillet 2022", "2022-07-01"),
        ("December 2011", "2011-12"),
        ("Март 2020 года", "2020-03"),
        ("июнь 2019 г.", "2019-06"),
        ("в декабре 2019 года", "2019-12"),
    ],
)
def test_forms(text: str, iso: str) -> None:
    assert [d.iso for d in find_dates(Line(1, text, False))] == [iso]


@pytest.mark.parametrize(
    "text", ["31.02.2011", "articles 12 – 15", "call +7 701 21 00 500", "in 2011", "Ctrl 2020"]
)
def test_not_dates(text: str) -> None:
    assert find_dates(Line(1, text, False)) == []


def test_month_names() -> None:
    assert month_number("Желтоқсанында") == 12
    assert month_number("août") == 8
    assert month_number("Statement") is None


def test_publication_label_wins_over_event_dates() -> None:
    document = doc(
        "A statement",
        "Publication date: January 10, 2022",
        "On January 5, 2022, clashes broke out between the police and the protesters "
        "in the city, and many were detained.",
    )
    [found] = draft_date(document)
    assert (found.value, found.line) == ("2022-01-10", 2)
    assert "label" in found.note


@pytest.mark.parametrize(
    "dateline",
    ["Almaty, 14 March 2019", "GENEVA (20 May 2022) – The expert said that the detained were"],
)
def test_dateline(dateline: str) -> None:
    document = doc("Title of the statement", dateline, BODY)
    [found] = draft_date(document)
    assert found.line == 2
    assert found.value in {"2019-03-14", "2022-05-20"}


def test_dateline_at_the_start_of_the_first_paragraph() -> None:
    document = doc(
        "Titre du communiqué",
        "Paris, le 25 octobre 2022 – Les organisations condamnent l'arrestation, le 23 "
        "octobre 2022, de vingt-deux militants et journalistes.",
    )
    assert [e.value for e in draft_date(document)] == ["2022-10-25"]


def test_date_alone_after_the_text_month_only_is_flagged() -> None:
    document = doc("Title", BODY, "", "Март 2020 года", "", "Фонд «Свободный Кавказ»")
    [found] = draft_date(document)
    assert found.value == "2020-03"
    assert "approximate" in found.note


def test_only_event_dates_give_the_month_flagged_approximate() -> None:
    document = doc(
        "Open letter to the Government",
        "We write about the demolition of forty houses, which began on 3 April 2023 "
        "without court decisions and without any offer of housing.",
        "Earlier, on 14 March 2023, the residents had written to the mayor about the plan.",
    )
    [found] = draft_date(document)
    assert found.value == "2023-04"
    assert "approximate" in found.note and found.confidence < 0.5


def test_no_date() -> None:
    assert draft_date(doc("Title", BODY)) == []
