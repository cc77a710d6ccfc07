"""The heading of a statement (archiver.draft.title)."""

from __future__ import annotations

from draft_helpers import BODY, doc

from archiver.draft.text import Line
from archiver.draft.title import draft_title, strip_dateline


def _title(*lines: str, languages: dict[int, str] | None = None, main: str = "en") -> list[str]:
    return [e.value for e in draft_title(doc(*lines), languages or {}, main)]


def test_heading_not_menu_or_section_label() -> None:
    assert _title(
        "Menu",
        "Who we are",
        "News",
        "Statements",
        "",
        "Statement on the closure of the newspaper",
        "",
        "Published: 2 February 2015",
        BODY,
    ) == ["Statement on the closure of the newspaper"]


def test_repeated_heading_wins_over_an_earlier_line() -> None:
    assert _title(
        "Site of the Steppe Rights Monitor organization",
        "Appeal on the detained workers",
        "Appeal on the detained workers",
        BODY,
    ) == ["Appeal on the detained workers"]


def test_addressee_and_date_lines_are_not_titles() -> None:
    assert _title(
        "To the President K.-J. Tokayev", "January 5, 2022", "Open letter on the events", BODY
    ) == ["Open letter on the events"]


def test_heading_in_another_language_loses() -> None:
    lines = (
        "Déclarations Haut-Commissariat aux droits de l'homme",
        "Opening remarks by the expert",
        BODY,
    )
    assert _title(*lines, languages={1: "fr", 2: "en"}) == ["Opening remarks by the expert"]


def test_dateline_is_cut_from_the_heading() -> None:
    text = "Remarks at a press conference during her mission to Kazakhstan Astana, 12 July 2012"
    line = Line(1, text, False)
    assert (
        strip_dateline(text, line)
        == "Remarks at a press conference during her mission to Kazakhstan"
    )
    two = "Remarks at the end of the visit to the region Nur Sultan, 12 July 2012"
    assert strip_dateline(two, Line(1, two, False), lambda name: name == "Nur Sultan") == (
        "Remarks at the end of the visit to the region"
    )


def test_no_heading() -> None:
    assert _title(BODY) == []
    assert _title("") == []
