"""`archiver show BAG`: what a bag is and holds, its last audit and copies, read within
bounds and never through a link."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import archiver.cli as cli


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--json" in out and "--ledger" in out


def test_show_a_bag_before_and_after_its_audit(
    bag_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["show", str(bag_copy)]) == 0
    captured = capsys.readouterr()
    assert "never audited" in captured.out and "archiver: ledger" in captured.err
    assert "Plain Text File (x-fmt/111)" in captured.out
    assert cli.main(["audit", str(bag_copy.parent), "--workers", "1"]) == 0
    capsys.readouterr()
    assert cli.main(["show", str(bag_copy), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["identifier"] == bag_copy.name
    assert data["title"] and data["creators"] and data["dates"]
    assert data["profile"].startswith("https://")
    [payload] = data["files"]
    assert payload["path"].startswith("data/") and payload["size"] > 0
    assert payload["format"].endswith("(x-fmt/111)") and "sha256" in payload["digest"]
    assert data["ledger_found"] is True
    assert data["last_audit"]["status"] == "valid" and data["copies"] == []


def test_show_lists_a_copy(
    bag_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["deposit", str(bag_copy), "--to", f"file://{tmp_path / 'copies'}"]) == 0
    capsys.readouterr()
    assert cli.main(["show", str(bag_copy), "--json"]) == 0
    copies = json.loads(capsys.readouterr().out)["copies"]
    assert len(copies) == 1 and copies[0]["target"].startswith("file://")


@pytest.mark.parametrize("make", ["missing", "file", "folder"])
def test_not_a_bag_is_one_line_exit_2(
    tmp_path: Path, make: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x"
    if make == "file":
        target.write_text("x", encoding="utf-8")
    elif make == "folder":
        target.mkdir()
    assert cli.main(["show", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("archiver: error:")


def test_links_are_not_followed(
    bag_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A metadata folder swapped for a link to elsewhere is not read through."""
    outside = tmp_path / "outside"
    os.rename(bag_copy / "metadata", outside)
    (bag_copy / "metadata").symlink_to(outside)
    assert cli.main(["show", str(bag_copy)]) == 2
    assert "metadata is not a folder" in capsys.readouterr().err
    (bag_copy / "metadata").unlink()
    os.rename(outside, bag_copy / "metadata")
    info = bag_copy / "bag-info.txt"
    os.rename(info, tmp_path / "info")
    info.symlink_to(tmp_path / "info")
    assert cli.main(["show", str(bag_copy)]) == 2
    assert "links are not followed" in capsys.readouterr().err


def test_an_oversized_tag_file_is_refused(
    bag_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import archiver.bag.validator as validator

    monkeypatch.setattr(validator.read_tag_file, "__defaults__", (100,))
    assert cli.main(["show", str(bag_copy)]) == 2
    assert "more than a tag file may hold" in capsys.readouterr().err
