"""Pure helpers for user data embedded in messages: clipped, on one line, no control codes.

File names, tag values and catalog cells are data, not text to trust: a message that
embeds one must stay one line of reasonable length (``clip``), show a value unambiguously
(``shown``), and never carry a terminal control sequence (``escape_controls``), so an
``ESC ] 0 ; ... BEL`` in a file name cannot retitle or clear the terminal that reads it.
Likewise a CSV cell archiver writes is never a formula a spreadsheet runs
(``spreadsheet_cell``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_VALUE = 80  # characters of one embedded value
MAX_LINE = 600  # characters of one error line

ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BREAK = re.compile(r"[\r\n]+")


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1, line/paragraph separators)
    written as a visible ``\\xNN`` / ``\\uNNNN`` escape."""
    if text.isprintable():
        return text
    return _CONTROL.sub(_escape_one, text)


def clip(text: str, limit: int = MAX_VALUE) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when it was longer."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def shown(value: object, limit: int = MAX_VALUE) -> str:
    """A value for a message: its repr (quotes, escapes) clipped to ``limit`` characters."""
    return clip(repr(value), limit)


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """A message as one line: breaks folded to ' / ', controls escaped, clipped."""
    return clip(escape_controls(_BREAK.sub(" / ", text.strip())), limit)


MAX_DIGITS = 19  # 10**19 - 1 bytes is far beyond any disk; int() of more is refused work


def parse_natural(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """A non-negative decimal integer written in ASCII digits only (at most ``max_digits``,
    no sign, no spaces, no '_'); None for anything else.

    The one parser for numbers read from files (Payload-Oxum, BagIt-Version, fetch.txt
    lengths, SOURCE_DATE_EPOCH): ``str.isdigit`` accepts '١' and '²', and ``int()`` of
    thousands of digits raises (Python 3.11+ limits) or costs quadratic time.
    """
    if not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def unexpected_error_line(command: str, inputs: Sequence[str], exc: BaseException) -> str:
    """The one line printed for an unexpected exception: command, input, what happened."""
    given = ", ".join(clip(i, 120) for i in inputs) or "(no input named)"
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return one_line(
        f"archiver: error: {command} {clip(given, 300)}: unexpected {clip(what, 200)} "
        "(exit 2; run with --debug for the traceback)"
    )


# What a spreadsheet evaluates (OWASP "CSV injection"): a cell beginning with one of these.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """``value`` as a CSV cell no spreadsheet evaluates: one beginning with ``=``, ``+``,
    ``-``, ``@``, a tab or a CR gets a leading ``'`` (shown as text, not run as a formula).

    The one function for every CSV archiver writes. No exceptions for harmless-looking
    values: ``-2`` or an EDTF year ``-0100`` gets the ``'`` too, since ``-2+3+cmd|...``
    looks as harmless to a number test; the ``'`` is the cost of a cell that is never run.
    """
    return "'" + value if value.startswith(FORMULA_START) else value
