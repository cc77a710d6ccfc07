"""The audit ledger: an append-only, hash-chained SQLite history of audits and deposits.

Location (``archiver.config.resolve_ledger``, the one answer every command uses):
``--ledger F`` when given; else archive.toml's ``[ledger] path``; else a ledger kept inside
the collection by an earlier version (``<first ROOT>/.audit-ledger.sqlite``) when there is
one; else one file per collection in the per-user data directory (``platformdirs``; on
Linux ``~/.local/share/archiver/ledgers/<name>-<key>.sqlite``), keyed by the SHA-256 of
the collection's resolved root paths, so a read-only collection can be audited
(``archiver.storage.datadir``; ``default_ledger_path`` here).

Layout (SQLite, WAL journal, ``synchronous=FULL``; format 2, ``PRAGMA user_version = 2``)::

    meta       key -> value: format, head seq and head hash
    runs       one row per chain entry (an audit run, or a batch of deposit events), in
               chain order ``seq`` 1, 2, 3 ... ; ``format`` says how it is hashed
    outcomes   a bag's outcome, stored in the run where it changed (format 2), or one
               row per bag per run (format 1 runs, kept as written)
    bags       bag id -> bag path, one row per bag ever audited
    members    per format 2 audit run: the ids of the bags it checked, a compressed bitmap
    bag_state  per bag: last audit, last fixity audit, last good fixity audit, cost
               estimate, current outcome hash (a cache the chain vouches for: ``verify``
               recomputes it)
    events     one row per deposit / replication / transfer event

Each run is written in ONE transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a process
killed mid-write leaves at most uncommitted pages in the WAL, which SQLite ignores, so the
partial run is absent and the chain intact. SQLite's atomic commit takes the place of the
write-to-temp-and-rename used for files. Writers queue (busy timeout), never interleave.
A new ledger is made complete in a temporary file and hard-linked into place, so
concurrent first runs never see a half-made one; an existing file that is empty or not an
archiver ledger is refused, never reinitialized. A format 1 ledger is migrated when opened
for writing (in one transaction; its runs keep verifying as written); opened read-only
(``readonly=True``, SQLite ``mode=ro``, as ``archiver ledger`` does) nothing is written.

The hash chain and its verification are ``archiver.ledger.chain`` (pure); the records are
``archiver.model.records``; the PREMIS export is ``archiver.ledger.premis_export``. Their public
names are importable from here too. A hash chain kept in the same file proves the history
was not edited *naively*; to detect a rewrite of the whole chain, keep the head hash
elsewhere and compare (``archiver ledger verify --head HASH``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import sqlite3
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.ledger.chain import (
    EVENT_COLUMNS,
    FORMAT,
    FORMAT_V1,
    GENESIS,
    OUTCOME_COLUMNS,
    RUN_COLUMNS,
    TABLES_V2,
    BagState,
    ChildRows,
    StoredRun,
    canonical_json,
    canonical_outcome,
    child_hash,
    children_digest,
    content_hash,
    decode_members,
    encode_members,
    event_fields,
    event_identifier,
    merkle_root,
    missing_tables,
    outcome_content,
    outcome_fields,
    run_fields,
    run_hash,
    sha256_hex,
    verify_chain,
)
from archiver.ledger.premis_export import check_event, premis_document, premis_events
from archiver.ledger.timestamps import TABLE as TIMESTAMPS_TABLE
from archiver.ledger.timestamps import RunToken, StampedRun, check_tokens, run_message
from archiver.metadata.validation import SchemaSet
from archiver.model.errors import ConfigError, LedgerError, TimestampError
from archiver.model.findings import Finding
from archiver.model.records import (
    EVENT_FIELDS,
    FIXITY_MODES,
    BagOutcome,
    BagSummary,
    LedgerEvent,
    Problem,
    RecordedEvent,
    RunRecord,
    TagManifestRecord,
    finding_from_json,
)
from archiver.model.reports import AuditReport
from archiver.storage.datadir import (
    DEFAULT_ROOT,
    LEDGER_FILENAME,
    collection_key,
    collection_ledger,
    ledger_directory,
)

if TYPE_CHECKING:
    from cryptography import x509

    from archiver.timestamp.client import Token

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT",
    "DEFAULT_LEDGER",
    "FIXITY_MODES",
    "FORMAT",
    "FORMAT_V1",
    "GENESIS",
    "LEDGER_FILENAME",
    "SCHEMA_VERSION",
    "BagOutcome",
    "BagStats",
    "BagSummary",
    "Ledger",
    "LedgerEvent",
    "Problem",
    "RecordedEvent",
    "RunRecord",
    "TagManifestRecord",
    "canonical_json",
    "check_event",
    "child_hash",
    "children_digest",
    "collection_key",
    "content_hash",
    "default_ledger_path",
    "event_fields",
    "event_identifier",
    "finding_from_json",
    "ledger_directory",
    "merkle_root",
    "outcome_content",
    "outcome_fields",
    "premis_events",
    "run_fields",
    "run_hash",
    "sha256_hex",
]

DEFAULT_LEDGER = DEFAULT_ROOT / LEDGER_FILENAME  # earlier versions' default (still honoured)
APPLICATION_ID = 0x41524356  # "ARCV": marks the SQLite file as an archiver ledger
# 1: format 1; 2: format 1 with outcomes.tagmanifests; 3: format 2 (ledgers of 1 and 2
# are upgraded when opened for writing, read as they are when opened read-only)
SCHEMA_VERSION = 3
BUSY_TIMEOUT = 10.0  # seconds to wait for another writer
_CHUNK = 500  # ids per IN (...) query
_INSERT_OUTCOME = "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"

_V2_TABLES = (
    "CREATE TABLE bags (id INTEGER PRIMARY KEY, bag TEXT NOT NULL UNIQUE)",
    """CREATE TABLE members (
        seq INTEGER PRIMARY KEY REFERENCES runs (seq) DEFERRABLE INITIALLY DEFERRED,
        bitmap BLOB NOT NULL)""",
    """CREATE TABLE bag_state (
        bag_id INTEGER PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        fixity_seq INTEGER,
        good_seq INTEGER,
        estimate REAL,
        content TEXT)""",
)

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
        prev_run_id TEXT NOT NULL,
        format TEXT NOT NULL DEFAULT 'archiver-ledger/1')""",
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
    *_V2_TABLES,
)

