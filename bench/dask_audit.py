"""Audit through Dask on one machine vs the local process pool, and the scheduler's task rate.

Run from the repository root as ``python -m bench.dask_audit [--quick]`` (not
part of ``make bench``). Two corpora: many small bags (copies of one bag ``archiver
build`` made, under ``bench/out/dask-*/``) and one bag of a few large files
(``bench.corpus.make_large_bag``). On each, ``archiver audit --workers 2`` (the process
pool) and ``archiver audit --scheduler local --workers 2`` (a LocalCluster of 2 worker
processes, its start included) alternate, each in its own process (``bench.run``'s
harness: medians, peak RSS). Then the task rate the scheduler sustains: trivial tasks
through ``DaskExecutor`` with the audit's window (2 in flight per worker thread) and with
all submitted at once. Results: ``bench/results/dask-{full,quick}.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from archiver.audit.collection import BAG_BATCH
from bench.corpus import make_large_bag, make_small_sources
from bench.machine import warm
from bench.report import Result, results_table
from bench.run import ARCHIVER, REPO, Contender, _unlink, describe_machine, run_group


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much work a run does."""

    bags: int
    large_files: int
    large_size: int
    tasks: int
    reps: int


FULL = Sizes(bags=10_000, large_files=8, large_size=256 << 20, tasks=5_000, reps=3)
QUICK = Sizes(bags=300, large_files=8, large_size=8 << 20, tasks=500, reps=2)
WORKERS = 2


def small_bags(out: Path, count: int) -> Path:
    """``count`` small bags: one built by ``archiver build``, copied (reused when there)."""
    root = out / f"small-{count}"
    if root.is_dir() and len(list(root.iterdir())) == count:
        return root
    shutil.rmtree(root, ignore_errors=True)
    catalog = make_small_sources(out / "sources-1", 1)
    built = out / "built-1"
    shutil.rmtree(built, ignore_errors=True)
    subprocess.run(
        [*ARCHIVER, "build", "--catalog", str(catalog), "--out", str(built)]
        + ["--config", str(REPO / "archive.toml")],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=REPO,
    )
    (first,) = built.iterdir()
    root.mkdir(parents=True)
    for i in range(count):
        shutil.copytree(first, root / f"bag-{i:06d}")
    return root


def contenders(root: Path, out: Path, group: str, work: float, unit: str) -> list[Contender]:
    """The process pool and a LocalCluster of the same size, on one corpus."""
    ledger = out / f"ledger-{group.split()[0]}.sqlite"
    base = (*ARCHIVER, "audit", str(root), "--workers", str(WORKERS), "--ledger", str(ledger))
    return [
        Contender(group, f"process pool, {WORKERS} workers", base, work, unit, _unlink(ledger)),
        Contender(
            group,
            f"--scheduler local, {WORKERS} workers",
            (*base, "--scheduler", "local"),
            work,
            unit,
            _unlink(ledger),
        ),
    ]


def task_rate(
    tasks: int, roots: Sequence[Path], console: Console
) -> tuple[dict[str, float], dict[str, float]]:
    """Trivial tasks per second through ``DaskExecutor`` on a LocalCluster of WORKERS; and
    the audit of each root on that cluster once it is up (its start excluded)."""
    from archiver.audit.collection import audit
    from archiver.audit.dask_backend import connect

    rates: dict[str, float] = {}
    warm: dict[str, float] = {}
    with connect("local", [str(r) for r in roots], local_workers=WORKERS) as executor:
        for label, window in (("audit window", 2 * executor.workers), ("all at once", tasks)):
            for _ in range(2):  # the first round warms the workers up
                t0 = time.perf_counter()
                pending: set[Future[Any]] = set()
                for _ in range(tasks):
                    pending.add(executor.submit(len, (1,)))
                    if len(pending) >= window:
                        _, pending = wait(pending, timeout=600, return_when=FIRST_COMPLETED)
                _, pending = wait(pending, timeout=600)
                if pending:
                    raise SystemExit(f"bench: {len(pending)} trivial tasks never finished")
                seconds = time.perf_counter() - t0
            rates[label] = tasks / seconds
            console.log(f"{tasks} trivial tasks, {label}: {rates[label]:.0f} tasks/s")
        for root in roots:
            audit([root], executor=executor)  # warms the workers up (imports, schemas)
            t0 = time.perf_counter()
            audit([root], executor=executor)
            warm[str(root)] = time.perf_counter() - t0
            console.log(f"warm LocalCluster audit of {root}: {time.perf_counter() - t0:.2f} s")
    return rates, warm


