"""One answer to "which ledger?": ``archiver.config.resolve_ledger``, and every command that
reads or writes the ledger (audit, report, ledger show/verify/premis, deposit, repair,
show) finding the same file, from the collection's folder and from elsewhere."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import archiver.cli as cli
from archiver.config import LedgerSource, ledger_setting, resolve_ledger
from archiver.ledger.store import LEDGER_FILENAME, Ledger, default_ledger_path
from archiver.model.errors import ConfigError, LedgerError
from archiver.storage.datadir import collection_key

ROOT = Path(__file__).resolve().parent.parent
NOTE = re.compile(r"\bledger (/\S+) \(")  # on stderr, or in the summary


def _config(folder: Path, ledger: str | None) -> Path:
    text = (ROOT / "archive.toml").read_text(encoding="utf-8")
    if ledger is not None:
        text += f'\n[ledger]\npath = "{ledger}"\n'
    path = folder / "archive.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_option_wins_over_config_and_default(tmp_path: Path) -> None:
    config = _config(tmp_path, "kept/ledger.sqlite")
    found = resolve_ledger(tmp_path / "given.sqlite", config=config, roots=[tmp_path])
    assert found.path == tmp_path / "given.sqlite" and found.source is LedgerSource.OPTION


def test_config_path_is_relative_to_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, "kept/ledger.sqlite")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    found = resolve_ledger(None, config=config, roots=["x"])
    assert found.path == tmp_path / "kept" / "ledger.sqlite"
    assert found.source is LedgerSource.CONFIG and str(config) in found.describe()
    monkeypatch.chdir(tmp_path)  # ./archive.toml is read when --config is not given
    assert resolve_ledger(None).path == tmp_path / "kept" / "ledger.sqlite"


def test_a_config_without_ledger_falls_back_to_the_collection(tmp_path: Path) -> None:
    config = _config(tmp_path, None)
    assert ledger_setting(config) is None
    found = resolve_ledger(None, config=config, roots=[tmp_path / "bags"])
    assert found.source is LedgerSource.COLLECTION
    assert found.path == default_ledger_path([tmp_path / "bags"])
    assert found.path.name == f"{collection_key([tmp_path / 'bags'])}.sqlite"


@pytest.mark.parametrize("table", ['[ledger]\npath = ""\n', "[ledger]\n", '[ledger]\np = "x"\n'])
def test_a_bad_ledger_table_is_refused(tmp_path: Path, table: str) -> None:
    config = _config(tmp_path, None)
    config.write_text(config.read_text(encoding="utf-8") + table, encoding="utf-8")
    with pytest.raises(ConfigError, match="ledger"):
        resolve_ledger(None, config=config, roots=[tmp_path])


def test_a_missing_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        resolve_ledger(None, config=tmp_path / "absent.toml", roots=[tmp_path])


def test_the_legacy_ledger_in_the_root_is_still_found(tmp_path: Path) -> None:
    (tmp_path / LEDGER_FILENAME).write_bytes(b"")
    found = resolve_ledger(None, roots=[tmp_path])
    assert found.path == tmp_path / LEDGER_FILENAME and found.source is LedgerSource.LEGACY


def test_no_collection_named_and_no_bags_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LedgerError, match="--root DIR"):
        resolve_ledger(None)
    (tmp_path / "bags").mkdir()
    assert resolve_ledger(None).path == default_ledger_path([tmp_path / "bags"])


def _noted(err: str) -> set[str]:
    return set(NOTE.findall(err))


def test_every_command_finds_the_ledger_audit_wrote(
    collection_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """audit bags, then report, ledger show/verify/premis, deposit, repair and show, from
    the collection's folder and from another one: all use the one ledger file."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["audit", "bags", "--workers", "1"]) == 0
    expected = default_ledger_path([collection_copy])
    assert expected.is_file()
    capsys.readouterr()
    bag = sorted(p.name for p in collection_copy.iterdir())[0]
    runs = [
        ["report", "--out", str(tmp_path / "report.html")],
        ["ledger", "show"],
        ["ledger", "verify"],
        ["ledger", "premis", f"bags/{bag}", "--out", str(tmp_path / "p.xml")],
        ["deposit", f"bags/{bag}", "--to", f"file://{tmp_path / 'copies'}"],
        ["repair", f"bags/{bag}"],
        ["show", f"bags/{bag}"],
    ]
    for argv in runs:
        assert cli.main(argv) == 0, argv
        captured = capsys.readouterr()
        assert _noted(captured.out + captured.err) == {str(expected)}, argv
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    absolute = str(collection_copy / bag)
    elsewhere = [
        ["report", "--root", str(collection_copy), "--out", str(other / "report.html")],
        ["ledger", "show", "--root", str(collection_copy)],
        ["ledger", "verify", "--root", str(collection_copy)],
        ["deposit", absolute, "--to", f"file://{tmp_path / 'copies'}"],
        ["repair", absolute],
        ["show", absolute],
    ]
    for argv in elsewhere:
        assert cli.main(argv) == 0, argv
        captured = capsys.readouterr()
        assert _noted(captured.out + captured.err) == {str(expected)}, argv
    with Ledger.open(expected, readonly=True) as ledger:
        kinds = [r.kind for r in ledger.runs()]
    assert kinds[0] == "audit" and "deposit" in kinds
    # from elsewhere without --root: said plainly, exit 2, nothing guessed
    assert cli.main(["ledger", "show"]) == 2
    assert "--root DIR" in capsys.readouterr().err


