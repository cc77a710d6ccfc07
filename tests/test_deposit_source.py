"""Tests for archiver.deposit.source: identifier, fingerprint, validation before deposit."""

from __future__ import annotations

from pathlib import Path

import bagit
import pytest

from archiver.bag.identity import bag_identifier
from archiver.deposit.source import (
    InvalidBagError,
    compare_digests,
    fingerprint,
    require_bag,
    require_valid,
)
from archiver.model.errors import BagReadError
from archiver.model.findings import Kind


def make_bag(root: Path, info: dict[str, str] | None = None) -> Path:
    bag_dir = root / "statement-1"
    bag_dir.mkdir(parents=True)
    (bag_dir / "text.txt").write_text("a statement\n", encoding="utf-8")
    bagit.make_bag(str(bag_dir), info or {}, checksums=["sha256", "sha512"])
    return bag_dir


@pytest.mark.parametrize(
    "text",
    [
        "External-Identifier: urn:x\n",
        "external-identifier: urn:x\n",  # labels are case-insensitive, as the validator reads them
        "EXTERNAL-IDENTIFIER:   urn:x  \n",
        "Other: 1\nExternal-Identifier: urn:x\nExternal-Identifier: urn:y\n",
        "External-Identifier: urn:\n  x\n",  # a continuation line is joined with a space
    ],
)
def test_identifier_is_read_as_the_validator_reads_bag_info(tmp_path: Path, text: str) -> None:
    bag = make_bag(tmp_path)
    (bag / "bag-info.txt").write_text(text, encoding="utf-8")
    expected = "urn: x" if "\n  x" in text else "urn:x"
    assert bag_identifier(bag) == (expected, True)


def test_identifier_of_undecodable_bag_info(tmp_path: Path) -> None:
    bag = make_bag(tmp_path)
    (bag / "bag-info.txt").write_bytes(b"External-Identifier: \xff\n")
    with pytest.raises(BagReadError, match="bag-info.txt: cannot read"):
        bag_identifier(bag)


def test_identifier_from_bag_info_or_directory(tmp_path: Path) -> None:
    with_id = make_bag(tmp_path / "a", {"External-Identifier": "urn:uuid:1234"})
    assert bag_identifier(with_id) == ("urn:uuid:1234", True)
    without = make_bag(tmp_path / "b")
    assert bag_identifier(without) == ("statement-1", False)


def test_fingerprint_tracks_payload_changes(tmp_path: Path) -> None:
    bag = make_bag(tmp_path)
    before = fingerprint(bag)
    assert fingerprint(bag) == before
    (bag / "data" / "new.txt").write_text("x")
    bagit.Bag(str(bag)).save(manifests=True)
    assert fingerprint(bag) != before


def test_fingerprint_needs_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "bagit.txt").write_text("BagIt-Version: 1.0\n")
    with pytest.raises(BagReadError, match="no manifest"):
        fingerprint(tmp_path)


@pytest.mark.parametrize(
    ("setup", "message"),
    [("missing", "no such bag directory"), ("plain", "no bagit.txt")],
)
def test_require_bag(tmp_path: Path, setup: str, message: str) -> None:
    if setup == "plain":
        (tmp_path / "x").mkdir()
    with pytest.raises(BagReadError, match=message):
        require_bag(tmp_path / "x")


@pytest.mark.parametrize(
    ("damage", "kind", "path"),
    [
        (
            lambda b: (b / "data" / "text.txt").write_text("a statemenX\n"),
            Kind.CHECKSUM_MISMATCH,
            "data/text.txt",
        ),
        (lambda b: (b / "data" / "text.txt").unlink(), Kind.MISSING_FILE, "data/text.txt"),
        (
            lambda b: (b / "data" / "extra.txt").write_text("x"),
            Kind.UNEXPECTED_FILE,
            "data/extra.txt",
        ),
    ],
)
def test_require_valid_refuses(tmp_path: Path, damage: object, kind: Kind, path: str) -> None:
    bag = make_bag(tmp_path)
    damage(bag)  # type: ignore[operator]
    with pytest.raises(InvalidBagError) as info:
        require_valid(bag)
    assert (kind, path) in {(f.kind, f.path) for f in info.value.report.errors}
    assert info.value.exit_status == 1


def test_require_valid_accepts(tmp_path: Path) -> None:
    assert require_valid(make_bag(tmp_path)).valid


def test_compare_digests() -> None:
    findings = compare_digests(
        "bag", {"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "9", "d": "4"}, "sha512", "there"
    )
    assert [(f.kind, f.path) for f in findings] == [
        (Kind.CHECKSUM_MISMATCH, "b"),
        (Kind.MISSING_FILE, "c"),
        (Kind.UNEXPECTED_FILE, "d"),
    ]
    assert (findings[0].expected, findings[0].found, findings[0].algorithm) == ("2", "9", "sha512")
