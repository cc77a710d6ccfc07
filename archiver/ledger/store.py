"""The audit ledger: an append-only, hash-chained SQLite history of audits and deposits.

Location: ``archiver audit ROOT`` keeps it at ``<first ROOT>/.audit-ledger.sqlite`` unless
``--ledger F`` says otherwise (``make audit`` passes ``--ledger bags/.audit-ledger.sqlite``);
``archiver ledger`` defaults to ``bags/.audit-ledger.sqlite`` (see ``default_ledger_path``).

Layout (SQLite, WAL journal, ``synchronous=FULL``)::

    meta      key -> value: format version, head seq and head hash
    runs      one row per chain entry (an audit run, or a batch of deposit events), in
              chain order ``seq`` 1, 2, 3 ...
    outcomes  one row per bag checked in an audit run (status, files, bytes, findings)
    events    one row per deposit / replication / transfer event (issue 5)

Each run is written in ONE transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a process
killed mid-write leaves at most uncommitted pages in the WAL, which SQLite ignores, so the
partial run is absent and the chain intact. SQLite's atomic commit takes the place of the
write-to-temp-and-rename used for files. Writers queue (busy timeout), never interleave.

The hash chain and its verification are ``archiver.ledger.chain`` (pure); the records are
``archiver.ledger.records``; the PREMIS export is ``archiver.ledger.premis_export``. Their public
names are importable from here too. A hash chain kept in the same file proves the history
was not edited *naively*; to detect a rewrite of the whole chain, keep the head hash
elsewhere and compare (``archiver ledger verify --head HASH``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from archiver.bag.findings import Finding
from archiver.errors import LedgerError
from archiver.ledger.chain import (
    EVENT_COLUMNS,
    FORMAT,
    GENESIS,
    OUTCOME_COLUMNS,
    RUN_COLUMNS,
    ChildRows,
    StoredRun,
    canonical_json,
    child_hash,
    children_digest,
    event_fields,
    event_identifier,
    missing_tables,
    outcome_fields,
    run_fields,
    run_hash,
    sha256_hex,
    verify_chain,
)
from archiver.ledger.premis_export import check_event, premis_document, premis_events
from archiver.ledger.records import (
    EVENT_FIELDS,
    FIXITY_MODES,
    AuditReportLike,
    BagOutcome,
    BagReportLike,
    BagSummary,
    LedgerEvent,
    Problem,
    RecordedEvent,
    RunRecord,
    TagManifestRecord,
    TotalsLike,
    finding_from_json,
)
from archiver.metadata.validation import SchemaSet

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT",
    "DEFAULT_LEDGER",
    "FIXITY_MODES",
    "FORMAT",
    "GENESIS",
    "LEDGER_FILENAME",
    "SCHEMA_VERSION",
    "AuditReportLike",
    "BagOutcome",
    "BagReportLike",
    "BagStats",
    "BagSummary",
    "Ledger",
    "LedgerEvent",
    "Problem",
    "RecordedEvent",
    "RunRecord",
    "TagManifestRecord",
    "TotalsLike",
    "canonical_json",
    "check_event",
    "child_hash",
    "children_digest",
    "default_ledger_path",
    "event_fields",
    "event_identifier",
    "finding_from_json",
    "outcome_fields",
    "plan_selection",
    "premis_events",
    "run_fields",
    "run_hash",
    "sha256_hex",
]

LEDGER_FILENAME = ".audit-ledger.sqlite"
DEFAULT_LEDGER = Path("bags") / LEDGER_FILENAME
APPLICATION_ID = 0x41524356  # "ARCV": marks the SQLite file as an archiver ledger
SCHEMA_VERSION = 2  # 2: outcomes.tagmanifests (version 1 ledgers are upgraded on open)
BUSY_TIMEOUT = 10.0  # seconds to wait for another writer

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE runs (
        seq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        started TEXT NOT NULL,
        ended TEXT NOT NULL,
        mode TEXT NOT NULL,
        roots TEXT NOT NULL,
        versions TEXT NOT NULL,
        bags INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        files INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        seconds REAL NOT NULL,
        children INTEGER NOT NULL,
        children_hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        prev_run_id TEXT NOT NULL)""",
    """CREATE TABLE outcomes (
        seq INTEGER NOT NULL REFERENCES runs (seq) DEFERRABLE INITIALLY DEFERRED,
        ord INTEGER NOT NULL,
        bag TEXT NOT NULL,
        status TEXT NOT NULL,
        files INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        findings TEXT NOT NULL,
        hash TEXT NOT NULL,
        tagmanifests TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (seq, ord))""",
    "CREATE INDEX outcomes_bag ON outcomes (bag, seq)",
    """CREATE TABLE events (
        seq INTEGER NOT NULL REFERENCES runs (seq) DEFERRABLE INITIALLY DEFERRED,
        ord INTEGER NOT NULL,
        identifier TEXT NOT NULL,
        event_type TEXT NOT NULL,
        bag TEXT NOT NULL,
        date_time TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL,
        outcome_detail TEXT NOT NULL,
        target TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (seq, ord))""",
    "CREATE INDEX events_bag ON events (bag, seq)",
)

