"""The build clock: SOURCE_DATE_EPOCH when set (reproducible builds), else the real time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from archiver.errors import ArchiverError
from archiver.text import parse_natural, shown


def clock_from_environment(environ: Mapping[str, str]) -> Callable[[], datetime]:
    """A clock frozen at SOURCE_DATE_EPOCH if the environment sets it, else now (UTC)."""
    raw = environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw == "":
        return lambda: datetime.now(UTC).replace(microsecond=0)
    seconds = parse_natural(raw.strip(), 12)
    try:
        if seconds is None:
            raise ValueError(raw)
        fixed = datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise ArchiverError(
            f"SOURCE_DATE_EPOCH: {shown(raw)} is not a number of seconds since 1970-01-01"
        ) from None
    return lambda: fixed
