"""Ledger runs with RFC 3161 tokens: stamped on record, verified, a whole-chain rewrite caught."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, SEED_NAMES
from timestamp_helpers import FaultyServer, RunningTSA, free_port, openssl_verify, timestamp_toml

from archiver.cli import main
from archiver.ledger.chain import run_fields, run_hash
from archiver.ledger.store import Ledger
from archiver.ledger.timestamps import RunToken, StampedRun, check_tokens
from archiver.timestamp.client import request_token
from archiver.timestamp.settings import TimestampSettings, load_ca


def _config(folder: Path, url: str, ca: Path, timeout: float | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ca, folder / "tsa-ca.pem")
    path = folder / "archive.toml"
    text = (ROOT / "archive.toml").read_text("utf-8")
    path.write_text(text + timestamp_toml(url, Path("tsa-ca.pem"), timeout), "utf-8")
    return path


@pytest.fixture
def bags(tmp_path: Path, built_collection: Path) -> Path:
    """Two plain (unstamped) seed bags."""
    out = tmp_path / "bags"
    out.mkdir()
    for name in SEED_NAMES[:2]:
        shutil.copytree(built_collection / Path(name).stem, out / Path(name).stem)
    return out


def _audit(bags: Path, ledger: Path, config: Path) -> int:
    return main(["audit", str(bags), "--ledger", str(ledger), "--config", str(config)])


def _verify(ledger: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    status = main(["ledger", "verify", "--ledger", str(ledger), "--config", str(config), "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_every_run_is_stamped_and_verifies(
    tmp_path: Path, bags: Path, tsa: RunningTSA, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "conf", tsa.url, tsa.ca)
    ledger = tmp_path / "ledger.sqlite"
    for _ in range(3):
        assert _audit(bags, ledger, config) == 0
    with Ledger.open(ledger, readonly=True) as opened:
        runs = opened.runs()
        tokens = opened.run_tokens()
    assert sorted(tokens) == [1, 2, 3]
    # openssl checks a run's token against the run hash as ASCII hex
    (tmp_path / "run.txt").write_text(runs[1].hash, "ascii")
    (tmp_path / "run.tsr").write_bytes(tokens[2].token)
    result = openssl_verify(tmp_path / "run.tsr", tmp_path / "run.txt", tsa.ca)
    assert result.returncode == 0, result.stderr
    status, report = _verify(ledger, config, capsys)
    assert status == 0 and report["problems"] == [], report
    capsys.readouterr()
    assert main(["ledger", "show", "--ledger", str(ledger), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["timestamp"] for r in shown["runs"]] == [tokens[i].gen_time for i in (1, 2, 3)]
    assert main(["ledger", "show", "--ledger", str(ledger)]) == 0
    assert tokens[1].gen_time[:10] in capsys.readouterr().out
    bag = next(iter(sorted(bags.iterdir())))
    assert main(["ledger", "premis", str(bag), "--ledger", str(ledger)]) == 0
    premis = capsys.readouterr().out
    assert premis.count("digital signature generation") == 3


def _rewrite_chain(ledger: Path, edit: Callable[[dict[str, object]], None]) -> None:
    """An attacker edits run 1 and recomputes every hash after it (no head hash kept)."""
    db = sqlite3.connect(ledger)
    rows = db.execute(
        "SELECT seq, run_id, kind, started, ended, mode, roots, versions, bags, failed, files, "
        "bytes, seconds, children, children_hash, prev_run_id, format FROM runs ORDER BY seq"
    ).fetchall()
    prev = "0" * 64
    for row in rows:
        fields = run_fields(
            run_id=row[1],
            kind=row[2],
            started=row[3],
            ended=row[4],
            mode=row[5],
            roots=json.loads(row[6]),
            versions=json.loads(row[7]),
            bags=row[8],
            failed=row[9],
            files=row[10],
            bytes_=row[11],
            seconds=row[12],
            children=row[13],
            children_hash=row[14],
            prev_hash=prev,
            prev_run_id=row[15],
            format_=row[16],
        )
        if row[0] == 1:
            edit(fields)
        digest = run_hash(fields)
        db.execute(
            "UPDATE runs SET ended = ?, failed = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (fields["ended"], fields["failed"], prev, digest, row[0]),
        )
        prev = digest
    db.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (prev,))
    db.commit()
    db.close()


def test_whole_chain_rewrite_is_caught_by_the_tokens(
    tmp_path: Path, bags: Path, tsa: RunningTSA, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "conf", tsa.url, tsa.ca)
    ledger = tmp_path / "ledger.sqlite"
    for _ in range(2):
        assert _audit(bags, ledger, config) == 0
    _rewrite_chain(ledger, lambda fields: fields.update(failed=1))
    # the chain alone is consistent: without a head hash and without tokens, it passes
    assert main(["ledger", "verify", "--ledger", str(ledger)]) == 1  # tokens, ca unknown
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(ledger, plain / "l.sqlite")
    db = sqlite3.connect(plain / "l.sqlite")
    db.execute("DELETE FROM timestamps")
    db.commit()
    db.close()
    assert main(["ledger", "verify", "--ledger", str(plain / "l.sqlite")]) == 0
    status, report = _verify(ledger, config, capsys)
    assert status == 1
    first = report["problems"][0]
    assert first["seq"] == 1 and first["kind"] == "timestamp-invalid", report
    assert "imprint" in first["message"]
    # deleting the tokens is no way out once a ca is configured
    status, report = _verify(plain / "l.sqlite", config, capsys)
    assert status == 1 and report["problems"][0]["kind"] == "untimestamped", report
    assert report["problems"][0]["seq"] == 1


def test_rewrite_with_fresh_tokens_is_dated_after_the_run(tmp_path: Path, tsa: RunningTSA) -> None:
    """An attacker who asks the TSA for new tokens gets today's time, not the run's end."""
    settings = TimestampSettings(url=tsa.url, ca=tsa.ca)
    ended = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    run = StampedRun(1, "r1", "ab" * 32, ended)
    token = request_token(run.hash.encode("ascii"), settings)
    stored = {1: RunToken(1, "r1", token.response, token.gen_time.isoformat(), token.tsa)}
    problems = check_tokens([run], stored, load_ca(tsa.ca), now=datetime.now(UTC))
    assert [p.kind for p in problems] == ["timestamp-late", "untimestamped"]
    assert "after the run's recorded end" in problems[0].message
    on_time = StampedRun(1, "r1", "ab" * 32, token.gen_time.isoformat())
    assert check_tokens([on_time], stored, load_ca(tsa.ca), now=datetime.now(UTC)) == []


@pytest.mark.parametrize("fault", ["error-status", "wrong-nonce", "other-ca", "down"])
def test_tsa_failure_records_the_run_visibly_unstamped(
    tmp_path: Path,
    bags: Path,
    tsa: RunningTSA,
    faulty_tsa: Callable[[str], FaultyServer],
    capsys: pytest.CaptureFixture[str],
    fault: str,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/" if fault == "down" else faulty_tsa(fault).url
    config = _config(tmp_path / "conf", url, tsa.ca)
    ledger = tmp_path / "ledger.sqlite"
    capsys.readouterr()
    assert _audit(bags, ledger, config) == 2
    err = capsys.readouterr().err
    assert "recorded without a timestamp" in err
    with Ledger.open(ledger, readonly=True) as opened:
        assert len(opened.runs()) == 1 and opened.run_tokens() == {}
    status, report = _verify(ledger, config, capsys)
    assert status == 1 and report["problems"][0]["kind"] == "untimestamped"
    # the next run with a working TSA covers the unstamped one
    good = _config(tmp_path / "good", tsa.url, tsa.ca)
    assert _audit(bags, ledger, good) == 0
    status, report = _verify(ledger, good, capsys)
    assert status == 0, report


def test_old_ledger_without_timestamps_opens_and_verifies(
    tmp_path: Path, bags: Path, tsa: RunningTSA, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    assert main(["audit", str(bags), "--ledger", str(ledger)]) == 0
    db = sqlite3.connect(ledger)  # no TSA configured: the ledger is as earlier versions made it
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "timestamps" not in tables
    assert main(["ledger", "verify", "--ledger", str(ledger)]) == 0
    assert main(["ledger", "show", "--ledger", str(ledger)]) == 0
    config = _config(tmp_path / "conf", tsa.url, tsa.ca)
    assert _audit(bags, ledger, config) == 0  # the table is added, the new run stamped
    status, report = _verify(ledger, config, capsys)
    assert status == 0, report  # run 2's token covers run 1 (its hash chains run 1's)


def test_deposit_run_is_stamped(
    tmp_path: Path, tsa: RunningTSA, capsys: pytest.CaptureFixture[str]
) -> None:
    from deposit_helpers import make_bag

    bag = make_bag(tmp_path / "bags", "one")
    config = _config(tmp_path / "conf", tsa.url, tsa.ca)
    ledger = tmp_path / "ledger.sqlite"
    uri = f"ocfl://{tmp_path}/ocfl-root"
    args = ["deposit", str(bag), "--to", uri, "--ledger", str(ledger), "--config", str(config)]
    assert main(args) == 0
    with Ledger.open(ledger, readonly=True) as opened:
        assert [r.kind for r in opened.runs()] == ["deposit"]
        assert sorted(opened.run_tokens()) == [1]
    status, report = _verify(ledger, config, capsys)
    assert status == 0, report
