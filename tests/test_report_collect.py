"""Tests for Ledger.bag_summaries and report.collect: what the report reads, from a real ledger."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from archiver.ledger.store import Ledger, LedgerEvent
from archiver.model.findings import BagReport, Finding, Kind, Severity
from archiver.model.reports import AuditReport, AuditTotals
from archiver.report.collect import collect, read_title, read_titles

NOW = datetime(2026, 2, 1, tzinfo=UTC)
EVIL_TITLE = "Statement <script>alert('x')</script> & co"


def audit_report(
    run_id: str, day: int, bags: Sequence[BagReport], mode: str = "full"
) -> AuditReport:
    return AuditReport(
        run_id=run_id,
        started=f"2026-01-{day:02d}T01:00:00+00:00",
        ended=f"2026-01-{day:02d}T01:00:04+00:00",
        mode=mode,
        roots=("/c",),
        versions={"archiver": "0.1.0"},
        bags=tuple(bags),
        totals=AuditTotals(
            bags=len(bags),
            intact=sum(b.valid for b in bags),
            failed=sum(not b.valid for b in bags),
            files=sum(b.files for b in bags),
            bytes=sum(b.bytes for b in bags),
            seconds=2.0,
        ),
    )


def mismatch(bag: str) -> Finding:
    return Finding(Kind.CHECKSUM_MISMATCH, bag, "data/x.txt", "sha256 differs", algorithm="sha256")


def make_collection(root: Path, *, titles: dict[str, str] | None = None) -> tuple[Path, list[str]]:
    """Bags a (damaged in run 2, fine again by a fast run 3), b (always good, deposited),
    c (failing now), each with a metadata/dc.json; a ledger of those runs."""
    names = []
    for name in ("a", "b", "c"):
        bag = root / name
        (bag / "metadata").mkdir(parents=True)
        title = (titles or {}).get(name, f"Statement {name}")
        record = {"filename": f"{name}.txt", "dc.title": [title, "Another title"]}
        (bag / "metadata" / "dc.json").write_text(json.dumps(record), encoding="utf-8")
        names.append(str(bag))
    a, b, c = names
    ledger = root / "ledger.sqlite"
    warning = Finding(Kind.UNEXPECTED_FILE, c, "data/new", "not in manifest", Severity.WARNING)
    with Ledger.open(ledger) as store:
        store.record_run(
            audit_report("r1", 1, [BagReport(a, files=2, bytes=10), BagReport(b, files=1, bytes=5)])
        )
        store.record_run(
            audit_report(
                "r2",
                2,
                [
                    BagReport(a, (mismatch(a),), files=2, bytes=10),
                    BagReport(b, files=1, bytes=5),
                    BagReport(c, (mismatch(c), warning), files=3, bytes=7),
                ],
            )
        )
        store.record_run(
            audit_report(
                "r3",
                3,
                [
                    BagReport(a, files=2, bytes=10),
                    BagReport(b, files=1, bytes=5),
                    BagReport(c, (mismatch(c),), files=3, bytes=7),
                ],
                mode="fast",
            )
        )
        store.record_event(
            LedgerEvent(
                event_type="replication",
                bag=b,
                date_time="2026-01-04T00:00:00+00:00",
                outcome="success",
                detail="deposit of b: new object",
                outcome_detail="created version v1 at b/v1; verified after transfer",
                target="ocfl:///srv/ocfl",
            ),
            run_id="d1",
            versions={"archiver": "0.1.0"},
        )
    return ledger, names


def test_bag_summaries_from_a_ledger(tmp_path: Path) -> None:
    ledger, (a, b, c) = make_collection(tmp_path)
    with Ledger.open(ledger, create=False) as store:
        summaries = {s.bag: s for s in store.bag_summaries()}
    assert sorted(summaries) == [a, b, c]
    sa, sb, sc = summaries[a], summaries[b], summaries[c]
    assert (sa.checks, sa.first_seq, sa.last_seq, sa.last_status) == (3, 1, 3, "valid")
    assert sa.failed_seqs == (2,)
    assert sa.last_good_seq == 1  # run 3 was fast: valid, but not a fixity check
    assert (sb.last_good_seq, sb.failed_seqs, sb.last_files, sb.last_bytes) == (2, (), 1, 5)
    assert (sc.checks, sc.first_seq, sc.last_status, sc.last_good_seq) == (2, 2, "invalid", None)
    assert sc.failed_seqs == (2, 3)
    assert [f.path for f in sc.last_findings] == ["data/x.txt"]


def test_bag_summaries_of_an_empty_ledger(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite") as store:
        assert store.bag_summaries() == []


def test_collect_reads_titles_verifies_and_builds_the_page(tmp_path: Path) -> None:
    ledger, (a, b, c) = make_collection(tmp_path, titles={"c": EVIL_TITLE})
    page = collect(ledger, now=NOW)
    assert [row.bag for row in page.rows] == [c, a, b]
    assert [row.title for row in page.rows] == [EVIL_TITLE, "Statement a", "Statement b"]
    assert page.summary.verified is True
    assert page.summary.head_seq == 4 and len(page.summary.head_hash) == 64
    assert page.summary.failing == 1 and page.summary.bags == 3
    assert [(cp.target, cp.version) for cp in page.rows[2].copies] == [("ocfl:///srv/ocfl", "v1")]
    assert page.ledger == str(ledger)


def test_collect_reports_a_tampered_ledger_and_can_skip_verification(tmp_path: Path) -> None:
    ledger, _ = make_collection(tmp_path)
    with contextlib.closing(sqlite3.connect(ledger)) as db, db:
        db.execute("UPDATE outcomes SET status = 'valid' WHERE seq = 2")
    tampered = collect(ledger, now=NOW)
    assert tampered.summary.verified is False
    assert any("edited" in message for message in tampered.summary.verify_problems)
    assert collect(ledger, now=NOW, verify=False).summary.verified is None


def test_titles_of_missing_or_broken_records_are_left_out(tmp_path: Path) -> None:
    good = tmp_path / "good"
    (good / "metadata").mkdir(parents=True)
    (good / "metadata" / "dc.json").write_text('{"dc.title": ["T"]}', encoding="utf-8")
    broken = tmp_path / "broken"
    (broken / "metadata").mkdir(parents=True)
    (broken / "metadata" / "dc.json").write_text("{not json", encoding="utf-8")
    odd = tmp_path / "odd"
    (odd / "metadata").mkdir(parents=True)
    (odd / "metadata" / "dc.json").write_text('{"dc.title": "not a list"}', encoding="utf-8")
    big = tmp_path / "big"
    (big / "metadata").mkdir(parents=True)
    long = {"dc.title": ["Long"], "dc.description": ["x" * 50_000]}  # read in several chunks
    (big / "metadata" / "dc.json").write_text(json.dumps(long), encoding="utf-8")
    bags = [str(good), str(broken), str(odd), str(tmp_path / "gone"), str(big)]
    assert read_title(str(good)) == "T"
    assert read_titles(bags) == {str(good): "T", str(big): "Long"}
