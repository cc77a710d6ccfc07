"""The HTML collection report at scale: a synthetic ledger of N bags × R audit runs.

``python -m bench.collection_report [--bags N] [--runs R]`` builds (or reuses) the corpus
under ``bench/out/report-N-R/``: one directory per bag holding only ``metadata/dc.json``
(the report reads each bag's title from it), and a ledger recorded through the ledger's
public API: R full audits of every bag (a few bags fail in each run and are good again
two runs later; some are failing at the last run) and one deposit run with a copy of every
bag. It then times ``archiver report`` on it (wall time, peak RSS) and the HTML's size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archiver.ledger.store import Ledger, LedgerEvent
from archiver.model.findings import BagReport, Finding, Kind
from archiver.model.reports import AuditReport, AuditTotals
from bench.report import Sample

REPO = Path(__file__).resolve().parent.parent
SEED = 20111216
START = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
STAMP = ".corpus.json"
FAIL_SHARE = 0.001  # bags that fail in each run
VERSIONS = {"archiver": "0.1.0", "python": "3.11"}


@dataclass(frozen=True, slots=True)
class Corpus:
    """Where a generated report corpus lives."""

    root: Path  # the bags
    ledger: Path
    bags: int
    runs: int


def _stamp_matches(directory: Path, spec: dict[str, object]) -> bool:
    try:
        return bool(json.loads((directory / STAMP).read_text()) == spec)
    except (OSError, ValueError):
        return False


def _run_report(run: int, bags: Sequence[str], failing: set[str]) -> AuditReport:
    reports = []
    for bag in bags:
        if bag in failing:
            finding = Finding(
                Kind.CHECKSUM_MISMATCH,
                bag,
                "data/statement.txt",
                "sha256 differs",
                algorithm="sha256",
                expected="a" * 64,
                found="b" * 64,
            )
            reports.append(BagReport(bag=bag, findings=(finding,), files=1, bytes=4096))
        else:
            reports.append(BagReport(bag=bag, files=1, bytes=4096))
    started = START + timedelta(days=run)
    seconds = 60.0 + run
    return AuditReport(
        run_id=f"bench-audit-{run:04d}",
        started=started.isoformat(),
        ended=(started + timedelta(seconds=seconds)).isoformat(),
        mode="full",
        roots=(str(Path(bags[0]).parent),),
        versions=VERSIONS,
        bags=tuple(reports),
        totals=AuditTotals(
            bags=len(reports),
            intact=len(reports) - len(failing),
            failed=len(failing),
            files=len(reports),
            bytes=4096 * len(reports),
            seconds=seconds,
        ),
    )


def make_corpus(directory: Path, bags: int, runs: int, seed: int = SEED) -> Corpus:
    """Generate (or reuse, when its stamp matches) the bags and the ledger."""
    spec: dict[str, object] = {"kind": "report", "bags": bags, "runs": runs, "seed": seed}
    corpus = Corpus(directory / "bags", directory / "ledger.sqlite", bags, runs)
    if _stamp_matches(directory, spec):
        return corpus
    if directory.exists():
        shutil.rmtree(directory)
    corpus.root.mkdir(parents=True)
    rng = random.Random(seed)
    names = []
    for index in range(bags):
        bag = corpus.root / f"s{index:06d}"
        (bag / "metadata").mkdir(parents=True)
        year = rng.choice((2011, 2022))
        record = {"filename": f"{bag.name}.txt", "dc.title": [f"Statement {index} of {year}"]}
        (bag / "metadata" / "dc.json").write_text(json.dumps(record), encoding="utf-8")
        names.append(str(bag))
    with Ledger.open(corpus.ledger) as ledger:
        failing_until: dict[str, int] = {}
        for run in range(runs):
            for name in rng.sample(names, max(1, int(bags * FAIL_SHARE))):
                failing_until[name] = run + 2
            failing = {name for name, until in failing_until.items() if until > run}
            ledger.record_run(_run_report(run, names, failing))
        when = (START + timedelta(days=runs)).isoformat()
        events = [
            LedgerEvent(
                event_type="replication",
                bag=bag,
                date_time=when,
                outcome="success",
                detail=f"deposit of {Path(bag).name}: new object",
                outcome_detail=f"created version v1 at {Path(bag).name}/v1; verified",
            )
            for bag in names
        ]
        ledger.record_events(
            events,
            run_id="bench-deposit",
            started=when,
            ended=when,
            versions=VERSIONS,
            target="ocfl:///srv/ocfl-root",
        )
    (directory / STAMP).write_text(json.dumps(spec))
    return corpus


def time_report(corpus: Corpus, html: Path) -> Sample:
    """Run ``archiver report`` once: wall time and peak RSS. It exits 1 (bags failing)."""
    from bench.run import ARCHIVER, run_once  # bench.run imports this module

    command = (*ARCHIVER, "report", "--ledger", str(corpus.ledger), "--out", str(html))
    return run_once(command, dict(os.environ), exit_ok=(0, 1))


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the corpus, time ``archiver report`` on it, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.collection_report", description=__doc__)
    parser.add_argument("--bags", type=int, default=1_000, help="bags in the ledger")
    parser.add_argument("--runs", type=int, default=30, help="full audit runs in the ledger")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="scratch dir")
    parser.add_argument("--reps", type=int, default=1, help="repetitions (the median is shown)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    corpus = make_corpus(
        args.out.resolve() / f"report-{args.bags}-{args.runs}", args.bags, args.runs
    )
    print(f"corpus ready in {time.perf_counter() - start:.1f} s: {corpus.ledger}", file=sys.stderr)
    html = corpus.ledger.parent / "report.html"
    samples = []
    for _ in range(args.reps):
        html.unlink(missing_ok=True)
        samples.append(time_report(corpus, html))
    best = sorted(samples, key=lambda s: s.seconds)[len(samples) // 2]
    size = html.stat().st_size
    print(
        f"archiver report, {args.bags:,} bags × {args.runs} runs: {best.seconds:.2f} s, "
        f"HTML {size / 1e6:.2f} MB, peak RSS {best.maxrss_kib / 1024:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
