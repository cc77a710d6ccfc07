"""One Drafter for all the draft tests (loading its models takes about a second)."""

from __future__ import annotations

import functools

from archiver.draft.engine import Drafter
from archiver.draft.text import Document, read_document


@functools.cache
def shared_drafter() -> Drafter:
    """The Drafter the tests share (built on first use)."""
    return Drafter()


def doc(*lines: str) -> Document:
    """A document made of ``lines``."""
    return read_document("\n".join(lines))


BODY = (
    "The authorities detained eleven workers who had gathered peacefully in front of the "
    "administration to ask for the wages owed to them since November."
)
