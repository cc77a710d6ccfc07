"""Tests for archiver.deposit.ocfl_root: OCFL 1.1 storage root deposits, validated by ocfl-py."""

from __future__ import annotations

import functools
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import deposit_helpers
import ocfl
import pytest
from deposit_helpers import NOW, change_bag

from archiver.deposit import (
    DamagedTargetError,
    DepositResult,
    DepositStatus,
    InvalidBagError,
    VerifyStatus,
    deposit_bag,
    ocfl_root,
    parse_target,
    verify_deposit,
)
from archiver.model.errors import EXIT_INTEGRITY, DepositError
from archiver.model.findings import Kind

IDENT = "urn:uuid:0f6c7d4e-1111-4222-8333-944455556666"
make_bag = functools.partial(deposit_helpers.make_bag, ident=IDENT)


def deposit(bag: Path, root: Path, now: datetime = NOW) -> DepositResult:
    return deposit_bag(bag, parse_target(f"ocfl://{root}"), now=now, environ={}, settings={})


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_first_deposit_creates_valid_root(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    root = tmp_path / "deposit" / "ocfl-root"
    result = deposit(bag, root)
    assert result.status is DepositStatus.DEPOSITED
    assert result.version == "v1"
    assert result.event_type == "replication"
    assert (root / "0=ocfl_1.1").is_file()
    layout = json.loads((root / "ocfl_layout.json").read_text())
    assert layout["extension"] == "0003-hash-and-id-n-tuple-storage-layout"
    valid, messages = ocfl_root.validate_root(root)
    assert valid, messages
    store = ocfl.StorageRoot(root=str(root))
    assert [ident for _, ident in store.list_objects()] == [IDENT]
    # no staging directories left beside the root
    assert sorted(p.name for p in root.parent.iterdir()) == ["ocfl-root"]


def test_unchanged_is_noop_and_change_adds_version(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    root = tmp_path / "root"
    deposit(bag, root)
    obj = ocfl_root.object_dir(root, IDENT)
    v1 = tree(obj / "v1")
    before = tree(root)

    again = deposit(bag, root, datetime(2026, 2, 1, tzinfo=UTC))
    assert again.status is DepositStatus.UNCHANGED
    assert again.version == "v1"
    assert tree(root) == before

    change_bag(bag)
    third = deposit(bag, root, datetime(2026, 3, 1, tzinfo=UTC))
    assert third.status is DepositStatus.NEW_VERSION
    assert third.version == "v2"
    assert tree(obj / "v1") == v1  # existing version never rewritten
    valid, messages = ocfl_root.validate_root(root)
    assert valid, messages
    inventory = json.loads((obj / "inventory.json").read_text())
    assert inventory["head"] == "v2"
    assert inventory["versions"]["v2"]["created"] == "2026-03-01T00:00:00Z"
    logical = {p for paths in inventory["versions"]["v2"]["state"].values() for p in paths}
    assert "data/more.txt" in logical
    assert (
        verify_deposit(bag, parse_target(f"ocfl://{root}"), environ={}, settings={}).findings == ()
    )


def test_identifier_fallback_is_directory_name(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags", ident=None)
    result = deposit(bag, tmp_path / "root")
    assert result.identifier == "statement-1"
    assert not result.identifier_from_bag_info


def test_invalid_bag_refused(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    (bag / "data" / "text.txt").write_text("a statemenX\n", encoding="utf-8")
    with pytest.raises(InvalidBagError):
        deposit(bag, tmp_path / "root")
    assert not (tmp_path / "root").exists()


def test_corruption_in_root_detected(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    root = tmp_path / "root"
    deposit(bag, root)
    stored = ocfl_root.object_dir(root, IDENT) / "v1" / "content" / "data" / "text.txt"
    stored.write_text("a statemenX\n")
    findings = verify_deposit(bag, parse_target(f"ocfl://{root}"), environ={}, settings={}).findings
    assert [f.kind for f in findings] == [Kind.CHECKSUM_MISMATCH]
    assert not ocfl_root.validate_root(root)[0]


def test_verify_older_state_is_superseded_not_damaged(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    root = tmp_path / "root"
    target = parse_target(f"ocfl://{root}")
    deposit(bag, root)
    old = shutil.copytree(bag, tmp_path / "old" / bag.name)  # the bag as v1 holds it
    change_bag(bag)
    assert deposit(bag, root).version == "v2"

    held = verify_deposit(old, target, environ={}, settings={})
    assert held.findings == ()
    assert held.status is VerifyStatus.SUPERSEDED
    assert held.superseded == "held as v1, head is v2"
    assert verify_deposit(bag, target, environ={}, settings={}).status is VerifyStatus.VERIFIED

    (old / "data" / "text.txt").write_text("in no version\n")  # a state held nowhere
    nowhere = verify_deposit(old, target, environ={}, settings={})
    assert nowhere.status is VerifyStatus.DAMAGED
    assert Kind.CHECKSUM_MISMATCH in {f.kind for f in nowhere.findings}


@pytest.mark.parametrize("changed", [True, False], ids=["new-version", "unchanged"])
def test_deposit_into_damaged_object_is_integrity_error(tmp_path: Path, changed: bool) -> None:
    bag = make_bag(tmp_path / "bags")
    root = tmp_path / "root"
    deposit(bag, root)
    obj = ocfl_root.object_dir(root, IDENT)
    (obj / "v1" / "content" / "data" / "text.txt").write_text("a statemenX\n")
    if changed:
        change_bag(bag)
    before = tree(root)
    with pytest.raises(DamagedTargetError, match="OCFL object is damaged") as caught:
        deposit(bag, root)
    assert caught.value.exit_status == EXIT_INTEGRITY
    assert [(f.kind, f.path) for f in caught.value.findings] == [(Kind.CHECKSUM_MISMATCH, str(obj))]
    assert "\n" not in str(caught.value)
    assert tree(root) == before  # no version added to a damaged object


def test_verify_reports_missing_object(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    other = make_bag(tmp_path / "other", ident="urn:other")
    root = tmp_path / "root"
    deposit(other, root)
    findings = verify_deposit(bag, parse_target(f"ocfl://{root}"), environ={}, settings={}).findings
    assert [f.kind for f in findings] == [Kind.MISSING_FILE]


def test_interrupted_new_version_is_not_committed_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bag = make_bag(tmp_path / "bags")
    root = tmp_path / "root"
    deposit(bag, root)
    obj = ocfl_root.object_dir(root, IDENT)
    change_bag(bag)
    real_replace = os.replace

    def crash(src: object, dst: object) -> None:
        if str(dst).endswith("inventory.json"):
            raise OSError("power cut")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(ocfl_root.os, "replace", crash)
    with pytest.raises(DepositError, match="power cut"):
        deposit(bag, root)
    monkeypatch.setattr(ocfl_root.os, "replace", real_replace)
    assert json.loads((obj / "inventory.json").read_text())["head"] == "v1"
    assert (obj / "v2").is_dir()  # uncommitted leftover, not referenced

    retry = deposit(bag, root)
    assert retry.status is DepositStatus.NEW_VERSION
    assert retry.version == "v2"
    valid, messages = ocfl_root.validate_root(root)
    assert valid, messages


def test_not_an_ocfl_root(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "junk.txt").write_text("x")
    with pytest.raises(DepositError, match="not a usable OCFL storage root"):
        deposit(bag, tmp_path / "root")


def test_foreign_directory_at_object_path_refused(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bags")
    root = tmp_path / "root"
    other = make_bag(tmp_path / "other", ident="urn:other")
    deposit(other, root)  # creates the root
    foreign = ocfl_root.object_dir(root, IDENT)
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("someone else's")
    with pytest.raises(DepositError, match="holds no OCFL inventory"):
        deposit(bag, root)
    assert (foreign / "notes.txt").read_text() == "someone else's"


def test_next_version_name_is_ocfl_pys_public_function(tmp_path: Path) -> None:
    """The leftover removed after a crash is the version after the head, as ocfl-py names
    it: unpadded or zero-padded, like the head."""
    from ocfl.object_utils import next_version_directory

    from archiver.deposit.ocfl_root import _remove_uncommitted

    assert [next_version_directory(v) for v in ("v1", "v9", "v0009", "v0099")] == [
        "v2",
        "v10",
        "v0010",
        "v0100",
    ]
    with pytest.raises(ocfl.ObjectException, match="overflow"):
        next_version_directory("v09")  # zero-padded names keep their width
    for head, leftover in (("v2", "v3"), ("v0009", "v0010")):
        obj = tmp_path / head
        (obj / leftover).mkdir(parents=True)
        (obj / head).mkdir()
        (obj / "inventory.json").write_text(json.dumps({"head": head}))
        _remove_uncommitted(obj)
        assert sorted(p.name for p in obj.iterdir()) == ["inventory.json", head]
