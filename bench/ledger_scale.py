"""The audit ledger at scale: bytes per bag per run, time to record, verify and select.

Run from the repository root as ``python -m bench.ledger_scale [--quick]`` (not
part of ``make bench``, which it would lengthen by minutes). Synthetic outcomes: every bag
valid, except that each run a fraction ``--churn`` (default 0.1 %) of the bags changes
(fails, or recovers), which is what format 2 stores beyond the run itself. For each
(bags, runs) size it records ``runs`` audit runs into a fresh ledger and reports:

- bytes per bag for the first run (every outcome stored: what format 1 stored every
  night) and per bag per following run (the ledger file's growth, after a checkpoint);
- CPU seconds (``time.process_time``: the machine is shared, wall time would measure the
  other work) to record one run (median), to ``verify`` the whole ledger, and to select
  the ``--oldest`` bags, after 1, 10 % and all of the runs (selection must stay flat);
- the projection for 1 million bags audited nightly for a year.

Results go to ``bench/results/ledger-{full,quick}.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from archiver.audit.selection import select_bags
from archiver.ledger.store import Ledger
from archiver.model.findings import BagReport, Finding, Kind
from archiver.model.reports import AuditReport, AuditTotals

REPO = Path(__file__).resolve().parent.parent
FULL = ((10_000, 100), (100_000, 10))
QUICK = ((1_000, 10), (5_000, 5))
YEAR_BAGS = 1_000_000
YEAR_RUNS = 365


@dataclass(frozen=True, slots=True)
class Measure:
    """One (bags, runs) ledger."""

    bags: int
    runs: int
    churn: float
    first_run_bytes: int
    bytes_per_later_run: float
    record_seconds: float
    verify_seconds: dict[int, float]
    select_seconds: dict[int, float]
    file_bytes: int

    @property
    def first_per_bag(self) -> float:
        """Bytes per bag of the first run (every outcome stored)."""
        return self.first_run_bytes / self.bags

    @property
    def later_per_bag(self) -> float:
        """Bytes per bag per following run (only changed outcomes stored)."""
        return self.bytes_per_later_run / self.bags

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "bags": self.bags,
            "runs": self.runs,
            "churn": self.churn,
            "first_run_bytes": self.first_run_bytes,
            "first_run_bytes_per_bag": round(self.first_per_bag, 1),
            "bytes_per_later_run": round(self.bytes_per_later_run),
            "bytes_per_bag_per_later_run": round(self.later_per_bag, 3),
            "record_seconds_median": round(self.record_seconds, 3),
            "verify_seconds_after_runs": {
                str(k): round(v, 3) for k, v in self.verify_seconds.items()
            },
            "select_seconds_after_runs": {
                str(k): round(v, 4) for k, v in self.select_seconds.items()
            },
            "file_bytes": self.file_bytes,
        }


def bag_name(i: int) -> str:
    """A realistic bag path (about 60 bytes)."""
    return f"/srv/archive/collection-0001/bags/{i:08d}_{(i * 2654435761) % (1 << 32):08x}"


def outcome(i: int, failing: bool) -> BagReport:
    """A bag's synthetic outcome: 3 files, ~12 KB; one checksum mismatch when failing."""
    name = bag_name(i)
    if not failing:
        return BagReport(bag=name, files=3, bytes=12_000 + i % 997)
    finding = Finding(
        Kind.CHECKSUM_MISMATCH,
        name,
        "data/text.txt",
        "sha256 differs from manifest-sha256.txt",
        algorithm="sha256",
        expected="a" * 64,
        found="b" * 64,
    )
    return BagReport(bag=name, files=3, bytes=12_000 + i % 997, findings=(finding,))


def report(run: int, bags: int, failing: set[int]) -> AuditReport:
    """Run ``run``'s audit report over every bag."""
    outcomes = tuple(outcome(i, i in failing) for i in range(bags))
    day = datetime(2026, 1, 1, 1, tzinfo=UTC) + timedelta(days=run)
    return AuditReport(
        run_id=f"run-{run:05d}",
        started=day.isoformat(),
        ended=(day + timedelta(minutes=30)).isoformat(),
        mode="full",
        roots=("/srv/archive/collection-0001/bags",),
        versions={"archiver": "0.1.0", "python": "3.11.7", "hashlib": "OpenSSL 3.0.13"},
        bags=outcomes,
        totals=AuditTotals(
            bags=bags,
            intact=bags - len(failing),
            failed=len(failing),
            files=3 * bags,
            bytes=sum(o.bytes for o in outcomes),
            seconds=1800.0,
        ),
    )


def _size(path: Path) -> int:
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


def _checkpoint(ledger: Ledger) -> None:
    ledger._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file holds every page


