"""archiver.fileio: depth-proof walks, copies and removals; output checks; fsync helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archiver import fileio
from archiver.errors import OutputError
from archiver.fileio import (
    check_output_path,
    copy_tree,
    fsync_tree,
    remove_tree,
    walk_tree,
)

DEPTH = 1100  # deeper than Python's default recursion limit of 1000


def make_deep(root: Path, depth: int = DEPTH) -> str:
    """``root/d/d/.../f.txt`` ``depth`` levels down; returns the file's relative path."""
    root.mkdir(parents=True)
    current = root
    for _ in range(depth):
        current = current / "d"
        os.mkdir(current)
    (current / "f.txt").write_bytes(b"deep\n")
    return "d/" * depth + "f.txt"


def test_walk_tree_is_depth_first_in_name_order(tmp_path: Path) -> None:
    for rel in ("b/x", "a/z", "a/y/q", "c"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    assert [rel for rel, _ in walk_tree(tmp_path)] == [
        "a",
        "a/y",
        "a/y/q",
        "a/z",
        "b",
        "b/x",
        "c",
    ]


def test_walk_copy_and_remove_survive_a_deep_tree(tmp_path: Path) -> None:
    src = tmp_path / "src"
    try:
        deep = make_deep(src)
        assert [rel for rel, e in walk_tree(src) if e.is_file()] == [deep]
        copy_tree(src, tmp_path / "copy")
        assert (tmp_path / "copy" / deep).read_bytes() == b"deep\n"
        remove_tree(tmp_path / "copy")
        remove_tree(src)
        assert list(tmp_path.iterdir()) == []
    finally:  # pytest's clean-up (shutil.rmtree) would recurse
        remove_tree(tmp_path / "copy")
        remove_tree(src)


def test_copy_tree_keeps_links_as_links(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(b"x")
    (src / "l").symlink_to("f")
    copy_tree(src, tmp_path / "copy")
    assert os.readlink(tmp_path / "copy" / "l") == "f"


def test_remove_tree_removes_links_without_following(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "precious").write_bytes(b"x")
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    (doomed / "link").symlink_to(keep, target_is_directory=True)
    remove_tree(doomed)
    assert not doomed.exists()
    assert (keep / "precious").exists()


def test_fsync_tree_flushes_every_file_and_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a").write_bytes(b"a")
    (tmp_path / "bagit.txt").write_bytes(b"b")
    synced: list[str] = []
    real = os.fsync

    def record(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(fileio.os, "fsync", record)
    fsync_tree(tmp_path)
    expected = {str(tmp_path), str(tmp_path / "data"), str(tmp_path / "data" / "a")}
    assert expected | {str(tmp_path / "bagit.txt")} == set(synced)
    synced.clear()
    fsync_tree(tmp_path, files=False)
    assert set(synced) == {str(tmp_path), str(tmp_path / "data")}


@pytest.fixture
def a_bag(tmp_path: Path) -> Path:
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    return bag


@pytest.mark.parametrize("rel", ["data/out", "data/sub/deeper/x", "x.json", "."])
def test_output_inside_any_bag_is_refused(a_bag: Path, rel: str) -> None:
    """Issue 9 class 4: nothing is written inside a bag, whether it is being read or not."""
    with pytest.raises(OutputError, match="inside the bag"):
        check_output_path(a_bag / rel, directory=True)


def test_output_inside_a_listed_bag_without_bagit_txt_is_refused(tmp_path: Path) -> None:
    bag = tmp_path / "old-bag"
    (bag / "data").mkdir(parents=True)
    with pytest.raises(OutputError, match="inside the bag"):
        check_output_path(bag / "data" / "x", [bag], directory=True)


def test_output_through_a_link_into_a_bag_is_refused(a_bag: Path, tmp_path: Path) -> None:
    (tmp_path / "innocent").symlink_to(a_bag / "data", target_is_directory=True)
    with pytest.raises(OutputError, match="inside the bag"):
        check_output_path(tmp_path / "innocent" / "r.json")


def test_output_file_needs_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist") as caught:
        check_output_path(tmp_path / "missing" / "r.json", what="--json report")
    assert "\n" not in str(caught.value)
    with pytest.raises(OutputError, match="is a directory"):
        check_output_path(tmp_path)
    check_output_path(tmp_path / "r.json")  # fine
    check_output_path(tmp_path / "missing" / "l.sqlite", inside_only=True)  # opener's job


def test_output_directory_may_be_missing_but_not_a_file(tmp_path: Path) -> None:
    check_output_path(tmp_path / "new" / "dir", directory=True)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OutputError, match="not a directory"):
        check_output_path(tmp_path / "file", directory=True)
