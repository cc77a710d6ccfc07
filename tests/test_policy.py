"""Tests for archiver.policy: our BagIt profile and metadata records on built bags."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import bagit
import pytest
from test_validator import _append, _edit

from archiver.bag.validator import plan_bag, validate_bag
from archiver.metadata.premis import HASH_FUNCTIONS
from archiver.metadata.validation import schemas_dir
from archiver.model.digest import ALGORITHMS, HEX_LENGTHS
from archiver.model.errors import ConfigError
from archiver.model.findings import Kind
from archiver.model.settings import ArchiveConfig
from archiver.policy import (
    FixityRecordChecker,
    MetadataChecker,
    ProfileChecker,
    StagedTags,
    build_algorithms_problem,
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
    report = validate_bag(bag_copy, checkers=default_checkers())
    matching = [f for f in report.errors if (f.kind, f.path) == (kind, path)]
    assert matching, report.errors
    assert any(fragment in f.message for f in matching), matching


@pytest.mark.parametrize(
    ("allowed", "refused"),
    [
        ([], ["metadata/dc.json", "notes.txt", "ro-crate-metadata.json"]),  # none allowed
        (["metadata/*"], ["notes.txt", "ro-crate-metadata.json"]),
        (["metadata/d?.*", "*.txt"], ["metadata/mets.xml", "metadata/metadata.csv"]),
        (["[!n]*"], ["notes.txt"]),
    ],
)
def test_tag_files_allowed_are_the_profile_globs(
    bag_copy: Path, allowed: list[str], refused: list[str]
) -> None:
    """Tag-Files-Allowed: each glob as fnmatchcase reads it; an empty list allows none
    (beyond bagit.txt, fetch.txt and the manifests)."""
    (bag_copy / "notes.txt").write_text("x")
    profile = load_profile(schemas_dir() / "bagit-profile.json")
    profile["Tag-Files-Allowed"] = allowed
    plan = plan_bag(bag_copy)
    found = {
        f.path for f in ProfileChecker(profile).violations(plan) if "Tag-Files-Allowed" in f.message
    }
    assert set(refused) <= found
    assert "bagit.txt" not in found and "manifest-sha256.txt" not in found
    for rel in plan.tag_files:
        glob_ok = any(fnmatch.fnmatchcase(rel, pattern) for pattern in allowed)
        core = rel in ("bagit.txt", "fetch.txt") or "manifest-" in rel
        assert (rel in found) == (not glob_ok and not core), rel


def test_other_profiles_are_not_checked(bag_copy: Path) -> None:
    _edit(bag_copy / "bag-info.txt", b"archiver-bagit-profile-v1", b"someone-elses-profile")
    (bag_copy / "notes.txt").write_text("allowed by no profile of ours")
    kinds = {f.kind for f in validate_bag(bag_copy, checkers=default_checkers()).findings}
    assert Kind.PROFILE_VIOLATION not in kinds
    assert kinds == {Kind.CHECKSUM_MISMATCH}  # bag-info.txt changed under its tag manifests


def test_default_checkers_are_profile_fixity_record_then_metadata() -> None:
    profile, fixity, metadata = default_checkers()
    assert isinstance(profile, ProfileChecker)
    assert isinstance(fixity, FixityRecordChecker)
    assert isinstance(metadata, MetadataChecker)
    assert profile.identifier == metadata.identifier == fixity.identifier != ""


def test_default_checkers_without_metadata_check_the_profile_alone(bag_copy: Path) -> None:
    profile, fixity = default_checkers(metadata=False)
    assert isinstance(profile, ProfileChecker)
    assert isinstance(fixity, FixityRecordChecker)
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


def _substitute_payload(bag: Path) -> Path:
    """Replace the payload and regenerate manifests, Payload-Oxum and tag manifests."""
    payload = next((bag / "data").iterdir())
    payload.write_bytes(b"a forged statement\n")
    bagit.Bag(str(bag)).save(manifests=True)
    return payload


def test_substituted_payload_with_regenerated_manifests_differs_from_premis(
    bag_copy: Path,
) -> None:
    payload = _substitute_payload(bag_copy)
    assert bagit.Bag(str(bag_copy)).is_valid()  # every BagIt check passes
    report = validate_bag(bag_copy, mode="full", checkers=default_checkers())
    mismatches = [f for f in report.findings if f.kind is Kind.FIXITY_RECORD_MISMATCH]
    assert {f.algorithm for f in mismatches} == {"sha256", "sha512"}
    assert {f.path for f in mismatches} == {f"data/{payload.name}"}
    forged = hashlib.sha256(b"a forged statement\n").hexdigest()
    assert next(f for f in mismatches if f.algorithm == "sha256").found == forged
    assert not report.valid


def test_premis_record_naming_an_unlisted_file_is_a_mismatch(bag_copy: Path) -> None:
    payload = next((bag_copy / "data").iterdir())
    payload.rename(payload.with_name("renamed.txt"))
    bagit.Bag(str(bag_copy)).save(manifests=True)
    report = validate_bag(bag_copy, mode="full", checkers=default_checkers())
    found = {(f.kind, f.path) for f in report.findings}
    assert (Kind.FIXITY_RECORD_MISMATCH, f"data/{payload.name}") in found


def test_intact_bag_agrees_with_its_premis_record(bag_copy: Path) -> None:
    checker = FixityRecordChecker(ProfileChecker(load_profile()).identifier)
    assert checker(plan_bag(bag_copy, checkers=())) == []


def test_the_build_algorithms_agree_everywhere() -> None:
    """The profile names the manifests of our bags; digest, PREMIS (record and schema),
    bagit-python (which checks every new bag) and the default settings all follow it."""
    profile = load_profile()
    allowed = profile["Manifests-Allowed"]
    assert profile["Tag-Manifests-Allowed"] == allowed
    assert set(profile["Manifests-Required"]) <= set(allowed)
    premis_schema = json.loads((schemas_dir() / "premis.schema.json").read_text("utf-8"))
    schema_text = json.dumps(premis_schema)
    for alg in allowed:
        assert alg in ALGORITHMS and alg in HEX_LENGTHS
        assert alg in HASH_FUNCTIONS
        assert f'"{alg}"' in schema_text
        assert alg in bagit.CHECKSUM_ALGOS
    default = ArchiveConfig("o", "o", "c", "e", "c", "p").algorithms
    assert build_algorithms_problem(default, profile) is None


@pytest.mark.parametrize(
    ("algorithms", "problem"),
    [
        (["sha256", "sha512"], None),
        (["sha512", "sha256"], None),
        (["sha256", "sha384"], "sha384 not supported (the BagIt profile allows sha256, sha512); "
         "sha512 missing (the BagIt profile requires it)"),
        (["sha256"], "sha512 missing (the BagIt profile requires it)"),
        (["md5", "sha256", "sha512"],
         "md5 not supported (the BagIt profile allows sha256, sha512)"),
    ],
)  # fmt: skip
def test_build_algorithms_problem(algorithms: list[str], problem: str | None) -> None:
    assert build_algorithms_problem(algorithms, load_profile()) == problem


def test_the_build_evaluates_the_profile_with_the_same_checker(bag_copy: Path) -> None:
    plan = plan_bag(bag_copy)
    staged = StagedTags(plan.bag, plan.declaration, plan.info, plan.tag_files)
    checker = ProfileChecker(load_profile())
    assert checker.violations(staged) == checker(plan) == []
    (bag_copy / "notes.txt").write_text("x")
    plan = plan_bag(bag_copy)
    staged = StagedTags(plan.bag, plan.declaration, plan.info, plan.tag_files)
    assert checker.violations(staged) == checker(plan) != []
