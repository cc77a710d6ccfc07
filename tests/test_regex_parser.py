"""archiver.adapters.regex_parser: CPython's private regex parser still has the shape
the adapter reads, and the leading literal is found (or not) as documented."""

from __future__ import annotations

import re

import pytest

from archiver.adapters.regex_parser import leading_literal


def test_private_parser_has_the_expected_shape() -> None:
    from re import _constants as constants  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]

    items = list(parser.parse(rb"\AAB", 0))
    assert items[0] == (constants.AT, constants.AT_BEGINNING_STRING)
    assert items[1] == (constants.LITERAL, ord("A"))
    assert list(parser.parse(rb"^x", 0))[0] == (constants.AT, constants.AT_BEGINNING)


@pytest.mark.parametrize(
    ("pattern", "flags", "first"),
    [
        (rb"\A%PDF-1\.4", 0, ord("%")),
        (rb"^GIF8[79]a", 0, ord("G")),
        (rb"(?s)\A\x89PNG", 0, 0x89),
        (rb"PK\x03\x04", 0, ord("P")),
        (rb"\A[ab]c", 0, None),  # a class, not a literal
        (rb"\A(?:x|y)", 0, None),
        (rb"\A.{4}ftyp", 0, None),
        (rb"\Ax", re.IGNORECASE, None),  # 'x' or 'X'
        (rb"", 0, None),
    ],
)
def test_leading_literal(pattern: bytes, flags: int, first: int | None) -> None:
    assert leading_literal(re.compile(pattern, flags)) == first
