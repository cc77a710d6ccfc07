"""Web-capture clutter and the body of a statement (archiver.draft.text)."""

from __future__ import annotations

import pytest
from draft_helpers import BODY, doc

from archiver.draft.text import is_clutter, read_document


@pytest.mark.parametrize(
    "line",
    [
        "Skip to main content",
        "Share this:",
        "Facebook Twitter Telegram WhatsApp",
        "Leave a comment",
        "© 2019 Steppe Rights Monitor. All rights reserved.",
        "Поделиться: ВКонтакте Facebook Telegram",
        "Бөлісу: Facebook Telegram WhatsApp",
        "Partager : Facebook Twitter LinkedIn Imprimer",
        "English | Русский | Қазақша",
        "RU | KZ | EN",
        "If you find an error on our site, please select the text and press ctrl-enter.",
        "Барлық құқықтар қорғалған",
    ],
)
def test_clutter_lines(line: str) -> None:
    assert is_clutter(line)


@pytest.mark.parametrize(
    "line",
    [
        "Joint statement on the detention of oil workers in Aktau",
        "Almaty, 14 March 2019",
        "Steppe Rights Monitor",
        BODY,
    ],
)
def test_statement_lines_are_not_clutter(line: str) -> None:
    assert not is_clutter(line)


def test_menu_runs_and_breadcrumbs_before_the_body_are_clutter() -> None:
    document = doc(
        "Главная",
        "Новости",
        "Контакты",
        "",
        "Home › Statements › Joint statement on the detention of workers",
        "",
        "Joint statement on the detention of workers",
        "",
        BODY,
    )
    marked = {line.number for line in document.lines if line.boilerplate and line.text}
    assert marked == {1, 2, 3, 5}
    assert [line.number for line in document.header()] == [7]
    assert document.body_start == 9


def test_a_long_heading_without_full_stop_is_not_body() -> None:
    heading = "Opening remarks by the High Commissioner at a press conference during her visit"
    document = doc(heading, "", BODY)
    assert document.body_start == 3
    assert not document.is_body(document.line(1))


def test_empty_text_has_no_body() -> None:
    document = read_document("")
    assert document.content() == []
    assert document.body() == []


def test_bullets_are_removed_and_line_numbers_kept() -> None:
    document = read_document("• Home\r\n  • Title of the statement here\r\n")
    assert document.line(2).text == "Title of the statement here"
    assert document.line(1).boilerplate


def test_menus_spaced_with_runs_of_spaces_and_language_lists() -> None:
    document = read_document(
        "НОВОСТИ   АНАЛИТИКА   ДОКУМЕНТЫ   О НАС\n"
        "Languages: العربية 中文 English Français Русский Español\n"
        "Media contacts: press office, Geneva\n"
        "Statement on the events   of the week\n"
    )
    assert [line.boilerplate for line in document.lines[:4]] == [True, True, True, False]
