"""archiver.model.text: clipped one-line messages, escaped control characters, bounded integers."""

from __future__ import annotations

import pytest

from archiver.model.text import (
    ELLIPSIS,
    MAX_DIGITS,
    clip,
    escape_controls,
    one_line,
    parse_natural,
    shown,
    spreadsheet_cell,
)


def test_clip_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert clip("short", 10) == "short"
    cut = clip("x" * 5000, 80)
    assert len(cut) == 80
    assert cut.endswith(ELLIPSIS)


def test_shown_is_a_clipped_repr() -> None:
    assert shown("a\x1bb") == "'a\\x1bb'"
    assert len(shown("9" * 5000)) == 80


def test_escape_controls_makes_terminal_sequences_visible() -> None:
    hostile = "name\x1b]0;pwned\x07\x1b[2J\x9b\u2028.txt"
    escaped = escape_controls(hostile)
    assert escaped == "name\\x1b]0;pwned\\x07\\x1b[2J\\x9b\\u2028.txt"
    assert escaped.isprintable()
    assert escape_controls("plain é ü 日本") == "plain é ü 日本"


def test_one_line_folds_breaks_and_bounds_length() -> None:
    line = one_line("first\nsecond\r\nthird " + "y" * 20000)
    assert "\n" not in line and "\r" not in line
    assert line.startswith("first / second / third")
    assert len(line) <= 600


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("42", 42), ("9" * MAX_DIGITS, int("9" * MAX_DIGITS))],
)
def test_parse_natural_accepts_ascii_digits(text: str, value: int) -> None:
    assert parse_natural(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "9" * 5000,  # int() raises ValueError on 3.11+ (digit limit)
        "9" * (MAX_DIGITS + 1),
        "\u0661\u0662",  # Arabic-Indic digits: str.isdigit() says yes
        "\u00b2",  # superscript two: isdigit() yes, int() raises
        "-1",
        "+1",
        " 1",
        "1_000",
        "1.5",
    ],
)
def test_parse_natural_refuses_everything_else(text: str) -> None:
    assert parse_natural(text) is None


@pytest.mark.parametrize(
    "value",
    ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+cmd|' /C notepad'!A0", "-2+3", "\t=1", "\r=1", "-0100"],
)
def test_spreadsheet_cell_quotes_what_a_spreadsheet_would_evaluate(value: str) -> None:
    assert spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["", "Amnesty International", "2019-03-14", " =1", "'=1", "1-2"])
def test_spreadsheet_cell_keeps_other_values(value: str) -> None:
    assert spreadsheet_cell(value) == value
