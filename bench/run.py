"""`make bench` / `make bench-quick`: archiver against bagit-python and the hashing limit.

Run from the repository root as ``python -m bench.run [--quick] [--keep]``. Corpora are
generated deterministically under ``bench/out/`` (reused while unchanged); each contender
runs in its own process (wall time, and peak RSS from ``os.wait4``), contenders of a group
alternate within every repetition, medians are reported. Results go to
``bench/results/bench-{full,quick}.json`` with a description of the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.collection_report import Corpus as ReportCorpus
from bench.collection_report import make_corpus as make_report_corpus
from bench.corpus import make_large_bag, make_small_sources
from bench.report import (
    Result,
    Sample,
    Target,
    growth,
    results_table,
    speedup,
    targets_table,
    throughput_ratio,
)

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(sys.executable).parent
ARCHIVER = [str(BIN / "archiver")] if (BIN / "archiver").exists() else [PY, "-m", "archiver"]
EPOCH = "1700000000"


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much work a run does."""

    large_files: int
    large_size: int
    bags: int
    bags_small: int
    cli_sample: int
    reps: int
    repair_size: int = 256 << 20
    report_bags: int = 100_000  # the HTML report of a ledger of this many bags ...
    report_runs: int = 30  # ... each audited in this many runs


FULL = Sizes(
    large_files=8, large_size=256 << 20, bags=10_000, bags_small=1_000, cli_sample=200, reps=3
)
QUICK = Sizes(
    large_files=8,
    large_size=24 << 20,
    bags=200,
    bags_small=50,
    cli_sample=10,
    reps=3,
    repair_size=24 << 20,
    report_bags=1_000,
)
REPAIR_GROUP = "5 repair"
REPAIR_REFERENCE = "cp + bagit-python validate"


@dataclass(frozen=True, slots=True)
class Contender:
    """A command to time, with an untimed step before each run (clean the output)."""

    group: str
    name: str
    command: tuple[str, ...]
    work: float
    unit: str
    before: Callable[[], None] = lambda: None
    scale: float = 1.0
    note: str = ""
    exit_ok: tuple[int, ...] = (0,)