def measure(bags: int, runs: int, churn: float, directory: Path, console: Console) -> Measure:
    """Record ``runs`` runs of ``bags`` bags; time and size everything."""
    path = directory / f"ledger-{bags}x{runs}.sqlite"
    names = [bag_name(i) for i in range(bags)]
    changing = max(1, int(bags * churn))
    record: list[float] = []
    verify: dict[int, float] = {}
    select: dict[int, float] = {}
    checkpoints = sorted({1, max(1, runs // 10), runs})
    failing: set[int] = set()
    with Ledger.open(path) as ledger:
        _checkpoint(ledger)
        empty = _size(path)
        first = 0
        for run in range(1, runs + 1):
            if run > 1:  # some bags fail, as many recover
                start = (run * changing * 7) % bags
                flips = {(start + k) % bags for k in range(changing)}
                failing ^= flips
            audit = report(run, bags, failing)
            t0 = time.process_time()
            ledger.record_run(audit)
            record.append(time.process_time() - t0)
            if run == 1:
                _checkpoint(ledger)
                first = _size(path) - empty
            if run in checkpoints:
                t0 = time.process_time()
                problems = ledger.verify()
                verify[run] = time.process_time() - t0
                assert not problems, problems
                t0 = time.process_time()
                select_bags(ledger, names, max(1, bags // 10), None)
                select[run] = time.process_time() - t0
                console.log(
                    f"{bags:,} bags, run {run}: record {record[-1]:.2f} s, verify "
                    f"{verify[run]:.2f} s, --oldest {select[run]:.3f} s"
                )
        _checkpoint(ledger)
        total = _size(path)
    later = (total - empty - first) / max(1, runs - 1)
    path.unlink()
    return Measure(
        bags=bags,
        runs=runs,
        churn=churn,
        first_run_bytes=first,
        bytes_per_later_run=later,
        record_seconds=statistics.median(record[1:] or record),
        verify_seconds=verify,
        select_seconds=select,
        file_bytes=total,
    )


def projection(
    measures: Sequence[Measure], bags: int = YEAR_BAGS, runs: int = YEAR_RUNS
) -> dict[str, float]:
    """A year of nightly audits of ``bags`` bags from the measured ledgers.

    The first run costs its bytes per bag. A later run's growth is a fixed part (the run
    row, its members bitmap, partly filled pages) plus a part that grows with the bags
    (their changed outcomes): fitted as ``a + b * bags`` through the two largest sizes
    measured (proportional when only one). Verify time scales with bag-checks.
    """
    ordered = sorted(measures, key=lambda m: m.bags)
    big = ordered[-1]
    slope = big.later_per_bag
    fixed = 0.0
    if len(ordered) > 1 and ordered[-2].bags < big.bags:
        small = ordered[-2]
        slope = (big.bytes_per_later_run - small.bytes_per_later_run) / (big.bags - small.bags)
        slope = max(slope, 0.0)
        fixed = max(big.bytes_per_later_run - slope * big.bags, 0.0)
    first = big.first_per_bag * bags
    later = (fixed + slope * bags) * (runs - 1)
    per_check = big.verify_seconds[big.runs] / (big.bags * big.runs)
    return {
        "bags": bags,
        "runs": runs,
        "churn": big.churn,
        "first_run_bytes": first,
        "later_run_bytes": fixed + slope * bags,
        "bytes": first + later,
        "gib": (first + later) / (1 << 30),
        "format_1_gib": big.first_per_bag * bags * runs / (1 << 30),
        "verify_hours": per_check * bags * runs / 3600,
        "record_seconds_per_run": big.record_seconds * bags / big.bags,
        "select_seconds": big.select_seconds[big.runs] * bags / big.bags,
    }


def table(measures: Sequence[Measure]) -> Table:
    """The measured figures."""
    t = Table(title="audit ledger at scale (format 2)")
    for column in (
        "bags × runs",
        "first run B/bag",
        "later runs B/bag/run",
        "record CPU s/run",
        "verify CPU s (after 1 / 10 % / all runs)",
        "--oldest CPU s (after 1 / 10 % / all)",
        "file MiB",
    ):
        t.add_column(column, justify="right")
    for m in measures:
        t.add_row(
            f"{m.bags:,} × {m.runs}",
            f"{m.first_per_bag:.0f}",
            f"{m.later_per_bag:.2f}",
            f"{m.record_seconds:.2f}",
            " / ".join(f"{v:.2f}" for v in m.verify_seconds.values()),
            " / ".join(f"{v:.3f}" for v in m.select_seconds.values()),
            f"{m.file_bytes / (1 << 20):.1f}",
        )
    return t


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each size, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_scale", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--size",
        metavar="BAGSxRUNS",
        action="append",
        default=None,
        help="measure this size instead (repeatable), e.g. 10000x100",
    )
    parser.add_argument("--churn", type=float, default=0.001, help="bags changing per run")
    parser.add_argument("--results", type=Path, default=None, help="JSON results file")
    args = parser.parse_args(argv)
    sizes: Sequence[tuple[int, int]] = QUICK if args.quick else FULL
    if args.size:
        sizes = [(int(b), int(r)) for b, r in (s.lower().split("x") for s in args.size)]
    console = Console(stderr=True)
    measures = []
    scratch_root = REPO / "bench" / "out"  # ignored by git
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root) as scratch:
        for bags, runs in sizes:
            measures.append(measure(bags, runs, args.churn, Path(scratch), console))
    largest = max(measures, key=lambda m: m.bags)
    year = projection(measures)
    stdout = Console()
    stdout.print(table(measures))
    stdout.print(
        f"1,000,000 bags nightly for a year ({args.churn:.1%} of bags changing per night), "
        f"from the {largest.bags:,}-bag ledger: {year['gib']:.2f} GiB "
        f"(format 1, every outcome every night: {year['format_1_gib']:.0f} GiB); record "
        f"{year['record_seconds_per_run']:.0f} s per run; --oldest selection "
        f"{year['select_seconds']:.1f} s; verify the year {year['verify_hours']:.2f} h"
    )
    document = {
        "mode": "quick" if args.quick else "full",
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "measures": [m.to_json() for m in measures],
        "year_projection": year,
    }
    results = args.results or REPO / "bench" / "results" / (
        "ledger-quick.json" if args.quick else "ledger-full.json"
    )
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    stdout.print(f"results written to {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
