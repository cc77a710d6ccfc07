"""archiver.adapters.bagit_staged: bagit-python's private ``_path_is_dangerous`` still
exists with the signature and role the override relies on; the override decides the same
as bagit-python for everything a staging bag can hold."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import bagit
import pytest

from archiver.adapters.bagit_staged import StagedBag


def test_private_method_has_the_expected_signature() -> None:
    method = getattr(bagit.Bag, "_path_is_dangerous", None)
    assert method is not None, "bagit.Bag._path_is_dangerous is gone: review bagit_staged"
    assert list(inspect.signature(method).parameters) == ["self", "path"]
    assert "sha256" in bagit.CHECKSUM_ALGOS  # iterated by manifest_files, as ours does


def test_validate_still_asks_the_private_method(
    bag_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def spy(self: StagedBag, path: str) -> bool:
        asked.append(path)
        return False

    monkeypatch.setattr(StagedBag, "_path_is_dangerous", spy)
    StagedBag(str(bag_copy)).validate(fast=True)
    assert any(path.startswith("data/") for path in asked)


def test_unsafe_manifest_entry_is_refused(bag_copy: Path) -> None:
    manifest = bag_copy / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text() + "0" * 64 + "  ../outside.txt\n")
    with pytest.raises(bagit.BagError, match="is unsafe"):
        StagedBag(str(bag_copy)).validate()


def test_staged_bag_finds_the_manifests_bagit_python_finds(bag_copy: Path) -> None:
    (bag_copy / "manifest-md5.txt").mkdir()  # a directory is not a manifest
    (bag_copy / "tagmanifest-sha1.txt").write_text("")
    (bag_copy / "manifest-nope.txt").write_text("")  # not an algorithm
    staged, reference = StagedBag(str(bag_copy)), bagit.Bag(str(bag_copy))
    for method in ("manifest_files", "tagmanifest_files"):
        ours = sorted(getattr(staged, method)())
        assert ours == sorted(getattr(reference, method)())
        assert ours  # sha256 and sha512 at least
    assert any(p.endswith("tagmanifest-sha1.txt") for p in staged.tagmanifest_files())


@pytest.mark.parametrize(
    ("path", "dangerous"),
    [
        ("/etc/passwd", True),
        ("~/x", True),
        ("~root/x", True),
        ("~", True),
        ("..", True),
        ("../x", True),
        ("data/../../x", True),
        ("data/../..", True),
        ("data/x.txt", False),
        ("data/..x", False),
        ("data/~x", False),
        ("data/a/../b", False),
        ("..data/x", False),
        ("manifest-sha256.txt", False),
    ],
)
def test_staged_bag_path_safety(bag_copy: Path, path: str, dangerous: bool) -> None:
    staged = StagedBag(str(bag_copy))
    assert staged._path_is_dangerous(path) is dangerous
    assert bagit.Bag(str(bag_copy))._path_is_dangerous(path) is dangerous  # the same answer


def test_entries_step_has_the_expected_signature_and_role(
    bag_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    method = getattr(bagit.Bag, "_validate_entries", None)
    assert method is not None, "bagit.Bag._validate_entries is gone: review bagit_staged"
    assert list(inspect.signature(method).parameters) == ["self", "processes"]
    assert list(inspect.signature(bagit._calc_hashes).parameters) == ["args"]
    called: list[int] = []
    monkeypatch.setattr(StagedBag, "_validate_entries", lambda self, p: called.append(p))
    StagedBag(str(bag_copy)).validate()
    assert called == [1]


def _large_bag(tmp_path: Path) -> Path:
    payload = tmp_path / "bag"
    payload.mkdir()
    (payload / "small.txt").write_bytes(b"small\n")
    (payload / "large.bin").write_bytes(bytes(range(256)) * (20 << 12))  # 5 MiB
    (payload / "other.bin").write_bytes(b"\x01" * (4 << 20))
    bagit.make_bag(str(payload), checksums=["sha256", "sha512"])
    return payload


def test_large_files_are_checked_like_bagit_python(tmp_path: Path) -> None:
    bag = _large_bag(tmp_path)
    assert StagedBag(str(bag)).validate()
    with open(bag / "data" / "large.bin", "r+b") as fh:
        fh.seek(3 << 20)
        fh.write(b"\xff")
    (bag / "data" / "small.txt").write_bytes(b"SMALL\n")
    found: list[list[str]] = []
    for kind in (StagedBag, bagit.Bag):
        with pytest.raises(bagit.BagValidationError) as caught:
            kind(str(bag)).validate()
        found.append([str(d) for d in caught.value.details])
    ours, theirs = found
    assert ours == theirs
    assert len(ours) == 4  # two algorithms for each of the two changed files


def test_files_read_back_while_copied_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bag = _large_bag(tmp_path)
    staged = StagedBag(str(bag))
    digests = {p: dict(h) for p, h in staged.entries.items() if p.startswith("data/")}
    read: list[str] = []
    real_open = open

    def spy(path: str, *args: object, **kwargs: object) -> object:
        read.append(os.path.basename(str(path)))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", spy)
    assert StagedBag(str(bag), verified={"data/large.bin": digests["data/large.bin"]}).validate()
    assert "large.bin" not in read and "other.bin" in read
    # a verified digest that is not the manifest's is no excuse: the file is re-hashed
    wrong = {"data/large.bin": {**digests["data/large.bin"], "sha256": "0" * 64}}
    read.clear()
    assert StagedBag(str(bag), verified=wrong).validate()
    assert "large.bin" in read
