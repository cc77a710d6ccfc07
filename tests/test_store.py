"""Tests for ledger.store: recording, the hash chain, tamper detection, kill -9, selection."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from test_premis_export import BAD_EVENTS  # the events PREMIS cannot express
from xmlschema_validator import validate_xml_xmlschema

import archiver
from archiver.audit.selection import plan_selection, select_bags
from archiver.ledger.chain import encode_members
from archiver.ledger.store import (
    EVENT_FIELDS,
    FORMAT,
    FORMAT_V1,
    GENESIS,
    LEDGER_FILENAME,
    BagStats,
    Ledger,
    LedgerEvent,
    child_hash,
    collection_key,
    content_hash,
    default_ledger_path,
    run_fields,
    run_hash,
)
from archiver.model.errors import LedgerError
from archiver.model.findings import BagReport, Finding, Kind
from archiver.model.reports import AuditReport, AuditTotals

MISSING = Finding(Kind.MISSING_FILE, "/c/b", "data/gone.txt", "listed in manifest-sha256.txt")
MISMATCH = Finding(
    Kind.CHECKSUM_MISMATCH,
    "/c/b",
    "data/x.txt",
    "sha256 differs",
    algorithm="sha256",
    expected="a" * 64,
    found="b" * 64,
)


def make_report(
    run_id: str,
    day: int,
    bags: Sequence[BagReport],
    *,
    mode: str = "full",
    seconds: float = 4.0,
) -> AuditReport:
    """An audit report as archiver.audit.collection makes it, with fixed times."""
    return AuditReport(
        run_id=run_id,
        started=f"2026-01-{day:02d}T01:00:00+00:00",
        ended=f"2026-01-{day:02d}T01:00:04+00:00",
        mode=mode,
        roots=("/c",),
        versions={"archiver": "0.1.0", "python": "3.11.7"},
        bags=tuple(bags),
        totals=AuditTotals(
            bags=len(bags),
            intact=sum(b.valid for b in bags),
            failed=sum(not b.valid for b in bags),
            files=sum(b.files for b in bags),
            bytes=sum(b.bytes for b in bags),
            seconds=seconds,
        ),
    )


def good(bag: str, size: int = 100) -> BagReport:
    return BagReport(bag=bag, files=2, bytes=size)


def bad(bag: str, size: int = 300, *findings: Finding) -> BagReport:
    return BagReport(bag=bag, files=3, bytes=size, findings=findings or (MISSING, MISMATCH))


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    """A ledger with four audit runs (seq 1-4) and one deposit run (seq 5)."""
    path = tmp_path / LEDGER_FILENAME
    with Ledger.open(path) as ledger:
        for i in range(4):
            ledger.record_run(make_report(f"r{i}", i + 1, [good("/c/a"), bad("/c/b")]))
        ledger.record_events(
            [
                LedgerEvent("replication", "/c/a", "2026-01-09T00:00:00+00:00", "success", "ocfl"),
                LedgerEvent("transfer", "/c/b", "2026-01-09T00:00:01+00:00", "failure", "s3"),
            ],
            run_id="d0",
            started="2026-01-09T00:00:00+00:00",
            ended="2026-01-09T00:00:02+00:00",
            versions={"archiver": "0.1.0"},
            target="ocfl:///srv/ocfl",
        )
    return path


V1_LEDGER = Path(__file__).parent / "data" / "ledger-v1.sqlite"  # see make_ledger_v1.py


@pytest.fixture
def ledger_v1(tmp_path: Path) -> Path:
    """A format 1 ledger as archiver wrote it before format 2 (the same history as
    ``ledger_path``: four audits of /c/a and /c/b, then a deposit)."""
    path = tmp_path / "v1.sqlite"
    shutil.copyfile(V1_LEDGER, path)
    return path


def verify(
    path: Path, expected_head: str | None = None, *, readonly: bool = False
) -> list[tuple[str, int | None, str]]:
    with Ledger.open(path, create=False, readonly=readonly) as ledger:
        return [(p.kind, p.seq, p.message) for p in ledger.verify(expected_head)]


# ---------------------------------------------------------------- recording and reading


def test_record_and_read_back(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, create=False) as ledger:
        runs = ledger.runs()
        assert [r.run_id for r in runs] == ["r0", "r1", "r2", "r3", "d0"]
        assert [r.seq for r in runs] == [1, 2, 3, 4, 5]
        assert runs[0].prev_hash == GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(runs, runs[1:], strict=False))
        assert all(b.prev_run_id == a.run_id for a, b in zip(runs, runs[1:], strict=False))
        assert runs[1].to_json()["versions"] == {"archiver": "0.1.0", "python": "3.11.7"}
        assert (runs[1].bags, runs[1].failed, runs[1].files, runs[1].bytes) == (2, 1, 5, 400)
        history = ledger.history("/c/b")
        assert [h.run_id for h in history] == ["r0", "r1", "r2", "r3"]
        assert history[0].status == "invalid"
        assert history[0].checked == "2026-01-01T01:00:04+00:00"
        assert history[0].is_fixity_check
        # findings come back as the same Finding records, in sorted order
        assert set(history[0].findings) == {MISSING, MISMATCH}
        assert ledger.history("/c/nowhere") == []
        assert ledger.bags() == ["/c/a", "/c/b"]
        assert ledger.head() == (5, runs[-1].hash)
    assert verify(ledger_path) == []


def test_ledger_uses_wal(ledger_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(ledger_path)) as db, db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_same_report_hashes_the_same(tmp_path: Path) -> None:
    reports = [make_report("r0", 1, [bad("/c/b"), good("/c/a")])]
    hashes = []
    for name in ("one.sqlite", "two.sqlite"):
        with Ledger.open(tmp_path / name) as ledger:
            ledger.record_run(reports[0])
            hashes.append(ledger.head()[1])
    assert hashes[0] == hashes[1] != GENESIS


def test_events_recorded_and_chained(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, create=False) as ledger:
        events = ledger.events("/c/a")
        assert [(e.event.event_type, e.event.outcome, e.run_id) for e in events] == [
            ("replication", "success", "d0")
        ]
        assert len(events[0].event.identifier) == 36  # a derived UUID
        assert [e.event.bag for e in ledger.events()] == ["/c/a", "/c/b"]
        run = ledger.runs()[-1]
        assert (run.kind, run.roots, run.bags, run.failed) == (
            "deposit",
            ("ocfl:///srv/ocfl",),
            2,
            1,
        )
        ledger.record_event(
            LedgerEvent("replication", "/c/a", "2026-01-10T00:00:00+00:00", "success", "again"),
            run_id="d1",
            versions={"archiver": "0.1.0"},
        )
        assert ledger.runs()[-1].prev_hash == run.hash
        assert ledger.verify() == []


def test_default_ledger_path(tmp_path: Path, user_data_home: Path) -> None:
    home = user_data_home / "archiver" / "ledgers"
    (tmp_path / "c").mkdir()
    ours = default_ledger_path([tmp_path / "c", "/other"])
    # keyed by the resolved roots, whatever their order or spelling
    assert ours == default_ledger_path(["/other", tmp_path / "x" / ".." / "c"])
    assert ours.parent == home
    assert ours.name == f"{collection_key([tmp_path / 'c', '/other'])}.sqlite"
    assert ours.name.startswith("other-")  # the first of the sorted roots names it
    assert default_ledger_path([tmp_path / "c"]) != ours
    assert default_ledger_path() == home / f"{collection_key(['bags'])}.sqlite"
    # a ledger an earlier version kept inside the root is still the one used
    (tmp_path / "c" / LEDGER_FILENAME).write_bytes(b"")
    assert default_ledger_path([tmp_path / "c", "/other"]) == tmp_path / "c" / LEDGER_FILENAME


def test_collection_key_is_documented() -> None:
    digest = hashlib.sha256(b"/a/other\n/srv/bags").hexdigest()[:16]
    assert collection_key(["/srv/bags", "/a/other", "/srv/bags/"]) == f"other-{digest}"
    assert collection_key(["/"]) == f"root-{hashlib.sha256(b'/').hexdigest()[:16]}"


def test_resolve_bag(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite") as ledger:
        ledger.record_run(make_report("r0", 1, [good("/c/a"), good("/c/b"), good("/x/b")]))
        assert ledger.resolve_bag("/c/a") == "/c/a"
        assert ledger.resolve_bag("a/") == "/c/a"
        assert ledger.resolve_bag("c/b") == "/c/b"
        assert ledger.resolve_bag("zzz") == "zzz"
        with pytest.raises(LedgerError, match="'b' is ambiguous: /c/b, /x/b"):
            ledger.resolve_bag("b")


def test_concurrent_writers_serialize(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILENAME
    with Ledger.open(path):
        pass  # created once, before the writers race

    def writer(name: str) -> None:
        with Ledger.open(path) as ledger:
            for i in range(15):
                ledger.record_run(make_report(f"{name}-{i}", 1, [good(f"/c/{name}")]))

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Ledger.open(path, create=False) as ledger:
        runs = ledger.runs()
        assert sorted(r.run_id for r in runs) == sorted(
            f"{n}-{i}" for n in ("x", "y") for i in range(15)
        )
        assert ledger.verify() == []


# ---------------------------------------------------------------- errors


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database, just text\n" * 100)


def _other_db(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE t (x)")


def _future(path: Path) -> None:
    with Ledger.open(path):
        pass
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA user_version = 4")


@pytest.mark.parametrize(
    ("prepare", "create", "message"),
    [
        (None, False, r"missing\.sqlite: no ledger here"),
        (_garbage, False, r"not a readable ledger \(file is not a database\)"),
        (_other_db, True, r"not an archiver ledger \(another SQLite database\)"),
        (_future, False, r"ledger format version 4 is not supported \(expected 3, or 1 or 2"),
    ],
    ids=["missing", "garbage", "other-sqlite", "future-version"],
)
def test_unusable_ledger(
    tmp_path: Path, prepare: Callable[[Path], None] | None, create: bool, message: str
) -> None:
    path = tmp_path / "missing.sqlite"
    if prepare is not None:
        prepare(path)
    with pytest.raises(LedgerError, match=message), Ledger.open(path, create=create) as ledger:
        ledger.runs()


def test_no_directory_for_ledger(tmp_path: Path) -> None:
    with (
        pytest.raises(LedgerError, match="cannot create the ledger, .*nope is not a directory"),
        Ledger.open(tmp_path / "nope" / "l.sqlite"),
    ):
        pass


def test_duplicate_run_id(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        with pytest.raises(LedgerError, match="run r1 is already recorded"):
            ledger.record_run(make_report("r1", 9, [good("/c/a")]))
        assert len(ledger.runs()) == 5


def test_locked_ledger(ledger_path: Path) -> None:
    other = sqlite3.connect(ledger_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with (
            Ledger.open(ledger_path, timeout=0.05) as ledger,
            pytest.raises(LedgerError, match="ledger is locked by another process"),
        ):
            ledger.record_run(make_report("r9", 9, [good("/c/a")]))
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert verify(ledger_path) == []


# ---------------------------------------------------------------- tamper detection


Tamper = Callable[[sqlite3.Connection], None]


def sql(*statements: str) -> Tamper:
    def run(db: sqlite3.Connection) -> None:
        for statement in statements:
            db.execute(statement)

    return run


def rehash_run(seq: int, **changes: str) -> Tamper:
    """Edit a run row and recompute its hash, as a careful forger would."""

    def run(db: sqlite3.Connection) -> None:
        for column, value in changes.items():
            db.execute(f"UPDATE runs SET {column} = ? WHERE seq = ?", (value, seq))
        columns = {str(r[1]) for r in db.execute("PRAGMA table_info(runs)")}
        format_ = FORMAT_V1
        if "format" in columns:
            format_ = db.execute("SELECT format FROM runs WHERE seq = ?", (seq,)).fetchone()[0]
        row = db.execute(
            "SELECT run_id, kind, started, ended, mode, roots, versions, bags, failed, files, "
            "bytes, seconds, children, children_hash, prev_hash, prev_run_id FROM runs "
            "WHERE seq = ?",
            (seq,),
        ).fetchone()
        fields = run_fields(
            run_id=row[0],
            kind=row[1],
            started=row[2],
            ended=row[3],
            mode=row[4],
            roots=json.loads(row[5]),
            versions=json.loads(row[6]),
            bags=row[7],
            failed=row[8],
            files=row[9],
            bytes_=row[10],
            seconds=row[11],
            children=row[12],
            children_hash=row[13],
            prev_hash=row[14],
            prev_run_id=row[15],
            format_=format_,
        )
        db.execute("UPDATE runs SET hash = ? WHERE seq = ?", (run_hash(fields), seq))

    return run


def rehash_outcome(seq: int, bag: str, **changes: str) -> Tamper:
    """Edit a bag outcome and recompute its own hash (but not its run's)."""

    def run(db: sqlite3.Connection) -> None:
        for column, value in changes.items():
            db.execute(
                f"UPDATE outcomes SET {column} = ? WHERE seq = ? AND bag = ?", (value, seq, bag)
            )
        row = db.execute(
            "SELECT r.run_id, o.status, o.files, o.bytes, o.findings FROM outcomes o "
            "JOIN runs r ON r.seq = o.seq WHERE o.seq = ? AND o.bag = ?",
            (seq, bag),
        ).fetchone()
        fields = {
            "run_id": row[0],
            "bag": bag,
            "status": row[1],
            "files": row[2],
            "bytes": row[3],
            "findings": json.loads(row[4]),
        }
        db.execute(
            "UPDATE outcomes SET hash = ? WHERE seq = ? AND bag = ?",
            (child_hash(fields, FORMAT_V1), seq, bag),
        )

    return run


def swap(table: str, a: int, b: int) -> list[str]:
    return [
        f"UPDATE {table} SET seq = -1 WHERE seq = {a}",
        f"UPDATE {table} SET seq = {a} WHERE seq = {b}",
        f"UPDATE {table} SET seq = {b} WHERE seq = -1",
    ]


TAMPERING: list[tuple[str, Tamper, str, int | None, str]] = [
    (
        "edit-run-time",
        sql("UPDATE runs SET ended = '2025-01-01T00:00:00+00:00' WHERE seq = 2"),
        "edited-run",
        2,
        "run seq 2 (id r1): run row edited",
    ),
    (
        "edit-run-versions",
        sql("""UPDATE runs SET versions = '{"archiver":"9.9"}' WHERE seq = 3"""),
        "edited-run",
        3,
        "run seq 3 (id r2): run row edited",
    ),
    (
        "edit-run-failed-count",
        sql("UPDATE runs SET failed = 0 WHERE seq = 1"),
        "edited-run",
        1,
        "run seq 1 (id r0): run row edited",
    ),
    (
        "edit-outcome-status",
        sql("UPDATE outcomes SET status = 'valid' WHERE seq = 2 AND bag = '/c/b'"),
        "edited-outcome",
        2,
        "run seq 2 (id r1): bag outcome for /c/b edited",
    ),
    (
        "edit-outcome-findings",
        sql("UPDATE outcomes SET findings = '[]' WHERE seq = 3 AND bag = '/c/b'"),
        "edited-outcome",
        3,
        "run seq 3 (id r2): bag outcome for /c/b edited",
    ),
    (
        "edit-outcome-bytes",
        sql("UPDATE outcomes SET bytes = 101 WHERE seq = 4 AND bag = '/c/a'"),
        "edited-outcome",
        4,
        "bag outcome for /c/a edited",
    ),
    (
        "edit-outcome-and-rehash-it",
        rehash_outcome(2, "/c/b", status="valid", findings="[]"),
        "changed-outcomes",
        2,
        "run seq 2 (id r1): its bag outcomes/events were replaced, re-hashed or reordered",
    ),
    (
        "delete-outcome",
        sql("DELETE FROM outcomes WHERE seq = 2 AND bag = '/c/b'"),
        "changed-outcomes",
        2,
        "1 bag outcomes/events stored, the run recorded 2",
    ),
    (
        "add-outcome",
        sql(
            "INSERT INTO outcomes (seq, ord, bag, status, files, bytes, findings, hash) "
            "SELECT seq, 7, '/c/z', status, files, bytes, findings, hash "
            "FROM outcomes WHERE seq = 3 AND ord = 0"
        ),
        "edited-outcome",
        3,
        "bag outcome for /c/z edited",
    ),
    (
        "reorder-outcomes",
        sql(
            "UPDATE outcomes SET ord = ord + 10 WHERE seq = 2",
            "UPDATE outcomes SET ord = 11 - ord WHERE seq = 2",
        ),
        "changed-outcomes",
        2,
        "run seq 2 (id r1): its bag outcomes/events were replaced, re-hashed or reordered",
    ),
    (
        "delete-middle-run",
        sql("DELETE FROM outcomes WHERE seq = 2", "DELETE FROM runs WHERE seq = 2"),
        "deleted-run",
        3,
        "run seq 2 (id r1) missing before run seq 3 (id r2)",
    ),
    (
        "delete-middle-run-keep-outcomes",
        sql("DELETE FROM runs WHERE seq = 3"),
        "deleted-run",
        4,
        "run seq 3 (id r2) missing before run seq 4 (id r3)",
    ),
    (
        "delete-two-runs",
        sql("DELETE FROM outcomes WHERE seq IN (2, 3)", "DELETE FROM runs WHERE seq IN (2, 3)"),
        "deleted-run",
        4,
        "run seqs 2-3 missing before run seq 4 (id r3)",
    ),
    (
        "delete-first-run",
        sql("DELETE FROM outcomes WHERE seq = 1", "DELETE FROM runs WHERE seq = 1"),
        "deleted-run",
        2,
        "run seq 1 (id r0) missing before run seq 2 (id r1)",
    ),
    (
        "delete-last-run",
        sql("DELETE FROM events WHERE seq = 5", "DELETE FROM runs WHERE seq = 5"),
        "truncated",
        4,
        "the ledger's head is run seq 5",
    ),
    (
        "delete-and-renumber",
        sql(
            "DELETE FROM outcomes WHERE seq = 2",
            "DELETE FROM runs WHERE seq = 2",
            "UPDATE runs SET seq = seq - 1 WHERE seq > 2",
            "UPDATE outcomes SET seq = seq - 1 WHERE seq > 2",
            "UPDATE events SET seq = seq - 1 WHERE seq > 2",
            "UPDATE meta SET value = '4' WHERE key = 'head_seq'",
        ),
        "deleted-run",
        2,
        "run r1 between run seq 1 (id r0) and run seq 2 (id r2) was deleted and the runs "
        "renumbered",
    ),
    (
        "swap-runs",
        sql(*swap("runs", 2, 3), *swap("outcomes", 2, 3)),
        "reordered-run",
        2,
        "run seq 2 (id r2) links to run seq 3 (id r1), which is recorded after it",
    ),
    (
        "edit-run-and-rehash",
        rehash_run(2, ended="2025-01-01T00:00:00+00:00"),
        "edited-run",
        2,
        "run seq 2 (id r1) was edited and re-hashed: run seq 3 (id r2) links to",
    ),
    (
        "edit-head",
        sql("UPDATE meta SET value = '3' WHERE key = 'head_seq'"),
        "truncated",
        5,
        "the ledger's head is run seq 3",
    ),
    ("drop-table", sql("DROP TABLE outcomes"), "missing-table", None, "table outcomes was dropped"),
    (
        "edit-event",
        sql("UPDATE events SET outcome = 'success' WHERE seq = 5 AND bag = '/c/b'"),
        "edited-event",
        5,
        "run seq 5 (id d0): transfer event for /c/b edited",
    ),
    (
        "delete-event",
        sql("DELETE FROM events WHERE seq = 5 AND bag = '/c/b'"),
        "changed-outcomes",
        5,
        "1 bag outcomes/events stored, the run recorded 2",
    ),
]


def _tamper(path: Path, tamper: Tamper) -> None:
    db = sqlite3.connect(path)
    try:
        tamper(db)
        db.commit()
    finally:
        db.close()


def _first_problem(
    problems: list[tuple[str, int | None, str]], kind: str, seq: int | None, message: str
) -> None:
    assert problems, "tampering went unnoticed"
    first_kind, first_seq, first_message = problems[0]
    assert (first_kind, first_seq) == (kind, seq), problems
    assert message in first_message, problems


@pytest.mark.parametrize(
    ("tamper", "kind", "seq", "message"),
    [case[1:] for case in TAMPERING],
    ids=[case[0] for case in TAMPERING],
)
def test_tampering_is_detected_in_format_1(
    ledger_v1: Path, tamper: Tamper, kind: str, seq: int | None, message: str
) -> None:
    """A format 1 ledger, read as written (read-only, not migrated)."""
    _tamper(ledger_v1, tamper)
    _first_problem(verify(ledger_v1, readonly=True), kind, seq, message)


RUN_TAMPERING = [case for case in TAMPERING if "outcome" not in case[0]]


@pytest.mark.parametrize(
    ("tamper", "kind", "seq", "message"),
    [case[1:] for case in RUN_TAMPERING],
    ids=[case[0] for case in RUN_TAMPERING],
)
def test_tampering_is_detected(
    ledger_path: Path, tamper: Tamper, kind: str, seq: int | None, message: str
) -> None:
    _tamper(ledger_path, tamper)
    _first_problem(verify(ledger_path), kind, seq, message)


def rehash_content(seq: int, bag: str, **changes: str) -> Tamper:
    """Edit a format 2 outcome and recompute its own hash (but not its run's root)."""

    def run(db: sqlite3.Connection) -> None:
        for column, value in changes.items():
            db.execute(
                f"UPDATE outcomes SET {column} = ? WHERE seq = ? AND bag = ?", (value, seq, bag)
            )
        row = db.execute(
            "SELECT status, files, bytes, findings FROM outcomes WHERE seq = ? AND bag = ?",
            (seq, bag),
        ).fetchone()
        fields = {
            "bag": bag,
            "status": row[0],
            "files": row[1],
            "bytes": row[2],
            "findings": json.loads(row[3]),
        }
        db.execute(
            "UPDATE outcomes SET hash = ? WHERE seq = ? AND bag = ?",
            (content_hash(fields), seq, bag),
        )

    return run


BAG_B = "(SELECT id FROM bags WHERE bag = '/c/b')"
TAMPERING_V2: list[tuple[str, Tamper, str, int | None, str]] = [
    (
        "edit-stored-outcome",
        sql("UPDATE outcomes SET status = 'valid' WHERE seq = 1 AND bag = '/c/b'"),
        "edited-outcome",
        1,
        "run seq 1 (id r0): bag outcome for /c/b edited",
    ),
    (
        "edit-stored-outcome-and-rehash-it",
        rehash_content(1, "/c/b", status="valid", findings="[]"),
        "changed-outcomes",
        1,
        "run seq 1 (id r0): its bag outcomes were replaced, re-hashed, deleted or reordered",
    ),
    (
        "delete-stored-outcome",
        sql("DELETE FROM outcomes WHERE seq = 1 AND bag = '/c/b'"),
        "changed-outcomes",
        1,
        "1 checked bags have no recorded outcome",
    ),
    (
        "insert-a-good-outcome-later",
        lambda db: (
            db.execute(
                "INSERT INTO outcomes (seq, ord, bag, status, files, bytes, findings, hash) "
                "SELECT 3, 0, bag, status, files, bytes, findings, hash "
                "FROM outcomes WHERE seq = 1 AND bag = '/c/b'"
            ),
            rehash_content(3, "/c/b", status="valid", findings="[]")(db),
        ),
        "changed-outcomes",
        3,
        "the Merkle root differs",
    ),
    (
        "drop-a-bag-from-a-run",
        lambda db: db.execute(
            "UPDATE members SET bitmap = ? WHERE seq = 3", (encode_members([1]),)
        ),
        "changed-outcomes",
        3,
        "1 bags listed as checked, the run recorded 2",
    ),
    (
        "unreadable-members",
        sql("UPDATE members SET bitmap = x'00' WHERE seq = 2"),
        "changed-outcomes",
        2,
        "the list of bags it checked is missing or unreadable",
    ),
    (
        "delete-members",
        sql("DELETE FROM members WHERE seq = 2"),
        "changed-outcomes",
        2,
        "the list of bags it checked is missing or unreadable",
    ),
    (
        "swap-bag-names",
        sql(
            "UPDATE bags SET bag = '/c/tmp' WHERE bag = '/c/a'",
            "UPDATE bags SET bag = '/c/a' WHERE bag = '/c/b'",
            "UPDATE bags SET bag = '/c/b' WHERE bag = '/c/tmp'",
        ),
        "changed-outcomes",
        1,
        "the Merkle root differs",
    ),
    (
        "mark-a-failed-bag-good-in-the-state-cache",
        sql(f"UPDATE bag_state SET good_seq = 4 WHERE bag_id = {BAG_B}"),
        "edited-state",
        4,
        "bag /c/b: the last-check table says last audit seq 4, last fixity audit seq 4, "
        "last good seq 4, the chain says last audit seq 4, last fixity audit seq 4, "
        "last good seq None",
    ),
    ("drop-members", sql("DROP TABLE members"), "missing-table", None, "table members"),
]


@pytest.mark.parametrize(
    ("tamper", "kind", "seq", "message"),
    [case[1:] for case in TAMPERING_V2],
    ids=[case[0] for case in TAMPERING_V2],
)
def test_tampering_is_detected_in_format_2(
    ledger_path: Path, tamper: Tamper, kind: str, seq: int | None, message: str
) -> None:
    _tamper(ledger_path, tamper)
    _first_problem(verify(ledger_path, readonly=True), kind, seq, message)


def test_expected_head(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        _, head = ledger.head()
        assert ledger.verify(head) == []
        ledger.record_run(make_report("r9", 20, [good("/c/a")]))
        problems = ledger.verify(head)
        assert [p.kind for p in problems] == ["head-mismatch"]
        assert "it is run seq 5's hash, runs after it were appended" in problems[0].message
        problems = ledger.verify("f" * 64)
        assert "no run in the ledger has that hash (the chain was rewritten)" in problems[0].message


# ---------------------------------------------------------------- kill -9 mid-write

CHILD = textwrap.dedent(
    """
    import sys, time
    from archiver.model.reports import AuditReport, AuditTotals
    from archiver.model.findings import BagReport
    from archiver.ledger.store import Ledger

    class Stalling:
        # A bag report whose findings stall the writer inside its transaction.
        bag = "/c/zzz-stall"
        status = "valid"
        files = 1
        bytes = 1

        @property
        def findings(self):
            print("MIDWRITE", flush=True)
            time.sleep(120)
            return ()

    def report(run_id, bags):
        return AuditReport(run_id=run_id, started="2026-01-01T00:00:00+00:00",
            ended="2026-01-01T00:01:00+00:00", mode="full", roots=("/c",),
            versions={"archiver": "0.1.0"}, bags=tuple(bags),
            totals=AuditTotals(bags=len(bags), files=len(bags), bytes=len(bags), seconds=1.0))

    with Ledger.open(sys.argv[1]) as ledger:
        ledger.record_run(report("committed", [BagReport(bag="/c/a", files=1, bytes=1)]))
        print("COMMITTED", flush=True)
        many = [BagReport(bag=f"/c/bag{i:06d}", files=1, bytes=10) for i in range(20000)]
        ledger.record_run(report("partial", [*many, Stalling()]))
    """
)


def test_kill_9_mid_write_leaves_ledger_consistent(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILENAME
    wal = Path(f"{path}-wal")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(archiver.__file__).parent.parent)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "COMMITTED\n"
        committed_wal = wal.stat().st_size
        assert child.stdout.readline() == "MIDWRITE\n"
        # 20,000 uncommitted outcome rows overflow SQLite's page cache into the WAL:
        # the kill lands with part of the run on disk, not just in memory
        assert wal.stat().st_size > committed_wal
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with Ledger.open(path, create=False) as ledger:
        assert ledger.verify() == []
        assert [r.run_id for r in ledger.runs()] == ["committed"]
        assert ledger.history("/c/bag000001") == []
        # the ledger takes new runs after the crash, still chained to the committed one
        ledger.record_run(make_report("after", 2, [good("/c/a")]))
        assert [r.run_id for r in ledger.runs()] == ["committed", "after"]
        assert ledger.verify() == []


# ---------------------------------------------------------------- incremental audits


S = BagStats
SELECTION: list[tuple[str, dict[str, BagStats], int | None, float | None, list[str]]] = [
    ("no-history-keeps-order", {}, None, None, ["a", "b", "c", "d"]),
    (
        "never-checked-then-never-good-then-oldest-good",
        {
            "a": S(4, 4, 1.0),
            "b": S(4, None, 1.0),
            "c": S(4, 2, 1.0),
        },
        None,
        None,
        ["d", "b", "c", "a"],
    ),
    ("oldest-caps-count", {"a": S(4, 4), "b": S(4, 1)}, 2, None, ["c", "d"]),
    (
        "oldest-after-ordering",
        {"a": S(4, 3), "b": S(4, 1), "c": S(4, 2), "d": S(4, 4)},
        2,
        None,
        ["b", "c"],
    ),
    (
        "budget-stops-at-first-overflow",
        {"a": S(1, 1, 2.0), "b": S(2, 2, 5.0), "c": S(3, 3, 1.0), "d": S(4, 4, 1.0)},
        None,
        6.0,
        ["a"],
    ),
    (
        "budget-fits-exactly",
        {"a": S(1, 1, 2.0), "b": S(2, 2, 4.0), "c": S(3, 3, 1.0), "d": S(4, 4, 1.0)},
        None,
        6.0,
        ["a", "b"],
    ),
    (
        "budget-always-one-bag",
        {"a": S(1, 1, 50.0), "b": S(2, 2, 1.0), "c": S(3, 3, 1.0), "d": S(4, 4, 1.0)},
        None,
        1.0,
        ["a"],
    ),
    (
        "unknown-cost-is-mean-of-known",
        {"b": S(2, 2, 2.0), "c": S(3, 3, 4.0)},
        None,
        8.0,
        ["a", "d", "b"],  # a and d never checked: 3.0 each, then b 2.0
    ),
    ("budget-and-oldest", {"a": S(1, 1, 1.0), "b": S(2, 2, 1.0)}, 1, 100.0, ["c"]),
]


@pytest.mark.parametrize(
    ("stats", "oldest", "budget", "expected"),
    [case[1:] for case in SELECTION],
    ids=[case[0] for case in SELECTION],
)
def test_plan_selection(
    stats: dict[str, BagStats], oldest: int | None, budget: float | None, expected: list[str]
) -> None:
    assert plan_selection(["a", "b", "c", "d"], stats, oldest, budget) == expected


@pytest.mark.parametrize(
    ("oldest", "budget", "message"),
    [
        (0, None, "--oldest: must be at least 1, not 0"),
        (None, 0.0, "--budget: must be more than 0 seconds, not 0"),
        (None, -5.0, "--budget: must be more than 0 seconds, not -5"),
    ],
)
def test_plan_selection_bad_arguments(
    oldest: int | None, budget: float | None, message: str
) -> None:
    with pytest.raises(LedgerError, match=message):
        plan_selection(["a"], {}, oldest, budget)


def test_plan_selection_empty_and_duplicates() -> None:
    assert plan_selection([], {}, 3, 10.0) == []
    assert plan_selection(["a", "b", "a"], {}, None, None) == ["a", "b"]


def test_select_bags_from_history(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite") as ledger:
        ledger.record_run(make_report("r0", 1, [good("/c/a", 100), good("/c/b", 300)]))
        ledger.record_run(make_report("r1", 2, [good("/c/a", 100), bad("/c/b", 300)]))
        ledger.record_run(make_report("r2", 3, [good("/c/c", 500)], mode="fast"))
        stats = ledger.bag_stats(["/c/a", "/c/b", "/c/c", "/c/d"])
        # estimates share each run's 4 seconds by bytes: a is 100 of 400 bytes
        assert stats["/c/a"] == BagStats(2, 2, 1.0)
        assert stats["/c/b"] == BagStats(2, 1, 3.0)
        # a fast (Payload-Oxum) audit is not a fixity check: no good check, no estimate
        assert stats["/c/c"] == BagStats(3, None, None)
        assert "/c/d" not in stats
        candidates = ["/c/a", "/c/b", "/c/c", "/c/d"]
        assert select_bags(ledger, candidates, None, None) == ["/c/d", "/c/c", "/c/b", "/c/a"]
        assert select_bags(ledger, candidates, 3, None) == ["/c/d", "/c/c", "/c/b"]
        # d and c cost the mean 2.0 each, b 3.0: a 5-second budget covers d and c
        assert select_bags(ledger, candidates, None, 5.0) == ["/c/d", "/c/c"]


# ---------------------------------------------------------------- PREMIS export


def test_premis_xml_fixity_checks_and_deposits(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        ledger.record_run(make_report("fast-1", 12, [good("/c/b")], mode="fast"))
        document = ledger.premis_xml("/c/b", "urn:example:bag-b")
        again = ledger.premis_xml("/c/b", "urn:example:bag-b")
    assert document == again  # deterministic
    validate_xml_xmlschema(document, "premis", "ledger events")  # second validator
    root = etree.fromstring(document)
    ns = {"p": "http://www.loc.gov/premis/v3"}
    types = root.xpath("//p:event/p:eventType", namespaces=ns)
    # four full audits (the fast one is not a fixity check) and one transfer
    assert [t.text for t in types] == ["fixity check"] * 4 + ["transfer"]
    assert types[0].get("valueURI") == "http://id.loc.gov/vocabulary/preservation/eventType/fix"
    outcomes = root.xpath(
        "//p:event/p:eventOutcomeInformation/p:eventOutcome/text()", namespaces=ns
    )
    assert outcomes == ["fail"] * 5
    notes = root.xpath("//p:eventOutcomeDetailNote/text()", namespaces=ns)
    assert notes[0] == (
        "missing-file data/gone.txt; "
        f"checksum-mismatch data/x.txt (sha256 expected {'a' * 64}, found {'b' * 64})"
    )
    linked = root.xpath("//p:linkingObjectIdentifierValue/text()", namespaces=ns)
    assert set(linked) == {"urn:example:bag-b"}
    assert root.xpath("//p:objectIdentifierValue/text()", namespaces=ns) == ["urn:example:bag-b"]
    assert root.xpath("//p:agent/p:agentVersion/text()", namespaces=ns) == ["0.1.0"]


def test_premis_xml_default_identifier_and_success(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        document = ledger.premis_xml("/c/a")
    root = etree.fromstring(document)
    ns = {"p": "http://www.loc.gov/premis/v3"}
    assert root.xpath("//p:objectIdentifierValue/text()", namespaces=ns) == ["a"]
    assert root.xpath("//p:eventOutcome/text()", namespaces=ns) == ["success"] * 5
    assert "every checksum matches" in root.xpath(
        "//p:eventOutcomeDetailNote/text()", namespaces=ns
    )


def test_premis_xml_nothing_recorded(ledger_path: Path) -> None:
    with (
        Ledger.open(ledger_path) as ledger,
        pytest.raises(LedgerError, match="no fixity checks or deposit events recorded for /c/zz"),
    ):
        ledger.premis_xml("/c/zz")


@BAD_EVENTS
def test_record_events_refuses_bad_events(
    ledger_path: Path, event: LedgerEvent, message: str
) -> None:
    with Ledger.open(ledger_path) as ledger:
        with pytest.raises(LedgerError, match=message):
            ledger.record_events(
                [event],
                run_id="bad",
                started="2026-01-01T00:00:00+00:00",
                ended="2026-01-01T00:00:00+00:00",
                versions={},
            )
        assert len(ledger.runs()) == 5
        assert ledger.verify() == []


# ---------------------------------------------------------------- format 2 and migration


def test_format_2_stores_only_changed_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with Ledger.open(path) as ledger:
        ledger.record_run(make_report("r0", 1, [good("/c/a"), good("/c/b")]))
        ledger.record_run(make_report("r1", 2, [good("/c/a"), good("/c/b")]))
        ledger.record_run(make_report("r2", 3, [good("/c/a"), bad("/c/b")]))
        ledger.record_run(make_report("r3", 4, [good("/c/b")], mode="fast"))
        ledger.record_run(make_report("r4", 5, [good("/c/a"), bad("/c/b")]))
        assert ledger.verify() == []
        history = ledger.history("/c/b")
        assert [(h.run_id, h.status, h.mode) for h in history] == [
            ("r0", "valid", "full"),
            ("r1", "valid", "full"),
            ("r2", "invalid", "full"),
            ("r3", "valid", "fast"),
            ("r4", "invalid", "full"),
        ]
        assert [h.checked[:10] for h in history] == [f"2026-01-0{d}" for d in range(1, 6)]
        assert [h.run_id for h in ledger.history("/c/a")] == ["r0", "r1", "r2", "r4"]
        stats = ledger.bag_stats(["/c/a", "/c/b"])
        assert stats["/c/b"] == BagStats(5, 2, 300 * 4.0 / 400)
        assert stats["/c/a"] == BagStats(5, 5, 100 * 4.0 / 400)
    with contextlib.closing(sqlite3.connect(path)) as db:
        stored = db.execute("SELECT seq, bag, status FROM outcomes ORDER BY seq, ord").fetchall()
    # first sight of each bag, /c/b turning invalid, valid (fast), invalid again
    assert stored == [
        (1, "/c/a", "valid"),
        (1, "/c/b", "valid"),
        (3, "/c/b", "invalid"),
        (4, "/c/b", "valid"),
        (5, "/c/b", "invalid"),
    ]


def _merkle(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written from the RFC (split at the largest power of two < n)."""
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _merkle(leaves[:k]) + _merkle(leaves[k:])).digest()


def test_hashes_recomputed_with_rfc8785_independently(tmp_path: Path) -> None:
    """A third party's check: only rfc8785, hashlib, sqlite3 and the README's description."""
    import rfc8785

    path = tmp_path / "l.sqlite"
    weird = BagReport(bag="/c/\u00e9t\u00e9 \U0001f600", files=1, bytes=7, findings=(MISMATCH,))
    with Ledger.open(path) as ledger:
        ledger.record_run(make_report("r0", 1, [good("/c/a"), bad("/c/b"), weird], seconds=2.0))
        ledger.record_run(make_report("r1", 2, [good("/c/a"), good("/c/b"), good("/c/c")]))
        ledger.record_events(
            [LedgerEvent("transfer", "/c/a", "2026-01-09T00:00:00+00:00", "success", "s3")],
            run_id="d0",
            started="2026-01-09T00:00:00+00:00",
            ended="2026-01-09T00:00:01+00:00",
            versions={"archiver": "0.1.0"},
        )
    db = sqlite3.connect(path)
    try:
        names = dict(db.execute("SELECT id, bag FROM bags"))
        current: dict[int, str] = {}
        prev = "0" * 64
        runs = db.execute(
            "SELECT seq, run_id, kind, started, ended, mode, roots, versions, bags, failed, "
            "files, bytes, seconds, children, children_hash, prev_hash, hash, prev_run_id, "
            "format FROM runs ORDER BY seq"
        ).fetchall()
        for run in runs:
            seq, run_id, kind = run[0], run[1], run[2]
            if kind == "audit":
                for bag, status, files, size, findings, stored in db.execute(
                    "SELECT bag, status, files, bytes, findings, hash FROM outcomes "
                    "WHERE seq = ? ORDER BY ord",
                    (seq,),
                ):
                    content = {
                        "bag": bag,
                        "status": status,
                        "files": files,
                        "bytes": size,
                        "findings": json.loads(findings),
                    }
                    assert hashlib.sha256(rfc8785.dumps(content)).hexdigest() == stored
                    current[next(i for i, n in names.items() if n == bag)] = stored
                bitmap = zlib.decompress(
                    db.execute("SELECT bitmap FROM members WHERE seq = ?", (seq,)).fetchone()[0]
                )
                ids = [i for i in range(len(bitmap) * 8) if bitmap[i // 8] >> (i % 8) & 1]
                root = _merkle([bytes.fromhex(current[i]) for i in ids]).hex()
                assert (len(ids), root) == (run[13], run[14])
            else:
                lines = b""
                for row in db.execute(
                    "SELECT identifier, event_type, bag, date_time, outcome, detail, "
                    "outcome_detail, target, hash FROM events WHERE seq = ? ORDER BY ord",
                    (seq,),
                ):
                    keys = EVENT_FIELDS
                    event = {"run_id": run_id, **dict(zip(keys, row[:-1], strict=True))}
                    assert hashlib.sha256(rfc8785.dumps(event)).hexdigest() == row[-1]
                    lines += f"e:{row[-1]}\n".encode()
                assert hashlib.sha256(lines).hexdigest() == run[14]
            fields = {
                "format": run[18],
                "run_id": run_id,
                "kind": kind,
                "started": run[3],
                "ended": run[4],
                "mode": run[5],
                "roots": json.loads(run[6]),
                "versions": json.loads(run[7]),
                "bags": run[8],
                "failed": run[9],
                "files": run[10],
                "bytes": run[11],
                "seconds": run[12],
                "children": run[13],
                "children_hash": run[14],
                "prev": prev,
                "prev_run_id": run[17],
            }
            assert run[18] == FORMAT == "archiver-ledger/2"
            assert run[15] == prev
            assert hashlib.sha256(rfc8785.dumps(fields)).hexdigest() == run[16]
            prev = run[16]
        # RFC 8785, not Python's json: 2.0 is written 2, keys sorted by UTF-16 code units
        assert rfc8785.dumps({"seconds": 2.0}) == b'{"seconds":2}'
    finally:
        db.close()


def _bytes_of(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{s}").read_bytes() for s in ("", "-wal") if Path(f"{path}{s}").exists()
    )


def test_read_only_open_leaves_a_format_1_ledger_as_it_is(ledger_v1: Path) -> None:
    before = ledger_v1.read_bytes()
    with Ledger.open(ledger_v1, readonly=True) as ledger:
        assert ledger.version == 1
        assert ledger.verify() == []
        assert [r.run_id for r in ledger.runs()] == ["r0", "r1", "r2", "r3", "d0"]
        assert [h.status for h in ledger.history("/c/b")] == ["invalid"] * 4
        assert ledger.bag_stats(["/c/a", "/c/b"])["/c/b"] == BagStats(4, None, 3.0)
        with pytest.raises(LedgerError, match="the ledger is open read-only"):
            ledger.record_run(make_report("r9", 9, [good("/c/a")]))
    assert ledger_v1.read_bytes() == before
    with contextlib.closing(sqlite3.connect(ledger_v1)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


def test_migration_keeps_a_format_1_ledger_verifiable(ledger_v1: Path) -> None:
    with Ledger.open(ledger_v1, readonly=True) as ledger:
        head = ledger.head()
        history = ledger.history("/c/b")
        stats = ledger.bag_stats(["/c/a", "/c/b"])
        events = ledger.events()
    with Ledger.open(ledger_v1) as ledger:  # opened for writing: migrated
        assert ledger.version == 3
        assert ledger.verify(head[1]) == []
        assert ledger.head() == head
        assert [r.format for r in _stored_runs(ledger_v1)] == ["archiver-ledger/1"] * 5
        assert ledger.history("/c/b") == history
        assert ledger.bag_stats(["/c/a", "/c/b"]) == stats
        assert ledger.events() == events
        ledger.record_run(make_report("r9", 10, [good("/c/a"), good("/c/b"), good("/c/new")]))
        assert ledger.verify() == []
        assert [h.status for h in ledger.history("/c/b")] == ["invalid"] * 4 + ["valid"]
        assert ledger.bag_stats(["/c/b"])["/c/b"].last_good_seq == 6
        assert ledger.bags() == ["/c/a", "/c/b", "/c/new"]
    assert [r.format for r in _stored_runs(ledger_v1)][-1] == "archiver-ledger/2"
    # tampering with a migrated format 1 run is still caught
    _tamper(ledger_v1, sql("UPDATE outcomes SET status = 'valid' WHERE seq = 2 AND bag = '/c/b'"))
    problems = verify(ledger_v1)
    assert problems[0][:2] == ("edited-outcome", 2)


def _stored_runs(path: Path) -> list[Any]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT seq, format FROM runs ORDER BY seq").fetchall()
    return [type("Run", (), {"seq": r[0], "format": r[1]}) for r in rows]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an archiver ledger (an empty file)"),
        (None, "not an archiver ledger (another SQLite database)"),
    ],
    ids=["empty", "foreign-sqlite"],
)
@pytest.mark.parametrize("readonly", [True, False])
def test_empty_or_foreign_file_is_not_a_ledger(
    tmp_path: Path, content: bytes | None, message: str, readonly: bool
) -> None:
    path = tmp_path / "l.sqlite"
    if content is None:
        _other_db(path)
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(LedgerError, match=re.escape(message)), Ledger.open(path, readonly=readonly):
        pass
    assert path.read_bytes() == before  # never reinitialized


CREATE = textwrap.dedent(
    """
    import sys
    from archiver.model.reports import AuditReport, AuditTotals
    from archiver.model.findings import BagReport
    from archiver.ledger.store import Ledger

    path, name, go = sys.argv[1], sys.argv[2], sys.argv[3]
    import os, time
    while not os.path.exists(go):
        time.sleep(0.001)
    with Ledger.open(path) as ledger:
        ledger.record_run(AuditReport(run_id=name, started="2026-01-01T00:00:00+00:00",
            ended="2026-01-01T00:01:00+00:00", mode="full", roots=("/c",),
            versions={"archiver": "0.1.0"}, bags=(BagReport(bag="/c/" + name, files=1, bytes=1),),
            totals=AuditTotals(bags=1, files=1, bytes=1, seconds=1.0)))
    """
)


def test_first_runs_racing_on_a_new_ledger_all_land(tmp_path: Path) -> None:
    path = tmp_path / "new" / "l.sqlite"
    path.parent.mkdir()
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(Path(archiver.__file__).parent.parent)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CREATE, str(path), f"w{i}", str(go)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    go.touch()  # all start creating at once
    errors = [child.communicate()[1] for child in children]
    assert [child.returncode for child in children] == [0] * 6, errors
    with Ledger.open(path, readonly=True) as ledger:
        assert sorted(r.run_id for r in ledger.runs()) == [f"w{i}" for i in range(6)]
        assert ledger.verify() == []
    assert sorted(
        p.name for p in path.parent.iterdir() if not p.name.endswith(("-wal", "-shm"))
    ) == ["l.sqlite"]


# ---------------------------------------------------------------- tag-manifest records

TAGS = {"tagmanifest-sha256.txt": {"sha256": "a" * 64, "sha512": "b" * 128}}


def with_tags(report: BagReport, tags: dict[str, dict[str, str]]) -> BagReport:
    return dataclasses.replace(report, tag_manifests=tags)


def test_good_full_audits_record_tag_manifest_digests(tmp_path: Path) -> None:
    newer = {"tagmanifest-sha256.txt": {"sha256": "c" * 64, "sha512": "d" * 128}}
    with Ledger.open(tmp_path / LEDGER_FILENAME) as ledger:
        ledger.record_run(make_report("r1", 1, [with_tags(good("/c/a"), TAGS)]))
        ledger.record_run(make_report("r2", 2, [with_tags(bad("/c/a"), newer)]))  # not good
        ledger.record_run(make_report("r3", 3, [with_tags(good("/c/a"), newer)], mode="fast"))
        record = ledger.tag_manifest_record("/c/a")
        assert record is not None
        assert (record.run_id, dict(record.digests)) == ("r1", TAGS)
        ledger.record_run(make_report("r4", 4, [with_tags(good("/c/a"), newer)]))
        assert ledger.tag_manifest_records(["/c/a", "/c/b"])["/c/a"].run_id == "r4"
        assert ledger.tag_manifest_record("/c/b") is None
        assert ledger.verify() == []


def test_an_edited_tag_manifest_record_is_detected(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILENAME
    with Ledger.open(path) as ledger:
        ledger.record_run(make_report("r1", 1, [with_tags(good("/c/a"), TAGS)]))
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE outcomes SET tagmanifests = replace(tagmanifests, 'aaaa', 'eeee')")
    with Ledger.open(path) as ledger:
        assert [p.kind for p in ledger.verify()] == ["edited-outcome"]


def test_a_version_1_ledger_is_upgraded_and_still_verifies(ledger_v1: Path) -> None:
    with Ledger.open(ledger_v1, readonly=True) as ledger:
        head = ledger.head()
    with Ledger.open(ledger_v1) as ledger:
        assert ledger.verify(head[1]) == []
        ledger.record_run(make_report("r9", 9, [with_tags(good("/c/a"), TAGS)]))
        ledger.record_run(make_report("r10", 10, [with_tags(good("/c/a"), TAGS)]))
        assert ledger.verify() == []
        record = ledger.tag_manifest_record("/c/a")
        assert record is not None and record.run_id == "r10"  # the last good check
        assert dict(record.digests) == TAGS
    with contextlib.closing(sqlite3.connect(ledger_v1)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