def test_the_config_names_the_ledger_for_every_command(
    collection_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(tmp_path, "ledger/archive-ledger.sqlite")
    (tmp_path / "ledger").mkdir()
    expected = tmp_path / "ledger" / "archive-ledger.sqlite"
    monkeypatch.chdir(tmp_path)
    assert cli.main(["audit", "bags", "--workers", "1"]) == 0
    assert expected.is_file() and not default_ledger_path([collection_copy]).exists()
    assert str(expected) in capsys.readouterr().out  # the summary says where
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    bag = str(sorted(collection_copy.iterdir())[0])
    for argv in (
        ["ledger", "verify", "--config", str(config)],
        ["ledger", "show", "--config", str(config)],
        ["report", "--config", str(config), "--out", str(other / "r.html")],
        ["show", bag, "--config", str(config)],
        ["repair", bag, "--config", str(config)],
    ):
        assert cli.main(argv) == 0, argv
        captured = capsys.readouterr()
        assert _noted(captured.out + captured.err) == {str(expected)}, argv


def test_a_report_with_no_ledger_yet_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bags").mkdir()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", "--out", "r.html"]) == 2
    err = capsys.readouterr().err
    assert "no ledger here" in err and str(default_ledger_path(["bags"])) in err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["audit"],
        ["report"],
        ["ledger", "show"],
        ["ledger", "verify"],
        ["ledger", "premis"],
        ["deposit"],
        ["repair"],
        ["show"],
        ["build"],
    ],
)
def test_every_help_states_the_real_default(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*argv, "--help"]) == 0
    out = re.sub(r"(\w)- (\w)", r"\1-\2", " ".join(capsys.readouterr().out.split()))
    assert "[ledger] path" in out and "per-user data directory" in out
    assert "parent of first BAG" not in out


def test_an_unusual_root_is_found_again_from_its_copy(tmp_path: Path) -> None:
    """The key is the resolved path: the same folder named two ways is one collection."""
    (tmp_path / "c").mkdir()
    one = resolve_ledger(None, roots=[tmp_path / "c"]).path
    two = resolve_ledger(None, roots=[tmp_path / "x" / ".." / "c"]).path
    assert one == two
    shutil.rmtree(tmp_path / "c")
