"""The report of one audit run, and its totals: what the audit, repair and deposit commands
produce and what the ledger records (its format is a stable contract)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from archiver.model.findings import BagReport, Finding

# A long run's progress, told as it goes: (done, total), in the run's own unit (bytes for
# an audit, sources for a build, bags for package, deposit and repair).
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class AuditTotals:
    """Counts for one audit run."""

    bags: int = 0
    intact: int = 0
    failed: int = 0
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @classmethod
    def of(cls, reports: Sequence[BagReport], seconds: float = 0.0) -> AuditTotals:
        """The totals of these bags' reports."""
        intact = sum(1 for r in reports if r.valid)
        return cls(
            bags=len(reports),
            intact=intact,
            failed=len(reports) - intact,
            files=sum(r.files for r in reports),
            bytes=sum(r.bytes for r in reports),
            seconds=seconds,
        )

    def to_json(self) -> dict[str, Any]:
        """The totals as a JSON-ready dict (with MB/s)."""
        rate = self.bytes / self.seconds / 1e6 if self.seconds > 0 else 0.0
        return {
            "bags": self.bags,
            "intact": self.intact,
            "failed": self.failed,
            "files": self.files,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "mb_per_second": round(rate, 1),
        }


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of one audit run over one or more roots.

    ``started`` and ``ended`` are timezone-aware ISO 8601 times from the injected clock;
    ``bags`` holds one ``BagReport`` per bag (``BagReport.bag`` is the bag's absolute path),
    in a stable order (sorted by path).
    """

    run_id: str
    started: str
    ended: str
    mode: str
    roots: tuple[str, ...]
    versions: Mapping[str, str]
    bags: tuple[BagReport, ...]
    totals: AuditTotals = field(default_factory=AuditTotals)

    @property
    def valid(self) -> bool:
        """True when every bag is intact."""
        return all(b.valid for b in self.bags)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of every bag, in bag order."""
        return tuple(f for b in self.bags for f in b.findings)

    def to_json(self) -> dict[str, Any]:
        """The machine report: run id, times, versions, totals, per bag status and problems."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "ended": self.ended,
            "mode": self.mode,
            "roots": list(self.roots),
            "versions": dict(self.versions),
            "status": "intact" if self.valid else "failed",
            "totals": self.totals.to_json(),
            "bags": [b.to_json() for b in self.bags],
        }

    def with_bags(self, bags: tuple[BagReport, ...]) -> AuditReport:
        """The report with its bags replaced and the intact / failed counts recomputed (the
        files, bytes and seconds stay those of the run)."""
        intact = sum(1 for b in bags if b.valid)
        totals = replace(self.totals, intact=intact, failed=len(bags) - intact)
        return replace(self, bags=bags, totals=totals)