def run_once(
    command: Sequence[str], env: dict[str, str], exit_ok: tuple[int, ...] = (0,)
) -> Sample:
    """Run a command to completion; its wall time and the peak RSS of it or any child."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in exit_ok:
        raise SystemExit(f"bench: {' '.join(command)} exited {proc.returncode}")
    return Sample(seconds=seconds, maxrss_kib=int(usage.ru_maxrss))


def run_group(contenders: Sequence[Contender], reps: int, console: Console) -> list[Result]:
    """Every contender ``reps`` times, alternating within each repetition."""
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    samples: dict[str, list[Sample]] = {c.name: [] for c in contenders}
    for rep in range(reps):
        for c in contenders:
            c.before()
            sample = run_once(c.command, env, c.exit_ok)
            samples[c.name].append(sample)
            console.log(f"{c.group} | {c.name} | rep {rep + 1}/{reps}: {sample.seconds:.3f} s")
    return [
        Result(
            group=c.group,
            name=c.name,
            work=c.work,
            unit=c.unit,
            samples=tuple(samples[c.name]),
            scale=c.scale,
            note=c.note,
            command=c.command,
        )
        for c in contenders
    ]


def warm(paths: Sequence[Path]) -> None:
    """Read every file once so the page cache is warm."""
    for path in paths:
        with open(path, "rb", buffering=0) as stream:
            while stream.read(1 << 22):
                pass


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _first_line(command: Sequence[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "not available"
    return out.splitlines()[0] if out else "not available"


def describe_machine() -> dict[str, object]:
    """CPU model, cores, memory, load, Python, OpenSSL and the versions of the contenders."""
    cpu = "unknown"
    memory_kib = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / (1 << 20), 1),
        "load_average_at_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "coreutils": _first_line(["sha256sum", "--version"]),
        "versions": {
            d: _version(d)
            for d in ("archiver", "bagit", "bagit-profile", "jsonschema", "lxml", "opf-fido")
        },
    }


def _rmtree(path: Path) -> Callable[[], None]:
    def clean() -> None:
        shutil.rmtree(path, ignore_errors=True)

    return clean


def _unlink(path: Path) -> Callable[[], None]:
    def clean() -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return clean


def hashing_contenders(files: Sequence[Path], cores: int) -> list[Contender]:
    """The limit: hashlib (1 core, all cores, one read for both) and coreutils."""
    total = float(sum(f.stat().st_size for f in files))
    names = [str(f) for f in files]
    base = (PY, "-m", "bench.contenders", "hash")
    out = []
    for algorithms in ("sha256", "sha512", "sha256,sha512"):
        label = algorithms.replace(",", "+") + (" one read" if "," in algorithms else "")
        for workers in (1, cores):
            out.append(
                Contender(
                    "1 limit",
                    f"hashlib {label}, {workers} core{'s' if workers > 1 else ''}",
                    (*base, "--algorithms", algorithms, "--workers", str(workers), *names),
                    total,
                    "bytes",
                )
            )
    out.append(Contender("1 limit", "sha256sum, 1 core", ("sha256sum", *names), total, "bytes"))
    out.append(Contender("1 limit", "sha512sum, 1 core", ("sha512sum", *names), total, "bytes"))
    return out


def large_audit_contenders(bag: Path, out: Path, cores: int, total: float) -> list[Contender]:
    """archiver audit vs bagit-python validate(processes=N) on the large bag."""
    ledger = out / "ledger-large.sqlite"
    return [
        Contender(
            "2 large bag",
            f"archiver audit --workers {cores}",
            (*ARCHIVER, "audit", str(bag.parent), "--workers", str(cores), "--ledger", str(ledger)),
            total,
            "bytes",
            before=_unlink(ledger),
        ),
        Contender(
            "2 large bag",
            f"bagit-python validate(processes={cores})",
            (PY, "-m", "bench.contenders", "validate-loop", str(bag), "--processes", str(cores)),
            total,
            "bytes",
        ),
    ]


def build_contenders(sources: Path, out: Path, count: int) -> list[Contender]:
    """archiver build (full DC + PREMIS) vs a loop of bagit.make_bag."""
    group = f"3 build {count:,}"
    ours, theirs = out / f"archiver-{count}", out / f"make-bag-{count}"
    return [
        Contender(
            group,
            "bagit-python make_bag loop",
            (PY, "-m", "bench.contenders", "make-bag-loop", str(sources), str(theirs)),
            count,
            "bags",
            before=_rmtree(theirs),
        ),
        Contender(
            group,
            "archiver build",
            (
                *ARCHIVER,
                "build",
                "--catalog",
                str(sources / "metadata.csv"),
                "--out",
                str(ours),
                "--config",
                str(REPO / "archive.toml"),
            ),
            count,
            "bags",
            before=_rmtree(ours),
        ),
    ]


def small_audit_contenders(
    bags: Path, out: Path, count: int, cores: int, sample: int
) -> list[Contender]:
    """archiver audit vs bagit-python validate loop vs bagit.py per bag, on our bags."""
    group = f"4 audit {count:,}"
    ledger = out / f"ledger-{count}.sqlite"
    contenders = [
        Contender(
            group,
            "bagit-python validate loop",
            (PY, "-m", "bench.contenders", "validate-loop", str(bags)),
            count,
            "bags",
        ),
        Contender(
            group,
            f"archiver audit --workers {cores}",
            (*ARCHIVER, "audit", str(bags), "--workers", str(cores), "--ledger", str(ledger)),
            count,
            "bags",
            before=_unlink(ledger),
        ),
    ]
    if sample:
        n = min(sample, count)
        contenders.append(
            Contender(
                group,
                "bagit.py --validate per bag",
                (PY, "-m", "bench.contenders", "cli-loop", str(bags), "--sample", str(n)),
                count,
                "bags",
                scale=count / n,
                note=f"{n} bags timed, scaled ×{count / n:g}",
            )
        )
    return contenders


def _corrupt(path: Path) -> Callable[[], None]:
    def corrupt() -> None:
        with open(path, "r+b") as fh:
            fh.seek(path.stat().st_size // 2)
            byte = fh.read(1)
            fh.seek(-1, os.SEEK_CUR)
            fh.write(bytes([byte[0] ^ 0xFF]))

    return corrupt


def repair_contenders(out: Path, size: int) -> list[Contender]:
    """Repair one corrupted file of ``size`` bytes from an OCFL replica: archiver repair vs
    copying it back with ``cp`` and re-validating with bagit-python (both one process).

    Untimed setup: a one-file bag, deposited to an OCFL root and audited (so the ledger
    holds its tag-manifest record); before each run a byte of its payload is flipped.
    """
    source = make_large_bag(out / "repair-source", 1, size)
    work = out / "repair-work"
    shutil.rmtree(work, ignore_errors=True)
    bag = work / "bags" / "bag"
    shutil.copytree(source, bag)
    root, ledger = work / "ocfl-root", work / "ledger.sqlite"
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    for command in (
        ("deposit", str(bag), "--to", f"ocfl://{root}", "--ledger", str(ledger)),
        ("audit", str(bag.parent), "--ledger", str(ledger), "--workers", "1"),
    ):
        subprocess.run([*ARCHIVER, *command], env=env, check=True, stdout=subprocess.DEVNULL)
    (payload,) = sorted((bag / "data").iterdir())
    (stored,) = root.glob(f"**/v1/content/data/{payload.name}")
    corrupt = _corrupt(payload)
    repair = (*ARCHIVER, "repair", str(bag), "--from", f"ocfl://{root}", "--ledger", str(ledger))
    copy = (PY, "-m", "bench.contenders", "cp-validate", str(stored), str(payload), str(bag))
    return [
        Contender(REPAIR_GROUP, REPAIR_REFERENCE, copy, float(size), "bytes", before=corrupt),
        Contender(
            REPAIR_GROUP,
            "archiver repair --from ocfl://",
            repair,
            float(size),
            "bytes",
            before=corrupt,
        ),
    ]


def report_contenders(corpus: ReportCorpus, html: Path) -> list[Contender]:
    """archiver report on a ledger of many bags × runs (it exits 1: some bags fail)."""
    command = (*ARCHIVER, "report", "--ledger", str(corpus.ledger), "--out", str(html))
    group = f"6 report {corpus.bags:,} bags × {corpus.runs} runs"
    return [
        Contender(
            group,
            "archiver report --no-ledger-verify",
            (*command, "--no-ledger-verify"),
            corpus.bags,
            "bags",
            exit_ok=(0, 1),
        ),
        Contender(group, "archiver report", command, corpus.bags, "bags", exit_ok=(0, 1)),
    ]


def report_targets(results: Sequence[Result], html: Path) -> list[Target]:
    """The issue-14 targets: the report in at most 10 s, its HTML under 20 MB.

    Shown with and without ``ledger verify``, which recomputes every outcome's hash.
    """
    by_name = {r.name: r for r in results if r.group.startswith("6 report")}
    quick, full = by_name["archiver report --no-ledger-verify"], by_name["archiver report"]
    return [
        Target(f"report time, s ({quick.group[9:]}, no verify)", quick.seconds, 10.0, False),
        Target(f"report time, s ({full.group[9:]}, with verify)", full.seconds, 10.0, False),
        Target("report HTML size, MB", html.stat().st_size / 1e6, 20.0, False),
    ]


def evaluate(results: Sequence[Result], sizes: Sizes, cores: int) -> list[Target]:
    """The issue-4 targets from the medians."""
    r = {(x.group, x.name): x for x in results}
    limit = r[("1 limit", f"hashlib sha256+sha512 one read, {cores} cores")]
    large_ours = r[("2 large bag", f"archiver audit --workers {cores}")]
    large_theirs = r[("2 large bag", f"bagit-python validate(processes={cores})")]
    big, small = sizes.bags, sizes.bags_small
    build_ours = r[(f"3 build {big:,}", "archiver build")]
    build_theirs = r[(f"3 build {big:,}", "bagit-python make_bag loop")]
    audit_ours = r[(f"4 audit {big:,}", f"archiver audit --workers {cores}")]
    audit_theirs = r[(f"4 audit {big:,}", "bagit-python validate loop")]
    worst_rss = max(results, key=lambda x: x.peak_rss_mib)
    targets = [
        Target(
            "large audit / all-core limit (sha256+sha512)",
            throughput_ratio(large_ours, limit),
            0.95,
            True,
        ),
        Target(
            "large audit speed / bagit-python validate(N)",
            speedup(large_theirs, large_ours),
            1.0,
            True,
        ),
        Target(
            f"{big:,}-bag audit speedup over validate loop",
            speedup(audit_theirs, audit_ours),
            4.0,
            True,
        ),
        Target(
            f"{big:,}-bag build time / make_bag loop",
            build_ours.seconds / build_theirs.seconds,
            1.5,
            False,
        ),
        Target(
            "peak RSS of any contender, MiB", worst_rss.peak_rss_mib, 100.0, False, worst_rss.name
        ),
    ]
    for label, group_small, group_big, name in (
        ("build", f"3 build {small:,}", f"3 build {big:,}", "archiver build"),
        ("audit", f"4 audit {small:,}", f"4 audit {big:,}", f"archiver audit --workers {cores}"),
    ):
        targets.append(
            Target(
                f"{label} time per bag, {big:,} vs {small:,} bags (1 = linear)",
                growth(r[(group_small, name)], r[(group_big, name)]),
                1.25,
                False,
            )
        )
    return targets


def run_draft(path: Path) -> dict[str, Any]:
    """The `describe --draft` evaluation (bench/draft.py) in its own process, so that its
    first-file time and peak RSS are its own; it prints its table and writes ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([PY, "-m", "bench.draft", "--json", str(path)], check=True, cwd=REPO)
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the corpora, run every contender, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small corpora, under a minute")
    parser.add_argument(
        "--keep", action="store_true", help="keep the large corpus and the built bags afterwards"
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions per contender")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="scratch dir")
    parser.add_argument("--results", type=Path, default=None, help="JSON results file")
    parser.add_argument(
        "--only",
        choices=("hashing", "bags", "draft", "repair", "report"),
        default=None,
        help="run only the hashing groups (limit, large bag), only the many-bags groups, "
        "only the describe --draft evaluation, only the repair group, or only the HTML "
        "report of a large ledger",
    )
    args = parser.parse_args(argv)
    if args.only == "draft":
        run_draft(REPO / "bench" / "results" / "draft.json")
        return 0
    sizes = QUICK if args.quick else FULL
    reps = args.reps or sizes.reps
    results_path = args.results or REPO / "bench" / "results" / (
        "bench-quick.json" if args.quick else "bench-full.json"
    )
    out: Path = args.out.resolve() / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    cores = os.cpu_count() or 1
    started = datetime.now(UTC)
    machine = describe_machine()
    load_at_start = os.getloadavg()[0]

    if args.only != "report":
        console.log("generating corpora (seeded; reused when unchanged)")
        large_bag = make_large_bag(
            out / "large", sizes.large_files, sizes.large_size, processes=cores
        )
        payload = sorted((large_bag / "data").iterdir())
        total = float(sum(p.stat().st_size for p in payload))
        sources = {
            n: make_small_sources(out / f"sources-{n}", n).parent
            for n in (sizes.bags_small, sizes.bags)
        }
        warm(payload)

    results: list[Result] = []
    if args.only in (None, "hashing"):
        results += run_group(hashing_contenders(payload, cores), reps, console)
        results += run_group(large_audit_contenders(large_bag, out, cores, total), reps, console)
    if args.only in (None, "repair"):
        results += run_group(repair_contenders(out, sizes.repair_size), reps, console)
    for n in (sizes.bags_small, sizes.bags) if args.only in (None, "bags") else ():
        results += run_group(build_contenders(sources[n], out, n), reps, console)
        sample = sizes.cli_sample if n == sizes.bags else 0
        results += run_group(
            small_audit_contenders(out / f"archiver-{n}", out, n, cores, sample), reps, console
        )
        shutil.rmtree(out / f"make-bag-{n}", ignore_errors=True)
    targets = evaluate(results, sizes, cores) if args.only is None else []
    if args.only in (None, "report"):
        console.log("generating the report's ledger (seeded; reused when unchanged)")
        report_corpus = make_report_corpus(
            out / f"report-{sizes.report_bags}-{sizes.report_runs}",
            sizes.report_bags,
            sizes.report_runs,
        )
        html = out / "report.html"
        group_results = run_group(report_contenders(report_corpus, html), reps, console)
        results += group_results
        targets += report_targets(group_results, html)

    references = {
        "1 limit": f"hashlib sha256+sha512 one read, {cores} cores",
        "2 large bag": f"bagit-python validate(processes={cores})",
        REPAIR_GROUP: REPAIR_REFERENCE,
    }
    for n in (sizes.bags_small, sizes.bags):
        references[f"3 build {n:,}"] = "bagit-python make_bag loop"
        references[f"4 audit {n:,}"] = "bagit-python validate loop"
    stdout = Console(width=max(150, Console().width))
    stdout.print(results_table(results, references))
    stdout.print(targets_table(targets))
    machine["load_average_at_end"] = list(os.getloadavg())
    stdout.print(
        f"{machine['cpu_model']}, {cores} cores, {machine['memory_gib']} GiB, Python "
        f"{machine['python']}, {machine['openssl']}; load average at start "
        f"{load_at_start:.2f}, at end {os.getloadavg()[0]:.2f} (other work on the machine "
        "adds noise); "
        f"{reps} repetitions, medians"
    )
    document = {
        "mode": "quick" if args.quick else "full",
        "started": started.isoformat(timespec="seconds"),
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "repetitions": reps,
        "sizes": {k: getattr(sizes, k) for k in Sizes.__dataclass_fields__},
        "machine": machine,
        "results": [r.to_json() for r in results],
        "targets": [t.to_json() for t in targets],
    }
    if args.only is None:
        document["draft"] = run_draft(results_path.parent / "draft.json")
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    stdout.print(f"results written to {results_path}")
    if not args.keep:  # the seeded sources are small and reused; the rest is not kept
        shutil.rmtree(out / "large", ignore_errors=True)
        shutil.rmtree(out / "repair-work", ignore_errors=True)
        for n in (sizes.bags_small, sizes.bags):
            shutil.rmtree(out / f"archiver-{n}", ignore_errors=True)
        for ledger in out.glob("ledger-*.sqlite*"):
            ledger.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
