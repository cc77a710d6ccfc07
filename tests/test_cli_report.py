"""Tests for `archiver report` and `archiver audit --html`: files written, exit statuses."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest
from lxml import html as lxml_html
from test_report_collect import audit_report, make_collection

import archiver.cli as cli
from archiver.ledger.store import Ledger
from archiver.model.findings import BagReport


@pytest.fixture(autouse=True)
def only_our_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("archiver.cli.audit", "archiver.cli.report"))


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--ledger", "--out", "--no-ledger-verify"):
        assert option in out
    assert cli.main(["audit", "--help"]) == 0
    assert "--html" in capsys.readouterr().out


def test_report_with_a_failing_bag_exits_1_and_writes_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger, _ = make_collection(tmp_path / "c")
    out = tmp_path / "report.html"
    assert cli.main(["report", "--ledger", str(ledger), "--out", str(out)]) == 1
    line = capsys.readouterr().out
    assert f"report {out}: 3 bags, 1 failing; ledger verifies" in line
    tree = lxml_html.parse(str(out)).getroot()
    assert len(tree.xpath('//table[@id="bag-table"]/tbody/tr')) == 3
    assert not list(tmp_path.glob(".report.html.*"))  # no temporary file left behind


def test_report_of_a_healthy_collection_exits_0(tmp_path: Path) -> None:
    _, names = make_collection(tmp_path / "c")
    ledger = tmp_path / "healthy.sqlite"
    with Ledger.open(ledger) as store:  # one audit run, every bag good
        store.record_run(audit_report("r1", 1, [BagReport(n, files=1, bytes=5) for n in names]))
    out = tmp_path / "r.html"
    assert cli.main(["report", "--ledger", str(ledger), "--out", str(out)]) == 0
    assert "No bag is failing" in out.read_text(encoding="utf-8")


def test_a_tampered_ledger_exits_1_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger, _ = make_collection(tmp_path / "c")
    with contextlib.closing(sqlite3.connect(ledger)) as db, db:
        db.execute("UPDATE runs SET failed = 0 WHERE seq = 2")
    out = tmp_path / "r.html"
    assert cli.main(["report", "--ledger", str(ledger), "--out", str(out)]) == 1
    assert "DOES NOT VERIFY" in capsys.readouterr().out
    assert "FAILS" in out.read_text(encoding="utf-8")
    assert cli.main(["report", "--ledger", str(ledger), "--out", str(out), "--no-ledger-verify"])
    assert "not run for this report" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("what", ["no ledger", "no directory", "not a ledger"])
def test_unusable_input_or_output_exits_2_with_one_line(
    what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger, _ = make_collection(tmp_path / "c")
    out = tmp_path / "r.html"
    if what == "no ledger":
        ledger = tmp_path / "missing.sqlite"
    elif what == "no directory":
        out = tmp_path / "nowhere" / "r.html"
    else:
        ledger = tmp_path / "other.sqlite"
        with contextlib.closing(sqlite3.connect(ledger)) as db, db:
            db.execute("CREATE TABLE t (x)")
    assert cli.main(["report", "--ledger", str(ledger), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("archiver: error: ") and "\n" not in err
    assert "Traceback" not in err
    assert not out.exists()


def test_audit_html_writes_the_report_after_recording_the_run(
    collection_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    out = tmp_path / "audit.html"
    argv = ["audit", str(collection_copy), "--workers", "1", "--ledger", str(ledger)]
    assert cli.main([*argv, "--html", str(out)]) == 0
    assert f"report {out}: 5 bags, none failing; ledger verifies" in capsys.readouterr().out
    tree = lxml_html.parse(str(out)).getroot()
    rows = tree.xpath('//table[@id="bag-table"]/tbody/tr')
    assert len(rows) == 5
    titles = []
    for bag in sorted(collection_copy.iterdir()):
        record = json.loads((bag / "metadata" / "dc.json").read_text(encoding="utf-8"))
        titles.append(record["dc.title"][0])
    assert sorted(r.xpath("td")[0].text_content() for r in rows) == sorted(titles)

    victim = sorted(collection_copy.iterdir())[2]
    payload = sorted((victim / "data").iterdir())[0]
    data = bytearray(payload.read_bytes())
    data[3] ^= 0x01
    payload.write_bytes(bytes(data))
    assert cli.main([*argv, "--html", str(out), "--json", "-"]) == 1
    json.loads(capsys.readouterr().out)  # --json - keeps stdout machine-readable
    tree = lxml_html.parse(str(out)).getroot()
    first = tree.xpath('//table[@id="bag-table"]/tbody/tr')[0]
    assert first.get("class") == "bad" and first.xpath("th")[0].text_content() == victim.name


def test_audit_html_exits_1_when_the_ledger_does_not_verify(
    collection_copy: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    out = tmp_path / "audit.html"
    argv = ["audit", str(collection_copy), "--workers", "1", "--ledger", str(ledger)]
    assert cli.main(argv) == 0
    with contextlib.closing(sqlite3.connect(ledger)) as db, db:
        db.execute("UPDATE runs SET bags = 4 WHERE seq = 1")
    assert cli.main(argv) == 0  # the audit alone does not verify the ledger
    assert cli.main([*argv, "--html", str(out)]) == 1
    assert "FAILS" in out.read_text(encoding="utf-8")
    assert cli.main([*argv, "--html", str(out), "--no-ledger-verify"]) == 0
    assert "not run for this report" in out.read_text(encoding="utf-8")
