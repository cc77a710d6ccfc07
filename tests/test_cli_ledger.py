"""Tests for `archiver ledger show|verify|premis`, run in process through main()."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import archiver.cli
from archiver.cli import main
from archiver.ledger.store import LEDGER_FILENAME, Ledger, LedgerEvent, default_ledger_path
from archiver.metadata.validation import SchemaSet
from archiver.model.findings import BagReport, Finding, Kind
from archiver.model.reports import AuditReport, AuditTotals

NS = {"p": "http://www.loc.gov/premis/v3"}

BROKEN = Finding(
    Kind.CHECKSUM_MISMATCH,
    "/c/beta",
    "data/text.txt",
    "sha256 differs",
    algorithm="sha256",
    expected="a" * 64,
    found="b" * 64,
)


@pytest.fixture(autouse=True)
def only_ledger_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register just this command, so these tests do not depend on the others' modules."""
    monkeypatch.setattr(archiver.cli, "COMMAND_MODULES", ("archiver.cli.ledger",))


def report(run_id: str, day: int, beta_ok: bool) -> AuditReport:
    bags = (
        BagReport(bag="/c/alpha", files=2, bytes=100),
        BagReport(bag="/c/beta", files=2, bytes=300, findings=() if beta_ok else (BROKEN,)),
    )
    return AuditReport(
        run_id=run_id,
        started=f"2026-02-{day:02d}T02:00:00+00:00",
        ended=f"2026-02-{day:02d}T02:00:03+00:00",
        mode="full",
        roots=("/c",),
        versions={"archiver": "0.1.0"},
        bags=bags,
        totals=AuditTotals(
            bags=2,
            intact=2 if beta_ok else 1,
            failed=0 if beta_ok else 1,
            files=4,
            bytes=400,
            seconds=3.0,
        ),
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / LEDGER_FILENAME
    with Ledger.open(path) as led:
        led.record_run(report("run-1", 1, beta_ok=True))
        led.record_run(report("run-2", 2, beta_ok=False))
        led.record_events(
            [LedgerEvent("replication", "/c/alpha", "2026-02-03T00:00:00+00:00", "success", "v1")],
            run_id="dep-1",
            started="2026-02-03T00:00:00+00:00",
            ended="2026-02-03T00:00:01+00:00",
            versions={"archiver": "0.1.0"},
            target="ocfl:///srv/ocfl",
        )
    return path


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ledger", "--help"], ["show", "verify", "premis", "per-user data directory"]),
        (["ledger", "show", "--help"], ["BAG", "--ledger F", "--json"]),
        (["ledger", "verify", "--help"], ["--head HASH", "--ledger F", "tampered"]),
        (["ledger", "premis", "--help"], ["BAG", "--object-id ID", "--out FILE"]),
    ],
)
def test_help(argv: list[str], expected: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: archiver {' '.join(argv[:-1])}")
    for text in expected:
        assert text in out


def test_subcommand_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger"]) == 2
    assert "required" in capsys.readouterr().err


def test_show_runs(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "show", "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "3 runs, head " in out
    for text in ("run-1", "run-2", "dep-1", "deposit", "2026-02-02T02:00:03+00:00"):
        assert text in out


def test_show_runs_json(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "show", "--ledger", str(ledger), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in data["runs"]] == ["run-1", "run-2", "dep-1"]
    assert data["runs"][1]["failed"] == 1
    assert data["runs"][1]["prev_hash"] == data["runs"][0]["hash"]


@pytest.mark.parametrize("given", ["/c/beta", "beta", "beta/", "c/beta"])
def test_show_bag_history_json(
    ledger: Path, given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ledger", "show", given, "--ledger", str(ledger), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bag"] == "/c/beta"
    assert [(a["run_id"], a["status"]) for a in data["audits"]] == [
        ("run-1", "valid"),
        ("run-2", "invalid"),
    ]
    problem = data["audits"][1]["problems"][0]
    assert (problem["kind"], problem["path"], problem["found"]) == (
        "checksum-mismatch",
        "data/text.txt",
        "b" * 64,
    )
    assert data["events"] == []


def test_show_bag_history_human(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "show", "alpha", "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "/c/alpha: 2 audits, 1 deposit/repair events" in out
    assert "replication" in out and "ocfl:///srv/ocfl" in out
    assert main(["ledger", "show", "beta", "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "checksum-mismatch data/text.txt (sha256)" in out and "invalid" in out


def test_show_unknown_bag(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "show", "gamma", "--ledger", str(ledger)]) == 0
    assert "nothing recorded for gamma" in capsys.readouterr().out


def test_verify_intact(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "verify", "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "intact — 3 runs, head " in out


def _tamper(path: Path, statement: str) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute(statement)
        db.commit()
    finally:
        db.close()


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        (
            "UPDATE outcomes SET status = 'valid', findings = '[]' "
            "WHERE seq = 2 AND bag = '/c/beta'",
            "run seq 2 (id run-2): bag outcome for /c/beta edited",
        ),
        (
            "UPDATE runs SET failed = 0 WHERE seq = 2",
            "run seq 2 (id run-2): run row edited",
        ),
        ("DELETE FROM runs WHERE seq = 1", "run seq 1 (id run-1) missing before run seq 2"),
        ("DELETE FROM runs WHERE seq = 3", "run seq 3 deleted: its bag outcomes/events remain"),
    ],
    ids=["edited-outcome", "edited-run", "deleted-run", "truncated"],
)
def test_verify_tampered(
    ledger: Path, statement: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _tamper(ledger, statement)
    assert main(["ledger", "verify", "--ledger", str(ledger)]) == 1
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "TAMPERED" in first and "first broken link" in first
    assert where in first


def test_verify_json(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "verify", "--ledger", str(ledger), "--json"]) == 0
    intact = json.loads(capsys.readouterr().out)
    assert (intact["status"], intact["runs"], intact["problems"]) == ("intact", 3, [])
    _tamper(ledger, "UPDATE runs SET mode = 'fast' WHERE seq = 1")
    assert main(["ledger", "verify", "--ledger", str(ledger), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "tampered"
    assert [(p["kind"], p["seq"], p["run_id"]) for p in data["problems"]] == [
        ("edited-run", 1, "run-1")
    ]


def test_verify_expected_head(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "verify", "--ledger", str(ledger), "--json"]) == 0
    head = json.loads(capsys.readouterr().out)["head"]
    assert main(["ledger", "verify", "--ledger", str(ledger), "--head", head]) == 0
    capsys.readouterr()
    assert main(["ledger", "verify", "--ledger", str(ledger), "--head", "0" * 64]) == 1
    assert "the chain was rewritten" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no ledger here (no such file)"),
        (b"not a database\n" * 200, "not a readable ledger (file is not a database)"),
        (b"", "not an archiver ledger (an empty file)"),
    ],
    ids=["missing", "garbage", "truncated-to-0-bytes"],
)
@pytest.mark.parametrize("command", ["show", "verify"])
def test_unreadable_ledger_exits_2(
    tmp_path: Path,
    content: bytes | None,
    message: str,
    command: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "ledger.sqlite"
    if content is not None:
        path.write_bytes(content)
    assert main(["ledger", command, "--ledger", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"archiver: error: {path}: {message}\n"
    assert content is not None or not path.exists()  # reading never creates a ledger
    assert content is None or path.read_bytes() == content  # nor writes into one


@pytest.mark.parametrize("command", ["show", "verify"])
def test_foreign_sqlite_is_not_a_ledger_and_stays_untouched(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE t (x)")
    before = path.read_bytes()
    assert main(["ledger", command, "--ledger", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"archiver: error: {path}: not an archiver ledger (another SQLite database)\n"
    assert path.read_bytes() == before


def test_verify_reads_a_format_1_ledger_without_migrating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "v1.sqlite"
    shutil.copyfile(Path(__file__).parent / "data" / "ledger-v1.sqlite", path)
    before = path.read_bytes()
    assert main(["ledger", "verify", "--ledger", str(path)]) == 0
    assert "intact — 5 runs" in capsys.readouterr().out
    assert path.read_bytes() == before


def test_default_ledger_is_the_collections(
    tmp_path: Path, ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "coll"
    root.mkdir()
    shutil.copyfile(ledger, default_ledger_path([root]))
    assert main(["ledger", "verify", "--root", str(root)]) == 0
    assert "intact — 3 runs" in capsys.readouterr().out
    (tmp_path / "other").mkdir()
    assert main(["ledger", "verify", "--root", str(tmp_path / "other")]) == 2  # not audited
    assert "no ledger here" in capsys.readouterr().err


def test_premis_to_stdout(ledger: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["ledger", "premis", "beta", "--ledger", str(ledger)]) == 0
    document = capsysbinary.readouterr().out
    SchemaSet().validate_xml(document, "premis", "stdout")
    root = etree.fromstring(document)
    types = root.xpath("//p:eventType/@valueURI", namespaces=NS)
    assert types == ["http://id.loc.gov/vocabulary/preservation/eventType/fix"] * 2
    assert root.xpath("//p:eventOutcome/text()", namespaces=NS) == ["success", "fail"]
    # the bag is gone from disk: its directory name identifies it
    assert root.xpath("//p:objectIdentifierValue/text()", namespaces=NS) == ["beta"]


def test_premis_links_external_identifier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = tmp_path / "gamma"
    (bag / "data").mkdir(parents=True)
    (bag / "bag-info.txt").write_text("External-Identifier: urn:example:gamma\n", encoding="utf-8")
    path = tmp_path / "ledger.sqlite"
    with Ledger.open(path) as led:
        led.record_events(
            [LedgerEvent("transfer", str(bag), "2026-02-04T00:00:00Z", "success", "uploaded")],
            run_id="dep-2",
            started="2026-02-04T00:00:00Z",
            ended="2026-02-04T00:00:00Z",
            versions={"archiver": "0.1.0"},
            target="s3://bucket/prefix",
        )
    out = tmp_path / "events.xml"
    assert main(["ledger", "premis", str(bag), "--ledger", str(path), "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    root = etree.fromstring(out.read_bytes())
    assert root.xpath("//p:objectIdentifierValue/text()", namespaces=NS) == ["urn:example:gamma"]
    assert root.xpath("//p:eventDetail/text()", namespaces=NS) == [
        "uploaded to s3://bucket/prefix (archiver run dep-2)"
    ]
    assert main(["ledger", "premis", "gamma", "--ledger", str(path), "--object-id", "X1"]) == 0
    assert "<premis:objectIdentifierValue>X1<" in capsys.readouterr().out


def test_premis_nothing_recorded_exits_2(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "premis", "gamma", "--ledger", str(ledger)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"archiver: error: {ledger}: no fixity checks or deposit events recorded for gamma\n"
    )


def _truncate(path: Path) -> None:
    path.write_bytes(b"")


def _empty_database(path: Path) -> None:
    path.unlink()
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("VACUUM")  # a valid SQLite file with nothing in it


@pytest.mark.parametrize("wipe", [_truncate, _empty_database], ids=["0-bytes", "empty-sqlite"])
@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_verify_with_a_head_calls_a_wiped_ledger_tampered(
    ledger: Path, wipe: Any, as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ledger", "verify", "--ledger", str(ledger), "--json"]) == 0
    head = json.loads(capsys.readouterr().out)["head"]
    wipe(ledger)
    before = ledger.read_bytes()
    argv = ["ledger", "verify", "--ledger", str(ledger), "--head", head]
    assert main([*argv, "--json"] if as_json else argv) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    if as_json:
        data = json.loads(captured.out)
        assert data["status"] == "tampered"
        assert [p["kind"] for p in data["problems"]] == ["wiped"]
        assert head in data["problems"][0]["message"]
    else:
        [line] = captured.out.splitlines()
        assert line.startswith("TAMPERED") and "not an archiver ledger" in line
        assert f"head {head} was expected" in line
    assert ledger.read_bytes() == before  # verify never writes
    # without --head nothing says a head should be there: still exit 2 (cannot check)
    assert main(["ledger", "verify", "--ledger", str(ledger)]) == 2


def test_verify_with_a_head_after_every_run_is_deleted(
    ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ledger", "verify", "--ledger", str(ledger), "--json"]) == 0
    head = json.loads(capsys.readouterr().out)["head"]
    for table in ("runs", "outcomes", "events", "members"):
        _tamper(ledger, f"DELETE FROM {table}")
    assert main(["ledger", "verify", "--ledger", str(ledger), "--head", head]) == 1