# format 1 -> 2, in one transaction: the new tables, and the cache of each bag's last checks
_MIGRATE_V1 = (
    "ALTER TABLE runs ADD COLUMN format TEXT NOT NULL DEFAULT 'archiver-ledger/1'",
    *_V2_TABLES,
    "INSERT INTO bags (bag) SELECT DISTINCT bag FROM outcomes ORDER BY bag",
    """INSERT INTO bag_state (bag_id, last_seq, fixity_seq, good_seq)
        SELECT b.id, MAX(o.seq),
            MAX(CASE WHEN r.mode IN ({modes}) THEN o.seq END),
            MAX(CASE WHEN o.status = 'valid' AND r.mode IN ({modes}) THEN o.seq END)
        FROM outcomes o JOIN runs r ON r.seq = o.seq JOIN bags b ON b.bag = o.bag
        WHERE r.kind = 'audit' GROUP BY b.id""".format(
        modes=", ".join(f"'{m}'" for m in sorted(FIXITY_MODES))
    ),
)

_RUN_SELECT = ", ".join(RUN_COLUMNS)
_RUN_SELECT_V1 = ", ".join(RUN_COLUMNS[:-1]) + f", '{FORMAT_V1}'"


@dataclasses.dataclass(frozen=True, slots=True)
class BagStats:
    """What the ledger knows about one bag's audits (``bag_stats``), for scheduling them
    (``archiver.audit.selection``)."""

    last_checked_seq: int | None = None  # any audit, any outcome
    last_good_seq: int | None = None  # a fixity audit that found the bag valid
    estimate_seconds: float | None = None  # from its last fixity audit


def default_ledger_path(roots: Sequence[str | Path] = ()) -> Path:
    """The default ledger of the collection at ``roots`` (default ``bags``), as
    ``archiver.storage.datadir.collection_ledger`` finds it; commands resolve theirs with
    ``archiver.config.resolve_ledger`` (--ledger, then archive.toml, then this)."""
    return collection_ledger(roots)


# ---------------------------------------------------------------- the ledger (I/O)


def _create(target: Path, timeout: float) -> None:
    """Make a complete empty ledger in a temporary file, then hard-link it into place.

    ``link`` never replaces a file, so when several first runs race, one ledger wins and
    every process opens it; where hard links are not supported, the check and a rename
    happen under an exclusive lock on the directory.
    """
    temporary = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        connection = sqlite3.connect(temporary, isolation_level=None, timeout=timeout)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute("COMMIT")
        finally:
            connection.close()  # checkpoints the WAL into the file and removes it
        _fsync(temporary)
        try:
            os.link(temporary, target)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            _rename_if_absent(temporary, target)
        _fsync(target.parent)
    except (OSError, sqlite3.Error) as exc:
        raise LedgerError(f"{target}: cannot create the ledger ({exc})") from exc
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)


