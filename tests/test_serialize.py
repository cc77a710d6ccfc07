"""Tests for archiver.archive.serialize: reproducible tar / tar.gz / zip and sidecars."""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import bagit
import pytest

from archiver.archive import serialize
from archiver.archive.unpack import open_serialized
from archiver.bag.validator import validate_bag
from archiver.model.errors import BagReadError, ConfigError, OutputError


def make_bag(root: Path, name: str = "statement-1") -> Path:
    bag_dir = root / name
    (bag_dir / "sub").mkdir(parents=True)
    (bag_dir / "b.txt").write_text("bravo\n", encoding="utf-8")
    (bag_dir / "a.txt").write_text("alpha\n", encoding="utf-8")
    (bag_dir / "sub" / "c.bin").write_bytes(bytes(range(256)) * 50)
    (bag_dir / "sub" / "Заявление №1 (2011).txt").write_text("Жаңаөзен\n", encoding="utf-8")
    bagit.make_bag(
        str(bag_dir), {"External-Identifier": f"urn:test:{name}"}, checksums=["sha256", "sha512"]
    )
    return bag_dir


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    return make_bag(tmp_path / "bags")


@pytest.mark.parametrize("fmt", serialize.FORMATS)
def test_rebuild_is_byte_identical(bag: Path, tmp_path: Path, fmt: str) -> None:
    out1, out2 = tmp_path / "o1", tmp_path / "o2"
    out1.mkdir()
    out2.mkdir()
    first = serialize.serialize_bag(bag, out1, fmt, 1_700_000_000)
    # touch every file: mtimes and modes of the source must not leak into the archive
    for path in bag.rglob("*"):
        os.utime(path, (1, 1))
    (bag / "data" / "a.txt").chmod(0o600)
    second = serialize.serialize_bag(bag, out2, fmt, 1_700_000_000)
    assert first.archive.read_bytes() == second.archive.read_bytes()
    assert first.digests == second.digests
    assert first.archive.name == f"statement-1.{fmt}"


@pytest.mark.parametrize("fmt", serialize.FORMATS)
def test_different_epoch_changes_bytes(bag: Path, tmp_path: Path, fmt: str) -> None:
    a = serialize.serialize_bag(bag, tmp_path, fmt, 1_700_000_000).archive.read_bytes()
    b = serialize.serialize_bag(bag, tmp_path, fmt, 1_600_000_000).archive.read_bytes()
    assert a != b


@pytest.mark.parametrize("fmt", serialize.FORMATS)
def test_sidecars_in_sha256sum_format(bag: Path, tmp_path: Path, fmt: str) -> None:
    result = serialize.serialize_bag(bag, tmp_path, fmt, 0)
    data = result.archive.read_bytes()
    for alg in ("sha256", "sha512"):
        sidecar = tmp_path / f"{result.archive.name}.{alg}"
        expected = hashlib.new(alg, data).hexdigest()
        assert sidecar.read_text() == f"{expected}  {result.archive.name}\n"
        assert serialize.read_sidecar(sidecar) == (expected, result.archive.name)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_tar_members_normalized(bag: Path, tmp_path: Path) -> None:
    (bag / "data" / "a.txt").chmod(0o755)
    archive = serialize.serialize_bag(bag, tmp_path, "tar", 1_234_567_890).archive
    with tarfile.open(archive) as tar:
        infos = tar.getmembers()
    names = [i.name for i in infos]
    assert names[0] == "statement-1"
    assert all(n == "statement-1" or n.startswith("statement-1/") for n in names)
    assert names == sorted(names, key=lambda n: n.split("/"))
    for info in infos:
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.mtime == 1_234_567_890
        if info.isdir():
            assert info.mode == 0o755
    modes = {i.name: i.mode for i in infos if i.isfile()}
    assert modes["statement-1/data/a.txt"] == 0o755
    assert modes["statement-1/data/b.txt"] == 0o644


