"""Issue 9 at the command line: one-line errors, exit 2 (never 1) for the unexpected,
--debug, outputs never inside a bag, file names escaped, long problem tables summarized."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from test_validator import build_fixture_bag

import archiver.cli as cli
import archiver.workflows.validate as validate_workflow
from archiver.cli.output import MAX_TABLE_ROWS
from archiver.storage.fileio import remove_tree

HOSTILE = "evil\x1b]0;pwned\x07\x1b[2J.txt"


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    return build_fixture_bag(tmp_path / "bag")


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom " + "x" * 5000)


def test_unexpected_exception_is_one_line_exit_2(
    bag: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(validate_workflow, "validate_path", _boom)  # validate_paths calls it
    assert cli.main(["validate", str(bag), str(bag)]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 2  # one per bag: the run went on
    assert all(line.startswith("archiver: error: validate ") for line in lines)
    assert str(bag) in lines[0] and "RuntimeError: boom" in lines[0]
    assert "Traceback" not in err
    assert all(len(line) <= 600 for line in lines)


def test_unexpected_exception_below_any_command_is_caught_by_main(
    bag: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(validate_workflow, "archiver_checkers", _boom)
    assert cli.main(["validate", str(bag)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"archiver: error: validate {bag}: unexpected RuntimeError")
    assert "--debug" in err


def test_debug_prints_the_traceback(
    bag: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(validate_workflow, "archiver_checkers", _boom)
    assert cli.main(["--debug", "validate", str(bag)]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("archiver: error: validate")


def test_long_error_line_is_clipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = tmp_path / ("n" * 250) / ("m" * 250) / ("o" * 250)
    assert cli.main(["validate", str(name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) <= 601
    assert err.rstrip().endswith("…")


def test_file_names_are_escaped_in_human_output(
    bag: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Class 8: a name with ESC ] 0 ; ... BEL ESC [ 2 J shows escaped, never raw."""
    (bag / "data" / HOSTILE).write_bytes(b"surprise\n")
    assert cli.main(["validate", str(bag)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J.txt" in out


def test_error_lines_escape_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", str(tmp_path / HOSTILE)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b]0;pwned" in err


def test_problem_table_is_summarized_beyond_the_row_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Class 3: the human table shows MAX_TABLE_ROWS problems and counts the rest."""
    root = tmp_path / "big"
    (root / "data").mkdir(parents=True)
    (root / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    empty = hashlib.sha256(b"").hexdigest()
    lines = [f"{empty}  data/missing-{i}" for i in range(MAX_TABLE_ROWS + 50)]
    (root / "manifest-sha256.txt").write_text("\n".join(lines) + "\n")
    assert cli.main(["validate", str(root)]) == 1
    out = capsys.readouterr().out
    assert out.count("missing-file") == MAX_TABLE_ROWS + 1  # the rows, and the count line
    assert "… and 50 more problems" in out and "missing-file 50" in out
    assert cli.main(["validate", "--json", str(root)]) == 1
    assert capsys.readouterr().out.count('"missing-file"') == MAX_TABLE_ROWS + 50


def test_audit_json_into_a_missing_directory_is_one_line_exit_2(
    bag: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    argv = ["audit", str(bag), "--ledger", str(ledger), "--json", str(tmp_path / "no" / "r.json")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    assert not ledger.exists()  # refused before the run: nothing recorded, nothing made


@pytest.mark.parametrize("where", ["data/report.json", "report.json"])
def test_audit_json_inside_a_bag_is_refused(
    bag: Path, tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in bag.rglob("*"))
    argv = ["audit", str(bag), "--ledger", str(tmp_path / "l.sqlite"), "--json", str(bag / where)]
    assert cli.main(argv) == 2
    assert "inside the bag" in capsys.readouterr().err
    assert sorted(p.name for p in bag.rglob("*")) == before


def test_audit_ledger_inside_a_bag_is_refused(
    bag: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["audit", str(bag), "--ledger", str(bag / "data" / "l.sqlite")]) == 2
    assert "inside the bag" in capsys.readouterr().err
    assert not (bag / "data" / "l.sqlite").exists()


def test_audit_reports_a_link_to_a_bag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Class 8: a bag that is a symlink inside a collection is reported, not skipped."""
    root = tmp_path / "collection"
    build_fixture_bag(root / "real")
    elsewhere = build_fixture_bag(tmp_path / "elsewhere" / "b")
    (root / "linked").symlink_to(elsewhere, target_is_directory=True)
    argv = ["audit", str(root), "--ledger", str(tmp_path / "l.sqlite"), "--workers", "1"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "linked" in out and "symbolic link to a bag" in out


def test_describe_refuses_a_fifo_without_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("archiver.cli.describe",))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert cli.main(["describe", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_sidecar_not_utf8_is_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from archiver.archive.serialize import DEFAULT_EPOCH, serialize_bag

    bag = build_fixture_bag(tmp_path / "b")
    result = serialize_bag(bag, tmp_path, "tar", DEFAULT_EPOCH)
    (tmp_path / "b.tar.sha256").write_bytes(b"\xff\xfe not utf-8 \x80\n")
    assert cli.main(["validate", str(result.archive)]) == 1
    out = capsys.readouterr().out
    assert "invalid-manifest" in out and "not valid UTF-8" in out


def test_package_into_the_bag_is_refused_nothing_written(
    bag: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Class 4: `package BAG --out BAG/data` would make the bag invalid."""
    before = sorted(str(p) for p in bag.rglob("*"))
    assert cli.main(["package", str(bag), "--format", "tar", "--out", str(bag / "data")]) == 2
    assert "inside the bag" in capsys.readouterr().err
    assert sorted(str(p) for p in bag.rglob("*")) == before


def test_package_a_1100_deep_payload(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Class 1: no RecursionError; the archive validates. The tree is removed here
    (iteratively): pytest's own clean-up uses shutil.rmtree, which would recurse."""
    bag = tmp_path / "deep"
    try:
        (bag / "data").mkdir(parents=True)
        current = bag / "data"
        for _ in range(1100):  # deeper than the recursion limit (1000)
            current = current / "d"
            os.mkdir(current)
        (current / "f.txt").write_bytes(b"deep\n")
        rel = os.path.relpath(current / "f.txt", bag)
        (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        (bag / "bag-info.txt").write_text("Payload-Oxum: 5.1\n")
        for alg in ("sha256", "sha512"):
            digest = hashlib.new(alg, b"deep\n").hexdigest()
            (bag / f"manifest-{alg}.txt").write_text(f"{digest}  {rel}\n")
        out = tmp_path / "out"
        assert cli.main(["package", str(bag), "--format", "tar.gz", "--out", str(out)]) == 0
        capsys.readouterr()
        assert cli.main(["validate", str(out / "deep.tar.gz")]) == 0
    finally:
        remove_tree(bag)


def test_package_goes_on_past_an_unexpected_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import archiver.workflows.package as packaging

    bags = [build_fixture_bag(tmp_path / name) for name in ("one", "two")]
    real = packaging.serialize_bag

    def fragile(bag: Path, *args: object) -> object:
        if bag.name == "one":
            raise RuntimeError("surprise")
        return real(bag, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(packaging, "serialize_bag", fragile)
    out = tmp_path / "out"
    assert cli.main(["package", *map(str, bags), "--format", "tar", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "package" in err and "RuntimeError: surprise" in err
    assert (out / "two.tar").is_file() and not (out / "one.tar").exists()