def _connection_uri(target: Path, *, readonly: bool) -> str:
    """The SQLite URI that opens the ledger at ``target``: ``mode=rw``, or ``mode=ro``.

    Read-only is the one place the ledger is opened so, and it never writes. A reader of a
    WAL database needs its ``-wal`` and ``-shm`` files (SQLite >= 3.22): when the directory
    is writable SQLite may create them (empty); when it is not, and they both exist, SQLite
    reads them as they are. With an unwritable directory and no ``-wal`` (or an empty one)
    every committed run is in the main file: ``immutable=1`` reads it without the two files
    (and without locks: a writer that can still write there must not be checkpointing
    meanwhile). An unwritable directory with a ``-wal`` holding commits but no ``-shm``
    cannot be read without writing, nor read correctly by ignoring the ``-wal``: refused.
    """
    resolved = target.resolve()
    uri = f"{resolved.as_uri()}?mode={'ro' if readonly else 'rw'}"
    if not readonly or os.access(resolved.parent, os.W_OK):
        return uri
    wal = resolved.with_name(resolved.name + "-wal")
    shm = resolved.with_name(resolved.name + "-shm")
    try:
        wal_size: int | None = wal.stat().st_size
    except FileNotFoundError:
        wal_size = None
    except OSError as exc:
        raise LedgerError(f"{target}: cannot read the ledger's {wal.name} ({exc})") from exc
    if wal_size is not None and shm.exists():
        return uri
    if not wal_size:
        return f"{uri}&immutable=1"
    raise LedgerError(
        f"{target}: cannot read the ledger read-only: {resolved.parent} is not writable and "
        f"{wal.name} holds commits without its {shm.name} (open it once where the directory "
        "is writable, e.g. by its owner, to fold them into the ledger)"
    )


