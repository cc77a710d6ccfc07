"""A repair as ledger records: the findings before, each file restored or quarantined,
the outcome after (pure).

Each bag that needed work gives a "fixity check" event with outcome failure (the findings
before), a "quarantine" event per unexpected file moved out, a "recovery" event per file
restored (its ``target`` is the replica: the PREMIS export links it as the source
object), a failed "recovery" event per file no replica could heal or for a refused bag;
its outcome after is the run's bag outcome (a fixity check: success or failure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from archiver.model.findings import Finding, Severity
from archiver.model.records import LedgerEvent
from archiver.repair.plan import BagRepair, RepairStatus


def _digests(digests: Mapping[str, str]) -> str:
    return ", ".join(f"{alg} {value}" for alg, value in sorted(digests.items()))


def _summary(findings: Sequence[Finding]) -> str:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    return "; ".join(f"{f.kind} {f.path}" for f in errors) or "no errors"


def repair_events(repair: BagRepair) -> list[LedgerEvent]:
    """The ledger events of one bag's repair (none for an intact bag or a dry run)."""
    if repair.status in (RepairStatus.INTACT, RepairStatus.WOULD_REPAIR):
        return []
    bag = repair.bag
    events = [
        LedgerEvent(
            event_type="fixity check",
            bag=bag,
            date_time=repair.started,
            outcome="failure",
            detail="archiver repair: full check before repairing",
            outcome_detail=_summary(repair.before.findings),
        )
    ]
    for q in repair.quarantined:
        events.append(
            LedgerEvent(
                event_type="quarantine",
                bag=bag,
                date_time=repair.ended,
                outcome="success",
                detail=f"archiver repair: unexpected file {q.path} moved out of the bag",
                outcome_detail=f"to {q.moved_to} ({q.size} bytes; {_digests(q.digests)})",
            )
        )
    kept = {k.path: k for k in repair.kept}
    for r in repair.restored:
        aside = kept.get(r.path)
        note = (
            f"; the damaged bytes ({_digests(aside.digests)}) kept at {aside.moved_to}"
            if aside
            else ""
        )
        events.append(
            LedgerEvent(
                event_type="recovery",
                bag=bag,
                date_time=repair.ended,
                outcome="success",
                detail=f"archiver repair: {r.path} restored",
                outcome_detail=f"copied from {r.where}, every digest verified "
                f"({_digests(r.digests)}){note}",
                target=r.replica,
            )
        )
    for u in repair.unhealed:
        tried = "; ".join(f"{a.replica}: {a.status} ({a.detail})" for a in u.attempts)
        events.append(
            LedgerEvent(
                event_type="recovery",
                bag=bag,
                date_time=repair.ended,
                outcome="failure",
                detail=f"archiver repair: {u.path} not restored",
                outcome_detail=f"no replica holds {_digests(u.wanted)}: {tried or 'none tried'}",
            )
        )
    if repair.status == RepairStatus.REFUSED:
        events.append(
            LedgerEvent(
                event_type="recovery",
                bag=bag,
                date_time=repair.ended,
                outcome="failure",
                detail="archiver repair: refused",
                outcome_detail=repair.reason,
            )
        )
    return events
