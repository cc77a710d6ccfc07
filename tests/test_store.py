"""Tests for ledger.store: recording, the hash chain, tamper detection, kill -9, selection."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from lxml import etree
from test_premis_export import BAD_EVENTS  # the events PREMIS cannot express
from xmlschema_validator import validate_xml_xmlschema

import archiver
from archiver.audit.collection import AuditReport, AuditTotals
from archiver.bag.findings import BagReport, Finding, Kind
from archiver.errors import LedgerError
from archiver.ledger.store import (
    GENESIS,
    LEDGER_FILENAME,
    BagStats,
    Ledger,
    LedgerEvent,
    child_hash,
    default_ledger_path,
    plan_selection,
    run_fields,
    run_hash,
)

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


def verify(path: Path, expected_head: str | None = None) -> list[tuple[str, int | None, str]]:
    with Ledger.open(path, create=False) as ledger:
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


def test_default_ledger_path() -> None:
    assert default_ledger_path(["/srv/bags", "/other"]) == Path("/srv/bags/.audit-ledger.sqlite")
    assert default_ledger_path() == Path("bags/.audit-ledger.sqlite")


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
        db.execute("PRAGMA user_version = 3")


@pytest.mark.parametrize(
    ("prepare", "create", "message"),
    [
        (None, False, r"missing\.sqlite: no ledger here"),
        (_garbage, False, r"not a readable ledger \(file is not a database\)"),
        (_other_db, True, r"not an archiver ledger \(another SQLite database\)"),
        (_future, False, r"ledger format version 3 is not supported \(expected 2\)"),
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
            (child_hash(fields), seq, bag),
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
            "INSERT INTO outcomes SELECT seq, 7, '/c/z', status, files, bytes, findings, hash, "
            "tagmanifests FROM outcomes WHERE seq = 3 AND ord = 0"
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


@pytest.mark.parametrize(
    ("tamper", "kind", "seq", "message"),
    [case[1:] for case in TAMPERING],
    ids=[case[0] for case in TAMPERING],
)
def test_tampering_is_detected(
    ledger_path: Path, tamper: Tamper, kind: str, seq: int | None, message: str
) -> None:
    db = sqlite3.connect(ledger_path)
    try:
        tamper(db)
        db.commit()
    finally:
        db.close()
    problems = verify(ledger_path)
    assert problems, "tampering went unnoticed"
    first_kind, first_seq, first_message = problems[0]
    assert (first_kind, first_seq) == (kind, seq), problems
    assert message in first_message, problems


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
    from archiver.audit.collection import AuditReport, AuditTotals
    from archiver.bag.findings import BagReport
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
        assert ledger.select_bags(candidates, None, None) == ["/c/d", "/c/c", "/c/b", "/c/a"]
        assert ledger.select_bags(candidates, 3, None) == ["/c/d", "/c/c", "/c/b"]
        # d and c cost the mean 2.0 each, b 3.0: a 5-second budget covers d and c
        assert ledger.select_bags(candidates, None, 5.0) == ["/c/d", "/c/c"]


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


def test_a_version_1_ledger_is_upgraded_and_still_verifies(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILENAME
    with Ledger.open(path) as ledger:
        for i in range(3):
            ledger.record_run(make_report(f"r{i}", i + 1, [good("/c/a"), bad("/c/b")]))
        head = ledger.head()
    with contextlib.closing(sqlite3.connect(path)) as db, db:  # as version 1 wrote it
        db.execute("ALTER TABLE outcomes DROP COLUMN tagmanifests")
        db.execute("PRAGMA user_version = 1")
    with Ledger.open(path) as ledger:
        assert ledger.verify(head[1]) == []
        ledger.record_run(make_report("r9", 9, [with_tags(good("/c/a"), TAGS)]))
        assert ledger.verify() == []
        assert ledger.tag_manifest_record("/c/a") is not None
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
