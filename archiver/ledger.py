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

The hash chain. Every child row (outcome or event) carries ``hash = SHA-256(canonical JSON
of its fields and its run id)``. A run's ``children_hash`` is the SHA-256 of the lines
``o:<hash>`` / ``e:<hash>`` of its children in order (outcomes sorted by bag). The run's
own ``hash`` is the SHA-256 of the canonical JSON of its fields, ``children_hash`` and
``prev`` (the previous run's hash; 64 zeros for the first run). Canonical JSON: UTF-8,
sorted keys, no whitespace (``canonical_json``). ``seq`` is deliberately outside the hash:
order is proved by the links, so a reordering shows up as a link to a later run.

``Ledger.verify`` recomputes all of it and names the first broken link: an edited run
row, an edited / added / removed bag outcome, a deleted run, a reordered run, or a
truncated chain (the head recorded in ``meta`` is gone). A hash chain kept in the same
file proves the history was not edited *naively*; to detect a rewrite of the whole chain,
keep the head hash elsewhere and compare (``archiver ledger verify --head HASH``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from archiver.errors import LedgerError
from archiver.findings import Finding, Kind, Severity, sort_findings
from archiver.premis import EVENT_OUTCOMES, EVENT_TYPES, Agent, Event, render_events_xml
from archiver.schemas import SchemaSet

LEDGER_FILENAME = ".audit-ledger.sqlite"
DEFAULT_LEDGER = Path("bags") / LEDGER_FILENAME
FORMAT = "archiver-ledger/1"
GENESIS = "0" * 64
APPLICATION_ID = 0x41524356  # "ARCV": marks the SQLite file as an archiver ledger
SCHEMA_VERSION = 1
FIXITY_MODES = frozenset({"full"})  # modes whose audits read and hash every file
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

_RUN_COLUMNS = (
    "seq, run_id, kind, started, ended, mode, roots, versions, bags, failed, files, bytes, "
    "seconds, children, children_hash, prev_hash, hash, prev_run_id"
)
_EVENT_FIELDS = (
    "identifier",
    "event_type",
    "bag",
    "date_time",
    "outcome",
    "detail",
    "outcome_detail",
    "target",
)


# ---------------------------------------------------------------- input protocols


class BagReportLike(Protocol):
    """What the ledger reads from one bag's report (``archiver.findings.BagReport``)."""

    @property
    def bag(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def files(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def findings(self) -> tuple[Finding, ...]: ...


class TotalsLike(Protocol):
    """What the ledger reads from an audit's totals (``archiver.audit.AuditTotals``)."""

    @property
    def bags(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def files(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def seconds(self) -> float: ...


class AuditReportLike(Protocol):
    """What the ledger reads from an audit report (``archiver.audit.AuditReport``)."""

    @property
    def run_id(self) -> str: ...
    @property
    def started(self) -> str: ...
    @property
    def ended(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def roots(self) -> tuple[str, ...]: ...
    @property
    def versions(self) -> Mapping[str, str]: ...
    @property
    def bags(self) -> Sequence[BagReportLike]: ...
    @property
    def totals(self) -> TotalsLike: ...


# ---------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True, slots=True)
class RunRecord:
    """One entry of the chain: an audit run, or a batch of deposit events."""

    seq: int
    run_id: str
    kind: str
    started: str
    ended: str
    mode: str
    roots: tuple[str, ...]
    versions: Mapping[str, str]
    bags: int
    failed: int
    files: int
    bytes: int
    seconds: float
    children: int
    children_hash: str
    prev_hash: str
    hash: str
    prev_run_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON-ready dict."""
        return {
            "seq": self.seq,
            "run_id": self.run_id,
            "kind": self.kind,
            "started": self.started,
            "ended": self.ended,
            "mode": self.mode,
            "roots": list(self.roots),
            "versions": dict(self.versions),
            "bags": self.bags,
            "failed": self.failed,
            "files": self.files,
            "bytes": self.bytes,
            "seconds": self.seconds,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class BagOutcome:
    """One bag's outcome in one audit run, with the run's time and mode."""

    seq: int
    run_id: str
    bag: str
    status: str
    files: int
    bytes: int
    findings: tuple[Finding, ...]
    checked: str
    mode: str
    hash: str

    @property
    def is_fixity_check(self) -> bool:
        """True when the run read and hashed every file (a PREMIS fixity check)."""
        return self.mode in FIXITY_MODES

    def to_json(self) -> dict[str, Any]:
        """The outcome as a JSON-ready dict."""
        return {
            "seq": self.seq,
            "run_id": self.run_id,
            "bag": self.bag,
            "status": self.status,
            "files": self.files,
            "bytes": self.bytes,
            "checked": self.checked,
            "mode": self.mode,
            "problems": [f.to_json() for f in self.findings],
        }


@dataclasses.dataclass(frozen=True, slots=True)
class LedgerEvent:
    """A deposit, replication or transfer event to record (issue 5).

    ``event_type`` is a PREMIS event type label (e.g. "replication", "transfer");
    ``identifier`` is derived from the other fields when left empty.
    """

    event_type: str
    bag: str
    date_time: str
    outcome: str
    detail: str
    outcome_detail: str = ""
    target: str = ""
    identifier: str = ""

    def to_json(self) -> dict[str, str]:
        """The event as a JSON-ready dict."""
        return {name: getattr(self, name) for name in _EVENT_FIELDS}


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored in the ledger, with its run."""

    seq: int
    run_id: str
    event: LedgerEvent
    hash: str


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing ``verify`` found wrong with the ledger."""

    kind: str  # edited-run, edited-outcome, edited-event, changed-outcomes, deleted-run,
    #            reordered-run, truncated, head-mismatch, missing-table
    message: str
    seq: int | None = None
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict."""
        return {"kind": self.kind, "seq": self.seq, "run_id": self.run_id, "message": self.message}


@dataclasses.dataclass(frozen=True, slots=True)
class BagStats:
    """What ``select_bags`` knows about one bag from its history."""

    last_checked_seq: int | None = None  # any audit, any outcome
    last_good_seq: int | None = None  # a fixity audit that found the bag valid
    estimate_seconds: float | None = None  # from its last fixity audit


# ---------------------------------------------------------------- pure core


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: UTF-8, sorted keys, no insignificant whitespace, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def outcome_fields(run_id: str, report: BagReportLike) -> dict[str, Any]:
    """The hashed fields of one bag outcome (findings sorted, as JSON)."""
    return {
        "run_id": run_id,
        "bag": report.bag,
        "status": report.status,
        "files": int(report.files),
        "bytes": int(report.bytes),
        "findings": [f.to_json() for f in sort_findings(report.findings)],
    }


def event_fields(run_id: str, event: LedgerEvent) -> dict[str, Any]:
    """The hashed fields of one recorded event."""
    return {"run_id": run_id, **event.to_json()}


def child_hash(fields: Mapping[str, Any]) -> str:
    """The hash of one outcome or event row."""
    return sha256_hex(canonical_json(fields))


def children_digest(lines: Iterable[str]) -> str:
    """SHA-256 over the children's ``o:<hash>`` / ``e:<hash>`` lines, in order."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("ascii") + b"\n")
    return digest.hexdigest()


def run_fields(
    *,
    run_id: str,
    kind: str,
    started: str,
    ended: str,
    mode: str,
    roots: Sequence[str],
    versions: Mapping[str, str],
    bags: int,
    failed: int,
    files: int,
    bytes_: int,
    seconds: float,
    children: int,
    children_hash: str,
    prev_hash: str,
    prev_run_id: str,
) -> dict[str, Any]:
    """The hashed fields of one run (``seq`` excluded: the links prove the order)."""
    return {
        "format": FORMAT,
        "run_id": run_id,
        "kind": kind,
        "started": started,
        "ended": ended,
        "mode": mode,
        "roots": list(roots),
        "versions": dict(versions),
        "bags": bags,
        "failed": failed,
        "files": files,
        "bytes": bytes_,
        "seconds": seconds,
        "children": children,
        "children_hash": children_hash,
        "prev": prev_hash,
        "prev_run_id": prev_run_id,
    }


def run_hash(fields: Mapping[str, Any]) -> str:
    """The hash of one run record (its fields include ``prev`` and ``children_hash``)."""
    return sha256_hex(canonical_json(fields))


def finding_from_json(data: Mapping[str, Any]) -> Finding:
    """Rebuild a ``Finding`` from its ``to_json`` form."""
    return Finding(
        kind=Kind(data["kind"]),
        bag=data["bag"],
        path=data["path"],
        message=data["message"],
        severity=Severity(data.get("severity", "error")),
        algorithm=data.get("algorithm"),
        expected=data.get("expected"),
        found=data.get("found"),
    )


def event_identifier(run_id: str, event: LedgerEvent) -> str:
    """A stable identifier for an event: a UUID 5 derived from its run and content."""
    name = canonical_json(event_fields(run_id, event)).decode("utf-8")
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "archiver:event:" + name))


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


def _agent_id(versions: Mapping[str, str]) -> str:
    return f"archiver {versions.get('archiver', 'unknown')}"


def _problem_summary(findings: Sequence[Finding]) -> str:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = len(findings) - len(errors)
    parts = [
        f"{f.kind} {f.path}"
        + (f" ({f.algorithm} expected {f.expected}, found {f.found})" if f.algorithm else "")
        for f in errors
    ]
    if warnings:
        parts.append(f"{warnings} warnings")
    return "; ".join(parts)


def premis_events(
    object_identifier: str,
    history: Sequence[BagOutcome],
    events: Sequence[RecordedEvent],
    versions_by_run: Mapping[str, Mapping[str, str]],
) -> tuple[list[Event], list[Agent]]:
    """A bag's fixity checks and deposit events as PREMIS events and their agents (pure).

    Only audits that hashed every file (mode "full") are fixity checks; a "fast" or
    "completeness" audit is not exported. Each event is linked to ``object_identifier``
    (role "source") and to the archiver version that ran it ("executing program").
    """
    premis: list[Event] = []
    agents: dict[str, Agent] = {}

    def agent_for(run_id: str) -> str:
        versions = versions_by_run.get(run_id, {})
        identifier = _agent_id(versions)
        agents.setdefault(
            identifier,
            Agent(
                identifier=identifier,
                name="archiver",
                agent_type="software",
                version=versions.get("archiver"),
            ),
        )
        return identifier

    for outcome in history:
        if not outcome.is_fixity_check:
            continue
        summary = _problem_summary(outcome.findings)
        if outcome.status == "valid":
            result = "success"
            detail = "every checksum matches" + (f" ({summary})" if summary else "")
        else:
            result = "failure"
            detail = summary or f"status {outcome.status}"
        premis.append(
            Event(
                identifier=_premis_event_id("fixity check", outcome.run_id, outcome.bag),
                event_type="fixity check",
                date_time=outcome.checked,
                detail=f"archiver audit run {outcome.run_id}: every file in every manifest "
                f"re-hashed ({outcome.files} files, {outcome.bytes} bytes)",
                outcome=result,
                outcome_detail=detail,
                agents=((agent_for(outcome.run_id), "executing program"),),
                objects=((object_identifier, "source"),),
            )
        )
    for recorded in events:
        event = recorded.event
        target = f" to {event.target}" if event.target else ""
        premis.append(
            Event(
                identifier=event.identifier,
                event_type=event.event_type,
                date_time=event.date_time,
                detail=f"{event.detail}{target} (archiver run {recorded.run_id})",
                outcome=event.outcome,
                outcome_detail=event.outcome_detail or event.outcome,
                agents=((agent_for(recorded.run_id), "executing program"),),
                objects=((object_identifier, "source"),),
            )
        )
    return premis, sorted(agents.values(), key=lambda a: a.identifier)


def _premis_event_id(event_type: str, run_id: str, bag: str) -> str:
    name = "\x1f".join(("archiver:ledger", event_type, run_id, bag))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def check_event(event: LedgerEvent) -> None:
    """Refuse an event PREMIS could not express (unknown type or outcome, naive time)."""
    where = f"event {event.event_type!r} for {event.bag}"
    if event.event_type not in EVENT_TYPES:
        raise LedgerError(f"{where}: unknown event type (known: {', '.join(sorted(EVENT_TYPES))})")
    if event.outcome not in EVENT_OUTCOMES:
        raise LedgerError(
            f"{where}: outcome {event.outcome!r} is not one of {', '.join(sorted(EVENT_OUTCOMES))}"
        )
    try:
        moment = datetime.datetime.fromisoformat(event.date_time)
    except ValueError:
        raise LedgerError(f"{where}: date_time {event.date_time!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise LedgerError(f"{where}: date_time {event.date_time!r} has no timezone")


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
            if version != SCHEMA_VERSION:
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

    def _head(self, tx: sqlite3.Connection) -> tuple[int, str, str]:
        row = tx.execute("SELECT seq, hash, run_id FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, GENESIS, "") if row is None else (int(row[0]), str(row[1]), str(row[2]))

    def _insert_run(self, tx: sqlite3.Connection, seq: int, fields: Mapping[str, Any]) -> str:
        digest = run_hash(fields)
        tx.execute(
            f"INSERT INTO runs ({_RUN_COLUMNS}) "
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

    def _check_new_run_id(self, tx: sqlite3.Connection, run_id: str) -> None:
        if not run_id:
            raise LedgerError(f"{self.path}: cannot record a run without a run id")
        if tx.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
            raise LedgerError(f"{self.path}: run {run_id} is already recorded")

    # -- writing

    def record_run(self, report: AuditReportLike) -> str:
        """Append one audit run and every bag's outcome, in one transaction; returns the id."""
        run_id = report.run_id
        with self._transaction(f"record run {run_id}", write=True) as tx:
            self._check_new_run_id(tx, run_id)
            last_seq, prev, prev_id = self._head(tx)
            seq = last_seq + 1
            lines: list[str] = []
            for ordinal, bag in enumerate(sorted(report.bags, key=lambda b: b.bag)):
                fields = outcome_fields(run_id, bag)
                digest = child_hash(fields)
                tx.execute(
                    "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        ordinal,
                        fields["bag"],
                        fields["status"],
                        fields["files"],
                        fields["bytes"],
                        canonical_json(fields["findings"]).decode("utf-8"),
                        digest,
                    ),
                )
                lines.append(f"o:{digest}")
            totals = report.totals
            header = run_fields(
                run_id=run_id,
                kind="audit",
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
            self._check_new_run_id(tx, run_id)
            last_seq, prev, prev_id = self._head(tx)
            seq = last_seq + 1
            lines: list[str] = []
            bags: set[str] = set()
            failed: set[str] = set()
            for ordinal, given in enumerate(events):
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
                    (seq, ordinal, *(fields[name] for name in _EVENT_FIELDS), digest),
                )
                lines.append(f"e:{digest}")
                bags.add(event.bag)
                if event.outcome == "failure":
                    failed.add(event.bag)
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
            rows = tx.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY seq").fetchall()
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

    def head(self) -> tuple[int, str]:
        """The last run's (seq, hash); (0, 64 zeros) for an empty ledger."""
        with self._transaction("read the head", write=False) as tx:
            seq, digest, _ = self._head(tx)
        return seq, digest

    def premis_xml(
        self, bag: str, object_identifier: str | None = None, *, schemas: SchemaSet | None = None
    ) -> bytes:
        """The bag's fixity checks and deposit events as a PREMIS 3 document, XSD-checked.

        ``object_identifier`` names the bag's object (e.g. its External-Identifier); by
        default the bag's directory name. Raises ``LedgerError`` when nothing is recorded.
        """
        history = self.history(bag)
        events = self.events(bag)
        versions = {run.run_id: run.versions for run in self.runs()}
        identifier = object_identifier or Path(bag).name or bag
        premis, agents = premis_events(identifier, history, events, versions)
        if not premis:
            raise LedgerError(f"{self.path}: no fixity checks or deposit events recorded for {bag}")
        document = render_events_xml(premis, agents, [identifier])
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
        problems: list[Problem] = []
        tables = {str(r[0]) for r in tx.execute("SELECT name FROM sqlite_master")}
        dropped = [t for t in ("meta", "runs", "outcomes", "events") if t not in tables]
        if dropped:
            return [Problem("missing-table", f"table {name} was dropped") for name in dropped]
        rows = tx.execute(
            "SELECT seq, run_id, kind, started, ended, mode, roots, versions, bags, failed, "
            "files, bytes, seconds, children, children_hash, prev_hash, hash, prev_run_id "
            "FROM runs ORDER BY seq"
        ).fetchall()
        position_of = {str(row[16]): int(row[0]) for row in rows}
        seq_of_id = {str(row[1]): int(row[0]) for row in rows}
        expected_seq = 1
        prev_hash = GENESIS
        prev_seq = 0
        prev_id = ""
        for row in rows:
            seq, run_id = int(row[0]), str(row[1])
            where = f"run seq {seq} (id {run_id})"
            gap = seq != expected_seq
            if gap:
                missing = (
                    f"seq {expected_seq} (id {row[17]})"
                    if seq == expected_seq + 1 and str(row[17]) not in seq_of_id
                    else f"seq {expected_seq}"
                    if seq == expected_seq + 1
                    else f"seqs {expected_seq}-{seq - 1}"
                )
                problems.append(
                    Problem("deleted-run", f"run {missing} missing before {where}", seq, run_id)
                )
            stored_prev = str(row[15])
            if stored_prev != prev_hash:
                link = _link_problem(
                    (seq, run_id),
                    (stored_prev, str(row[17])),
                    (prev_seq, prev_id, prev_hash),
                    position_of,
                    seq_of_id,
                    gap,
                )
                if link is not None:
                    problems.append(link)
            problems.extend(self._verify_children(tx, row, where))
            fields = run_fields(
                run_id=run_id,
                kind=str(row[2]),
                started=str(row[3]),
                ended=str(row[4]),
                mode=str(row[5]),
                roots=_json_or(row[6], []),
                versions=_json_or(row[7], {}),
                bags=_int_or(row[8]),
                failed=_int_or(row[9]),
                files=_int_or(row[10]),
                bytes_=_int_or(row[11]),
                seconds=_float_or(row[12]),
                children=_int_or(row[13]),
                children_hash=str(row[14]),
                prev_hash=stored_prev,
                prev_run_id=str(row[17]),
            )
            recomputed = run_hash(fields)
            if recomputed != str(row[16]):
                problems.append(
                    Problem(
                        "edited-run",
                        f"{where}: run row edited (stored hash {str(row[16])[:16]}…, its "
                        f"fields hash to {recomputed[:16]}…)",
                        seq,
                        run_id,
                    )
                )
            expected_seq = seq + 1
            prev_hash = str(row[16])
            prev_seq = seq
            prev_id = run_id
        problems.extend(self._verify_orphans(tx))
        problems.extend(self._verify_head(tx, rows, expected_head))
        return problems

    def _verify_children(
        self, tx: sqlite3.Connection, row: Sequence[Any], where: str
    ) -> list[Problem]:
        seq, run_id = int(row[0]), str(row[1])
        problems: list[Problem] = []
        lines: list[str] = []
        for o in tx.execute(
            "SELECT ord, bag, status, files, bytes, findings, hash FROM outcomes "
            "WHERE seq = ? ORDER BY ord",
            (seq,),
        ):
            fields = {
                "run_id": run_id,
                "bag": o[1],
                "status": o[2],
                "files": _int_or(o[3]),
                "bytes": _int_or(o[4]),
                "findings": _json_or(o[5], None),
            }
            if child_hash(fields) != o[6]:
                problems.append(
                    Problem(
                        "edited-outcome",
                        f"{where}: bag outcome for {o[1]} edited (its fields no longer match "
                        "its hash)",
                        seq,
                        run_id,
                    )
                )
            lines.append(f"o:{o[6]}")
        for e in tx.execute(
            f"SELECT ord, {', '.join(_EVENT_FIELDS)}, hash FROM events WHERE seq = ? ORDER BY ord",
            (seq,),
        ):
            fields = {"run_id": run_id, **dict(zip(_EVENT_FIELDS, e[1:-1], strict=True))}
            if child_hash(fields) != e[-1]:
                problems.append(
                    Problem(
                        "edited-event",
                        f"{where}: {e[2]} event for {e[3]} edited (its fields no longer match "
                        "its hash)",
                        seq,
                        run_id,
                    )
                )
            lines.append(f"e:{e[-1]}")
        recorded = _int_or(row[13])
        if len(lines) != recorded:
            problems.append(
                Problem(
                    "changed-outcomes",
                    f"{where}: {len(lines)} bag outcomes/events stored, the run recorded "
                    f"{recorded} (rows deleted or added)",
                    seq,
                    run_id,
                )
            )
        elif children_digest(lines) != str(row[14]):
            problems.append(
                Problem(
                    "changed-outcomes",
                    f"{where}: its bag outcomes/events were replaced, re-hashed or reordered",
                    seq,
                    run_id,
                )
            )
        return problems

    @staticmethod
    def _verify_orphans(tx: sqlite3.Connection) -> list[Problem]:
        rows = tx.execute(
            "SELECT DISTINCT seq FROM outcomes WHERE seq NOT IN (SELECT seq FROM runs) "
            "UNION SELECT DISTINCT seq FROM events WHERE seq NOT IN (SELECT seq FROM runs) "
            "ORDER BY 1"
        ).fetchall()
        return [
            Problem(
                "deleted-run",
                f"run seq {row[0]} deleted: its bag outcomes/events remain without it",
                int(row[0]),
            )
            for row in rows
        ]

    def _verify_head(
        self, tx: sqlite3.Connection, rows: Sequence[Sequence[Any]], expected_head: str | None
    ) -> list[Problem]:
        problems: list[Problem] = []
        meta = dict(tx.execute("SELECT key, value FROM meta").fetchall())
        last_seq, last_hash = (int(rows[-1][0]), str(rows[-1][16])) if rows else (0, GENESIS)
        head_seq = meta.get("head_seq", "0")
        head_hash = meta.get("head_hash", GENESIS)
        if head_seq != str(last_seq) or head_hash != last_hash:
            problems.append(
                Problem(
                    "truncated",
                    f"the ledger's head is run seq {head_seq} ({head_hash[:16]}…) but its "
                    f"last run is seq {last_seq} ({last_hash[:16]}…): runs at the end were "
                    "deleted or the head was edited",
                    last_seq or None,
                )
            )
        if expected_head is not None and expected_head != last_hash:
            known = {str(row[16]): int(row[0]) for row in rows}
            where = (
                f"it is run seq {known[expected_head]}'s hash, runs after it were appended"
                if expected_head in known
                else "no run in the ledger has that hash (the chain was rewritten)"
            )
            problems.append(
                Problem(
                    "head-mismatch",
                    f"expected head {expected_head[:16]}… but the last run (seq {last_seq}) "
                    f"is {last_hash[:16]}…: {where}",
                    last_seq or None,
                )
            )
        return problems


def _link_problem(
    this: tuple[int, str],
    link: tuple[str, str],
    previous: tuple[int, str, str],
    position_of: Mapping[str, int],
    seq_of_id: Mapping[str, int],
    gap: bool,
) -> Problem | None:
    """Diagnose a run whose previous-run hash is not the hash of the run before it."""
    seq, run_id = this
    stored_prev, stored_prev_id = link
    prev_seq, prev_id, prev_hash = previous
    where = f"run seq {seq} (id {run_id})"
    target = position_of.get(stored_prev, seq_of_id.get(stored_prev_id))
    if target is not None and target > seq:
        return Problem(
            "reordered-run",
            f"{where} links to run seq {target} (id {stored_prev_id}), which is recorded after "
            "it: runs reordered",
            seq,
            run_id,
        )
    if target is not None and target == seq:
        return Problem("edited-run", f"{where} links to itself", seq, run_id)
    if target is not None and target == prev_seq:
        return Problem(
            "edited-run",
            f"run seq {prev_seq} (id {prev_id}) was edited and re-hashed: {where} links to "
            f"{stored_prev[:16]}…, its hash is now {prev_hash[:16]}…",
            prev_seq,
            prev_id,
        )
    if gap:
        return None  # the missing seqs are already reported
    if target is not None:
        return Problem(
            "deleted-run",
            f"{where} links to run seq {target} (id {stored_prev_id}), not to run seq "
            f"{prev_seq} (id {prev_id}): runs between them were deleted or reordered",
            seq,
            run_id,
        )
    if prev_seq == 0:
        return Problem(
            "deleted-run",
            f"{where} is first but links to run {stored_prev_id}, which is gone: "
            "runs before it were deleted",
            seq,
            run_id,
        )
    return Problem(
        "deleted-run",
        f"run {stored_prev_id} between run seq {prev_seq} (id {prev_id}) and {where} was "
        "deleted and the runs renumbered",
        seq,
        run_id,
    )


def _json_or(text: Any, default: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default if default is not None else str(text)


def _int_or(value: Any) -> Any:
    return value if isinstance(value, int) else str(value)


def _float_or(value: Any) -> Any:
    return float(value) if isinstance(value, int | float) else str(value)
