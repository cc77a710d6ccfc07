"""archiver.model.clock: the one SOURCE_DATE_EPOCH parser and the build clock."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from archiver.archive.serialize import DEFAULT_EPOCH, archive_mtime
from archiver.model.clock import FixedClock, clock_from_environment, source_date_epoch, utc_now
from archiver.model.errors import ConfigError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("0", 0),
        ("1700000000", 1700000000),
        (" 1700000000\n", 1700000000),
    ],
)
def test_accepted_values(value: str | None, expected: int | None) -> None:
    environ = {} if value is None else {"SOURCE_DATE_EPOCH": value}
    assert source_date_epoch(environ) == expected


@pytest.mark.parametrize(
    "value",
    ["-1", "+5", "1.5", "1e9", "soon", "0x10", "١٧٠٠", "1_700", "99999999999999999999"],
    ids=["negative", "sign", "fraction", "exponent", "word", "hex", "arabic digits",
         "underscore", "out of range"],
)  # fmt: skip
def test_bad_values_are_one_line_config_errors(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        source_date_epoch({"SOURCE_DATE_EPOCH": value})
    message = str(info.value)
    assert message.startswith("SOURCE_DATE_EPOCH: ") and repr(value) in message
    assert "\n" not in message


def test_build_and_package_read_the_variable_alike() -> None:
    for value in ("-1", "1.5"):  # once, the build clock took -1 and package refused it
        environ = {"SOURCE_DATE_EPOCH": value}
        with pytest.raises(ConfigError):
            clock_from_environment(environ)
        with pytest.raises(ConfigError):
            archive_mtime(environ)
    assert archive_mtime({}) == DEFAULT_EPOCH
    assert archive_mtime({"SOURCE_DATE_EPOCH": "1700000000"}) == 1700000000


def test_clocks_are_picklable_for_workers() -> None:
    fixed = clock_from_environment({"SOURCE_DATE_EPOCH": "1700000000"})
    assert fixed() == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert isinstance(fixed, FixedClock) and pickle.loads(pickle.dumps(fixed)) == fixed
    now = clock_from_environment({})
    assert now is utc_now and pickle.loads(pickle.dumps(now)) is utc_now
    assert now().tzinfo is UTC and now().microsecond == 0
