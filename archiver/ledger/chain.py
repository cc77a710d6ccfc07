"""The audit ledger's hash chain (pure: no disk, no SQLite, no clock).

Every child row (outcome or event) carries ``hash = SHA-256(canonical JSON of its fields
and its run id)``. A run's ``children_hash`` is the SHA-256 of the lines ``o:<hash>`` /
``e:<hash>`` of its children in order (outcomes sorted by bag). The run's own ``hash`` is
the SHA-256 of the canonical JSON of its fields, ``children_hash`` and ``prev`` (the
previous run's hash; 64 zeros for the first run). Canonical JSON: UTF-8, sorted keys, no
whitespace (``canonical_json``). ``seq`` is deliberately outside the hash: order is proved
by the links, so a reordering shows up as a link to a later run.

``verify_chain`` recomputes all of it from the stored rows and names the first broken
link: an edited run row, an edited / added / removed bag outcome, a deleted run, a
reordered run, or a truncated chain (the head recorded in ``meta`` is gone).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from archiver.bag.findings import sort_findings
from archiver.identifiers import derive_uuid
from archiver.ledger.records import EVENT_FIELDS, BagReportLike, LedgerEvent, Problem

FORMAT = "archiver-ledger/1"
GENESIS = "0" * 64
TABLES = ("meta", "runs", "outcomes", "events")
RUN_COLUMNS = (
    "seq",
    "run_id",
    "kind",
    "started",
    "ended",
    "mode",
    "roots",
    "versions",
    "bags",
    "failed",
    "files",
    "bytes",
    "seconds",
    "children",
    "children_hash",
    "prev_hash",
    "hash",
    "prev_run_id",
)
OUTCOME_COLUMNS = ("ord", "bag", "status", "files", "bytes", "findings", "hash", "tagmanifests")
EVENT_COLUMNS = ("ord", *EVENT_FIELDS, "hash")

# A run's stored child rows: (outcome rows in OUTCOME_COLUMNS order, event rows in
# EVENT_COLUMNS order), each in ``ord`` order.
ChildRows = tuple[Sequence[Sequence[Any]], Sequence[Sequence[Any]]]


@dataclasses.dataclass(frozen=True, slots=True)
class StoredRun:
    """A ``runs`` row as stored (``RUN_COLUMNS`` order); values unchecked, maybe tampered."""

    seq: Any
    run_id: Any
    kind: Any
    started: Any
    ended: Any
    mode: Any
    roots: Any
    versions: Any
    bags: Any
    failed: Any
    files: Any
    bytes: Any
    seconds: Any
    children: Any
    children_hash: Any
    prev_hash: Any
    hash: Any
    prev_run_id: Any


# ---------------------------------------------------------------- hashing


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: UTF-8, sorted keys, no insignificant whitespace, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def outcome_fields(run_id: str, report: BagReportLike, *, record_tags: bool) -> dict[str, Any]:
    """The hashed fields of one bag outcome (findings sorted, as JSON).

    With ``record_tags`` (a good fixity check), the bag's tag-manifest digests are part of
    the outcome as ``tagmanifests``; outcomes without them (every outcome written before
    they existed) hash exactly as before, so old ledgers still verify.
    """
    fields: dict[str, Any] = {
        "run_id": run_id,
        "bag": report.bag,
        "status": report.status,
        "files": int(report.files),
        "bytes": int(report.bytes),
        "findings": [f.to_json() for f in sort_findings(report.findings)],
    }
    tags = getattr(report, "tag_manifests", None) if record_tags else None
    if tags:
        fields["tagmanifests"] = {name: dict(d) for name, d in sorted(tags.items())}
    return fields


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


def event_identifier(run_id: str, event: LedgerEvent) -> str:
    """A stable identifier for an event: a UUID 5 derived from its run and content."""
    name = canonical_json(event_fields(run_id, event)).decode("utf-8")
    return derive_uuid("archiver:event:" + name, namespace=uuid.NAMESPACE_URL)


# ---------------------------------------------------------------- verification


def missing_tables(names: Collection[str]) -> list[Problem]:
    """A problem for each ledger table not among ``names`` (the tables the file has)."""
    return [Problem("missing-table", f"table {t} was dropped") for t in TABLES if t not in names]


def verify_chain(
    runs: Sequence[StoredRun],
    children: Callable[[int], ChildRows],
    orphans: Iterable[int],
    meta: Mapping[str, str],
    expected_head: str | None = None,
) -> list[Problem]:
    """Recompute the whole chain from its stored rows; the problems, first broken link first.

    ``runs`` in ``seq`` order; ``children(seq)`` gives a run's stored child rows;
    ``orphans``: the seqs of child rows whose run is gone; ``meta``: the meta table;
    ``expected_head``: a head hash kept elsewhere, to catch a rewritten chain.
    """
    problems: list[Problem] = []
    position_of = {str(run.hash): int(run.seq) for run in runs}
    seq_of_id = {str(run.run_id): int(run.seq) for run in runs}
    expected_seq = 1
    prev_hash = GENESIS
    prev_seq = 0
    prev_id = ""
    for run in runs:
        seq, run_id = int(run.seq), str(run.run_id)
        where = f"run seq {seq} (id {run_id})"
        gap = seq != expected_seq
        if gap:
            missing = (
                f"seq {expected_seq} (id {run.prev_run_id})"
                if seq == expected_seq + 1 and str(run.prev_run_id) not in seq_of_id
                else f"seq {expected_seq}"
                if seq == expected_seq + 1
                else f"seqs {expected_seq}-{seq - 1}"
            )
            problems.append(
                Problem("deleted-run", f"run {missing} missing before {where}", seq, run_id)
            )
        stored_prev = str(run.prev_hash)
        if stored_prev != prev_hash:
            link = _link_problem(
                (seq, run_id),
                (stored_prev, str(run.prev_run_id)),
                (prev_seq, prev_id, prev_hash),
                position_of,
                seq_of_id,
                gap,
            )
            if link is not None:
                problems.append(link)
        problems.extend(_children_problems(run, children(seq), where))
        fields = run_fields(
            run_id=run_id,
            kind=str(run.kind),
            started=str(run.started),
            ended=str(run.ended),
            mode=str(run.mode),
            roots=_json_or(run.roots, []),
            versions=_json_or(run.versions, {}),
            bags=_int_or(run.bags),
            failed=_int_or(run.failed),
            files=_int_or(run.files),
            bytes_=_int_or(run.bytes),
            seconds=_float_or(run.seconds),
            children=_int_or(run.children),
            children_hash=str(run.children_hash),
            prev_hash=stored_prev,
            prev_run_id=str(run.prev_run_id),
        )
        recomputed = run_hash(fields)
        if recomputed != str(run.hash):
            problems.append(
                Problem(
                    "edited-run",
                    f"{where}: run row edited (stored hash {str(run.hash)[:16]}…, its "
                    f"fields hash to {recomputed[:16]}…)",
                    seq,
                    run_id,
                )
            )
        expected_seq = seq + 1
        prev_hash = str(run.hash)
        prev_seq = seq
        prev_id = run_id
    problems.extend(
        Problem(
            "deleted-run",
            f"run seq {orphan} deleted: its bag outcomes/events remain without it",
            int(orphan),
        )
        for orphan in orphans
    )
    problems.extend(_head_problems(runs, meta, expected_head))
    return problems


def _children_problems(run: StoredRun, rows: ChildRows, where: str) -> list[Problem]:
    """Check each child row against its hash, and the run's count and children hash."""
    seq, run_id = int(run.seq), str(run.run_id)
    outcomes, events = rows
    problems: list[Problem] = []
    lines: list[str] = []
    for o in outcomes:
        fields = {
            "run_id": run_id,
            "bag": o[1],
            "status": o[2],
            "files": _int_or(o[3]),
            "bytes": _int_or(o[4]),
            "findings": _json_or(o[5], None),
        }
        if len(o) > 7 and o[7] not in ("", None):
            fields["tagmanifests"] = _json_or(o[7], None)
        if child_hash(fields) != o[6]:
            problems.append(
                Problem(
                    "edited-outcome",
                    f"{where}: bag outcome for {o[1]} edited (its fields no longer match its hash)",
                    seq,
                    run_id,
                )
            )
        lines.append(f"o:{o[6]}")
    for e in events:
        fields = {"run_id": run_id, **dict(zip(EVENT_FIELDS, e[1:-1], strict=True))}
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
    recorded = _int_or(run.children)
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
    elif children_digest(lines) != str(run.children_hash):
        problems.append(
            Problem(
                "changed-outcomes",
                f"{where}: its bag outcomes/events were replaced, re-hashed or reordered",
                seq,
                run_id,
            )
        )
    return problems


def _head_problems(
    runs: Sequence[StoredRun], meta: Mapping[str, str], expected_head: str | None
) -> list[Problem]:
    """Compare the last run with the head recorded in ``meta`` and with ``expected_head``."""
    problems: list[Problem] = []
    last_seq, last_hash = (int(runs[-1].seq), str(runs[-1].hash)) if runs else (0, GENESIS)
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
        known = {str(run.hash): int(run.seq) for run in runs}
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
