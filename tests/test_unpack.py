"""Tests for archiver.archive.unpack: member checks (pure), zip-slip refusal, open_serialized."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path
from typing import IO

import pytest

from archiver.archive import unpack
from archiver.archive.unpack import (
    Limits,
    Member,
    MemberType,
    UnsafeArchiveError,
    check_members,
    copy_bounded,
    extract_safe,
    is_serialized,
    list_members,
    open_serialized,
)
from archiver.model.errors import BagReadError
from archiver.model.findings import Kind

F, D = MemberType.FILE, MemberType.DIR
GOOD = [Member("bag", D), Member("bag/bagit.txt", F, 55), Member("bag/data/x", F, 3)]


def test_good_members_have_no_findings() -> None:
    assert check_members(GOOD, "bag.tar") == []


@pytest.mark.parametrize(
    ("member", "path", "message"),
    [
        (Member("bag/../evil", F, 1), "bag/../evil", "'..'"),
        (Member("../evil", F, 1), "../evil", "'..'"),
        (Member("/etc/passwd", F, 1), "/etc/passwd", "absolute"),
        (Member("C:/x", F, 1), "C:/x", "absolute"),
        (Member("bag\\..\\x", F, 1), "bag\\..\\x", "backslash"),
        (Member("~root/x", F, 1), "~root/x", "'~'"),
        (Member("", F, 1), "", "empty"),
        (Member("bag/a\x00b", F, 1), "bag/a\x00b", "NUL"),
        (Member("bag/link", MemberType.SYMLINK), "bag/link", "symlink"),
        (Member("bag/hard", MemberType.HARDLINK), "bag/hard", "hardlink"),
        (Member("bag/dev", MemberType.DEVICE), "bag/dev", "device"),
        (Member("bag/fifo", MemberType.FIFO), "bag/fifo", "fifo"),
        (Member("bag/data/x", F, 3), "bag/data/x", "duplicate"),
        (Member("bag/huge", F, (1 << 40) + 1), "bag/huge", "exceeds the limit"),
        (Member("bag/bomb", F, 1 << 30, 1024), "bag/bomb", "compression ratio"),
        (Member("other/x", F, 1), "", "one top-level directory"),
    ],
)
def test_unsafe_member_findings(member: Member, path: str, message: str) -> None:
    findings = check_members([*GOOD, member], "bag.tar")
    assert len(findings) == 1
    (finding,) = findings
    assert finding.kind is Kind.UNSAFE_PATH
    assert finding.bag == "bag.tar"
    assert finding.path == path
    assert message in finding.message


def test_count_and_total_limits() -> None:
    limits = Limits(max_members=2, max_total_size=10)
    findings = check_members([*GOOD, Member("bag/y", F, 20)], "bag.zip", limits)
    messages = sorted(f.message for f in findings)
    assert any("4 members exceed 2" in m for m in messages)
    assert any("total size" in m for m in messages)


def _tar_with(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def test_tar_slip_refused_nothing_written(tmp_path: Path) -> None:
    absolute = tmp_path / "abs-evil"
    archive = tmp_path / "evil.tar"
    _tar_with(
        archive,
        [
            (_info("bag", tarfile.DIRTYPE), b""),
            (_info("bag/bagit.txt"), b"BagIt-Version: 1.0\n"),
            (_info("bag/../evil"), b"pwned"),
            (_info(str(absolute)), b"pwned"),
            (_info("bag/link", tarfile.SYMTYPE, "/etc/passwd"), b""),
        ],
    )
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(UnsafeArchiveError) as info:
        extract_safe(archive, target)
    kinds = {(f.kind, f.path) for f in info.value.findings}
    assert kinds == {
        (Kind.UNSAFE_PATH, "bag/../evil"),
        (Kind.UNSAFE_PATH, str(absolute)),
        (Kind.UNSAFE_PATH, "bag/link"),
    }
    assert not (tmp_path / "evil").exists()
    assert not absolute.exists()
    assert list(target.iterdir()) == []


def test_zip_slip_refused_nothing_written(tmp_path: Path) -> None:
    absolute = tmp_path / "abs-evil"
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bag/bagit.txt", "BagIt-Version: 1.0\n")
        zf.writestr("bag/../evil", "pwned")
        zf.writestr(str(absolute), "pwned")
        link = zipfile.ZipInfo("bag/link")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(UnsafeArchiveError) as info:
        extract_safe(archive, target)
    paths = sorted(f.path for f in info.value.findings)
    assert paths == sorted(["bag/../evil", str(absolute), "bag/link"])
    assert not (tmp_path / "evil").exists()
    assert not absolute.exists()
    assert list(target.iterdir()) == []


def test_list_members_reads_zip_headers(tmp_path: Path) -> None:
    archive = tmp_path / "bag.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bag/bagit.txt", "BagIt-Version: 1.0\n")
    members = list_members(archive)
    assert members == [Member("bag/bagit.txt", F, 19, members[0].compressed_size)]


@pytest.mark.parametrize(
    ("data", "declared", "message"),
    [(b"abcdef", 3, "more bytes than its declared size 3"), (b"ab", 3, "holds 2 bytes")],
)
def test_copy_is_bounded_by_declared_size(
    tmp_path: Path, data: bytes, declared: int, message: str
) -> None:
    """A lying header (zip bomb, truncated member) is caught while copying."""
    with pytest.raises(BagReadError, match=message):
        copy_bounded(io.BytesIO(data), tmp_path / "out", declared, "bag/x")


def test_open_serialized_removes_temp_dir(tmp_path: Path) -> None:
    archive = tmp_path / "bag.tar"
    _tar_with(archive, [(_info("bag", tarfile.DIRTYPE), b""), (_info("bag/f"), b"abc")])
    with open_serialized(archive) as bag:
        assert (bag / "f").read_bytes() == b"abc"
        extracted_root = bag.parent
    assert not extracted_root.exists()


def test_open_serialized_removes_temp_dir_on_error(tmp_path: Path) -> None:
    archive = tmp_path / "bag.tar"
    _tar_with(archive, [(_info("bag", tarfile.DIRTYPE), b""), (_info("bag/f"), b"abc")])
    with pytest.raises(RuntimeError), open_serialized(archive) as bag:
        extracted_root = bag.parent
        raise RuntimeError("reader failed")
    assert not extracted_root.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not an archive at all", "not a readable tar or zip"), (b"", "not a readable")],
)
def test_unreadable_archive(tmp_path: Path, content: bytes, message: str) -> None:
    archive = tmp_path / "bag.tar"
    archive.write_bytes(content)
    with pytest.raises(BagReadError, match=message) as caught, open_serialized(archive):
        pass
    assert "\n" not in str(caught.value)  # tarfile's own message spans several lines


def test_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(BagReadError, match="no such archive"), open_serialized(tmp_path / "x.zip"):
        pass


def test_top_level_file_not_dir(tmp_path: Path) -> None:
    archive = tmp_path / "bag.tar"
    _tar_with(archive, [(_info("bag"), b"abc")])
    with pytest.raises(BagReadError, match="not a directory"), open_serialized(archive):
        pass


@pytest.mark.parametrize(
    ("name", "expected"),
    [("b.tar", True), ("b.tar.gz", True), ("b.ZIP", True), ("b.txt", False), ("b", False)],
)
def test_is_serialized(tmp_path: Path, name: str, expected: bool) -> None:
    (tmp_path / name).write_bytes(b"x")
    assert is_serialized(tmp_path / name) is expected


def test_member_count_limit_reads_bounded_list(tmp_path: Path) -> None:
    archive = tmp_path / "many.tar"
    _tar_with(
        archive,
        [(_info("bag", tarfile.DIRTYPE), b"")] + [(_info(f"bag/f{i}"), b"x") for i in range(20)],
    )
    assert len(list_members(archive, max_members=5)) == 6
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(UnsafeArchiveError, match="members exceed 5"):
        extract_safe(archive, target, Limits(max_members=5))
    assert list(target.iterdir()) == []


def test_open_serialized_uses_tmp_dir(tmp_path: Path) -> None:
    archive = tmp_path / "bag.tar"
    _tar_with(archive, [(_info("bag", tarfile.DIRTYPE), b""), (_info("bag/f"), b"abc")])
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with open_serialized(archive, tmp_dir=scratch) as bag:
        assert bag.parent.parent == scratch
    assert list(scratch.iterdir()) == []


# Issue 9, class 3: compression bombs, bounded for every format before and while extracting.

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def make_bomb(path: Path, mode: str, size: int) -> Path:
    """A tar (``mode`` 'w:gz', 'w:bz2', 'w:xz') holding bagit.txt, then ``size`` zeros."""
    with tarfile.open(path, mode) as tar:
        info = tarfile.TarInfo("bag/bagit.txt")
        info.size = len(BAGIT_TXT)
        tar.addfile(info, io.BytesIO(BAGIT_TXT))
        zeros = tarfile.TarInfo("bag/data/zeros")
        zeros.size = size
        tar.addfile(zeros, io.BufferedReader(_Zeros(size)))
    return path


BOMB_LIMITS = Limits(max_ratio=20, ratio_floor=1 << 20)
COMPRESSIONS = [("gz", "w:gz"), ("bz2", "w:bz2"), ("xz", "w:xz")]


def test_whole_archive_ratio_is_checked_before_extracting() -> None:
    members = [Member("bag", D), Member("bag/data/x", F, 50 << 20)]
    findings = check_members(members, "b.tar.xz", BOMB_LIMITS, archive_size=10 << 20)
    assert findings == []
    findings = check_members(members, "b.tar.xz", BOMB_LIMITS, archive_size=10_000)
    assert [f.kind for f in findings] == [Kind.UNSAFE_PATH]
    assert "compression ratio over 20:1" in findings[0].message


def test_members_larger_than_free_space_are_refused() -> None:
    members = [Member("bag", D), Member("bag/data/x", F, 5000)]
    findings = check_members(members, "b.tar", archive_size=6000, free_space=4000)
    assert [f.kind for f in findings] == [Kind.UNSAFE_PATH]
    assert "only 4000 free" in findings[0].message


@pytest.mark.parametrize(("suffix", "mode"), COMPRESSIONS)
def test_bomb_refused_nothing_written(suffix: str, mode: str, tmp_path: Path) -> None:
    archive = make_bomb(tmp_path / f"bomb.tar.{suffix}", mode, 8 << 20)
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(UnsafeArchiveError) as info:
        extract_safe(archive, target, BOMB_LIMITS)
    assert [f.kind for f in info.value.findings] == [Kind.UNSAFE_PATH]
    assert "compression ratio over 20:1" in info.value.findings[0].message
    assert list(target.iterdir()) == []


@pytest.mark.parametrize(("suffix", "mode"), COMPRESSIONS)
def test_bomb_caught_while_extracting_and_what_was_written_removed(
    suffix: str, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when the checks before extraction pass (here: skipped), the decompressed
    stream is counted while extracting; bagit.txt, already written, is removed."""
    archive = make_bomb(tmp_path / f"bomb.tar.{suffix}", mode, 8 << 20)
    members = list_members(archive, limits=Limits(max_ratio=10**9))  # lenient: listed
    monkeypatch.setattr(unpack, "list_members", lambda *a, **k: members)
    monkeypatch.setattr(unpack, "check_members", lambda *a, **k: [])
    written: list[Path] = []
    real_copy = unpack.copy_bounded

    def spy(src: IO[bytes], dest: Path, size: int, name: str) -> None:
        written.append(dest)
        real_copy(src, dest, size, name)

    monkeypatch.setattr(unpack, "copy_bounded", spy)
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(UnsafeArchiveError, match="compression ratio"):
        extract_safe(archive, target, BOMB_LIMITS)
    assert written and written[0].name == "bagit.txt"
    assert list(target.iterdir()) == []


def test_default_limits_refuse_a_small_xz_expanding_to_64_mib(tmp_path: Path) -> None:
    archive = make_bomb(tmp_path / "bomb.tar.xz", "w:xz", 64 << 20)
    assert archive.stat().st_size < 64 << 10
    with pytest.raises(UnsafeArchiveError, match="compression ratio over 1000:1"):
        with open_serialized(archive, tmp_dir=tmp_path):
            pass
    assert [p.name for p in tmp_path.iterdir()] == ["bomb.tar.xz"]


@pytest.mark.parametrize(("suffix", "mode"), COMPRESSIONS)
def test_ordinary_compressed_bag_still_extracts(suffix: str, mode: str, tmp_path: Path) -> None:
    archive = tmp_path / f"ok.tar.{suffix}"
    with tarfile.open(archive, mode) as tar:
        info = tarfile.TarInfo("bag/bagit.txt")
        info.size = len(BAGIT_TXT)
        tar.addfile(info, io.BytesIO(BAGIT_TXT))
    target = tmp_path / "target"
    target.mkdir()
    bag = extract_safe(archive, target, BOMB_LIMITS)
    assert (bag / "bagit.txt").read_bytes() == BAGIT_TXT
