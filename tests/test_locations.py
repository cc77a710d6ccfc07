"""Tests for archiver.model.locations: the one parser of storage addresses."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.deposit.records import parse_target
from archiver.model.errors import ArchiverError, DepositError
from archiver.model.locations import Location, Scheme, parse_location
from archiver.repair.replicas import DirectoryReplica, parse_replica


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("ocfl:///srv/root", Location("ocfl:///srv/root", Scheme.OCFL, path=Path("/srv/root"))),
        ("file:rel/dir", Location("file:rel/dir", Scheme.FILE, path=Path("rel/dir"))),
        ("s3://b/p/q/", Location("s3://b/p/q/", Scheme.S3, bucket="b", prefix="p/q")),
        ("/srv/copies", Location("/srv/copies", Scheme.PATH, path=Path("/srv/copies"))),
        ("C:/copies", Location("C:/copies", Scheme.PATH, path=Path("C:/copies"))),
        ("Копии/архив", Location("Копии/архив", Scheme.PATH, path=Path("Копии/архив"))),
    ],
)
def test_parse_location(uri: str, expected: Location) -> None:
    assert parse_location(uri, option="--from", plain_paths=True) == expected


@pytest.mark.parametrize("uri", ["file://", "ocfl://", "file:///", "ocfl:", "s3://"])
def test_an_address_without_a_place_is_refused_by_deposit_and_repair_alike(uri: str) -> None:
    # repair read file:// as the current directory and ocfl:// as / before the one parser
    with pytest.raises(DepositError, match="--to"):
        parse_target(uri)
    with pytest.raises(ArchiverError, match="--from"):
        parse_replica(uri, environ={})


def test_plain_paths_only_where_the_option_takes_them() -> None:
    with pytest.raises(DepositError, match=r"unsupported scheme '\(none\)'"):
        parse_target("deposit/root")
    assert isinstance(parse_replica("deposit/root", environ={}), DirectoryReplica)


def test_the_error_type_is_the_callers() -> None:
    with pytest.raises(DepositError, match="host 'h' not supported"):
        parse_location("ocfl://h/root", option="--to", error=DepositError)
