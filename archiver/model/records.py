"""The audit ledger's records: what it reads from audits and what it gives back (pure).

Frozen records shared by the store (``archiver.ledger.store``), the hash chain
(``archiver.ledger.chain``) and the PREMIS export (``archiver.ledger.premis_export``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from archiver.model.findings import Finding, Kind, Severity

FIXITY_MODES = frozenset({"full"})  # modes whose audits read and hash every file
EVENT_FIELDS = (
    "identifier",
    "event_type",
    "bag",
    "date_time",
    "outcome",
    "detail",
    "outcome_detail",
    "target",
)


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
    """A deposit, replication or transfer event to record.

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
        return {name: getattr(self, name) for name in EVENT_FIELDS}


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored in the ledger, with its run."""

    seq: int
    run_id: str
    event: LedgerEvent
    hash: str


@dataclasses.dataclass(frozen=True, slots=True)
class TagManifestRecord:
    """A bag's tag-manifest digests as recorded at its last good fixity audit."""

    seq: int
    run_id: str
    checked: str
    digests: Mapping[str, Mapping[str, str]]  # tag manifest name -> {algorithm: digest}


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing ``verify`` found wrong with the ledger."""

    kind: str  # edited-run, edited-outcome, edited-event, changed-outcomes, deleted-run,
    #            reordered-run, truncated, head-mismatch, missing-table, wiped
    message: str
    seq: int | None = None
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict."""
        return {"kind": self.kind, "seq": self.seq, "run_id": self.run_id, "message": self.message}


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


class BagSummary(NamedTuple):
    """One bag's audit history in brief: what the collection report shows of it.

    A named tuple, not a frozen dataclass: a report reads one per bag, and a tuple is
    built several times faster.
    """

    bag: str
    checks: int  # outcomes recorded for the bag, in any run
    first_seq: int
    last_seq: int
    last_status: str
    last_files: int
    last_bytes: int
    last_findings: tuple[Finding, ...]
    last_good_seq: int | None  # the last fixity check that found the bag valid
    failed_seqs: tuple[int, ...]  # the runs whose outcome for the bag was not valid
