"""Tests for archiver.policy: our BagIt profile and metadata records on built bags."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_validator import _append, _edit

from archiver.bag.findings import Kind
from archiver.bag.validator import plan_bag, validate_bag
from archiver.errors import ConfigError
from archiver.policy import (
    MetadataChecker,
    ProfileChecker,
    declared_profile,
    default_checkers,
    load_profile,
)


def _remove_label(bag: Path, label: bytes) -> None:
    lines = (bag / "bag-info.txt").read_bytes().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(label + b":")]
    assert len(kept) == len(lines) - 1
    (bag / "bag-info.txt").write_bytes(b"".join(kept))


@pytest.mark.parametrize(
    ("damage", "kind", "path", "fragment"),
    [
        (lambda b: _remove_label(b, b"Contact-Name"), Kind.PROFILE_VIOLATION, "bag-info.txt",
         "'Contact-Name' is missing"),
        (lambda b: _append(b / "bag-info.txt", b"Contact-Name: Second\n"),
         Kind.PROFILE_VIOLATION, "bag-info.txt", "appears 2 times"),
        (lambda b: (b / "notes.txt").write_text("x"), Kind.PROFILE_VIOLATION, "notes.txt",
         "Tag-Files-Allowed"),
        (lambda b: (b / "metadata/premis.xml").unlink(), Kind.PROFILE_VIOLATION,
         "metadata/premis.xml", "Tag-Files-Required"),
        (lambda b: (b / "tagmanifest-sha512.txt").unlink(), Kind.PROFILE_VIOLATION,
         "tagmanifest-sha512.txt", "Tag-Manifests-Required"),
        (lambda b: (b / "manifest-md5.txt").write_text(""), Kind.PROFILE_VIOLATION,
         "manifest-md5.txt", "Manifests-Allowed"),
        (lambda b: (b / "fetch.txt").write_text(""), Kind.PROFILE_VIOLATION, "fetch.txt",
         "fetch.txt"),
        (lambda b: (b / "metadata/dc.json").write_text('{"dc.title": 5}'),
         Kind.INVALID_METADATA, "metadata/dc.json", "metadata/dc.json"),
        (lambda b: (b / "metadata/dc.json").write_text("{not json"), Kind.INVALID_METADATA,
         "metadata/dc.json", "metadata/dc.json"),
        (lambda b: _edit(b / "metadata/premis.xml", b"<premis:objectIdentifier>",
                         b"<premis:bogus/><premis:objectIdentifier>"),
         Kind.INVALID_METADATA, "metadata/premis.xml", "line"),
        (lambda b: (b / "metadata/dc.xml").write_text("<unclosed>"), Kind.INVALID_METADATA,
         "metadata/dc.xml", "well-formed"),
    ],
)  # fmt: skip
def test_profile_and_metadata(
    bag_copy: Path, damage: Callable[[Path], object], kind: Kind, path: str, fragment: str
) -> None:
    damage(bag_copy)
    report = validate_bag(bag_copy)
    matching = [f for f in report.errors if (f.kind, f.path) == (kind, path)]
    assert matching, report.errors
    assert any(fragment in f.message for f in matching), matching


def test_other_profiles_are_not_checked(bag_copy: Path) -> None:
    _edit(bag_copy / "bag-info.txt", b"archiver-bagit-profile-v1", b"someone-elses-profile")
    (bag_copy / "notes.txt").write_text("allowed by no profile of ours")
    kinds = {f.kind for f in validate_bag(bag_copy).findings}
    assert Kind.PROFILE_VIOLATION not in kinds
    assert kinds == {Kind.CHECKSUM_MISMATCH}  # bag-info.txt changed under its tag manifests


def test_default_checkers_are_profile_then_metadata() -> None:
    profile, metadata = default_checkers()
    assert isinstance(profile, ProfileChecker)
    assert isinstance(metadata, MetadataChecker)
    assert profile.identifier == metadata.identifier != ""


def test_default_checkers_without_metadata_check_the_profile_alone(bag_copy: Path) -> None:
    (profile,) = default_checkers(metadata=False)
    assert isinstance(profile, ProfileChecker)
    record = bag_copy / "metadata" / "dc.json"
    record.write_bytes(record.read_bytes().replace(b'"dc.title"', b'"dc.titel"'))
    (bag_copy / "notes.txt").write_text("not allowed by the profile")
    found = {(f.kind, f.path) for f in plan_bag(bag_copy, checkers=[profile]).findings}
    assert (Kind.PROFILE_VIOLATION, "notes.txt") in found
    assert Kind.INVALID_METADATA not in {kind for kind, _ in found}


def test_declared_profile(bag_copy: Path) -> None:
    identifier = ProfileChecker(load_profile()).identifier
    assert declared_profile(plan_bag(bag_copy, checkers=())) == identifier
    _remove_label(bag_copy, b"BagIt-Profile-Identifier")
    assert declared_profile(plan_bag(bag_copy, checkers=())) is None


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "cannot read"), ("{not json", "cannot read"), ("[1, 2]", "not a JSON object")],
)
def test_load_profile_errors(tmp_path: Path, content: str | None, fragment: str) -> None:
    target = tmp_path / "profile.json"
    if content is not None:
        target.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=fragment):
        load_profile(target)
