"""Pure benchmark arithmetic and rendering: medians, ratios, targets, the rich table.

No disk, no clock: the runner measures, this module only computes and formats.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed run of one contender: wall seconds, peak RSS (KiB, any one process), and
    the CPU seconds other work on the machine used meanwhile (``contended`` when too many)."""

    seconds: float
    maxrss_kib: int
    other_cpu: float = 0.0
    contended: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    """Every repetition of one contender on one workload.

    ``work`` is what one run does (bytes or bags); ``scale`` multiplies the measured time
    when a contender ran on a sample of the work (``bagit.py`` per bag), so its figures are
    estimates for the whole workload and say so in ``note``.
    """

    group: str
    name: str
    work: float
    unit: str
    samples: tuple[Sample, ...]
    scale: float = 1.0
    note: str = ""
    command: tuple[str, ...] = field(default=())

    @property
    def seconds(self) -> float:
        """Median wall time for the whole workload (scaled up when sampled)."""
        return median([s.seconds for s in self.samples]) * self.scale

    @property
    def rate(self) -> float:
        """Work per second at the median: MB/s for bytes, bags/s for bags."""
        amount = self.work / 1e6 if self.unit == "bytes" else self.work
        return amount / self.seconds if self.seconds > 0 else float("inf")

    @property
    def rate_unit(self) -> str:
        """'MB/s' or '<unit>/s'."""
        return "MB/s" if self.unit == "bytes" else f"{self.unit}/s"

    @property
    def contended_samples(self) -> int:
        """How many repetitions ran while other work used the machine's cores."""
        return sum(1 for s in self.samples if s.contended)

    @property
    def peak_rss_mib(self) -> float:
        """The largest peak RSS over the repetitions, MiB."""
        return max(s.maxrss_kib for s in self.samples) / 1024

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form with every sample."""
        return {
            "group": self.group,
            "name": self.name,
            "work": self.work,
            "unit": self.unit,
            "scale": self.scale,
            "note": self.note,
            "command": list(self.command),
            "samples": [
                {
                    "seconds": s.seconds,
                    "maxrss_kib": s.maxrss_kib,
                    "other_cpu_seconds": round(s.other_cpu, 3),
                    "contended": s.contended,
                }
                for s in self.samples
            ],
            "contended_samples": self.contended_samples,
            "median_seconds": self.seconds,
            "rate": self.rate,
            "rate_unit": self.rate_unit,
            "peak_rss_mib": self.peak_rss_mib,
        }


@dataclass(frozen=True, slots=True)
class Target:
    """A performance goal and what was measured: ``measured`` must be >= or <= ``goal``."""

    name: str
    measured: float
    goal: float
    higher_is_better: bool
    detail: str = ""

    @property
    def met(self) -> bool:
        """True when the measurement reaches the goal."""
        if self.higher_is_better:
            return self.measured >= self.goal
        return self.measured <= self.goal

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "measured": self.measured,
            "goal": self.goal,
            "higher_is_better": self.higher_is_better,
            "met": self.met,
            "detail": self.detail,
        }


def median(values: Sequence[float]) -> float:
    """The median of at least one value."""
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def speedup(baseline: Result, contender: Result) -> float:
    """How many times faster ``contender`` is than ``baseline`` (same work assumed)."""
    return baseline.seconds / contender.seconds


def throughput_ratio(contender: Result, reference: Result) -> float:
    """``contender``'s rate as a fraction of ``reference``'s (both in MB/s)."""
    return contender.rate / reference.rate


def growth(small: Result, large: Result) -> float:
    """Time per unit of work at the large size over that at the small size (1.0 = linear)."""
    return (large.seconds / large.work) / (small.seconds / small.work)


def results_table(results: Sequence[Result], references: dict[str, str]) -> Table:
    """Medians, rates, ratio to each group's reference contender, peak RSS."""
    table = Table(title="Medians (wall time per run; ratio = reference time / this time)")
    for column in ("group", "contender"):
        table.add_column(column)
    for column in ("work", "median s", "rate", "ratio", "peak RSS MiB", "contended"):
        table.add_column(column, justify="right")
    by_name = {(r.group, r.name): r for r in results}
    for r in results:
        ref = by_name.get((r.group, references.get(r.group, "")))
        ratio = f"{speedup(ref, r):.2f}×" if ref is not None else ""
        work = f"{r.work / MIB:,.0f} MiB" if r.unit == "bytes" else f"{r.work:,.0f} {r.unit}"
        name = r.name + (f" ({r.note})" if r.note else "")
        table.add_row(
            r.group,
            name,
            work,
            f"{r.seconds:.3f}",
            f"{r.rate:,.1f} {r.rate_unit}",
            ratio,
            f"{r.peak_rss_mib:.0f}",
            f"[bold red]{r.contended_samples}/{len(r.samples)}[/]" if r.contended_samples else "",
        )
    return table


def targets_table(targets: Sequence[Target]) -> Table:
    """Each target, the measurement, the goal and whether it is met."""
    table = Table(title="Targets")
    table.add_column("target")
    for column in ("measured", "goal", "met"):
        table.add_column(column, justify="right")
    for t in targets:
        sign = "≥" if t.higher_is_better else "≤"
        met = "[green]yes[/]" if t.met else "[bold red]NO[/]"
        name = t.name + (f" ({t.detail})" if t.detail else "")
        table.add_row(name, f"{t.measured:.2f}", f"{sign} {t.goal:g}", met)
    return table
