"""`archiver init [DIR]`: a commented, valid archive.toml and a catalog header that a
first `archiver build` accepts; nothing is ever overwritten."""

from __future__ import annotations

import csv
import shutil
import tomllib
from pathlib import Path

import pytest

import archiver.cli as cli
from archiver.config import load_config
from archiver.workflows.init import ARCHIVE_TOML, CATALOG_COLUMNS

SOURCES = Path(__file__).resolve().parent.parent / "sources"


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["init", "--help"]) == 0
    out = capsys.readouterr().out
    assert "archive.toml" in out and "sources/metadata.csv" in out


def test_init_lays_out_a_collection_that_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init"]) == 0
    out = capsys.readouterr().out
    assert "created archive.toml" in out and "archiver build" in out
    config = load_config(tmp_path / "archive.toml")  # valid as written
    assert config.organization == "Example Archive"
    text = (tmp_path / "archive.toml").read_text(encoding="utf-8")
    assert text.count("#") > 10 and "# [ledger]" in text
    with open(tmp_path / "sources" / "metadata.csv", newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == list(CATALOG_COLUMNS)
    assert not (tmp_path / "bags").exists()
    # one file and a row, then build with every default
    seed = sorted(SOURCES.glob("*.txt"))[0]
    shutil.copyfile(seed, tmp_path / "sources" / seed.name)
    with open(tmp_path / "sources" / "metadata.csv", "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(
            [
                seed.name,
                "item-1",
                "A title",
                "A creator",
                "2011-12",
                "What it is",
                "en",
                "Text",
                "unknown",
            ]
        )
    assert cli.main(["build"]) == 0, capsys.readouterr()
    assert (tmp_path / "bags" / "item-1" / "bagit.txt").is_file()  # named by dc.identifier
    assert cli.main(["validate", "bags/item-1"]) == 0


def test_init_makes_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "collection"
    assert cli.main(["init", str(target)]) == 0
    assert (target / "archive.toml").is_file() and (target / "sources" / "metadata.csv").is_file()


@pytest.mark.parametrize("existing", ["archive.toml", "sources/metadata.csv"])
def test_init_never_overwrites(
    tmp_path: Path, existing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / existing
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("mine\n", encoding="utf-8")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert cli.main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err
    assert path.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_init_refuses_a_file_as_its_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", encoding="utf-8")
    assert cli.main(["init", str(tmp_path / "f")]) == 2


def test_the_template_names_every_required_setting() -> None:
    data = tomllib.loads(ARCHIVE_TOML)
    assert set(data) == {"organization", "contact", "collection", "rights", "bag"}