def _rename_if_absent(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` unless it exists, under a lock on the directory."""
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not target.exists():
            os.replace(source, target)
    finally:
        os.close(fd)  # releases the lock


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _estimate(tx: sqlite3.Connection, bag: str, seq: int) -> float | None:
    """A bag's cost estimate from its fixity audit in run ``seq`` (format 1 rows)."""
    row = tx.execute(
        "SELECT o.bytes, r.bytes, r.seconds, r.bags FROM outcomes o "
        "JOIN runs r ON r.seq = o.seq WHERE o.seq = ? AND o.bag = ?",
        (seq, bag),
    ).fetchone()
    if row is None:
        return None
    return estimate_seconds(int(row[0]), int(row[1]), float(row[2]), int(row[3]))


def estimate_seconds(bag_bytes: int, run_bytes: int, run_seconds: float, run_bags: int) -> float:
    """A bag's share of its run's time: by bytes, else an equal share (pure)."""
    if run_bytes > 0:
        return run_seconds * bag_bytes / run_bytes
    return run_seconds / max(run_bags, 1)


class EmptyLedgerError(LedgerError):
    """The ledger file is empty (0 bytes) or an SQLite database with nothing in it: opening
    it cannot go on, and a caller who expected a head knows its history was wiped."""


class Ledger:
    """An open audit ledger. Use ``Ledger.open(path)`` as a context manager."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, readonly: bool = False):
        self.path = path
        self._db = connection
        self.readonly = readonly
        self.version = SCHEMA_VERSION
        self._bitmaps: dict[int, bytes] = {}  # a reader's cache of decompressed members
        # [timestamp]: obtains a checked RFC 3161 token over bytes
        # (archiver.timestamp.bags.stamper); each run recorded is then stamped just after it is
        # committed
        self.stamp: Callable[[bytes], Token] | None = None
        self.stamp_failures: list[str] = []  # why a run recorded here has no token

    @classmethod
    @contextlib.contextmanager
    def open(
        cls,
        path: str | Path,
        *,
        create: bool = True,
        timeout: float = BUSY_TIMEOUT,
        readonly: bool = False,
    ) -> Iterator[Ledger]:
        """Open (with ``create``, create if missing) the ledger at ``path``; closed on exit.

        ``timeout``: seconds to wait for another process writing the ledger. ``readonly``:
        open with SQLite ``mode=ro`` and never write (no creation, no migration); a format 1
        ledger is then read as it is.
        """
        target = Path(path)
        create = create and not readonly
        if not create and not target.is_file():
            raise LedgerError(f"{target}: no ledger here (no such file)")
        if create and not target.parent.is_dir():
            raise LedgerError(
                f"{target}: cannot create the ledger, {target.parent} is not a directory"
            )
        if create and not target.exists():
            _create(target, timeout)
        if target.is_file() and target.stat().st_size == 0:
            raise EmptyLedgerError(f"{target}: not an archiver ledger (an empty file)")
        try:
            connection = sqlite3.connect(
                _connection_uri(target, readonly=readonly),
                uri=True,
                isolation_level=None,
                timeout=timeout,
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"{target}: cannot open the ledger ({exc})") from exc
        try:
            ledger = cls(target, connection, readonly=readonly)
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
        if write and self.readonly:
            raise LedgerError(f"{self.path}: cannot {doing}: the ledger is open read-only")
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
        if app_id != APPLICATION_ID:
            if not tables and not app_id:
                raise EmptyLedgerError(
                    f"{self.path}: not an archiver ledger (an empty SQLite database)"
                )
            raise LedgerError(f"{self.path}: not an archiver ledger (another SQLite database)")
        if version not in (1, 2, SCHEMA_VERSION):
            raise LedgerError(
                f"{self.path}: ledger format version {version} is not supported "
                f"(expected {SCHEMA_VERSION}, or 1 or 2 to migrate)"
            )
        self.version = int(version)
        if self.readonly:
            return
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise self._error(exc, "configure the ledger") from exc
        if self.version == 1:
            self._upgrade_v1()
        if self.version == 2:
            self._migrate()

    def _migrate(self) -> None:
        """Format 1 -> 2 in one transaction; format 1 runs stay as they were hashed."""
        with self._transaction("migrate the ledger to format 2", write=True) as tx:
            if tx.execute("PRAGMA user_version").fetchone()[0] == 2:  # not done meanwhile
                for statement in _MIGRATE_V1:
                    tx.execute(statement)
                for bag_id, bag, seq in tx.execute(
                    "SELECT s.bag_id, b.bag, s.fixity_seq FROM bag_state s "
                    "JOIN bags b ON b.id = s.bag_id WHERE s.fixity_seq IS NOT NULL"
                ).fetchall():
                    estimate = _estimate(tx, str(bag), int(seq))
                    tx.execute(
                        "UPDATE bag_state SET estimate = ? WHERE bag_id = ?", (estimate, bag_id)
                    )
                tx.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT,))
                tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.version = SCHEMA_VERSION

    def _upgrade_v1(self) -> None:
        """Version 1 → 2: add the outcomes' ``tagmanifests`` column (empty for old rows,
        which hash as before, so the chain still verifies)."""
        with self._transaction("upgrade the ledger", write=True) as tx:
            if tx.execute("PRAGMA user_version").fetchone()[0] == 1:
                tx.execute("ALTER TABLE outcomes ADD COLUMN tagmanifests TEXT NOT NULL DEFAULT ''")
                tx.execute("PRAGMA user_version = 2")
        self.version = 2

    def _head(self, tx: sqlite3.Connection) -> tuple[int, str, str]:
        row = tx.execute("SELECT seq, hash, run_id FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, GENESIS, "") if row is None else (int(row[0]), str(row[1]), str(row[2]))

    def _insert_run(self, tx: sqlite3.Connection, seq: int, fields: Mapping[str, Any]) -> str:
        digest = run_hash(fields)
        tx.execute(
            f"INSERT INTO runs ({_RUN_SELECT}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                fields["format"],
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
        self, report: AuditReport, events: Sequence[LedgerEvent] = (), *, kind: str = "audit"
    ) -> str:
        """Append one audit run in one transaction; returns the run id.

        Format 2: the bags checked go in ``members``; a bag's outcome is stored only when it
        differs from the bag's last stored one; the run's ``children_hash`` is the Merkle
        root over every checked bag's outcome hash; ``bag_state`` is updated. A bag found
        valid by a fixity audit has its tag-manifest digests in its outcome (the reference
        ``repair`` and the next audits compare with). ``events`` (e.g. a repair's recovery
        events) are chained in the same run: the ``children_hash`` is then the SHA-256 of
        the lines ``m:<Merkle root>`` and ``e:<event hash>``.
        """
        run_id = report.run_id
        reports = sorted(report.bags, key=lambda b: b.bag)
        record_tags = report.mode in FIXITY_MODES
        with self._transaction(f"record run {run_id}", write=True) as tx:
            seq, prev, prev_id = self._next_run(tx, run_id)
            ids = self._bag_ids(tx, [b.bag for b in reports])
            previous = self._contents(tx, list(ids.values()))
            fixity = report.mode in FIXITY_MODES
            totals = report.totals
            leaves: dict[int, str] = {}
            changed = 0
            states: list[dict[str, Any]] = []
            rows: list[tuple[Any, ...]] = []  # outcomes, written a chunk at a time
            for bag in reports:
                fields = outcome_content(bag, record_tags=record_tags and bag.status == "valid")
                digest, findings_json, tags_json = canonical_outcome(fields)
                bag_id = ids[bag.bag]
                if bag_id in leaves:
                    raise LedgerError(f"{self.path}: run {run_id} lists bag {bag.bag} twice")
                leaves[bag_id] = digest
                if previous.get(bag_id) != digest:
                    rows.append(
                        (
                            seq,
                            changed,
                            fields["bag"],
                            fields["status"],
                            fields["files"],
                            fields["bytes"],
                            findings_json.decode("utf-8"),
                            digest,
                            tags_json.decode("utf-8"),
                        )
                    )
                    changed += 1
                    if len(rows) >= _CHUNK:
                        tx.executemany(_INSERT_OUTCOME, rows)
                        rows.clear()
                estimate = None
                if fixity:
                    estimate = estimate_seconds(
                        int(bag.bytes), int(totals.bytes), float(totals.seconds), int(totals.bags)
                    )
                states.append(
                    {
                        "bag_id": bag_id,
                        "seq": seq,
                        "fixity": fixity,
                        "good": fixity and bag.status == "valid",
                        "estimate": estimate,
                        "content": digest,
                    }
                )
            tx.executemany(_INSERT_OUTCOME, rows)
            tx.execute("INSERT INTO members VALUES (?, ?)", (seq, encode_members(sorted(leaves))))
            tx.executemany(
                "INSERT INTO bag_state (bag_id, last_seq, fixity_seq, good_seq, estimate, content) "
                "VALUES (:bag_id, :seq, CASE WHEN :fixity THEN :seq END, "
                "CASE WHEN :good THEN :seq END, :estimate, :content) "
                "ON CONFLICT (bag_id) DO UPDATE SET last_seq = :seq, "
                "fixity_seq = CASE WHEN :fixity THEN :seq ELSE fixity_seq END, "
                "good_seq = CASE WHEN :good THEN :seq ELSE good_seq END, "
                "estimate = CASE WHEN :fixity THEN :estimate ELSE estimate END, content = :content",
                states,
            )
            root = merkle_root([leaves[i] for i in sorted(leaves)])
            lines = self._insert_events(tx, seq, run_id, events, 0, "")
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
                children=len(leaves) + len(lines),
                children_hash=children_digest([f"m:{root}", *lines]) if lines else root,
                prev_hash=prev,
                prev_run_id=prev_id,
            )
            self._insert_run(tx, seq, header)
        self._stamp_recorded(run_id)
        return run_id

    def _bag_ids(self, tx: sqlite3.Connection, names: Sequence[str]) -> dict[str, int]:
        """The bag ids of ``names``, new ones added to ``bags``."""
        ids: dict[str, int] = {}
        for start in range(0, len(names), _CHUNK):
            chunk = names[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            ids.update(tx.execute(f"SELECT bag, id FROM bags WHERE bag IN ({marks})", chunk))
        new = [(name,) for name in names if name not in ids]
        if new:
            tx.executemany("INSERT INTO bags (bag) VALUES (?)", new)
            for start in range(0, len(new), _CHUNK):
                chunk = [n for (n,) in new[start : start + _CHUNK]]
                marks = ", ".join("?" * len(chunk))
                ids.update(tx.execute(f"SELECT bag, id FROM bags WHERE bag IN ({marks})", chunk))
        return {str(k): int(v) for k, v in ids.items()}

    @staticmethod
    def _contents(tx: sqlite3.Connection, ids: Sequence[int]) -> dict[int, str]:
        """Each bag's last stored outcome hash (format 2), by bag id."""
        found: dict[int, str] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for bag_id, content in tx.execute(
                f"SELECT bag_id, content FROM bag_state WHERE bag_id IN ({marks}) "
                "AND content IS NOT NULL",
                chunk,
            ):
                found[int(bag_id)] = str(content)
        return found

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
        self._stamp_recorded(run_id)
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

    def _stamp_recorded(self, run_id: str) -> None:
        """Stamp a run just committed, when a stamper is set; a failure is kept in
        ``stamp_failures`` (the run stays recorded, and ``verify`` reports it uncovered)."""
        if self.stamp is None:
            return
        try:
            self.stamp_run(run_id, self.stamp)
        except (TimestampError, ConfigError) as exc:
            self.stamp_failures.append(f"run {run_id} recorded without a timestamp: {exc}")

    def stamp_run(self, run_id: str, stamp: Callable[[bytes], Token]) -> RunToken:
        """Obtain a token over the run's hash with ``stamp`` and store it with the run.

        TimestampError (from ``stamp``) leaves the run as it was, without a token.
        """
        with self._transaction(f"read run {run_id}", write=False) as tx:
            row = tx.execute("SELECT seq, hash FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise LedgerError(f"{self.path}: no run {run_id} to timestamp")
        token = stamp(run_message(str(row[1])))
        stored = RunToken(
            int(row[0]), run_id, token.response, token.gen_time.isoformat(), token.tsa
        )
        with self._transaction(f"record the timestamp of run {run_id}", write=True) as tx:
            tx.execute(
                TIMESTAMPS_TABLE
            )  # added to a ledger with its first token (no format change)
            tx.execute(
                "INSERT INTO timestamps VALUES (?, ?, ?, ?, ?)",
                (stored.seq, run_id, stored.token, stored.gen_time, stored.tsa),
            )
        return stored

    def run_tokens(self) -> dict[int, RunToken]:
        """Every run's stored token, by seq (none in a ledger never timestamped)."""
        with self._transaction("read the timestamps", write=False) as tx:
            if not tx.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'timestamps'"
            ).fetchone():
                return {}
            rows = tx.execute("SELECT seq, run_id, token, gen_time, tsa FROM timestamps").fetchall()
        return {
            int(r[0]): RunToken(int(r[0]), str(r[1]), bytes(r[2]), str(r[3]), str(r[4]))
            for r in rows
        }

    def verify_timestamps(
        self, roots: Sequence[x509.Certificate] | None, *, now: datetime
    ) -> list[Problem]:
        """Check every run's token against ``roots`` (the [timestamp] ca; None: none
        configured) and the run's end time (``archiver.ledger.timestamps.check_tokens``)."""
        runs = [StampedRun(r.seq, r.run_id, r.hash, r.ended) for r in self.runs()]
        return check_tokens(runs, self.run_tokens(), roots, now=now)

    # -- reading

    def runs(self) -> list[RunRecord]:
        """Every run, in chain order."""
        with self._transaction("read the runs", write=False) as tx:
            rows = tx.execute(f"SELECT {self._run_select} FROM runs ORDER BY seq").fetchall()
        return [self._run_record(row) for row in rows]

    @property
    def _run_select(self) -> str:
        return _RUN_SELECT if self.version >= 3 else _RUN_SELECT_V1

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
        table = "bags" if self.version >= 3 else "outcomes"
        with self._transaction("read the bags", write=False) as tx:
            rows = tx.execute(
                f"SELECT bag FROM {table} UNION SELECT bag FROM events ORDER BY bag"
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
        """One bag's audit outcomes, oldest first: one per audit run that checked it.

        Format 2 runs store an outcome only when it changed; the others are the bag's last
        stored outcome, under the run that checked it (``seq``, ``run_id``, ``checked``).
        """
        with self._transaction(f"read the history of {bag}", write=False) as tx:
            rows = tx.execute(
                f"SELECT o.seq, r.run_id, o.bag, o.status, o.files, o.bytes, o.findings, "
                f"r.ended, r.mode, o.hash, {'r.format' if self.version >= 3 else repr(FORMAT_V1)} "
                "FROM outcomes o JOIN runs r ON r.seq = o.seq WHERE o.bag = ? ORDER BY o.seq",
                (bag,),
            ).fetchall()
            checks: list[tuple[int, str, str, str]] = []
            if self.version >= 3:
                row = tx.execute("SELECT id FROM bags WHERE bag = ?", (bag,)).fetchone()
                if row is not None:
                    checks = self._checks(tx, int(row[0]))
        outcomes: list[BagOutcome] = []
        stored: list[BagOutcome] = []  # format 2 rows, in seq order
        for row in rows:
            try:
                findings = tuple(finding_from_json(f) for f in json.loads(row[6]))
            except (TypeError, ValueError, KeyError) as exc:
                raise LedgerError(
                    f"{self.path}: run seq {row[0]}, bag {row[2]}: unreadable findings ({exc})"
                ) from exc
            outcome = BagOutcome(
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
            (outcomes if row[10] == FORMAT_V1 else stored).append(outcome)
        position = 0
        for seq, run_id, ended, mode in checks:
            while position + 1 < len(stored) and stored[position + 1].seq <= seq:
                position += 1
            if not stored or stored[position].seq > seq:
                continue  # no outcome stored for it: ``verify`` reports that
            outcomes.append(
                dataclasses.replace(
                    stored[position], seq=seq, run_id=run_id, checked=ended, mode=mode
                )
            )
        outcomes.sort(key=lambda o: o.seq)
        return outcomes

    def _checks(self, tx: sqlite3.Connection, bag_id: int) -> list[tuple[int, str, str, str]]:
        """The format 2 audit runs that checked bag ``bag_id``: (seq, run id, ended, mode)."""
        found = []
        for seq, run_id, ended, mode in tx.execute(
            "SELECT r.seq, r.run_id, r.ended, r.mode FROM runs r "
            "WHERE r.format = ? AND r.kind = 'audit' ORDER BY r.seq",
            (FORMAT,),
        ):
            bits = self._bitmaps.get(int(seq))
            if bits is None:
                blob = tx.execute("SELECT bitmap FROM members WHERE seq = ?", (seq,)).fetchone()
                if blob is None:
                    continue
                bits = self._bitmaps[int(seq)] = zlib.decompress(blob[0])
            if bag_id // 8 < len(bits) and bits[bag_id // 8] >> (bag_id % 8) & 1:
                found.append((int(seq), str(run_id), str(ended), str(mode)))
        return found

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
        if self.version == 1:  # read-only and not upgraded: nothing recorded yet
            return {}
        with self._transaction("read the tag-manifest records", write=False) as tx:
            for bag in dict.fromkeys(bags):
                row = tx.execute(
                    "SELECT o.seq, r.run_id, r.ended, o.tagmanifests FROM outcomes o "
                    "JOIN runs r ON r.seq = o.seq WHERE o.bag = ? AND o.tagmanifests != '' "
                    "ORDER BY o.seq DESC LIMIT 1",
                    (bag,),
                ).fetchone()
                if row is not None and self.version >= 3:
                    # format 2 stores an unchanged outcome once: the last good check is
                    # bag_state's, the digests those of the outcome it found
                    good = tx.execute(
                        "SELECT r.seq, r.run_id, r.ended FROM bag_state s "
                        "JOIN bags b ON b.id = s.bag_id JOIN runs r ON r.seq = s.good_seq "
                        "WHERE b.bag = ?",
                        (bag,),
                    ).fetchone()
                    if good is not None and int(good[0]) >= int(row[0]):
                        row = (*good, row[3])
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
        stamps = {t.run_id: (t.gen_time, t.tsa) for t in self.run_tokens().values()}
        document = premis_document(
            identifier,
            history,
            events,
            versions,
            entity_identifier=entity_identifier,
            stamps=stamps,
        )
        if document is None:
            raise LedgerError(f"{self.path}: no fixity checks or deposit events recorded for {bag}")
        (schemas or SchemaSet()).validate_xml(document, "premis", f"PREMIS events for {bag}")
        return document

    # -- incremental audits

    def bag_stats(self, candidates: Sequence[str]) -> dict[str, BagStats]:
        """For each candidate with history: last audit, last good fixity check, estimate.

        Read from ``bag_state`` (one row per bag): the cost does not grow with the number
        of runs recorded. A read-only format 1 ledger is read from its outcomes.
        """
        wanted = set(candidates)
        stats: dict[str, BagStats] = {}
        with self._transaction("read the audit history", write=False) as tx:
            if self.version < 3:
                return self._bag_stats_v1(tx, wanted)
            for bag, last_seq, good_seq, estimate in tx.execute(
                "SELECT b.bag, s.last_seq, s.good_seq, s.estimate FROM bag_state s "
                "JOIN bags b ON b.id = s.bag_id"
            ):
                if bag in wanted:
                    stats[str(bag)] = BagStats(
                        last_checked_seq=int(last_seq),
                        last_good_seq=None if good_seq is None else int(good_seq),
                        estimate_seconds=None if estimate is None else float(estimate),
                    )
        return stats

    @staticmethod
    def _bag_stats_v1(tx: sqlite3.Connection, wanted: set[str]) -> dict[str, BagStats]:
        stats: dict[str, BagStats] = {}
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
            estimate = None if fixity_seq is None else _estimate(tx, str(bag), int(fixity_seq))
            stats[str(bag)] = BagStats(
                last_checked_seq=int(last_seq),
                last_good_seq=None if good_seq is None else int(good_seq),
                estimate_seconds=estimate,
            )
        return stats

    # -- verification

    def verify(self, expected_head: str | None = None) -> list[Problem]:
        """Recompute the whole chain; the problems found, first broken link first."""
        with self._transaction("verify the ledger", write=False) as tx:
            return self._verify(tx, expected_head)

    def _verify(self, tx: sqlite3.Connection, expected_head: str | None) -> list[Problem]:
        v2 = self.version >= 3
        names = {str(r[0]) for r in tx.execute("SELECT name FROM sqlite_master")}
        dropped = missing_tables(names)
        if v2:
            dropped += [
                Problem("missing-table", f"table {t} was dropped")
                for t in TABLES_V2
                if t not in names and t not in {p.message.split()[1] for p in dropped}
            ]
        if dropped:
            return dropped
        runs = [
            StoredRun(*row)
            for row in tx.execute(f"SELECT {self._run_select} FROM runs ORDER BY seq").fetchall()
        ]
        outcome_columns = ", ".join(OUTCOME_COLUMNS)
        if self.version == 1:  # read-only, not upgraded: no tag-manifest records yet
            outcome_columns = ", ".join(OUTCOME_COLUMNS[:-1]) + ", ''"

        def children(seq: int) -> ChildRows:
            outcomes = tx.execute(
                f"SELECT {outcome_columns} FROM outcomes WHERE seq = ? ORDER BY ord",
                (seq,),
            ).fetchall()
            events = tx.execute(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE seq = ? ORDER BY ord",
                (seq,),
            ).fetchall()
            return outcomes, events

        def members(seq: int) -> bytes | None:
            row = tx.execute("SELECT bitmap FROM members WHERE seq = ?", (seq,)).fetchone()
            return None if row is None else bytes(row[0])

        orphans = [
            int(row[0])
            for row in tx.execute(
                "SELECT DISTINCT seq FROM outcomes WHERE seq NOT IN (SELECT seq FROM runs) "
                "UNION SELECT DISTINCT seq FROM events WHERE seq NOT IN (SELECT seq FROM runs) "
                + (
                    "UNION SELECT seq FROM members WHERE seq NOT IN (SELECT seq FROM runs) "
                    if v2
                    else ""
                )
                + "ORDER BY 1"
            )
        ]
        meta = dict(tx.execute("SELECT key, value FROM meta").fetchall())
        if not v2:
            return verify_chain(runs, children, orphans, meta, expected_head)
        bag_ids = {str(b): int(i) for i, b in tx.execute("SELECT id, bag FROM bags")}
        states = {
            int(row[0]): BagState(row[1], row[2], row[3])
            for row in tx.execute("SELECT bag_id, last_seq, fixity_seq, good_seq FROM bag_state")
        }
        return verify_chain(
            runs,
            children,
            orphans,
            meta,
            expected_head,
            members=members,
            bag_ids=bag_ids,
            stored_states=states,
        )

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
            if self._has_bag_state(tx):
                summaries = self._format_2_summaries(tx, summaries)
        return summaries

    @staticmethod
    def _format_2_summaries(
        tx: sqlite3.Connection, summaries: list[BagSummary]
    ) -> list[BagSummary]:
        """Format 2 stores an outcome only when it changed: a bag's checks are the runs
        whose members hold it (plus its outcomes in format 1 runs), and its last check and
        last good check are in bag_state."""
        names = {int(i): str(b) for i, b in tx.execute("SELECT id, bag FROM bags")}
        checks: Counter[str] = Counter(
            {
                str(bag): int(n)
                for bag, n in tx.execute(
                    "SELECT bag, COUNT(*) FROM outcomes "
                    "WHERE seq NOT IN (SELECT seq FROM members) GROUP BY bag"
                )
            }
        )
        first: dict[str, int] = {}
        for seq, blob in tx.execute("SELECT seq, bitmap FROM members ORDER BY seq"):
            for bag_id in decode_members(blob):
                name = names.get(bag_id)
                if name is not None:
                    checks[name] += 1
                    first.setdefault(name, int(seq))
        states = {
            str(bag): (int(last), good)
            for bag, last, good in tx.execute(
                "SELECT b.bag, s.last_seq, s.good_seq FROM bag_state s "
                "JOIN bags b ON b.id = s.bag_id"
            )
        }
        out = []
        for x in summaries:
            last, good = states.get(x.bag, (x.last_seq, x.last_good_seq))
            out.append(
                x._replace(
                    checks=checks.get(x.bag, x.checks),
                    first_seq=min(x.first_seq, first.get(x.bag, x.first_seq)),
                    last_seq=last,
                    last_good_seq=good,
                )
            )
        return out

    @staticmethod
    def _has_bag_state(tx: sqlite3.Connection) -> bool:
        row = tx.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bag_state'"
        ).fetchone()
        return row is not None

    def _failed_outcomes(self, head: int) -> list[tuple[str, int]]:
        """(bag, seq) of every outcome not valid, up to run ``head``, on its own connection
        (so that SQLite's scan runs beside the caller's queries)."""
        try:
            with contextlib.closing(
                sqlite3.connect(
                    _connection_uri(self.path, readonly=True), uri=True, timeout=BUSY_TIMEOUT
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
