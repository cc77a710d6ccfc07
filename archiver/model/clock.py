"""The build clock and ``SOURCE_DATE_EPOCH``: the one place that reads that variable.

``source_date_epoch`` parses it as the Reproducible Builds specification says (an ASCII
integer, seconds since 1970-01-01T00:00:00Z; surrounding whitespace is ignored, unset or
empty means "not set"). ``clock_from_environment`` turns it into the build clock; the
clocks are plain picklable objects so a worker started from a fork server can get one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from archiver.model.errors import ConfigError
from archiver.model.text import parse_natural, shown

VARIABLE = "SOURCE_DATE_EPOCH"


def source_date_epoch(environ: Mapping[str, str]) -> int | None:
    """``SOURCE_DATE_EPOCH`` as whole seconds, or None when unset or empty.

    Raises ConfigError (one line) for anything but ASCII digits (no sign, no fraction, at
    most 12 digits) or a time too far away to be represented.
    """
    raw = environ.get(VARIABLE, "")
    text = raw.strip()
    if not text:
        return None
    seconds = parse_natural(text, 12)  # bounded: int() of thousands of digits is refused work
    if seconds is None:
        raise ConfigError(f"{VARIABLE}: {shown(raw)} is not a number of seconds since 1970-01-01")
    try:
        datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ConfigError(f"{VARIABLE}: {shown(raw)} is out of range for a date") from None
    return seconds


def utc_now() -> datetime:
    """The current time in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class FixedClock:
    """A clock that always says ``moment`` (reproducible builds)."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment


def clock_from_environment(environ: Mapping[str, str]) -> Callable[[], datetime]:
    """A clock frozen at SOURCE_DATE_EPOCH if the environment sets it, else now (UTC)."""
    seconds = source_date_epoch(environ)
    if seconds is None:
        return utc_now
    return FixedClock(datetime.fromtimestamp(seconds, UTC))
