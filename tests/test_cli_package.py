"""Tests for `archiver package` (archiver.cli.package)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import bagit
import pytest
from test_fileio import dead_pid

import archiver.cli
from archiver.cli import main


@pytest.fixture(autouse=True)
def only_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archiver.cli, "COMMAND_MODULES", ("archiver.cli.package",))


def make_bag(root: Path, name: str) -> Path:
    bag_dir = root / name
    bag_dir.mkdir(parents=True)
    (bag_dir / "text.txt").write_text(f"{name}\n", encoding="utf-8")
    bagit.make_bag(str(bag_dir), {"External-Identifier": f"urn:{name}"}, checksums=["sha256"])
    return bag_dir


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--format" in out and "SOURCE_DATE_EPOCH" in out


@pytest.mark.parametrize("fmt", ["tar", "tar.gz", "zip"])
def test_package_two_bags_reproducibly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    bags = [make_bag(tmp_path / "bags", n) for n in ("one", "two")]
    out1, out2 = tmp_path / "p1", tmp_path / "p2"
    assert main(["package", *map(str, bags), "--format", fmt, "--out", str(out1)]) == 0
    assert main(["package", *map(str, bags), "--format", fmt, "--out", str(out2)]) == 0
    names = sorted(p.name for p in out1.iterdir())
    assert names == sorted(
        f"{b}.{fmt}{suffix}" for b in ("one", "two") for suffix in ("", ".sha256", ".sha512")
    )
    for name in names:
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes()
    assert f"one.{fmt}" in capsys.readouterr().out


def test_missing_bag_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = make_bag(tmp_path / "bags", "good")
    status = main(
        [
            "package",
            str(tmp_path / "nope"),
            str(good),
            "--format",
            "tar",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err and "Traceback" not in err
    assert (tmp_path / "o" / "good.tar").is_file()  # the other bag was still packaged


@pytest.mark.parametrize(
    ("tamper", "kind"),
    [
        (lambda bag: (bag / "data" / "text.txt").write_text("tampered\n"), "checksum-mismatch"),
        (lambda bag: (bag / "data" / "text.txt").unlink(), "missing-file"),
        (lambda bag: (bag / "data" / "extra.txt").write_text("x\n"), "unexpected-file"),
    ],
    ids=["changed", "missing", "extra"],
)
def test_invalid_bag_is_refused_exit_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: Callable[[Path], object],
    kind: str,
) -> None:
    """Fresh sidecars must never vouch for a damaged bag: nothing is written for it."""
    bad = make_bag(tmp_path / "bags", "bad")
    good = make_bag(tmp_path / "bags", "good")
    tamper(bad)
    out = tmp_path / "o"
    assert main(["package", str(bad), str(good), "--format", "tar", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "INVALID" in printed and kind in printed and "data/" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "good.tar",
        "good.tar.sha256",
        "good.tar.sha512",
    ]


@pytest.mark.parametrize(
    "argv",
    [["package", "x", "--format", "rar"], ["package", "x"], ["package", "--format", "tar"]],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    assert main(argv) == 2


def test_bad_source_date_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    bag = make_bag(tmp_path / "bags", "one")
    assert main(["package", str(bag), "--format", "zip", "--out", str(tmp_path / "o")]) == 2
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err


def test_stale_temporaries_of_a_killed_run_are_removed_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = make_bag(tmp_path / "bags", "one")
    out = tmp_path / "packages"
    out.mkdir()
    stale = out / f".one.tar.{dead_pid()}.abcd_123.tmp"  # what kill -9 mid-write leaves
    stale.write_bytes(b"half an archive")
    live = out / f".one.tar.{os.getppid()}.abcd_123.tmp"  # a run still writing: left alone
    live.write_bytes(b"being written")
    assert main(["package", str(bag), "--format", "tar", "--out", str(out)]) == 0
    assert not stale.exists() and live.exists()
    err = capsys.readouterr().err
    assert err == f"archiver: removed {stale}, left by a package run that was killed\n"