_RUN_SELECT = ", ".join(RUN_COLUMNS)


@dataclasses.dataclass(frozen=True, slots=True)
class BagStats:
    """What ``select_bags`` knows about one bag from its history."""

    last_checked_seq: int | None = None  # any audit, any outcome
    last_good_seq: int | None = None  # a fixity audit that found the bag valid
    estimate_seconds: float | None = None  # from its last fixity audit


# ---------------------------------------------------------------- incremental selection


def plan_selection(
    candidates: Sequence[str],
    stats: Mapping[str, BagStats],
    oldest: int | None,
    budget_seconds: float | None,
) -> list[str]:
    """Order and cut the candidates for an incremental audit (pure).

    Order: bags never audited first, then bags never found good by a fixity audit, then by
    the run of their last good fixity check, oldest first; ties keep the candidates' order.
    ``oldest`` caps the count. With ``budget_seconds``, each bag costs its estimate (bags
    without one cost the mean of the known estimates, else 0) and selection stops at the
    first bag that would exceed the budget. At least one bag is selected when any exist.
    """
    if oldest is not None and oldest < 1:
        raise LedgerError(f"--oldest: must be at least 1, not {oldest}")
    if budget_seconds is not None and budget_seconds <= 0:
        raise LedgerError(f"--budget: must be more than 0 seconds, not {budget_seconds:g}")
    unique = list(dict.fromkeys(candidates))
    empty = BagStats()

    def key(item: tuple[int, str]) -> tuple[int, int, int]:
        position, bag = item
        s = stats.get(bag, empty)
        if s.last_checked_seq is None:
            return (0, 0, position)
        if s.last_good_seq is None:
            return (1, 0, position)
        return (2, s.last_good_seq, position)

    ordered = [bag for _, bag in sorted(enumerate(unique), key=key)]
    if oldest is not None:
        ordered = ordered[:oldest]
    if budget_seconds is None:
        return ordered
    known = [e for bag in unique if (e := stats.get(bag, empty).estimate_seconds) is not None]
    default = sum(known) / len(known) if known else 0.0
    selected: list[str] = []
    spent = 0.0
    for bag in ordered:
        estimate = stats.get(bag, empty).estimate_seconds
        cost = default if estimate is None else estimate
        if selected and spent + cost > budget_seconds:
            break
        selected.append(bag)
        spent += cost
    return selected


def default_ledger_path(roots: Sequence[str | Path] = ()) -> Path:
    """The documented default: ``<first root>/.audit-ledger.sqlite``, else ``bags/...``."""
    return Path(roots[0]) / LEDGER_FILENAME if roots else DEFAULT_LEDGER


# ---------------------------------------------------------------- the ledger (I/O)