def main(argv: Sequence[str] | None = None) -> int:
    """Make the corpora, time both ways of auditing, measure the task rate, write JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.dask_audit", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small corpora")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per contender")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="scratch dir")
    parser.add_argument("--results", type=Path, default=None, help="JSON results file")
    parser.add_argument("--keep", action="store_true", help="keep the corpora afterwards")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    reps = args.reps or sizes.reps
    out: Path = args.out.resolve() / ("dask-quick" if args.quick else "dask-full")
    out.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    started = datetime.now(UTC)
    machine = describe_machine()

    console.log("generating corpora")
    bags = small_bags(out, sizes.bags)
    large = make_large_bag(out / "large", sizes.large_files, sizes.large_size, processes=WORKERS)
    payload = sorted((large / "data").iterdir())
    total = float(sum(p.stat().st_size for p in payload))
    warm(payload)

    small_group = f"small bags {sizes.bags:,}"
    large_group = f"large files {sizes.large_files} × {sizes.large_size >> 20} MiB"
    results: list[Result] = []
    results += run_group(contenders(bags, out, small_group, sizes.bags, "bags"), reps, console)
    results += run_group(contenders(large.parent, out, large_group, total, "bytes"), reps, console)
    rates, warm_audit = task_rate(sizes.tasks, [bags, large.parent], console)

    by_name = {(r.group, r.name): r for r in results}
    overhead = {}
    audit_tasks = {}
    for group, tasks in (
        (small_group, -(-sizes.bags // max(1, min(BAG_BATCH, sizes.bags // (WORKERS * 4))))),
        (large_group, sizes.large_files + 1),  # a batch for the bag, then one task per file
    ):
        pool = by_name[(group, f"process pool, {WORKERS} workers")]
        dask = by_name[(group, f"--scheduler local, {WORKERS} workers")]
        overhead[group] = dask.seconds / pool.seconds
        audit_tasks[group] = {"tasks": tasks, "tasks_per_second": tasks / dask.seconds}
    references = dict.fromkeys((small_group, large_group), f"process pool, {WORKERS} workers")
    stdout = Console(width=max(150, Console().width))
    stdout.print(results_table(results, references))
    for group, ratio in overhead.items():
        stdout.print(
            f"{group}: --scheduler local takes {ratio:.2f} × the process pool's time; the "
            f"audit ran {audit_tasks[group]['tasks']} tasks "
            f"({audit_tasks[group]['tasks_per_second']:.0f} tasks/s, cluster start included)"
        )
    stdout.print(
        "scheduler task rate (trivial tasks, LocalCluster of 2): "
        + ", ".join(f"{k} {v:.0f}/s" for k, v in rates.items())
    )
    stdout.print(
        "audit on the LocalCluster once it is up (start excluded): "
        + ", ".join(f"{Path(k).name} {v:.2f} s" for k, v in warm_audit.items())
    )
    document = {
        "mode": "quick" if args.quick else "full",
        "started": started.isoformat(timespec="seconds"),
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "repetitions": reps,
        "sizes": {k: getattr(sizes, k) for k in Sizes.__dataclass_fields__},
        "machine": machine,
        "load_average_at_end": list(os.getloadavg()),
        "results": [r.to_json() for r in results],
        "dask_over_pool_time": overhead,
        "audit_tasks": audit_tasks,
        "scheduler_tasks_per_second": rates,
        "warm_cluster_audit_seconds": warm_audit,
    }
    results_path = args.results or REPO / "bench" / "results" / (
        "dask-quick.json" if args.quick else "dask-full.json"
    )
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    stdout.print(f"results written to {results_path}")
    if not args.keep:
        shutil.rmtree(out / "large", ignore_errors=True)
        shutil.rmtree(bags, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
