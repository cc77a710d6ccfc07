"""Tests for `archiver audit`: exit statuses, summary, --json, ledger, incremental audits."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_validator import build_fixture_bag, flip_bit

import archiver.cli as cli
from archiver.archive.serialize import DEFAULT_EPOCH, FORMATS, serialize_bag
from archiver.cli.audit import parse_duration, print_summary
from archiver.cli.output import make_console
from archiver.ledger.store import Ledger, default_ledger_path
from archiver.model.reports import AuditReport, AuditTotals


@pytest.fixture(autouse=True)
def only_our_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register validate and audit alone, whatever else the dispatcher lists."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("archiver.cli.validate", "archiver.cli.audit"))


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    root = tmp_path / "bags"
    for name in ("one", "two", "three"):
        build_fixture_bag(root / name)
    return root


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--workers",
        "--json",
        "--ledger",
        "--oldest",
        "--budget",
        "--fast",
        "--scheduler",
    ):
        assert option in out
    assert "--metadata" in out and "default: off" in out


def test_clean_collection_exits_0(collection: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", str(collection), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 bags intact" in out and "MB/s" in out
    assert "Problems in" not in out
    assert not (collection / ".audit-ledger.sqlite").exists()  # a read-only root works
    with Ledger.open(default_ledger_path([collection]), create=False) as ledger:
        assert len(ledger.runs()) == 1


def test_an_intact_audit_prints_without_rich_what_rich_prints(
    collection: Path, tmp_path: Path
) -> None:
    """Off a terminal, an intact audit skips importing rich; its line is rich's line."""
    ledger = tmp_path / "ledger.sqlite"
    code = (
        "import sys; from archiver.cli import main; "
        f"status = main(['audit', {str(collection)!r}, '--workers', '1', '--ledger', "
        f"{str(ledger)!r}]); print('rich' in sys.modules, status)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    line, imported = done.stdout.splitlines()
    assert (imported, done.stderr) == ("False 0", "")
    with Ledger.open(ledger, create=False) as opened:
        run = opened.runs()[-1]
    report = AuditReport(
        run_id=run.run_id, started="", ended="", mode="full", roots=(), bags=(),
        totals=AuditTotals(bags=3, intact=3, failed=0, files=0, bytes=0, seconds=0.0),
        versions={},
    )  # fmt: skip
    rendered = io.StringIO()
    print_summary(make_console_on(rendered), report, Path(f"[bold]{ledger}"))
    plain = io.StringIO()
    with contextlib.redirect_stdout(plain):
        print_summary(None, report, Path(f"[bold]{ledger}"))
    assert plain.getvalue() == rendered.getvalue()
    assert line.startswith(f"audit {run.run_id}: intact — 3 of 3 bags intact, 0 failed")


def make_console_on(file: io.StringIO) -> Any:
    """The console ``make_console`` makes off a terminal, writing into ``file``."""
    with contextlib.redirect_stdout(file):
        return make_console()


def test_fault_exits_1_with_kind_bag_and_path(
    collection: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip_bit(collection / "two")
    assert cli.main(["audit", str(collection), "--workers", "2"]) == 1
    out = capsys.readouterr().out
    assert "2 of 3 bags intact, 1 failed" in out
    assert "checksum-mismatch" in out and "data/a.txt" in out and str(collection / "two") in out


def test_json_to_stdout(collection: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flip_bit(collection / "one")
    assert cli.main(["audit", str(collection), "--workers", "1", "--json", "-"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "failed"
    assert document["totals"]["bags"] == 3 and document["totals"]["failed"] == 1
    statuses = {Path(b["bag"]).name: b["status"] for b in document["bags"]}
    assert statuses == {"one": "invalid", "two": "valid", "three": "valid"}


def test_json_to_file_and_custom_ledger(
    collection: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    ledger = tmp_path / "ledger.sqlite"
    argv = ["audit", str(collection), "--workers", "1", "--json", str(report)]
    assert cli.main([*argv, "--ledger", str(ledger)]) == 0
    assert "intact" in capsys.readouterr().out
    assert json.loads(report.read_text())["status"] == "intact"
    assert ledger.is_file()
    assert not (collection / ".audit-ledger.sqlite").exists()


@pytest.mark.parametrize(
    ("extra", "kinds"),
    [([], {"checksum-mismatch"}), (["--metadata"], {"checksum-mismatch", "invalid-metadata"})],
)
def test_metadata_option(
    collection_copy: Path,
    bag_copy: Path,
    extra: list[str],
    kinds: set[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    record = bag_copy / "metadata" / "dc.json"
    record.write_bytes(record.read_bytes().replace(b'"dc.title"', b'"dc.titel"'))
    argv = ["audit", str(collection_copy), "--workers", "1", "--json", "-", *extra]
    assert cli.main(argv) == 1
    document = json.loads(capsys.readouterr().out)
    (failed,) = [b for b in document["bags"] if b["status"] == "invalid"]
    assert {p["kind"] for p in failed["problems"] if p["path"] == "metadata/dc.json"} == kinds


def test_oldest_audits_the_most_overdue(collection: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    seen: list[str] = []
    for _ in range(3):
        out = tmp_path / "r.json"
        argv = ["audit", str(collection), "--workers", "1", "--oldest", "1", "--json", str(out)]
        assert cli.main([*argv, "--ledger", str(ledger)]) == 0
        bags = json.loads(out.read_text())["bags"]
        assert len(bags) == 1
        seen.append(Path(bags[0]["bag"]).name)
    assert sorted(seen) == ["one", "three", "two"]


def test_budget_selects_at_least_one(collection: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    argv = ["audit", str(collection), "--workers", "1", "--budget", "1s", "--json", str(out)]
    assert cli.main([*argv, "--ledger", str(tmp_path / "l.sqlite")]) == 0
    assert len(json.loads(out.read_text())["bags"]) >= 1


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("15m", 900.0), ("2h", 7200.0), ("1h30m", 5400.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0", "-5", "1d", "m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


@pytest.mark.parametrize(
    "argv",
    [
        ["--workers", "0"],
        ["--workers", "two"],
        ["--budget", "soon"],
        ["--oldest", "0"],
        ["--fast", "--completeness-only"],
    ],
)
def test_bad_arguments_exit_2(collection: Path, argv: list[str]) -> None:
    assert cli.main(["audit", str(collection), *argv]) == 2


def test_missing_root_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


@pytest.mark.parametrize("extra", [[], ["--oldest", "1"], ["--budget", "1h"], ["--json", "-"]])
def test_no_bags_found_exits_2_without_a_ledger(
    tmp_path: Path, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    (empty / "not-a-bag").mkdir(parents=True)
    assert cli.main(["audit", str(empty), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"archiver: error: {empty}: no bags found\n"
    assert captured.out == ""
    assert not (empty / ".audit-ledger.sqlite").exists()
    assert not default_ledger_path([empty]).exists()


def test_completeness_only_ignores_bit_flips(collection: Path) -> None:
    flip_bit(collection / "one")
    assert cli.main(["audit", str(collection), "--workers", "1", "--completeness-only"]) == 0


def test_built_collection_exits_0_then_1(
    collection_copy: Path, bag_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["audit", str(collection_copy)]) == 0
    (bag_copy / "data" / "extra.txt").write_text("slipped in")
    assert cli.main(["audit", str(collection_copy)]) == 1
    out = capsys.readouterr().out
    assert "unexpected-file" in out and "data/extra.txt" in out
    with Ledger.open(default_ledger_path([collection_copy]), create=False) as ledger:
        assert [r.failed for r in ledger.runs()] == [0, 1]


def test_root_that_is_a_bag_keeps_the_ledger_outside_it(collection: Path) -> None:
    bag = collection / "one"
    assert cli.main(["audit", str(bag), "--workers", "1"]) == 0
    assert not (bag / ".audit-ledger.sqlite").exists()
    # the ledger of the collection the bag is in
    with Ledger.open(default_ledger_path([collection]), readonly=True) as ledger:
        assert len(ledger.runs()) == 1
    assert cli.main(["audit", str(bag), "--workers", "1"]) == 0


# ------------------------------------------------------------------ serialized bags


def _package(bag: Path, out: Path, fmt: str) -> Path:
    out.mkdir(exist_ok=True)
    return serialize_bag(bag, out, fmt, DEFAULT_EPOCH).archive


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point tempfile (and so the extraction) at an empty directory of the test's own."""
    target = tmp_path / "tmp"
    target.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(target))
    return target


def _audit_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    status = cli.main(["audit", "--workers", "1", "--json", "-", *argv])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("fmt", FORMATS)
def test_serialized_bag_audits_clean_and_is_in_the_ledger(
    bag_copy: Path, tmp_path: Path, private_tmp: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _package(bag_copy, tmp_path / "out", fmt)
    ledger = tmp_path / "ledger.sqlite"
    status, document = _audit_json([str(archive), "--ledger", str(ledger)], capsys)
    assert status == 0
    (bag,) = document["bags"]
    assert (bag["bag"], bag["status"], bag["problems"]) == (str(archive), "valid", [])
    with Ledger.open(ledger, create=False) as opened:
        (outcome,) = opened.history(str(archive))
    assert outcome.status == "valid" and outcome.files == 1
    assert list(private_tmp.iterdir()) == []


def test_default_ledger_of_an_archive_root_is_its_directory(bag_copy: Path, tmp_path: Path) -> None:
    archive = _package(bag_copy, tmp_path / "out", "tar")
    assert cli.main(["audit", "--workers", "1", str(archive)]) == 0
    assert default_ledger_path([tmp_path / "out"]).is_file()
    assert not (tmp_path / "out" / ".audit-ledger.sqlite").exists()


def test_archive_and_directory_roots_in_one_run(
    collection_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = sorted(p for p in collection_copy.iterdir() if p.is_dir())[:2]
    archive = _package(first, tmp_path / "out", "tar.gz")
    ledger = tmp_path / "ledger.sqlite"
    status, document = _audit_json([str(archive), str(second), "--ledger", str(ledger)], capsys)
    assert status == 0
    assert {b["bag"] for b in document["bags"]} == {str(archive), str(second)}
    with Ledger.open(ledger, create=False) as opened:
        assert len(opened.runs()) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupt_payload_inside_archive_exits_1(
    bag_copy: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (payload,) = (bag_copy / "data").iterdir()
    data = bytearray(payload.read_bytes())
    data[0] ^= 0x20
    payload.write_bytes(bytes(data))
    archive = _package(bag_copy, tmp_path / "out", fmt)
    status, document = _audit_json([str(archive), "--ledger", str(tmp_path / "l.sqlite")], capsys)
    assert status == 1
    problems = {(p["kind"], p["bag"], p["path"]) for p in document["bags"][0]["problems"]}
    assert ("checksum-mismatch", str(archive), f"data/{payload.name}") in problems


def test_zip_slip_archive_is_unsafe_and_writes_nothing_outside(
    tmp_path: Path, private_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bag/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        zf.writestr("bag/../../slipped", "pwned")
    ledger = tmp_path / "l.sqlite"
    before = set(tmp_path.rglob("*"))
    status, document = _audit_json([str(archive), "--ledger", str(ledger)], capsys)
    assert status == 1
    problems = {(p["kind"], p["bag"], p["path"]) for p in document["bags"][0]["problems"]}
    assert problems == {("unsafe-path", str(archive), "bag/../../slipped")}
    assert set(tmp_path.rglob("*")) - before == {ledger}
    assert list(private_tmp.iterdir()) == []


def test_sidecar_mismatch_is_checksum_mismatch_on_the_archive(
    bag_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _package(bag_copy, tmp_path / "out", "tar.gz")
    with open(archive, "ab") as fh:  # bytes appended after the archive: extraction still works
        fh.write(b"\0" * 512)
    status, document = _audit_json([str(archive), "--ledger", str(tmp_path / "l.sqlite")], capsys)
    assert status == 1
    problems = {(p["kind"], p["path"], p.get("algorithm")) for p in document["bags"][0]["problems"]}
    assert problems == {
        ("checksum-mismatch", ".", "sha256"),
        ("checksum-mismatch", ".", "sha512"),
    }
