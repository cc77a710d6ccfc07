"""Tests for `archiver validate`: exit statuses, human output, --json, modes, help."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from test_validator import build_fixture_bag, delete, flip_bit

import archiver.cli as cli
from archiver.archive.serialize import DEFAULT_EPOCH, FORMATS, serialize_bag

SUITE = Path(__file__).parent / "data" / "bagit-conformance-suite"


@pytest.fixture(autouse=True)
def only_our_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register validate and audit alone, whatever else the dispatcher lists."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("archiver.cli.validate", "archiver.cli.audit"))


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    return build_fixture_bag(tmp_path / "bag")


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--completeness-only" in out and "--fast" in out and "--json" in out


def test_clean_bag_exits_0(bag: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(bag)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and str(bag) in out
    assert "Problems in" not in out


def test_faulty_bag_exits_1_and_names_kind_and_path(
    bag: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip_bit(bag)
    assert cli.main(["validate", str(bag)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out
    assert "checksum-mismatch" in out and "data/a.txt" in out and "sha512" in out


def test_several_bags_one_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = build_fixture_bag(tmp_path / "good")
    bad = build_fixture_bag(tmp_path / "bad")
    delete(bad)
    assert cli.main(["validate", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "missing-file" in out


def test_json(bag: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flip_bit(bag)
    assert cli.main(["validate", "--json", str(bag)]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "invalid"
    problems = document["bags"][0]["problems"]
    assert {(p["kind"], p["path"], p["algorithm"]) for p in problems} == {
        ("checksum-mismatch", "data/a.txt", "sha256"),
        ("checksum-mismatch", "data/a.txt", "sha512"),
    }
    assert all(p["expected"] != p["found"] for p in problems)


@pytest.mark.parametrize(("flag", "status"), [("--fast", 0), ("--completeness-only", 0), (None, 1)])
def test_modes(bag: Path, flag: str | None, status: int) -> None:
    flip_bit(bag)  # only full validation reads the bytes
    argv = ["validate", str(bag)] + ([flag] if flag else [])
    assert cli.main(argv) == status


@pytest.mark.parametrize(
    ("make", "message"),
    [(None, "does not exist"), ("dir", "not a bag"), ("file", "not a directory")],
)
def test_unusable_path_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str | None, message: str
) -> None:
    target = tmp_path / "target"
    if make == "dir":
        target.mkdir()
    elif make == "file":
        target.write_text("x")
    assert cli.main(["validate", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(target) in err


@pytest.mark.parametrize("second", ["good", "bad"])
@pytest.mark.parametrize("as_json", [False, True])
def test_unusable_path_does_not_stop_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], second: str, as_json: bool
) -> None:
    """Exit 2 for the unusable path, but every other bag is still validated and reported."""
    other = build_fixture_bag(tmp_path / second)
    if second == "bad":
        flip_bit(other)
    notabag = tmp_path / "notabag.txt"
    notabag.write_text("x")
    argv = ["validate", str(notabag), str(other)] + (["--json"] if as_json else [])
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and str(notabag) in captured.err
    if as_json:
        document = json.loads(captured.out)
        assert document["status"] == "error"
        first, rest = document["bags"]
        assert first["bag"] == str(notabag) and first["status"] == "error"
        assert str(notabag) in first["message"]
        assert rest["status"] == ("valid" if second == "good" else "invalid")
    else:
        assert str(other) in captured.out
        assert ("INVALID" in captured.out) == (second == "bad")


def test_fast_and_completeness_are_exclusive(bag: Path) -> None:
    assert cli.main(["validate", "--fast", "--completeness-only", str(bag)]) == 2


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("v1.0/valid/basicBag", 0),
        ("v0.97/warning/made-with-md5sum-tools", 0),
        ("v1.0/invalid/bagit-with-invalid-whitespace", 1),
        ("v0.97/windows-only/out-of-scope-file-paths-using-unc", 1),
    ],
)
def test_conformance_cases(tmp_path: Path, case: str, status: int) -> None:
    bag = tmp_path / "bag"
    shutil.copytree(SUITE / case, bag)
    assert cli.main(["validate", str(bag)]) == status


def test_warning_is_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bag = tmp_path / "bag"
    shutil.copytree(SUITE / "v0.97/warning/relative-path", bag)
    assert cli.main(["validate", str(bag)]) == 0
    out = capsys.readouterr().out
    assert "warning" in out and "./" in out


# ------------------------------------------------------------------ serialized bags


def _package(bag: Path, out: Path, fmt: str) -> Path:
    out.mkdir(exist_ok=True)
    return serialize_bag(bag, out, fmt, DEFAULT_EPOCH).archive


def _only_payload(bag: Path) -> str:
    (name,) = [p.name for p in (bag / "data").iterdir()]
    return f"data/{name}"


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point tempfile (and so the extraction) at an empty directory of the test's own."""
    target = tmp_path / "tmp"
    target.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(target))
    return target


