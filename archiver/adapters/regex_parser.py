"""CPython's regular-expression parser (private): the literal a pattern must begin with.

Touches ``re._parser.parse`` and the opcode constants of ``re._constants`` (``AT``,
``AT_BEGINNING``, ``AT_BEGINNING_STRING``, ``LITERAL``), private modules of the standard
library (called ``sre_parse``/``sre_constants`` before 3.11, kept as deprecated aliases).
Checked with CPython 3.11.7, 3.12.1 and 3.13.0; ``tests/test_regex_parser.py`` checks their
shape. If they change, :func:`leading_literal` answers None ("cannot tell"), which only
costs speed where it is used, never correctness.
"""

from __future__ import annotations

import re
from typing import Any


def leading_literal(regex: re.Pattern[bytes]) -> int | None:
    """The byte a match of ``regex`` (anchored at the start) must begin with, if the
    pattern fixes one: after optional ``\\A``/``^``, a case-sensitive literal byte; else
    None."""
    if regex.flags & re.IGNORECASE:
        return None
    try:
        from re import _constants as constants  # type: ignore[attr-defined]
        from re import _parser as parser  # type: ignore[attr-defined]

        items: list[tuple[Any, Any]] = list(parser.parse(regex.pattern, regex.flags))
    except (ImportError, AttributeError, re.error):
        return None
    starts = (constants.AT_BEGINNING, constants.AT_BEGINNING_STRING)
    while items and items[0][0] is constants.AT and items[0][1] in starts:
        items.pop(0)
    if items and items[0][0] is constants.LITERAL:
        first: int = items[0][1]
        return first
    return None
