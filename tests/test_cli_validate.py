"""Tests for `archiver validate`: exit statuses, human output, --json, modes, help."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_validator import build_fixture_bag, delete, flip_bit

import archiver.cli as cli

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
