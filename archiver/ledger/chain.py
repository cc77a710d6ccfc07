"""The audit ledger's hash chain (pure: no disk, no SQLite, no clock).

Two formats live in one chain; each run names its own in its hashed ``format`` field.

``archiver-ledger/2`` (written today; canonical JSON is RFC 8785, ``canonical_json``):

- an audit run's bag outcome ``{"bag", "status", "files", "bytes", "findings"}`` hashes to
  ``SHA-256(canonical JSON)`` (``content_hash``; no run id, so an unchanged outcome has the
  same hash every night and is stored once, in the run where it changed);
- the run's ``children_hash`` is the RFC 6962 Merkle root (``merkle_root``) over the
  outcome hashes of every bag the run checked, in ascending bag id (``bags`` table) order,
  and ``children`` is their count;
- a deposit run's events hash as ``SHA-256(canonical JSON of the event and its run id)``;
  its ``children_hash`` is the SHA-256 of the lines ``e:<hash>\n`` in order.

``archiver-ledger/1`` (ledgers written before; still verified as written): canonical JSON
is Python's ``json.dumps(sort_keys, separators=(",", ":"), ensure_ascii=False)``; every
outcome row includes its run id and every run stores every bag's outcome; the
``children_hash`` is the SHA-256 of the lines ``o:<hash>\n`` / ``e:<hash>\n``.

In both, the run's own ``hash`` is the SHA-256 of the canonical JSON of its fields,
``children_hash`` and ``prev`` (the previous run's hash; 64 zeros for the first run).
``seq`` is deliberately outside the hash: order is proved by the links, so a reordering
shows up as a link to a later run.

``verify_chain`` recomputes all of it from the stored rows and names the first broken
link: an edited run row, an edited / added / removed bag outcome, a deleted run, a
reordered run, or a truncated chain (the head recorded in ``meta`` is gone).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import rfc8785

from archiver.model.findings import BagReport, sort_findings
from archiver.model.identifiers import derive_uuid
from archiver.model.records import (
    EVENT_FIELDS,
    FIXITY_MODES,
    LedgerEvent,
    Problem,
)

FORMAT_V1 = "archiver-ledger/1"
FORMAT = "archiver-ledger/2"
FORMATS = (FORMAT_V1, FORMAT)
GENESIS = "0" * 64
TABLES = ("meta", "runs", "outcomes", "events")
TABLES_V2 = (*TABLES, "bags", "members", "bag_state")
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
    "format",
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
    format: Any = FORMAT_V1


@dataclasses.dataclass(frozen=True, slots=True)
class BagState:
    """What the chain says of one bag: the seqs of its last audit, last fixity audit and
    last fixity audit that found it valid (the ledger's ``bag_state`` caches this)."""

    last_seq: int | None = None
    fixity_seq: int | None = None
    good_seq: int | None = None


@dataclasses.dataclass(slots=True)
class Replay:
    """Format 2 verification state, carried from run to run (bag ids from ``bags``)."""

    bag_ids: Mapping[str, int]
    current: dict[int, str] = dataclasses.field(default_factory=dict)  # outcome hash
    valid: set[int] = dataclasses.field(default_factory=set)  # current outcome valid
    last: dict[int, int] = dataclasses.field(default_factory=dict)
    fixity: dict[int, int] = dataclasses.field(default_factory=dict)
    good: dict[int, int] = dataclasses.field(default_factory=dict)

    def checked(self, bag_id: int, seq: int, fixity: bool, valid: bool) -> None:
        """Note that run ``seq`` checked the bag."""
        self.last[bag_id] = seq
        if fixity:
            self.fixity[bag_id] = seq
            if valid:
                self.good[bag_id] = seq

    def checked_all(self, ids: Sequence[int], seq: int, fixity: bool) -> None:
        """Note that run ``seq`` checked all of ``ids`` (their current outcomes)."""
        self.last.update(dict.fromkeys(ids, seq))
        if fixity:
            self.fixity.update(dict.fromkeys(ids, seq))
            self.good.update(dict.fromkeys(self.valid.intersection(ids), seq))

    @property
    def states(self) -> dict[int, BagState]:
        """Each bag's state, as the chain says."""
        return {
            i: BagState(seq, self.fixity.get(i), self.good.get(i)) for i, seq in self.last.items()
        }


# ---------------------------------------------------------------- hashing


# The C-accelerated encoder of the standard library, configured to write what RFC 8785
# writes wherever the two agree (see ``canonical_json``).
_JSON = json.JSONEncoder(
    ensure_ascii=False, check_circular=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)
_SAFE_INT = 2**53 - 1  # RFC 8785 (I-JSON): integers beyond this are refused


_SCALAR_TYPES = frozenset({str, bool, type(None)})
_SCALAR_OR_INT_TYPES = _SCALAR_TYPES | {int}


def _plain(value: Any) -> bool:
    """True when ``value`` is JSON the C encoder writes as RFC 8785 does: objects with
    string keys, arrays, strings, booleans, null and integers within +-(2**53 - 1).

    The types of a container's members are collected in C (``set(map(type, ...))``), so
    an object or array of strings (a bag outcome's tag-manifest digests) costs no loop
    in Python."""
    kind = type(value)
    if kind is dict:
        if not set(map(type, value)) <= {str} and not all(isinstance(k, str) for k in value):
            return False
        members = value.values()
    elif kind is list or kind is tuple:
        members = value
    else:
        return _plain_scalar(value)
    kinds = set(map(type, members))
    if kinds <= _SCALAR_TYPES:
        return True
    if kinds <= _SCALAR_OR_INT_TYPES:  # e.g. a finding: strings and counts
        return all(-_SAFE_INT <= item <= _SAFE_INT for item in members if type(item) is int)
    return all(type(item) in _SCALAR_TYPES or _plain(item) for item in members)


def _plain_scalar(value: Any) -> bool:
    if isinstance(value, str) or value is None or value is True or value is False:
        return True
    if isinstance(value, int):
        return -_SAFE_INT <= value <= _SAFE_INT
    return False  # floats, containers' subclasses, anything else: rfc8785 decides


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of ``value`` (format 2).

    The standard library's C encoder (sorted keys, no whitespace, no ASCII escaping)
    writes exactly RFC 8785's bytes for ``_plain`` JSON (no floats): both escape only
    ``"``, ``\\`` and the control characters, with the same short forms and lowercase
    ``\\u00xx``, and sorting keys by code point is sorting them by UTF-16 code unit
    while no character lies beyond U+FFFF (checked on the output). Anything else --
    floats (RFC 8785 writes ECMAScript numbers: ``2.0`` is ``2``), characters beyond
    the BMP, values the encoder refuses, lone surrogates -- goes to the reference
    implementation, ``rfc8785.dumps``, which also raises the errors. A bag outcome
    canonicalizes several times faster; ``tests/test_chain.py`` compares the two on
    generated values.
    """
    fast = _encoded_plain(value) if _plain(value) else None
    return fast if fast is not None else _reference_json(value)


def canonical_outcome(fields: Mapping[str, Any]) -> tuple[str, bytes, bytes]:
    """An outcome's ``content_hash`` and the canonical JSON of its ``findings`` and
    ``tagmanifests`` (stored beside it; empty bytes without them), ``_plain`` checked once
    for all three (the ledger records thousands of outcomes a run)."""
    findings, tags = fields["findings"], fields.get("tagmanifests")
    plain = _plain(fields)  # its findings and tags are then plain too

    def encoded(value: Any) -> bytes:
        fast = _encoded_plain(value) if plain else None
        return fast if fast is not None else _reference_json(value)

    return sha256_hex(encoded(fields)), encoded(findings), encoded(tags) if tags else b""


def _encoded_plain(value: Any) -> bytes | None:
    """The C encoder's bytes of ``_plain`` JSON, when they are RFC 8785's (no character
    beyond U+FFFF); None when only the reference implementation can tell."""
    try:
        text = _JSON.encode(value)
    except (ValueError, RecursionError):  # a lone surrogate; a cycle
        return None
    return text.encode("utf-8") if text.isascii() or max(text) <= "\uffff" else None


def _reference_json(value: Any) -> bytes:
    """``rfc8785.dumps``, its refusals as ``ValueError``."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"cannot canonicalize for the ledger: {exc}") from exc


def canonical_json_v1(value: Any) -> bytes:
    """Format 1's canonical JSON: UTF-8, Python's sorted keys, no whitespace, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_for(format_: str) -> Callable[[Any], bytes]:
    """The canonical JSON of a format (format 1's for ``archiver-ledger/1``)."""
    return canonical_json_v1 if format_ == FORMAT_V1 else canonical_json


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def outcome_fields(run_id: str, report: BagReport, *, record_tags: bool = False) -> dict[str, Any]:
    """Format 1's hashed fields of one bag outcome (findings sorted, as JSON): format 2's
    ``outcome_content`` and the run id."""
    return {"run_id": run_id, **outcome_content(report, record_tags=record_tags)}


def outcome_content(report: BagReport, *, record_tags: bool = False) -> dict[str, Any]:
    """Format 2's hashed fields of one bag outcome: what was found, not when.

    With ``record_tags`` (a good fixity check), the bag's tag-manifest digests are part of
    the outcome as ``tagmanifests``; outcomes without them (every outcome written before
    they existed) hash exactly as before, so old ledgers still verify.
    """
    fields: dict[str, Any] = {
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


def content_hash(fields: Mapping[str, Any]) -> str:
    """Format 2: the hash of one bag outcome (``outcome_content``), its Merkle leaf."""
    return sha256_hex(canonical_json(fields))


def merkle_root(leaves: Sequence[str]) -> str:
    """RFC 6962 Merkle tree hash over hex digests (each leaf's data: its 32 raw bytes).

    Leaf: SHA-256(0x00 || data); node: SHA-256(0x01 || left || right); the empty tree
    hashes to SHA-256 of nothing. Bottom-up, an odd last node moves up unchanged, which
    gives the same root as RFC 6962's split at the largest power of two.
    """
    if not leaves:
        return sha256_hex(b"")
    sha = hashlib.sha256
    level = [sha(b"\x00" + bytes.fromhex(leaf)).digest() for leaf in leaves]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


def encode_members(ids: Iterable[int]) -> bytes:
    """A run's bag ids as a zlib-compressed bitmap (bit ``i % 8`` of byte ``i // 8``)."""
    bits = bytearray()
    for i in ids:
        if i >= len(bits) * 8:
            bits.extend(bytes(i // 8 + 1 - len(bits)))
        bits[i // 8] |= 1 << (i % 8)
    return zlib.compress(bytes(bits), 6)


def decode_members(blob: bytes) -> list[int]:
    """The ascending bag ids of an ``encode_members`` bitmap."""
    bits = zlib.decompress(blob)
    ids: list[int] = []
    for index, byte in enumerate(bits):
        if byte == 0xFF:
            base = index * 8
            ids.extend(range(base, base + 8))
        elif byte:
            base = index * 8
            ids.extend(base + b for b in range(8) if byte >> b & 1)
    return ids


def is_member(blob: bytes, bag_id: int) -> bool:
    """True when bag ``bag_id`` is in an ``encode_members`` bitmap."""
    bits = zlib.decompress(blob)
    index = bag_id // 8
    return index < len(bits) and bool(bits[index] >> (bag_id % 8) & 1)


def event_fields(run_id: str, event: LedgerEvent) -> dict[str, Any]:
    """The hashed fields of one recorded event."""
    return {"run_id": run_id, **event.to_json()}


def child_hash(fields: Mapping[str, Any], format_: str = FORMAT) -> str:
    """The hash of one event row (and, in format 1, of one outcome row)."""
    return sha256_hex(canonical_for(format_)(fields))


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
    format_: str = FORMAT,
) -> dict[str, Any]:
    """The hashed fields of one run (``seq`` excluded: the links prove the order)."""
    return {
        "format": format_,
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
    """The hash of one run record (its fields include ``format``, ``prev`` and
    ``children_hash``), in the canonical JSON of its format."""
    return sha256_hex(canonical_for(str(fields.get("format", FORMAT)))(fields))


def event_identifier(run_id: str, event: LedgerEvent) -> str:
    """A stable identifier for an event: a UUID 5 derived from its run and content."""
    # format 1's JSON, so an event's identifier does not depend on the ledger format
    name = canonical_json_v1(event_fields(run_id, event)).decode("utf-8")
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
    *,
    members: Callable[[int], bytes | None] | None = None,
    bag_ids: Mapping[str, int] | None = None,
    stored_states: Mapping[int, BagState] | None = None,
) -> list[Problem]:
    """Recompute the whole chain from its stored rows; the problems, first broken link first.

    ``runs`` in ``seq`` order; ``children(seq)`` gives a run's stored child rows;
    ``orphans``: the seqs of child rows whose run is gone; ``meta``: the meta table;
    ``expected_head``: a head hash kept elsewhere, to catch a rewritten chain. Format 2
    ledgers also give ``members(seq)`` (a run's bitmap of bag ids), ``bag_ids`` (the
    ``bags`` table) and ``stored_states`` (the ``bag_state`` cache, checked against the
    chain so that ``--oldest`` cannot be steered by editing it).
    """
    replay = Replay(bag_ids) if bag_ids is not None else None
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
        format_ = str(run.format)
        if format_ not in FORMATS:
            problems.append(
                Problem("edited-run", f"{where}: unknown format {format_!r}", seq, run_id)
            )
        rows = children(seq)
        blob = members(seq) if members is not None and format_ == FORMAT else None
        if format_ == FORMAT and (blob is not None or str(run.kind) == "audit"):
            problems.extend(_members_problems(run, rows, blob, where, replay))
        else:
            problems.extend(_children_problems(run, rows, where, format_))
            if replay is not None and str(run.kind) == "audit":
                fixity = str(run.mode) in FIXITY_MODES
                for o in rows[0]:
                    bag_id = replay.bag_ids.get(str(o[1]))
                    if bag_id is not None:
                        replay.checked(bag_id, seq, fixity, o[2] == "valid")
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
            format_=format_,
        )
        try:
            recomputed = run_hash(fields)
        except ValueError:  # a tampered value canonical JSON cannot express
            recomputed = "?" * 64
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
    if replay is not None and stored_states is not None and not problems:
        # only an intact chain can vouch for the cache (else the edit is already reported)
        problems.extend(_state_problems(replay, stored_states))
    return problems


def _state_problems(replay: Replay, stored: Mapping[int, BagState]) -> list[Problem]:
    """Compare the ``bag_state`` cache with what the chain says (one problem at most)."""
    names = {bag_id: name for name, bag_id in replay.bag_ids.items()}
    states = replay.states
    for bag_id in sorted(set(stored) | set(states)):
        want, have = states.get(bag_id, BagState()), stored.get(bag_id, BagState())
        if want != have:
            return [
                Problem(
                    "edited-state",
                    f"bag {names.get(bag_id, f'id {bag_id}')}: the last-check table says "
                    f"{_state_text(have)}, the chain says {_state_text(want)}",
                    have.last_seq,
                )
            ]
    return []


def _state_text(state: BagState) -> str:
    return (
        f"last audit seq {state.last_seq}, last fixity audit seq {state.fixity_seq}, "
        f"last good seq {state.good_seq}"
    )


def _members_problems(
    run: StoredRun,
    rows: ChildRows,
    blob: bytes | None,
    where: str,
    replay: Replay | None,
) -> list[Problem]:
    """Format 2 audit run: check its changed outcomes, then the Merkle root over every
    bag it checked (each bag's outcome is the last one stored for it), and its events."""
    seq, run_id = int(run.seq), str(run.run_id)
    outcomes, events = rows
    problems: list[Problem] = []
    event_lines: list[str] = []
    for e in events:
        fields = {"run_id": run_id, **dict(zip(EVENT_FIELDS, e[1:-1], strict=True))}
        if _child_hash_or(fields, FORMAT) != e[-1]:
            problems.append(
                Problem(
                    "edited-event",
                    f"{where}: {e[2]} event for {e[3]} edited (its fields no longer match "
                    "its hash)",
                    seq,
                    run_id,
                )
            )
        event_lines.append(f"e:{e[-1]}")
    if replay is None:
        return [Problem("missing-table", f"{where}: the format 2 tables are missing", seq, run_id)]
    stored: set[int] = set()
    for o in outcomes:
        fields = {
            "bag": o[1],
            "status": o[2],
            "files": _int_or(o[3]),
            "bytes": _int_or(o[4]),
            "findings": _json_or(o[5], None),
        }
        if len(o) > 7 and o[7] not in ("", None):
            fields["tagmanifests"] = _json_or(o[7], None)
        try:
            edited = content_hash(fields) != o[6]
        except ValueError:
            edited = True
        if edited:
            problems.append(
                Problem(
                    "edited-outcome",
                    f"{where}: bag outcome for {o[1]} edited (its fields no longer match its hash)",
                    seq,
                    run_id,
                )
            )
        bag_id = replay.bag_ids.get(str(o[1]))
        if bag_id is None:
            problems.append(
                Problem("changed-outcomes", f"{where}: outcome for unknown bag {o[1]}", seq, run_id)
            )
            continue
        replay.current[bag_id] = str(o[6])
        if o[2] == "valid":
            replay.valid.add(bag_id)
        else:
            replay.valid.discard(bag_id)
        stored.add(bag_id)
    try:
        ids = decode_members(blob) if blob is not None else None
    except zlib.error:
        ids = None
    if ids is None:
        problems.append(
            Problem(
                "changed-outcomes",
                f"{where}: the list of bags it checked is missing or unreadable",
                seq,
                run_id,
            )
        )
        return problems
    if not stored <= set(ids):
        problems.append(
            Problem(
                "changed-outcomes",
                f"{where}: an outcome is stored for a bag the run did not check",
                seq,
                run_id,
            )
        )
    current = replay.current
    leaves = [current[i] for i in ids if i in current]
    missing = len(ids) - len(leaves)
    replay.checked_all([i for i in ids if i in current], seq, str(run.mode) in FIXITY_MODES)
    recorded = _int_or(run.children)
    if len(ids) + len(event_lines) != recorded:
        problems.append(
            Problem(
                "changed-outcomes",
                f"{where}: {len(ids)} bags listed as checked"
                + (f" and {len(event_lines)} events" if event_lines else "")
                + f", the run recorded {recorded} (bags or events added or removed)",
                seq,
                run_id,
            )
        )
    elif missing:
        problems.append(
            Problem(
                "changed-outcomes",
                f"{where}: {missing} checked bags have no recorded outcome (rows deleted)",
                seq,
                run_id,
            )
        )
    elif _members_digest(merkle_root(leaves), event_lines) != str(run.children_hash):
        problems.append(
            Problem(
                "changed-outcomes",
                f"{where}: its bag outcomes were replaced, re-hashed, deleted or reordered "
                "(the Merkle root differs)",
                seq,
                run_id,
            )
        )
    return problems


def _members_digest(root: str, event_lines: Sequence[str]) -> str:
    """A format 2 audit run's children hash: the Merkle root, or with events the SHA-256
    of the lines ``m:<root>`` and ``e:<hash>``."""
    return children_digest([f"m:{root}", *event_lines]) if event_lines else root


def _children_problems(
    run: StoredRun, rows: ChildRows, where: str, format_: str = FORMAT_V1
) -> list[Problem]:
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
        if _child_hash_or(fields, format_) != o[6]:
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
        if _child_hash_or(fields, format_) != e[-1]:
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


def _child_hash_or(fields: Mapping[str, Any], format_: str) -> str:
    """``child_hash``, or "" for fields that cannot be canonicalized (tampered values)."""
    try:
        return child_hash(fields, format_)
    except ValueError:
        return ""


def _json_or(text: Any, default: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default if default is not None else str(text)


def _int_or(value: Any) -> Any:
    return value if isinstance(value, int) else str(value)


def _float_or(value: Any) -> Any:
    return float(value) if isinstance(value, int | float) else str(value)
