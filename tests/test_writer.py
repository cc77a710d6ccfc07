"""archiver.build.writer: payload copy, verification before install, atomic swap."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SEED_NAMES, SOURCES
from test_fileio import failing_renameat2

from archiver.bag.tagfiles import parse_bag_info, parse_declaration, split_lines
from archiver.build.writer import (
    BagExistsError,
    BagVerificationError,
    BagVerifier,
    install_bag,
    write_payload,
    write_tag_files,
)
from archiver.config import load_config
from archiver.model.errors import OutputError, SourceError
from archiver.policy import StagedTags
from archiver.storage import fileio

CONFIG = load_config(ROOT / "archive.toml")


def tags_of(bag: Path) -> StagedTags:
    """What the builder knows of a bag it has just written, read back from disk."""
    declaration, _ = parse_declaration((bag / "bagit.txt").read_bytes())
    info, _ = parse_bag_info(split_lines((bag / "bag-info.txt").read_text("utf-8")))
    names = sorted(
        p.relative_to(bag).as_posix()
        for p in bag.rglob("*")
        if p.is_file() and not p.relative_to(bag).as_posix().startswith("data/")
    )
    return StagedTags(bag.name, declaration, info, names)


def test_payload_copied_hashed_and_profiled_in_one_read(tmp_path: Path) -> None:
    source = SOURCES / SEED_NAMES[0]
    target = tmp_path / "data" / source.name
    digests, size, text = write_payload(source, target, ["sha256", "sha512"])
    data = source.read_bytes()
    assert target.read_bytes() == data and size == len(data)
    assert digests["sha256"] == hashlib.sha256(data).hexdigest()
    assert text.encoding == "UTF-8"
    assert os.stat(target).st_mtime == os.stat(source).st_mtime


def test_payload_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    target.write_text("existing")
    with pytest.raises(OutputError, match="cannot copy payload"):
        write_payload(SOURCES / SEED_NAMES[0], target, ["sha256"])
    assert target.read_text() == "existing"


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="nope.txt: cannot read"):
        write_payload(tmp_path / "nope.txt", tmp_path / "out.txt", ["sha256"])


def test_verifier_accepts_a_built_bag(bag_copy: Path) -> None:
    BagVerifier().verify(bag_copy, "bag", tags_of(bag_copy))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: (b / "data" / f"{b.name}.txt").write_bytes(b"changed"), "bagit-python"),
        (lambda b: (b / "metadata" / "dc.xml").unlink(), "bagit-python"),
        (lambda b: (b / "manifest-sha512.txt").unlink(), "rejects the bag|profile"),
        (lambda b: (b / "bagit.txt").write_text("BagIt-Version: 0.97\n"), "bagit-python rejects"),
    ],
    ids=["payload changed", "tag file gone", "sha512 manifest gone", "no declaration"],
)
def test_verifier_rejects_damaged_bags(bag_copy: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    damage(bag_copy)
    with pytest.raises(BagVerificationError, match=message):
        BagVerifier().verify(bag_copy, "label", tags_of(bag_copy))


def test_verifier_checks_the_profile(bag_copy: Path) -> None:
    info = bag_copy / "bag-info.txt"
    info.write_text(info.read_text().replace("Contact-Email", "X-Contact-Email"))
    # refresh the tag manifests so that only the profile can object
    import bagit

    bag = bagit.Bag(str(bag_copy))
    cwd = os.getcwd()
    try:
        bag.save()
    finally:
        os.chdir(cwd)
    with pytest.raises(BagVerificationError, match="violates the BagIt profile.*Contact-Email"):
        BagVerifier().verify(bag_copy, "label", tags_of(bag_copy))


def test_install_swaps_and_keeps_nothing_aside(tmp_path: Path, bag_copy: Path) -> None:
    destination = tmp_path / "dest"
    shutil.copytree(bag_copy, destination)
    staging = tmp_path / ".staging"
    staging.mkdir()
    (staging / "marker").write_text("new")
    install_bag(staging, destination, replace=True)
    assert (destination / "marker").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bags", "dest"]


def test_install_refuses_to_clobber(tmp_path: Path) -> None:
    destination = tmp_path / "dest"
    (destination / "inner").mkdir(parents=True)
    staging = tmp_path / ".staging"
    staging.mkdir()
    (staging / "marker").write_text("new")
    with pytest.raises(BagExistsError, match="a bag appeared there meanwhile"):
        install_bag(staging, destination, replace=False)
    assert (destination / "inner").is_dir()


def test_install_replace_exchanges_atomically(tmp_path: Path) -> None:
    destination = tmp_path / "dest"
    destination.mkdir()
    (destination / "old").write_text("old")
    staging = tmp_path / ".staging"
    staging.mkdir()
    (staging / "new").write_text("new")
    install_bag(staging, destination, replace=True)
    assert [p.name for p in destination.iterdir()] == ["new"]
    assert not staging.exists()


def test_symlinked_payload_source_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("real")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with pytest.raises(SourceError, match="symbolic link"):
        write_payload(link, tmp_path / "out" / "link.txt", ["sha256"])


def test_tag_files_written_with_their_directories(tmp_path: Path) -> None:
    files = {
        "bagit.txt": b"BagIt-Version: 1.0\n",
        "metadata/dc.json": b"{}\n",
        "metadata/deep/x.xml": b"<x/>" * 5000,
        "empty.txt": b"",
    }
    write_tag_files(tmp_path, files)
    written = {
        str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
    }
    assert written == files


@pytest.mark.parametrize("existing", ["bagit.txt", "metadata/dc.json"])
def test_tag_files_never_overwrite(tmp_path: Path, existing: str) -> None:
    (tmp_path / "metadata").mkdir()
    (tmp_path / existing).write_bytes(b"old")
    with pytest.raises(OutputError, match=f"{tmp_path / existing}: cannot write"):
        write_tag_files(tmp_path, {"bagit.txt": b"new", "metadata/dc.json": b"new"})
    assert (tmp_path / existing).read_bytes() == b"old"


@pytest.mark.parametrize("code", [errno.ENOSYS, errno.EINVAL])
def test_install_replace_without_renameat2_swaps_by_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    monkeypatch.setattr(fileio, "_renameat2", lambda: failing_renameat2(code))
    destination = tmp_path / "dest"
    destination.mkdir()
    (destination / "old").write_text("old")
    staging = tmp_path / ".staging"
    staging.mkdir()
    (staging / "new").write_text("new")
    install_bag(staging, destination, replace=True)
    assert [p.name for p in destination.iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["dest"]  # the old bag is gone


def test_install_replace_without_renameat2_puts_the_old_bag_back_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fileio, "_renameat2", lambda: failing_renameat2(errno.ENOSYS))
    destination = tmp_path / "dest"
    destination.mkdir()
    (destination / "old").write_text("old")
    staging = tmp_path / ".staging"
    staging.mkdir()
    real_rename = os.rename

    def rename(src: object, dst: object) -> None:
        if Path(str(src)) == staging:
            raise OSError(errno.EIO, "I/O error")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OutputError, match="cannot swap in the new bag"):
        install_bag(staging, destination, replace=True)
    assert [p.name for p in destination.iterdir()] == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".staging", "dest"]


@pytest.mark.parametrize("replace", [False, True])
def test_install_flushes_before_and_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replace: bool
) -> None:
    """Issue 9, class 8: the staging bag's files and directories and the parent are
    fsync'd before the rename, the parent after it (one bag: no syncfs, whose error
    report would cover only what was written after its descriptor was opened)."""
    import archiver.build.writer as writer

    staging = tmp_path / ".staging"
    (staging / "data").mkdir(parents=True)
    (staging / "bagit.txt").write_bytes(b"x")
    destination = tmp_path / "bag"
    if replace:
        destination.mkdir()
    calls: list[str] = []
    real_tree, real_dir = writer.fsync_tree, writer.fsync_dir
    real_rename, real_exchange = os.rename, writer.exchange_paths

    def tree(path: Path, *, files: bool = True) -> None:
        calls.append(f"fsync_tree {Path(path).name} files={files}")
        real_tree(path, files=files)

    def one(path: Path) -> None:
        calls.append(f"fsync_dir {Path(path).name}")
        real_dir(path)

    def rename(a: object, b: object) -> None:
        calls.append("rename")
        real_rename(a, b)  # type: ignore[arg-type]

    def exchange(a: Path, b: Path) -> bool:
        calls.append("rename")
        return real_exchange(a, b)

    monkeypatch.setattr(writer, "fsync_tree", tree)
    monkeypatch.setattr(writer, "fsync_dir", one)
    monkeypatch.setattr(writer.os, "rename", rename)
    monkeypatch.setattr(writer, "exchange_paths", exchange)
    install_bag(staging, destination, replace=replace)
    assert calls[:3] == [
        "fsync_tree .staging files=True",
        f"fsync_dir {tmp_path.name}",
        "rename",
    ]
    assert calls[-1] == f"fsync_dir {tmp_path.name}"
    assert (destination / "bagit.txt").read_bytes() == b"x"


def test_every_payload_and_tag_file_is_fsynced_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.build.writer as writer
    import archiver.storage.fileio as fileio

    events: list[str] = []
    real_fsync, real_rename = os.fsync, os.rename

    def record(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.isfile(target):
            events.append(os.path.basename(target))
        real_fsync(fd)

    def rename(a: object, b: object) -> None:
        events.append("rename")
        real_rename(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(fileio.os, "fsync", record)
    monkeypatch.setattr(writer.os, "rename", rename)
    source = tmp_path / "source.txt"
    source.write_bytes(b"text\n")
    staging = tmp_path / ".staging"
    writer.write_payload(source, staging / "data" / "source.txt", ["sha256"])
    writer.write_tag_files(staging, {"bagit.txt": b"x", "metadata/dc.json": b"{}"})
    assert events == []  # nothing flushed file by file while writing
    install_bag(staging, tmp_path / "bag", replace=False)
    assert sorted(events[:3]) == ["bagit.txt", "dc.json", "source.txt"]
    assert events[3:] == ["rename"]