@pytest.mark.parametrize("fmt", FORMATS)
def test_serialized_bag_validates(
    bag_copy: Path, tmp_path: Path, private_tmp: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _package(bag_copy, tmp_path / "out", fmt)
    assert cli.main(["validate", "--json", str(archive)]) == 0
    (report,) = json.loads(capsys.readouterr().out)["bags"]
    assert report["bag"] == str(archive)
    assert report["status"] == "valid" and report["problems"] == []
    assert report["files"] == 1 and "checksums" in report["checks"]
    assert list(private_tmp.iterdir()) == []  # the extraction directory is gone


@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupt_payload_inside_archive(
    bag_copy: Path, tmp_path: Path, private_tmp: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rel = _only_payload(bag_copy)
    target = bag_copy / rel
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    archive = _package(bag_copy, tmp_path / "out", fmt)  # sidecars match the damaged archive
    assert cli.main(["validate", "--json", str(archive)]) == 1
    (report,) = json.loads(capsys.readouterr().out)["bags"]
    problems = {(p["kind"], p["bag"], p["path"]) for p in report["problems"]}
    assert ("checksum-mismatch", str(archive), rel) in problems
    assert list(private_tmp.iterdir()) == []


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_zip_slip_archive_is_unsafe_and_writes_nothing_outside(
    tmp_path: Path, private_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bag/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        zf.writestr("bag/../../../slipped", "pwned")
        zf.writestr("/tmp/absolute-slip", "pwned")
    before = _tree(tmp_path)
    assert cli.main(["validate", "--json", str(archive)]) == 1
    (report,) = json.loads(capsys.readouterr().out)["bags"]
    problems = {(p["kind"], p["bag"], p["path"]) for p in report["problems"]}
    assert ("unsafe-path", str(archive), "bag/../../../slipped") in problems
    assert ("unsafe-path", str(archive), "/tmp/absolute-slip") in problems
    assert _tree(tmp_path) == before
    assert not Path("/tmp/absolute-slip").exists()


@pytest.mark.parametrize("alg", ["sha256", "sha512"])
def test_sidecar_mismatch_is_checksum_mismatch_on_the_archive(
    bag_copy: Path, tmp_path: Path, alg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _package(bag_copy, tmp_path / "out", "tar")
    sidecar = archive.with_name(f"{archive.name}.{alg}")
    digest, name = sidecar.read_text(encoding="utf-8").split()
    sidecar.write_text(f"{'0' * len(digest)}  {name}\n", encoding="utf-8")
    assert cli.main(["validate", str(archive)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "checksum-mismatch" in out and f"[{alg}]" in out


def test_archive_without_sidecars_still_validates(bag_copy: Path, tmp_path: Path) -> None:
    archive = _package(bag_copy, tmp_path / "out", "zip")
    for alg in ("sha256", "sha512"):
        archive.with_name(f"{archive.name}.{alg}").unlink()
    assert cli.main(["validate", str(archive)]) == 0


def test_unreadable_archive_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"not an archive")
    assert cli.main(["validate", str(archive)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("archiver: error: ")
    assert "broken.tar.gz" in err
