"""The audit of 2,000 small bags at full size, on its own (``make bench``'s ``bags`` part
also builds 10,000 bags twice, which takes long): plain one-file bags (bagit-python's
``make_bag``, no profile claimed) and archiver-built bags, each against its floor (read
and hash every file with sha256 and sha512, 2 processes) and the bagit-python validate
loop, with ``bench.run``'s harness and targets.

``python -m bench.small_audit [--reps N] [--bags N]``; results in
``bench/results/small-audit-full.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from bench import machine, run
from bench.corpus import make_small_sources
from bench.report import results_table, targets_table


def main(argv: Sequence[str] | None = None) -> int:
    """Make the two corpora (untimed), time both groups, print and write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.small_audit", description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--bags", type=int, default=run.FULL.bags_small)
    parser.add_argument("--out", type=Path, default=run.REPO / "bench" / "out" / "small-audit")
    parser.add_argument(
        "--results", type=Path, default=run.REPO / "bench" / "results" / "small-audit-full.json"
    )
    args = parser.parse_args(argv)
    n, cores, out = args.bags, os.cpu_count() or 1, args.out.resolve()
    console = Console(stderr=True)
    sources = make_small_sources(out / f"sources-{n}", n).parent
    plain, built = out / f"one-file-{n}", out / f"archiver-{n}"
    env = dict(os.environ, SOURCE_DATE_EPOCH=run.EPOCH)
    if not plain.exists():
        make = ("make-bag-loop", str(sources), str(plain), "--no-profile")
        subprocess.run((run.PY, "-m", "bench.contenders", *make), check=True)
    if not built.exists():
        catalog = str(sources / "metadata.csv")
        build = ("build", "--catalog", catalog, "--out", str(built))
        config = ("--config", str(run.REPO / "archive.toml"))
        subprocess.run(
            (*run.ARCHIVER, *build, *config), check=True, env=env, stdout=subprocess.DEVNULL
        )
    load = os.getloadavg()[0]
    results = run.run_group(run.one_file_audit_contenders(plain, out, n, cores), args.reps, console)
    results += run.run_group(
        run.small_audit_contenders(built, out, n, cores, 0), args.reps, console
    )
    sizes = run.Sizes(
        large_files=0, large_size=0, bags=0, bags_small=n, cli_sample=0, reps=args.reps
    )
    targets = run.evaluate(results, sizes, cores)
    references = dict.fromkeys({r.group for r in results}, "bagit-python validate loop")
    stdout = Console(width=150)
    stdout.print(results_table(results, references))
    stdout.print(targets_table(targets))
    contended = sum(r.contended_samples for r in results)
    document = {
        "mode": "full",
        "bags": n,
        "repetitions": args.reps,
        "clean": contended == 0,
        "contended_runs": contended,
        "load_average": [load, os.getloadavg()[0]],
        "machine": run.describe_machine(),
        "results": [r.to_json() for r in results],
        "targets": [t.to_json() for t in targets],
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if contended:
        stdout.print(
            f"CONTENDED: {contended} runs had other work above {machine.CONTENDED_SHARE:.0%}"
        )
    stdout.print(f"results written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
