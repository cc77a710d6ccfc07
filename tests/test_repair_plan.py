"""Tests for archiver.repair.plan (pure) and archiver.repair.replicas.parse_replica."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.model.errors import ArchiverError
from archiver.repair.plan import digests_match, parse_entries, plan_repair, record_mismatch
from archiver.repair.replicas import (
    ArchiveReplica,
    DirectoryReplica,
    OcflReplica,
    S3Replica,
    parse_replica,
    replica_uris,
)

A, B = "a" * 64, "b" * 64
X, Y = "c" * 128, "d" * 128


@pytest.mark.parametrize(
    ("want", "found", "match"),
    [
        ({"sha256": A, "sha512": X}, {"sha256": A, "sha512": X}, True),
        ({"sha256": A, "sha512": X}, {"sha256": A, "sha512": Y}, False),  # every algorithm
        ({"sha256": A, "sha512": X}, {"sha256": A}, False),
        ({"sha256": A.upper()}, {"sha256": A}, True),
        ({}, {"sha256": A}, False),  # nothing to check is not a match
    ],
)
def test_digests_match_needs_every_algorithm(
    want: dict[str, str], found: dict[str, str], match: bool
) -> None:
    assert digests_match(want, found) is match


def test_plan_restores_missing_and_differing_and_quarantines_unexpected_payload() -> None:
    reference = {
        "data/a.txt": {"sha256": A, "sha512": X},
        "data/b.txt": {"sha256": B, "sha512": Y},
        "bag-info.txt": {"sha256": A, "sha512": X},
        "manifest-sha256.txt": {"sha256": B, "sha512": Y},
    }
    present = ["data/a.txt", "data/new.txt", "bag-info.txt", "notes.txt", "manifest-sha256.txt"]
    current = {
        "data/a.txt": {"sha256": A, "sha512": Y},  # one algorithm differs
        "bag-info.txt": {"sha256": A, "sha512": X},
        "manifest-sha256.txt": {"sha256": B, "sha512": Y},
    }
    plan = plan_repair(reference, present, current)
    assert sorted(plan.restore) == ["data/a.txt", "data/b.txt"]
    assert plan.quarantine == ("data/new.txt",)  # notes.txt: an unlisted tag file, allowed


def test_record_mismatch_names_changed_missing_and_extra_tag_manifests() -> None:
    recorded = {"tagmanifest-sha256.txt": {"sha256": A}, "tagmanifest-sha512.txt": {"sha256": B}}
    current = {"tagmanifest-sha256.txt": {"sha256": B}, "tagmanifest-md5.txt": {"sha256": A}}
    assert record_mismatch(current, recorded) == [
        "tagmanifest-md5.txt",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
    ]
    assert record_mismatch(recorded, recorded) == []


def test_parse_entries_merges_algorithms_and_rejects_bad_manifests() -> None:
    files = {
        "manifest-sha256.txt": f"{A}  data/a.txt\n".encode(),
        "manifest-sha512.txt": f"{X}  data/a.txt\n".encode(),
        "tagmanifest-sha256.txt": f"{B}  bagit.txt\n".encode(),
    }
    assert parse_entries(files, tag=False) == {"data/a.txt": {"sha256": A, "sha512": X}}
    assert parse_entries(files, tag=True) == {"bagit.txt": {"sha256": B}}
    with pytest.raises(ValueError, match="manifest-sha256.txt"):
        parse_entries({"manifest-sha256.txt": b"nothex  data/a.txt\n"}, tag=False)


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("/srv/copies", DirectoryReplica),
        ("copies/bag.tar.gz", ArchiveReplica),
        ("file:///srv/copies", DirectoryReplica),
        ("file:///srv/copies/bag.zip", ArchiveReplica),
        ("ocfl:///srv/ocfl-root", OcflReplica),
        ("s3://bucket/prefix", S3Replica),
    ],
)
def test_parse_replica(spec: str, kind: type) -> None:
    assert isinstance(parse_replica(spec, environ={}), kind)


def test_parse_replica_paths_and_prefixes() -> None:
    s3 = parse_replica("s3://bucket/a/b/", environ={})
    assert isinstance(s3, S3Replica) and (s3.bucket, s3.prefix) == ("bucket", "a/b")
    ocfl = parse_replica("ocfl:///srv/root", environ={})
    assert isinstance(ocfl, OcflReplica) and ocfl.path == Path("/srv/root")


@pytest.mark.parametrize("spec", ["ftp://host/x", "s3:///nobucket", "ocfl://host/root"])
def test_parse_replica_refuses(spec: str) -> None:
    with pytest.raises(ArchiverError, match="--from"):
        parse_replica(spec, environ={})


def test_replica_uris_are_successful_targets_newest_first_once() -> None:
    events = [("ocfl:///a", "success"), ("s3://b/c", "failure"), ("file:///d", "success")]
    events.append(("ocfl:///a", "success"))
    assert replica_uris(events) == ["ocfl:///a", "file:///d"]


def test_a_quarantine_that_would_land_inside_a_bag_is_refused(tmp_path: Path) -> None:
    from archiver.model.errors import OutputError
    from archiver.repair.apply import quarantine

    outer = tmp_path / "outer"  # a bag whose payload holds a bag: the quarantine would be
    (outer / "data").mkdir(parents=True)  # written into the outer one
    (outer / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    inner = outer / "data" / "inner"
    inner.mkdir()
    (inner / "stray.txt").write_text("unexpected\n")
    with pytest.raises(OutputError, match="quarantine would be written inside the bag"):
        quarantine(inner, {"stray.txt": (11, {})}, {}, "run-1")
    assert (inner / "stray.txt").is_file()  # nothing moved
    assert not (outer / "data" / ".archiver-quarantine").exists()
