"""Tests for archiver.deposit.directory: file:// deposits, verified copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import bagit
import pytest
from deposit_helpers import NOW, change_bag, make_bag

from archiver.deposit import (
    DepositStatus,
    InvalidBagError,
    deposit_bag,
    parse_target,
    verify_deposit,
)
from archiver.deposit import directory as directory_mod
from archiver.model.errors import ConflictError, DepositError
from archiver.model.findings import Kind


def deposit(bag: Path, uri: str) -> object:
    return deposit_bag(bag, parse_target(uri), now=NOW, environ={}, settings={})


def test_deposit_then_unchanged_then_updated(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    dest_root = tmp_path / "copies"
    uri = dest_root.as_uri()
    first = deposit_bag(bag, parse_target(uri), now=NOW, environ={}, settings={})
    assert first.status is DepositStatus.DEPOSITED
    assert first.event_type == "replication"
    assert first.identifier == "urn:test:1"
    assert first.location == (dest_root / "statement-1").as_uri()
    bagit.Bag(str(dest_root / "statement-1")).validate()
    assert sorted(p.name for p in dest_root.iterdir()) == ["statement-1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bags", "copies"]

    again = deposit_bag(bag, parse_target(uri), now=NOW, environ={}, settings={})
    assert again.status is DepositStatus.UNCHANGED

    change_bag(bag)
    third = deposit_bag(bag, parse_target(uri), now=NOW, environ={}, settings={})
    assert third.status is DepositStatus.UPDATED
    assert (dest_root / "statement-1" / "data" / "more.txt").read_text() == "more\n"
    assert sorted(p.name for p in dest_root.iterdir()) == ["statement-1"]
    assert verify_deposit(bag, parse_target(uri), environ={}, settings={}).findings == ()


def test_identifier_falls_back_to_directory_name(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags", ident=None)
    result = deposit_bag(
        bag, parse_target((tmp_path / "c").as_uri()), now=NOW, environ={}, settings={}
    )
    assert result.identifier == "statement-1"
    assert result.identifier_from_bag_info is False


def test_invalid_bag_refused(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    (bag / "data" / "text.txt").write_text("a statemenX\n", encoding="utf-8")
    dest_root = tmp_path / "copies"
    with pytest.raises(InvalidBagError) as info:
        deposit_bag(bag, parse_target(dest_root.as_uri()), now=NOW, environ={}, settings={})
    kinds = {(f.kind, f.path) for f in info.value.report.errors}
    assert (Kind.CHECKSUM_MISMATCH, "data/text.txt") in kinds
    assert info.value.exit_status == 1
    assert not dest_root.exists()


def test_corrupted_copy_detected(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    target = parse_target((tmp_path / "copies").as_uri())
    deposit_bag(bag, target, now=NOW, environ={}, settings={})
    (tmp_path / "copies" / "statement-1" / "data" / "text.txt").write_text("a statemenX\n")
    findings = verify_deposit(bag, target, environ={}, settings={}).findings
    assert {(f.kind, f.path, f.algorithm) for f in findings} == {
        (Kind.CHECKSUM_MISMATCH, "data/text.txt", "sha256"),
        (Kind.CHECKSUM_MISMATCH, "data/text.txt", "sha512"),
    }


def test_missing_copy_detected(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    findings = verify_deposit(
        bag, parse_target((tmp_path / "c").as_uri()), environ={}, settings={}
    ).findings
    assert [f.kind for f in findings] == [Kind.MISSING_FILE]


def test_failed_copy_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bag = make_bag(tmp_path / "bags")
    dest_root = tmp_path / "copies"

    def half_copy(src: Path, dst: Path) -> None:
        Path(dst).mkdir()
        shutil.copy(Path(src) / "bagit.txt", Path(dst) / "bagit.txt")
        raise OSError("disk full")

    monkeypatch.setattr(directory_mod, "copy_tree", half_copy)
    with pytest.raises(DepositError, match="copy failed"):
        deposit_bag(bag, parse_target(dest_root.as_uri()), now=NOW, environ={}, settings={})
    assert list(dest_root.iterdir()) == []


def test_copy_that_does_not_verify_is_not_put_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bag = make_bag(tmp_path / "bags")
    dest_root = tmp_path / "copies"
    real_copy_tree = directory_mod.copy_tree

    def corrupting_copy(src: Path, dst: Path) -> None:
        real_copy_tree(src, dst)
        if Path(dst).name == "statement-1":
            (Path(dst) / "data" / "text.txt").write_text("a statemenX\n")

    monkeypatch.setattr(directory_mod, "copy_tree", corrupting_copy)
    with pytest.raises(DepositError, match="did not verify"):
        deposit_bag(bag, parse_target(dest_root.as_uri()), now=NOW, environ={}, settings={})
    assert list(dest_root.iterdir()) == []


def test_destination_not_a_bag_refused(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    (tmp_path / "copies" / "statement-1").mkdir(parents=True)
    with pytest.raises(ConflictError, match="not a bag copy"):
        deposit_bag(
            bag, parse_target((tmp_path / "copies").as_uri()), now=NOW, environ={}, settings={}
        )