def test_gzip_header_fixed_and_nameless(bag: Path, tmp_path: Path) -> None:
    archive = serialize.serialize_bag(bag, tmp_path, "tar.gz", 1_234_567_890).archive
    header = archive.read_bytes()[:10]
    assert header[:3] == b"\x1f\x8b\x08"
    assert header[3] & 0x08 == 0  # FNAME flag clear: no file name stored
    assert int.from_bytes(header[4:8], "little") == 1_234_567_890
    with gzip.open(archive) as gz:
        assert gz.read(1)


def test_zip_entries_fixed(bag: Path, tmp_path: Path) -> None:
    archive = serialize.serialize_bag(bag, tmp_path, "zip", 1_234_567_890).archive
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
    assert infos[0].filename == "statement-1/"
    for info in infos:
        assert info.date_time == (2009, 2, 13, 23, 31, 30)
        assert info.create_system == 3
        mode = info.external_attr >> 16
        assert stat.S_IMODE(mode) in (0o644, 0o755)
        assert stat.S_ISDIR(mode) == info.is_dir()


def test_zip_clamps_epoch_before_1980(bag: Path, tmp_path: Path) -> None:
    archive = serialize.serialize_bag(bag, tmp_path, "zip", 0).archive
    with zipfile.ZipFile(archive) as zf:
        assert zf.infolist()[0].date_time == (1980, 1, 1, 0, 0, 0)


@pytest.mark.parametrize("fmt", serialize.FORMATS)
def test_round_trip_validates(bag: Path, tmp_path: Path, fmt: str) -> None:
    archive = serialize.serialize_bag(bag, tmp_path, fmt, 0).archive
    with open_serialized(archive) as extracted:
        assert extracted.name == "statement-1"
        bagit.Bag(str(extracted)).validate()
        report = validate_bag(extracted)
        assert report.valid, report.findings
        for path in bag.rglob("*"):
            if path.is_file():
                assert (extracted / path.relative_to(bag)).read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, serialize.DEFAULT_EPOCH), ({"SOURCE_DATE_EPOCH": "1700000000"}, 1700000000)],
)
def test_source_date_epoch(environ: dict[str, str], expected: int) -> None:
    assert serialize.archive_mtime(environ) == expected


@pytest.mark.parametrize("value", ["-1", "soon", "1.5"])
def test_source_date_epoch_rejects(value: str) -> None:
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        serialize.archive_mtime({"SOURCE_DATE_EPOCH": value})


def test_bad_format(bag: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'rar'"):
        serialize.serialize_bag(bag, tmp_path, "rar", 0)


def test_not_a_bag(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(BagReadError, match="bagit.txt"):
        serialize.serialize_bag(tmp_path / "plain", tmp_path, "tar", 0)
    with pytest.raises(BagReadError, match="not a bag directory"):
        serialize.serialize_bag(tmp_path / "missing", tmp_path, "tar", 0)


def test_symlink_in_bag_refused(bag: Path, tmp_path: Path) -> None:
    (bag / "data" / "link").symlink_to("/etc/passwd")
    with pytest.raises(BagReadError, match="link"):
        serialize.serialize_bag(bag, tmp_path, "tar", 0)


def test_missing_out_dir(bag: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        serialize.serialize_bag(bag, tmp_path / "nope", "tar", 0)


def test_failed_write_leaves_nothing(
    bag: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setitem(serialize._WRITERS, "tar", boom)
    with pytest.raises(OSError, match="disk full"):
        serialize.serialize_bag(bag, out, "tar", 0)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "found 0"),
        ("abc  x\nabc  y\n", "found 2"),
        ("zz  name\n", "not '<hex digest>"),
        ("abcdef\n", "not '<hex digest>"),
    ],
)
def test_parse_sidecar_rejects(text: str, message: str) -> None:
    with pytest.raises(BagReadError, match=message):
        serialize.parse_sidecar(text, "x.sha256")