class Ledger:
    """An open audit ledger. Use ``Ledger.open(path)`` as a context manager."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, path: str | Path, *, create: bool = True, timeout: float = BUSY_TIMEOUT
    ) -> Iterator[Ledger]:
        """Open (with ``create``, create if missing) the ledger at ``path``; closed on exit.

        ``timeout``: seconds to wait for another process writing the ledger.
        """
        target = Path(path)
        if not create and not target.is_file():
            raise LedgerError(f"{target}: no ledger here (no such file)")
        if create and not target.parent.is_dir():
            raise LedgerError(
                f"{target}: cannot create the ledger, {target.parent} is not a directory"
            )
        mode = "rwc" if create else "rw"
        try:
            connection = sqlite3.connect(
                f"{target.resolve().as_uri()}?mode={mode}",
                uri=True,
                isolation_level=None,
                timeout=timeout,
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"{target}: cannot open the ledger ({exc})") from exc
        try:
            ledger = cls(target, connection)
            ledger._setup(timeout)
            yield ledger
        finally:
            connection.close()

    # -- internals

    def _error(self, exc: sqlite3.Error, doing: str) -> LedgerError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return LedgerError(f"{self.path}: ledger is locked by another process ({text})")
        if "not a database" in text or "malformed" in text:
            return LedgerError(f"{self.path}: not a readable ledger ({text})")
        return LedgerError(f"{self.path}: cannot {doing} ({text})")

    @contextlib.contextmanager
    def _transaction(self, doing: str, *, write: bool) -> Iterator[sqlite3.Connection]:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as exc:
            raise self._error(exc, doing) from exc
        try:
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise self._error(exc, doing) from exc
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def _setup(self, timeout: float) -> None:
        db = self._db
        try:
            db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.Error as exc:
            raise self._error(exc, "read the ledger") from exc
        if app_id == APPLICATION_ID:
            if version == 1:
                self._upgrade_v1()
            elif version != SCHEMA_VERSION:
                raise LedgerError(
                    f"{self.path}: ledger format version {version} is not supported "
                    f"(expected {SCHEMA_VERSION})"
                )
        elif app_id != 0 or tables:
            raise LedgerError(f"{self.path}: not an archiver ledger (another SQLite database)")
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise self._error(exc, "configure the ledger") from exc
        if app_id == 0:
            with self._transaction("create the ledger", write=True) as tx:
                if tx.execute("PRAGMA application_id").fetchone()[0] == 0:
                    for statement in _SCHEMA:
                        tx.execute(statement)
                    tx.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
                    tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    tx.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def _upgrade_v1(self) -> None:
        """Version 1 → 2: add the outcomes' ``tagmanifests`` column (empty for old rows,
        which hash as before, so the chain still verifies)."""
        with self._transaction("upgrade the ledger", write=True) as tx:
            if tx.execute("PRAGMA user_version").fetchone()[0] == 1:
                tx.execute("ALTER TABLE outcomes ADD COLUMN tagmanifests TEXT NOT NULL DEFAULT ''")
                tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _head(self, tx: sqlite3.Connection) -> tuple[int, str, str]:
        row = tx.execute("SELECT seq, hash, run_id FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, GENESIS, "") if row is None else (int(row[0]), str(row[1]), str(row[2]))

    def _insert_run(self, tx: sqlite3.Connection, seq: int, fields: Mapping[str, Any]) -> str:
        digest = run_hash(fields)
        tx.execute(
            f"INSERT INTO runs ({_RUN_SELECT}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                fields["run_id"],
                fields["kind"],
                fields["started"],
                fields["ended"],
                fields["mode"],
                canonical_json(fields["roots"]).decode("utf-8"),
                canonical_json(fields["versions"]).decode("utf-8"),
                fields["bags"],
                fields["failed"],
                fields["files"],
                fields["bytes"],
                fields["seconds"],
                fields["children"],
                fields["children_hash"],
                fields["prev"],
                digest,
                fields["prev_run_id"],
            ),
        )
        tx.execute(
            "INSERT OR REPLACE INTO meta VALUES ('head_seq', ?), ('head_hash', ?)",
            (str(seq), digest),
        )
        return digest

    def _next_run(self, tx: sqlite3.Connection, run_id: str) -> tuple[int, str, str]:
        """Refuse a missing or recorded run id; the new run's seq, previous hash and id."""
        if not run_id:
            raise LedgerError(f"{self.path}: cannot record a run without a run id")
        if tx.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
            raise LedgerError(f"{self.path}: run {run_id} is already recorded")
        last_seq, prev, prev_id = self._head(tx)
        return last_seq + 1, prev, prev_id

    # -- writing

    def record_run(
        self, report: AuditReportLike, events: Sequence[LedgerEvent] = (), *, kind: str = "audit"
    ) -> str:
        """Append one audit run and every bag's outcome, in one transaction; returns the id.

        A bag found valid by a fixity audit has its tag-manifest digests recorded (the
        reference ``repair`` and the next audits compare with). ``events`` (e.g. a repair's
        recovery events) are chained in the same run, after the outcomes.
        """
        run_id = report.run_id
        record_tags = report.mode in FIXITY_MODES
        with self._transaction(f"record run {run_id}", write=True) as tx:
            seq, prev, prev_id = self._next_run(tx, run_id)
            lines: list[str] = []
            for ordinal, bag in enumerate(sorted(report.bags, key=lambda b: b.bag)):
                fields = outcome_fields(
                    run_id, bag, record_tags=record_tags and bag.status == "valid"
                )
                digest = child_hash(fields)
                tags = fields.get("tagmanifests")
                tx.execute(
                    "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        ordinal,
                        fields["bag"],
                        fields["status"],
                        fields["files"],
                        fields["bytes"],
                        canonical_json(fields["findings"]).decode("utf-8"),
                        digest,
                        canonical_json(tags).decode("utf-8") if tags else "",
                    ),
                )
                lines.append(f"o:{digest}")
            lines.extend(self._insert_events(tx, seq, run_id, events, len(lines), ""))
            totals = report.totals
            header = run_fields(
                run_id=run_id,
                kind=kind,
                started=report.started,
                ended=report.ended,
                mode=report.mode,
                roots=report.roots,
                versions=report.versions,
                bags=int(totals.bags),
                failed=int(totals.failed),
                files=int(totals.files),
                bytes_=int(totals.bytes),
                seconds=float(totals.seconds),
                children=len(lines),
                children_hash=children_digest(lines),
                prev_hash=prev,
                prev_run_id=prev_id,
            )
            self._insert_run(tx, seq, header)
        return run_id

    def record_events(
        self,
        events: Sequence[LedgerEvent],
        *,
        run_id: str,
        started: str,
        ended: str,
        versions: Mapping[str, str],
        kind: str = "deposit",
        target: str = "",
    ) -> str:
        """Append a batch of deposit/replication/transfer events as one chained run.

        ``target`` (e.g. the deposit URI) is recorded on the run and on events without one.
        """
        if not events:
            raise LedgerError(f"{self.path}: no events to record for run {run_id}")
        with self._transaction(f"record run {run_id}", write=True) as tx:
            seq, prev, prev_id = self._next_run(tx, run_id)
            lines = self._insert_events(tx, seq, run_id, events, 0, target)
            bags = {event.bag for event in events}
            failed = {event.bag for event in events if event.outcome == "failure"}
            header = run_fields(
                run_id=run_id,
                kind=kind,
                started=started,
                ended=ended,
                mode=kind,
                roots=(target,) if target else (),
                versions=versions,
                bags=len(bags),
                failed=len(failed),
                files=0,
                bytes_=0,
                seconds=0.0,
                children=len(lines),
                children_hash=children_digest(lines),
                prev_hash=prev,
                prev_run_id=prev_id,
            )
            self._insert_run(tx, seq, header)
        return run_id

    def _insert_events(
        self,
        tx: sqlite3.Connection,
        seq: int,
        run_id: str,
        events: Sequence[LedgerEvent],
        start: int,
        target: str,
    ) -> list[str]:
        """Insert the run's events (ordinals from ``start``); their ``e:<hash>`` lines."""
        lines: list[str] = []
        for ordinal, given in enumerate(events, start):
            check_event(given)
            event = given
            if target and not event.target:
                event = dataclasses.replace(event, target=target)
            if not event.identifier:
                event = dataclasses.replace(event, identifier=event_identifier(run_id, event))
            fields = event_fields(run_id, event)
            digest = child_hash(fields)
            tx.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, ordinal, *(fields[name] for name in EVENT_FIELDS), digest),
            )
            lines.append(f"e:{digest}")
        return lines

    def record_event(
        self, event: LedgerEvent, *, run_id: str, versions: Mapping[str, str], kind: str = "deposit"
    ) -> str:
        """Append a single event as its own chained run."""
        return self.record_events(
            [event],
            run_id=run_id,
            started=event.date_time,
            ended=event.date_time,
            versions=versions,
            kind=kind,
            target=event.target,
        )

    # -- reading

    def runs(self) -> list[RunRecord]:
        """Every run, in chain order."""
        with self._transaction("read the runs", write=False) as tx:
            rows = tx.execute(f"SELECT {_RUN_SELECT} FROM runs ORDER BY seq").fetchall()
        return [self._run_record(row) for row in rows]

    def _run_record(self, row: Sequence[Any]) -> RunRecord:
        try:
            return RunRecord(
                seq=int(row[0]),
                run_id=str(row[1]),
                kind=str(row[2]),
                started=str(row[3]),
                ended=str(row[4]),
                mode=str(row[5]),
                roots=tuple(json.loads(row[6])),
                versions=dict(json.loads(row[7])),
                bags=int(row[8]),
                failed=int(row[9]),
                files=int(row[10]),
                bytes=int(row[11]),
                seconds=float(row[12]),
                children=int(row[13]),
                children_hash=str(row[14]),
                prev_hash=str(row[15]),
                hash=str(row[16]),
                prev_run_id=str(row[17]),
            )
        except (TypeError, ValueError) as exc:
            raise LedgerError(f"{self.path}: run seq {row[0]}: unreadable row ({exc})") from exc

    def bags(self) -> list[str]:
        """Every bag the ledger has an outcome or event for, sorted."""
        with self._transaction("read the bags", write=False) as tx:
            rows = tx.execute(
                "SELECT bag FROM outcomes UNION SELECT bag FROM events ORDER BY bag"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def resolve_bag(self, query: str) -> str:
        """The recorded bag name ``query`` means: exact, else the one path ending in it."""
        names = self.bags()
        if query in names:
            return query
        suffix = "/" + query.strip("/")
        matches = [name for name in names if name.rstrip("/").endswith(suffix)]
        if len(matches) > 1:
            listed = ", ".join(matches[:3]) + (", ..." if len(matches) > 3 else "")
            raise LedgerError(f"{self.path}: bag {query!r} is ambiguous: {listed}")
        return matches[0] if matches else query

    def history(self, bag: str) -> list[BagOutcome]:
        """One bag's audit outcomes, oldest first."""
        with self._transaction(f"read the history of {bag}", write=False) as tx:
            rows = tx.execute(
                "SELECT o.seq, r.run_id, o.bag, o.status, o.files, o.bytes, o.findings, "
                "r.ended, r.mode, o.hash FROM outcomes o JOIN runs r ON r.seq = o.seq "
                "WHERE o.bag = ? ORDER BY o.seq",
                (bag,),
            ).fetchall()
        outcomes = []
        for row in rows:
            try:
                findings = tuple(finding_from_json(f) for f in json.loads(row[6]))
            except (TypeError, ValueError, KeyError) as exc:
                raise LedgerError(
                    f"{self.path}: run seq {row[0]}, bag {row[2]}: unreadable findings ({exc})"
                ) from exc
            outcomes.append(
                BagOutcome(
                    seq=int(row[0]),
                    run_id=str(row[1]),
                    bag=str(row[2]),
                    status=str(row[3]),
                    files=int(row[4]),
                    bytes=int(row[5]),
                    findings=findings,
                    checked=str(row[7]),
                    mode=str(row[8]),
                    hash=str(row[9]),
                )
            )
        return outcomes

    def events(self, bag: str | None = None) -> list[RecordedEvent]:
        """Recorded deposit/replication/transfer events (of one bag), oldest first."""
        query = (
            "SELECT e.seq, r.run_id, e.identifier, e.event_type, e.bag, e.date_time, e.outcome, "
            "e.detail, e.outcome_detail, e.target, e.hash FROM events e "
            "JOIN runs r ON r.seq = e.seq"
        )
        params: tuple[str, ...] = ()
        if bag is not None:
            query += " WHERE e.bag = ?"
            params = (bag,)
        with self._transaction("read the events", write=False) as tx:
            rows = tx.execute(query + " ORDER BY e.seq, e.ord", params).fetchall()
        return [
            RecordedEvent(
                seq=int(row[0]),
                run_id=str(row[1]),
                event=LedgerEvent(
                    identifier=str(row[2]),
                    event_type=str(row[3]),
                    bag=str(row[4]),
                    date_time=str(row[5]),
                    outcome=str(row[6]),
                    detail=str(row[7]),
                    outcome_detail=str(row[8]),
                    target=str(row[9]),
                ),
                hash=str(row[10]),
            )
            for row in rows
        ]

    def tag_manifest_record(self, bag: str) -> TagManifestRecord | None:
        """The tag-manifest digests recorded at the bag's last good fixity audit, if any."""
        return self.tag_manifest_records([bag]).get(bag)

    def tag_manifest_records(self, bags: Sequence[str]) -> dict[str, TagManifestRecord]:
        """For each of ``bags`` with one, the record of its last good fixity audit.

        One indexed lookup per bag (newest outcome first), so the cost does not grow with
        the ledger's history.
        """
        found: list[tuple[str, Any, Any, Any, Any]] = []
        with self._transaction("read the tag-manifest records", write=False) as tx:
            for bag in dict.fromkeys(bags):
                row = tx.execute(
                    "SELECT o.seq, r.run_id, r.ended, o.tagmanifests FROM outcomes o "
                    "JOIN runs r ON r.seq = o.seq WHERE o.bag = ? AND o.tagmanifests != '' "
                    "ORDER BY o.seq DESC LIMIT 1",
                    (bag,),
                ).fetchone()
                if row is not None:
                    found.append((bag, *row))
        records: dict[str, TagManifestRecord] = {}
        for bag, seq, run_id, ended, text in found:
            try:
                data = json.loads(text)
                digests = {str(n): {str(a): str(v) for a, v in d.items()} for n, d in data.items()}
            except (TypeError, ValueError, AttributeError) as exc:
                raise LedgerError(
                    f"{self.path}: run seq {seq}, bag {bag}: unreadable tag-manifest record ({exc})"
                ) from exc
            records[bag] = TagManifestRecord(
                seq=int(seq), run_id=str(run_id), checked=str(ended), digests=digests
            )
        return records

    def head(self) -> tuple[int, str]:
        """The last run's (seq, hash); (0, 64 zeros) for an empty ledger."""
        with self._transaction("read the head", write=False) as tx:
            seq, digest, _ = self._head(tx)
        return seq, digest

    def premis_xml(
        self,
        bag: str,
        object_identifier: str | None = None,
        *,
        entity_identifier: str | None = None,
        schemas: SchemaSet | None = None,
    ) -> bytes:
        """The bag's fixity checks and deposit events as a PREMIS 3 document, XSD-checked.

        ``object_identifier`` names the bag's object (its package object in premis.xml,
        or its External-Identifier); by default the bag's directory name.
        ``entity_identifier`` adds the intellectual entity the object represents. Raises
        ``LedgerError`` when nothing is recorded.
        """
        history = self.history(bag)
        events = self.events(bag)
        versions = {run.run_id: run.versions for run in self.runs()}
        identifier = object_identifier or Path(bag).name or bag
        document = premis_document(
            identifier, history, events, versions, entity_identifier=entity_identifier
        )
        if document is None:
            raise LedgerError(f"{self.path}: no fixity checks or deposit events recorded for {bag}")
        (schemas or SchemaSet()).validate_xml(document, "premis", f"PREMIS events for {bag}")
        return document

    # -- incremental audits

    def bag_stats(self, candidates: Sequence[str]) -> dict[str, BagStats]:
        """For each candidate with history: last audit, last good fixity check, estimate."""
        wanted = set(candidates)
        stats: dict[str, BagStats] = {}
        with self._transaction("read the audit history", write=False) as tx:
            rows = tx.execute(
                "SELECT o.bag, MAX(o.seq), "
                "MAX(CASE WHEN o.status = 'valid' AND r.mode IN ({modes}) THEN o.seq END), "
                "MAX(CASE WHEN r.mode IN ({modes}) THEN o.seq END) "
                "FROM outcomes o JOIN runs r ON r.seq = o.seq WHERE r.kind = 'audit' "
                "GROUP BY o.bag".format(modes=", ".join("?" * len(FIXITY_MODES))),
                (*sorted(FIXITY_MODES), *sorted(FIXITY_MODES)),
            ).fetchall()
            for bag, last_seq, good_seq, fixity_seq in rows:
                if bag not in wanted:
                    continue
                estimate = None
                if fixity_seq is not None:
                    estimate = self._estimate(tx, str(bag), int(fixity_seq))
                stats[str(bag)] = BagStats(
                    last_checked_seq=int(last_seq),
                    last_good_seq=None if good_seq is None else int(good_seq),
                    estimate_seconds=estimate,
                )
        return stats

    @staticmethod
    def _estimate(tx: sqlite3.Connection, bag: str, seq: int) -> float | None:
        row = tx.execute(
            "SELECT o.bytes, r.bytes, r.seconds, r.bags FROM outcomes o "
            "JOIN runs r ON r.seq = o.seq WHERE o.seq = ? AND o.bag = ?",
            (seq, bag),
        ).fetchone()
        if row is None:
            return None
        bag_bytes, run_bytes, run_seconds, run_bags = row
        if run_bytes and run_bytes > 0:
            return float(run_seconds) * int(bag_bytes) / int(run_bytes)
        return float(run_seconds) / max(int(run_bags), 1)

    def select_bags(
        self, candidates: Sequence[str], oldest: int | None, budget_seconds: float | None
    ) -> list[str]:
        """The candidates an incremental audit should check, most overdue first.

        See ``plan_selection``; estimates come from each bag's last fixity audit: the
        run's seconds shared out by bytes (which accounts for the run's parallelism).
        """
        return plan_selection(candidates, self.bag_stats(candidates), oldest, budget_seconds)

    # -- verification

    def verify(self, expected_head: str | None = None) -> list[Problem]:
        """Recompute the whole chain; the problems found, first broken link first."""
        with self._transaction("verify the ledger", write=False) as tx:
            return self._verify(tx, expected_head)

    def _verify(self, tx: sqlite3.Connection, expected_head: str | None) -> list[Problem]:
        dropped = missing_tables({str(r[0]) for r in tx.execute("SELECT name FROM sqlite_master")})
        if dropped:
            return dropped
        runs = [
            StoredRun(*row)
            for row in tx.execute(f"SELECT {_RUN_SELECT} FROM runs ORDER BY seq").fetchall()
        ]

        def children(seq: int) -> ChildRows:
            outcomes = tx.execute(
                f"SELECT {', '.join(OUTCOME_COLUMNS)} FROM outcomes WHERE seq = ? ORDER BY ord",
                (seq,),
            ).fetchall()
            events = tx.execute(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE seq = ? ORDER BY ord",
                (seq,),
            ).fetchall()
            return outcomes, events

        orphans = [
            int(row[0])
            for row in tx.execute(
                "SELECT DISTINCT seq FROM outcomes WHERE seq NOT IN (SELECT seq FROM runs) "
                "UNION SELECT DISTINCT seq FROM events WHERE seq NOT IN (SELECT seq FROM runs) "
                "ORDER BY 1"
            )
        ]
        meta = dict(tx.execute("SELECT key, value FROM meta").fetchall())
        return verify_chain(runs, children, orphans, meta, expected_head)

    # -- the collection at a glance (archiver report)

    def bag_summaries(self) -> list[BagSummary]:
        """Every audited bag's history in brief, sorted by bag.

        Cost grows with the outcomes stored, but mostly in SQLite's C loops: counts from
        the covering (bag, seq) index, the failed outcomes of the runs that had failures,
        the last outcomes run by run from the newest until every bag is covered.
        """
        with (
            ThreadPoolExecutor(1) as pool,
            self._transaction("read the bag summaries", write=False) as tx,
        ):
            # The scan for failed outcomes runs beside the count, on a second connection.
            head = self._head(tx)[0]
            failed_rows = pool.submit(self._failed_outcomes, head)
            counts = tx.execute(
                "SELECT bag, COUNT(*), MIN(seq), MAX(seq) FROM outcomes GROUP BY bag ORDER BY bag"
            ).fetchall()
            failed: dict[str, list[int]] = {}
            for bag, seq in failed_rows.result():
                failed.setdefault(bag, []).append(seq)
            last_seq = {bag: last for bag, _, _, last in counts}
            latest: dict[str, tuple[Any, ...]] = {}
            for seq in sorted(set(last_seq.values()), reverse=True):
                rows = tx.execute(
                    "SELECT bag, ?, status, files, bytes, findings FROM outcomes WHERE seq = ?",
                    (seq, seq),
                ).fetchall()
                latest.update((row[0], row) for row in rows if last_seq.get(row[0]) == seq)
            fixity = {
                row[0]
                for row in tx.execute(
                    "SELECT seq FROM runs WHERE mode IN ({})".format(
                        ", ".join("?" * len(FIXITY_MODES))
                    ),
                    tuple(sorted(FIXITY_MODES)),
                )
            }
            summaries = []
            for bag, checks, first, last in counts:
                _, seq, status, files, size, findings = latest[bag]
                good: int | None = seq
                if status != "valid" or good not in fixity:
                    good = self._last_good(tx, bag, fixity)
                found: tuple[Finding, ...] = ()
                if findings != "[]":
                    try:
                        found = tuple(finding_from_json(f) for f in json.loads(findings))
                    except (TypeError, ValueError, KeyError) as exc:
                        raise LedgerError(
                            f"{self.path}: run seq {seq}, bag {bag}: unreadable findings ({exc})"
                        ) from exc
                summaries.append(
                    BagSummary(
                        bag=bag,
                        checks=checks,
                        first_seq=first,
                        last_seq=last,
                        last_status=status,
                        last_files=files,
                        last_bytes=size,
                        last_findings=found,
                        last_good_seq=good,
                        failed_seqs=tuple(failed.get(bag, ())),
                    )
                )
        return summaries

    def _failed_outcomes(self, head: int) -> list[tuple[str, int]]:
        """(bag, seq) of every outcome not valid, up to run ``head``, on its own connection
        (so that SQLite's scan runs beside the caller's queries)."""
        try:
            with contextlib.closing(
                sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT
                )
            ) as db:
                rows = db.execute(
                    "SELECT bag, seq FROM outcomes WHERE seq IN (SELECT seq FROM runs WHERE "
                    "failed > 0 AND seq <= ?) AND status != 'valid' ORDER BY seq",
                    (head,),
                ).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, "read the failed outcomes") from exc
        return [(str(bag), int(seq)) for bag, seq in rows]

    @staticmethod
    def _last_good(tx: sqlite3.Connection, bag: str, fixity: set[int]) -> int | None:
        for (seq,) in tx.execute(
            "SELECT seq FROM outcomes WHERE bag = ? AND status = 'valid' ORDER BY seq DESC",
            (bag,),
        ):
            if int(seq) in fixity:
                return int(seq)
        return None
