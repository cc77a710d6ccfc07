"""Tests for archiver.deposit.records: parsing deposit URIs, result records."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.deposit.records import DepositResult, DepositStatus, Target, parse_target
from archiver.model.errors import DepositError


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "ocfl:///srv/ocfl-root",
            Target("ocfl:///srv/ocfl-root", "ocfl", path=Path("/srv/ocfl-root")),
        ),
        (
            "ocfl:deposit/ocfl-root",
            Target("ocfl:deposit/ocfl-root", "ocfl", path=Path("deposit/ocfl-root")),
        ),
        (
            "file://localhost/srv/copies/",
            Target("file://localhost/srv/copies/", "file", path=Path("/srv/copies")),
        ),
        (
            "file:///srv/with%20space",
            Target("file:///srv/with%20space", "file", path=Path("/srv/with space")),
        ),
        ("s3://bucket", Target("s3://bucket", "s3", bucket="bucket", prefix="")),
        ("s3://bucket/a/b/", Target("s3://bucket/a/b/", "s3", bucket="bucket", prefix="a/b")),
        ("S3://bucket/p", Target("S3://bucket/p", "s3", bucket="bucket", prefix="p")),
    ],
)
def test_parse_target(uri: str, expected: Target) -> None:
    assert parse_target(uri) == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://example.org/x", "unsupported scheme 'http'"),
        ("deposit/ocfl-root", "unsupported scheme '(none)'"),
        ("s3://", "no bucket"),
        ("s3:///prefix", "no bucket"),
        ("ocfl://server/root", "host 'server' not supported"),
        ("file:///", "no directory"),
        ("ocfl:", "no directory"),
    ],
)
def test_parse_target_rejects(uri: str, message: str) -> None:
    with pytest.raises(DepositError, match=re.escape(message)) as info:
        parse_target(uri)
    assert repr(uri) in str(info.value)


def test_result_to_json() -> None:
    result = DepositResult(
        bag="bags/one",
        identifier="urn:x",
        target="ocfl:///r",
        location="file:///r/x#v2",
        status=DepositStatus.NEW_VERSION,
        event_type="replication",
        time=datetime(2026, 1, 2, tzinfo=UTC),
        version="v2",
        digests={"sha256": "ab"},
    )
    data = result.to_json()
    assert data["status"] == "new-version"
    assert data["time"] == "2026-01-02T00:00:00+00:00"
    assert data["digests"] == {"sha256": "ab"}
    assert data["identifier_from_bag_info"] is True
