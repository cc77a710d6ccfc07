"""`archiver describe --draft` against its evaluation set: per-field scores, time, memory.

Run from the repository root as ``python -m bench.draft [--json FILE] [--show]``. The
evaluation set is ``tests/data/draft_eval/`` (statements written for the tests, with
their expected rows in ``expected.json``; ``split`` is ``tune``, ``dev``, ``heldout``
or ``heldout4``, see the README) and the five seeds of ``sources/`` with
``sources/metadata.csv``. ``held-out`` is the two held-out parts together. Scoring is that of
:mod:`archiver.draft.scoring`. Time: the first file includes loading the
detector, morphology and gazetteer (and the imports); further files are timed one by
one (median and max). The first file's CPU time (all threads) is reported beside its
wall time: on a shared machine the wall time grows with the load. Peak RSS is the
process's (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO / "tests" / "data" / "draft_eval"
SEEDS_DIR = REPO / "sources"
TARGET_MEAN = 0.9
TARGET_PLACE_PRECISION = 0.6
TARGET_RSS_MIB = 400
TARGET_FIRST_S = 2.0
TARGET_NEXT_S = 0.2


@dataclass
class Case:
    """One statement with its expected row."""

    name: str
    split: str
    text: str
    expected: dict[str, list[str]]


@dataclass
class SplitScore:
    """Scores of one part of the evaluation set."""

    split: str
    per_field: dict[str, float] = field(default_factory=dict)
    place_precision: float = 0.0
    mean: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)


def eval_cases() -> list[Case]:
    """The written evaluation set."""
    expected: dict[str, Any] = json.loads((EVAL_DIR / "expected.json").read_text("utf-8"))
    return [
        Case(
            name,
            str(row["split"]),
            (EVAL_DIR / name).read_text(encoding="utf-8"),
            {k: list(v) for k, v in row.items() if k != "split"},
        )
        for name, row in sorted(expected.items())
    ]


def seed_cases() -> list[Case]:
    """The five seeds with their catalog rows."""
    from archiver.metadata.catalog import load_catalog

    catalog = load_catalog(SEEDS_DIR / "metadata.csv")
    return [
        Case(
            row.filename,
            "seeds",
            (SEEDS_DIR / row.filename).read_text(encoding="utf-8"),
            {name: list(values) for name, values in row.values},
        )
        for row in catalog.rows
    ]


def score_split(
    split: str, cases: Sequence[Case], drafts: Mapping[str, Mapping[str, list[str]]], gazetteer: Any
) -> SplitScore:
    """Per-field means and place precision over ``cases``."""
    from archiver.draft.scoring import SCORED_FIELDS, score_row

    result = SplitScore(split)
    totals: dict[str, list[float]] = {term: [] for term in SCORED_FIELDS}
    matched = drafted = 0
    for case in cases:
        scores = score_row(drafts[case.name], case.expected, gazetteer)
        row: dict[str, Any] = {"name": case.name}
        for term, (value, counts) in scores.items():
            totals[term].append(value)
            row[term] = round(value, 3)
            if term == "dcterms.spatial" and counts is not None:
                matched += counts.matched
                drafted += counts.drafted
        result.rows.append(row)
    result.per_field = {t: statistics.fmean(v) if v else 0.0 for t, v in totals.items()}
    result.mean = statistics.fmean(result.per_field.values())
    result.place_precision = matched / drafted if drafted else 1.0
    return result


SPLITS: tuple[str, ...] = ("tune", "dev", "heldout", "heldout4", "seeds")
HELDOUT = ("heldout", "heldout4")


def run(show: Sequence[str] = ()) -> dict[str, Any]:
    """Draft every statement, score the splits, measure time and memory."""
    cases = eval_cases() + seed_cases()
    start, start_cpu = time.perf_counter(), time.process_time()
    first_cpu = 0.0
    cpu_times: list[float] = []
    from archiver.draft.engine import Drafter

    drafter = Drafter()
    drafts: dict[str, dict[str, list[str]]] = {}
    times: list[float] = []
    for case in cases:
        began, began_cpu = time.perf_counter(), time.process_time()
        draft = drafter.draft(case.text)
        times.append(time.perf_counter() - began)
        cpu_times.append(time.process_time() - began_cpu)
        if len(times) == 1:
            first_cpu = time.process_time() - start_cpu
        drafts[case.name] = draft.draft_json()
        if case.split in show:
            print(f"== {case.name} [{case.split}]")
            for term, values in draft.draft_json().items():
                want = case.expected.get(term, [])
                mark = "  " if values == want else "!!"
                print(f"  {mark} {term}: {values}" + ("" if values == want else f"  want {want}"))
    first = time.perf_counter() - start - sum(times[1:])
    splits = {}
    for split in SPLITS:
        part = [c for c in cases if c.split == split]
        splits[split] = score_split(split, part, drafts, drafter.gazetteer)
    every = [c for c in cases if c.split in HELDOUT]
    splits["held-out"] = score_split("held-out", every, drafts, drafter.gazetteer)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "statements": {s: len(splits[s].rows) for s in splits},
        "scores": {
            s: {
                "per_field": {k: round(v, 3) for k, v in sc.per_field.items()},
                "mean": round(sc.mean, 3),
                "place_precision": round(sc.place_precision, 3),
                "rows": sc.rows,
            }
            for s, sc in splits.items()
        },
        "first_file_s": round(first, 3),
        "first_file_cpu_s": round(first_cpu, 3),
        "next_file_median_s": round(statistics.median(times[1:]), 4),
        "next_file_max_s": round(max(times[1:]), 4),
        "next_file_max_cpu_s": round(max(cpu_times[1:]), 4),
        "peak_rss_mib": round(rss_mib, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "targets": {
            "heldout_mean": TARGET_MEAN,
            "place_precision": TARGET_PLACE_PRECISION,
            "peak_rss_mib": TARGET_RSS_MIB,
            "first_file_s": TARGET_FIRST_S,
            "next_file_s": TARGET_NEXT_S,
        },
    }


def _print(report: Mapping[str, Any]) -> None:
    from archiver.draft.scoring import SCORED_FIELDS

    header = f"{'part':<8} {'n':>3} " + " ".join(f"{t:>15}" for t in SCORED_FIELDS)
    print(header + f" {'mean':>6} {'place prec':>10}")
    for split, scores in report["scores"].items():
        cells = " ".join(f"{scores['per_field'][t]:>15.3f}" for t in SCORED_FIELDS)
        count = report["statements"][split]
        mean, precision = scores["mean"], scores["place_precision"]
        print(f"{split:<8} {count:>3} {cells} {mean:>6.3f} {precision:>10.3f}")
    print(
        f"first file {report['first_file_s']} s (CPU {report['first_file_cpu_s']} s; target "
        f"{TARGET_FIRST_S}), further files median "
        f"{report['next_file_median_s']} s, max {report['next_file_max_s']} s (CPU "
        f"{report['next_file_max_cpu_s']} s; target {TARGET_NEXT_S}), "
        f"peak RSS {report['peak_rss_mib']} MiB (target {TARGET_RSS_MIB}); "
        f"load average {report['load_average'][0]} on {os.cpu_count()} cores"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation and print (and optionally save) the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.draft", description=__doc__)
    parser.add_argument("--json", type=Path, help="write the report to this file")
    parser.add_argument(
        "--show",
        action="append",
        choices=SPLITS,
        default=[],
        help="print the drafts of this part against their rows (repeatable; tune only "
        "while tuning)",
    )
    args = parser.parse_args(argv)
    report = run(show=args.show)
    _print(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
