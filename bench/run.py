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

from bench import machine
from bench.collection_report import Corpus as ReportCorpus
from bench.collection_report import make_corpus as make_report_corpus
from bench.corpus import make_large_bag, make_large_item, make_small_sources
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
    hygiene_files: int = 16  # the corpus audited in the page-cache hygiene check
    hygiene_size: int = 256 << 20
    neighbour_size: int = 1 << 30  # a warm file that is not audited
    one_bag_files: int = 8  # the fixed-cost check: one bag of these files
    one_bag_size: int = 64 << 20
    fixed_reps: int = 15  # start-up time repetitions
    repair_size: int = 256 << 20
    item_size: int = 1 << 30  # the build of one large item
    report_bags: int = 100_000  # the HTML report of a ledger of this many bags ...
    report_runs: int = 30  # ... each audited in this many runs


FULL = Sizes(
    large_files=8, large_size=256 << 20, bags=10_000, bags_small=2_000, cli_sample=200, reps=3
)
QUICK = Sizes(
    large_files=8,
    large_size=24 << 20,
    bags=200,
    bags_small=50,
    cli_sample=10,
    reps=3,
    hygiene_files=4,
    hygiene_size=16 << 20,
    neighbour_size=32 << 20,
    one_bag_files=4,
    one_bag_size=8 << 20,
    fixed_reps=5,
    repair_size=24 << 20,
    item_size=64 << 20,
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
    env: dict[str, str] | None = None  # default: this environment + SOURCE_DATE_EPOCH
    exit_ok: tuple[int, ...] = (0,)  # exit statuses that count as a finished run


def run_once(
    command: Sequence[str], env: dict[str, str], exit_ok: tuple[int, ...] = (0,)
) -> Sample:
    """Run a command to completion; its wall time, the peak RSS of it or any child, and
    the CPU time the rest of the machine used meanwhile."""
    busy = machine.cpu_busy_seconds()
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    other = machine.other_cpu(busy, machine.cpu_busy_seconds(), usage.ru_utime + usage.ru_stime)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in exit_ok:
        raise SystemExit(f"bench: {' '.join(command)} exited {proc.returncode}")
    return Sample(
        seconds=seconds,
        maxrss_kib=int(usage.ru_maxrss),
        other_cpu=other,
        contended=machine.contended(other, seconds),
    )


def run_group(contenders: Sequence[Contender], reps: int, console: Console) -> list[Result]:
    """Every contender ``reps`` times, alternating within each repetition."""
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    samples: dict[str, list[Sample]] = {c.name: [] for c in contenders}
    for rep in range(reps):
        for c in contenders:
            c.before()
            sample = run_once(c.command, c.env if c.env is not None else env, c.exit_ok)
            samples[c.name].append(sample)
            busy = " [red](contended)[/]" if sample.contended else ""
            console.log(
                f"{c.group} | {c.name} | rep {rep + 1}/{reps}: {sample.seconds:.3f} s{busy}"
            )
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


RECENTLY_DELETED_SECONDS = 36  # ext4 without a journal skips inodes freed this recently


def _set_aside(path: Path) -> Callable[[], None]:
    """Move the previous run's output into ``trash/`` beside it rather than deleting it.

    On ext4 without a journal (this machine's disk) the inode allocator skips every inode
    freed in the last 30-35 s and scans past them for each new file, so a build right
    after removing 10,000 bags spent most of its time in the kernel (2,000 bags: system
    time 3 -> 16 s). A rename frees nothing; the trash is emptied when no run is timed.
    """

    def clean() -> None:
        if path.exists():
            trash = path.parent / "trash"
            trash.mkdir(exist_ok=True)
            path.rename(trash / f"{path.name}-{time.monotonic_ns()}")

    return clean


def empty_trash(out: Path) -> None:
    """Delete what ``_set_aside`` kept, write the deletions to disk and wait until the
    freed inodes can be reused, before anything more is timed."""
    trash = out / "trash"
    if trash.exists():
        shutil.rmtree(trash)
        os.sync()
        time.sleep(RECENTLY_DELETED_SECONDS)


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
        *peer_contenders("2 large bag", bag, cores, total),
    ]


HASHDEEP = shutil.which("hashdeep")
BDBAG = str(BIN / "bdbag") if (BIN / "bdbag").exists() else shutil.which("bdbag")


def _in_bag(script: str, bag: Path) -> tuple[str, ...]:
    return ("sh", "-c", f'cd "$1" || exit 2; {script}', "sh", str(bag))


def peer_contenders(group: str, bag: Path, cores: int, total: float) -> list[Contender]:
    """The other tools a user could check one bag with (those installed): coreutils'
    ``sha256sum -c`` and ``sha512sum -c`` on the manifests (run side by side: two cores),
    ``bagit.py --validate``, bdbag's ``--validate full`` and hashdeep's audit mode (sha256
    only: hashdeep has no sha512; its known-hashes file is made untimed here)."""
    both = (
        "sha256sum -c --quiet manifest-sha256.txt & a=$!; "
        "sha512sum -c --quiet manifest-sha512.txt; b=$?; wait $a && [ $b -eq 0 ]"
    )
    bagit_py = BIN / "bagit.py"
    peers = [
        Contender(group, "sha256sum -c ‖ sha512sum -c", _in_bag(both, bag), total, "bytes"),
        Contender(
            group,
            f"bagit.py --validate --processes {cores}",
            (
                *((str(bagit_py),) if bagit_py.exists() else (PY, "-m", "bagit")),
                "--quiet",
                "--validate",
                "--processes",
                str(cores),
                str(bag),
            ),
            total,
            "bytes",
        ),
    ]
    if BDBAG:
        peers.append(
            Contender(
                group,
                "bdbag --validate full",
                (BDBAG, "--quiet", "--validate", "full", str(bag)),
                total,
                "bytes",
            )
        )
    if HASHDEEP:
        known = bag.resolve().parent / f"{bag.name}.hashdeep"
        if not known.exists():
            with open(known, "wb") as fh:
                subprocess.run(
                    (HASHDEEP, "-c", "sha256", "-r", "-l", "data"), cwd=bag, stdout=fh, check=True
                )
        audit = f'{HASHDEEP} -c sha256 -a -k "{known}" -r -l data > /dev/null'
        peers.append(
            Contender(
                group,
                f"hashdeep -a (sha256 only, {cores} threads)",
                _in_bag(audit, bag),
                total,
                "bytes",
                note="sha256 only",
            )
        )
    return peers


ITEM_GROUP = "10 build one item"
ITEM_FLOOR = "floor: cp + sync + sha256 ‖ sha512"
ITEM_PEER = "cp + bagit-python make_bag + sync"


def _set_aside_synced(path: Path) -> Callable[[], None]:
    """``_set_aside``, then the disk flushed, so no run pays for the last one's writes."""
    aside = _set_aside(path)

    def clean() -> None:
        aside()
        os.sync()

    return clean


def item_contenders(catalog: Path, out: Path) -> list[Contender]:
    """The build of one large item: archiver build vs its floor (cp, sync and the
    two-core hash of its bytes) vs cp + make_bag + sync; source warm, outputs flushed
    and set aside before every run."""
    (payload,) = (p for p in catalog.parent.iterdir() if p.suffix == ".bin")
    size = float(payload.stat().st_size)
    machine.warm([payload])
    floor, peer, ours = out / "item-floor", out / "item-make-bag", out / "item-archiver"
    contender = (PY, "-m", "bench.contenders")
    build = (*ARCHIVER, "build", "--catalog", str(catalog), "--out", str(ours))
    return [
        Contender(
            ITEM_GROUP,
            ITEM_FLOOR,
            (*contender, "floor-build", str(payload), str(floor)),
            size,
            "bytes",
            before=_set_aside_synced(floor),
        ),
        Contender(
            ITEM_GROUP,
            ITEM_PEER,
            (*contender, "cp-make-bag", str(payload), str(peer)),
            size,
            "bytes",
            before=_set_aside_synced(peer),
        ),
        Contender(
            ITEM_GROUP,
            "archiver build",
            (*build, "--config", str(REPO / "archive.toml")),
            size,
            "bytes",
            before=_set_aside_synced(ours),
        ),
    ]


def floor_bags_contender(group: str, bags: Path, count: int, cores: int) -> Contender:
    """The floor of an audit of many small bags: every file of every bag opened, read and
    hashed with sha256 and sha512 by ``cores`` processes, nothing else."""
    return Contender(
        group,
        f"floor: read + sha256 + sha512, {cores} processes",
        (PY, "-m", "bench.contenders", "floor-bags", str(bags), "--workers", str(cores)),
        count,
        "bags",
    )


def one_file_audit_contenders(bags: Path, out: Path, count: int, cores: int) -> list[Contender]:
    """Plain bags of one small file each (bagit-python's make_bag, no profile claimed):
    archiver audit vs its floor vs the bagit-python validate loop."""
    group = f"4 audit {count:,} one-file bags"
    return _audit_contenders(group, bags, out / f"ledger-one-file-{count}.sqlite", count, cores)


def _audit_contenders(
    group: str, bags: Path, ledger: Path, count: int, cores: int
) -> list[Contender]:
    """Of many small bags: the floor, the bagit-python validate loop and archiver audit."""
    return [
        floor_bags_contender(group, bags, count, cores),
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
            before=_set_aside(theirs),
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
            before=_set_aside(ours),
        ),
    ]


def small_audit_contenders(
    bags: Path, out: Path, count: int, cores: int, sample: int
) -> list[Contender]:
    """archiver audit vs bagit-python validate loop vs bagit.py per bag, on our bags."""
    group = f"4 audit {count:,}"
    contenders = _audit_contenders(group, bags, out / f"ledger-{count}.sqlite", count, cores)
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


def run_draft(path: Path) -> dict[str, Any]:
    """The `describe --draft` evaluation (bench/draft.py) in its own process, so that its
    first-file time and peak RSS are its own; it prints its table and writes ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([PY, "-m", "bench.draft", "--json", str(path)], check=True, cwd=REPO)
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return report


def _evict(files: Sequence[Path]) -> Callable[[], None]:
    def cold() -> None:
        machine.evict(files)

    return cold


def _cat_all(roots: Sequence[Path]) -> tuple[str, ...]:
    """The disk's own limit: every file of the roots read once, sequentially, by ``cat``."""
    script = 'find "$@" -type f -exec cat {} + > /dev/null'
    return ("sh", "-c", script, "sh", *(str(r) for r in roots))


def cold_large_contenders(
    bag: Path, files: Sequence[Path], out: Path, cores: int, total: float
) -> list[Contender]:
    """The large bag read from disk, page cache evicted before every run."""
    group = "5 cold large bag"
    ledger = out / "ledger-cold-large.sqlite"
    every = machine.files_under([bag])
    cold = _evict(every)

    def before() -> None:
        _unlink(ledger)()
        cold()

    return [
        Contender(group, "read limit: cat", _cat_all([bag]), total, "bytes", before=cold),
        Contender(
            group,
            f"archiver audit --workers {cores}",
            (*ARCHIVER, "audit", str(bag.parent), "--workers", str(cores), "--ledger", str(ledger)),
            total,
            "bytes",
            before=before,
        ),
        Contender(
            group,
            f"bagit-python validate(processes={cores})",
            (PY, "-m", "bench.contenders", "validate-loop", str(bag), "--processes", str(cores)),
            total,
            "bytes",
            before=cold,
        ),
    ]


def cold_small_contenders(bags: Path, out: Path, count: int, cores: int) -> list[Contender]:
    """The small bags read from disk, page cache evicted before every run."""
    group = f"6 cold audit {count:,}"
    ledger = out / f"ledger-cold-{count}.sqlite"
    cold = _evict(machine.files_under([bags]))

    def before() -> None:
        _unlink(ledger)()
        cold()

    return [
        Contender(group, "read limit: cat", _cat_all([bags]), count, "bags", before=cold),
        Contender(
            group,
            "bagit-python validate loop",
            (PY, "-m", "bench.contenders", "validate-loop", str(bags)),
            count,
            "bags",
            before=cold,
        ),
        Contender(
            group,
            f"archiver audit --workers {cores}",
            (*ARCHIVER, "audit", str(bags), "--workers", str(cores), "--ledger", str(ledger)),
            count,
            "bags",
            before=before,
        ),
    ]


def cache_hygiene(
    out: Path, sizes: Sizes, cores: int, console: Console
) -> dict[str, float | int | str]:
    """What stays in the page cache after auditing a cold corpus, with and without
    hygiene, and whether a warm file that is not audited stays warm."""
    bag = make_large_bag(out / "hygiene", sizes.hygiene_files, sizes.hygiene_size, cores)
    corpus = machine.files_under([bag])
    neighbour = out / "neighbour.bin"
    if not neighbour.exists() or neighbour.stat().st_size != sizes.neighbour_size:
        with open(neighbour, "wb") as fh:
            fh.truncate(0)
            block = os.urandom(1 << 20)
            for _ in range(sizes.neighbour_size >> 20):
                fh.write(block)
    ledger = out / "ledger-hygiene.sqlite"
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    measured: dict[str, float | int | str] = {
        "audited_bytes": sum(p.stat().st_size for p in corpus),
        "neighbour_bytes": sizes.neighbour_size,
    }
    for label, flag in (("hygiene", "--cache-hygiene"), ("no_hygiene", "--no-cache-hygiene")):
        machine.evict(corpus)
        machine.warm([neighbour])
        _unlink(ledger)()
        command = (*ARCHIVER, "audit", str(bag.parent), "--ledger", str(ledger), flag)
        sample = run_once(command, env)
        measured[f"{label}_seconds"] = round(sample.seconds, 3)
        measured[f"{label}_corpus_cached_after"] = round(machine.resident_fraction(corpus), 4)
        measured[f"{label}_neighbour_cached_after"] = round(
            machine.resident_fraction([neighbour]), 4
        )
        console.log(f"7 cache hygiene | {flag}: {measured}")
    machine.evict(corpus)
    machine.warm([neighbour])
    sample = run_once(
        (PY, "-m", "bench.contenders", "validate-loop", str(bag), "--processes", str(cores)), env
    )
    measured["bagit_python_seconds"] = round(sample.seconds, 3)
    measured["bagit_python_corpus_cached_after"] = round(machine.resident_fraction(corpus), 4)
    measured["note"] = (
        "fractions of pages resident in the page cache (mincore) right after each run; the "
        "corpus was evicted and the neighbour read just before each"
    )
    neighbour.unlink()
    return measured


def installed_wheel(out: Path) -> Path:
    """A venv with archiver installed from its wheel (bytecode compiled, as users have it);
    its dependencies come from this environment's site-packages through a ``.pth`` line.
    Returns the venv's ``bin`` directory."""
    wheels = out / "wheel"
    shutil.rmtree(wheels, ignore_errors=True)
    pip = (PY, "-m", "pip", "--quiet", "--disable-pip-version-check")
    subprocess.run((*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)), check=True)
    [wheel] = wheels.glob("archiver-*.whl")
    venv = out / "wheel-venv"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run((PY, "-m", "venv", "--without-pip", str(venv)), check=True)
    site = subprocess.run(
        (
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(  # before the .pth below, or pip would see our editable install
        (*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", str(wheel)),
        check=True,
        env=_clean_env(),
    )
    Path(site, "archiver-bench-deps.pth").write_text(sysconfig_purelib() + "\n", "utf-8")
    return venv / "bin"


def _clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH, so an installed archiver is the one imported."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"SOURCE_DATE_EPOCH": EPOCH}


def sysconfig_purelib() -> str:
    """This interpreter's site-packages (where archiver's dependencies are installed)."""
    import sysconfig

    return sysconfig.get_path("purelib")


def fixed_cost_contenders(venv_bin: Path) -> list[Contender]:
    """Start-up of the installed tool against the interpreter's own."""
    group = "8 start-up (installed wheel)"
    python = str(venv_bin / "python")
    return [
        Contender(group, "python -c pass", (python, "-c", "pass"), 1, "runs", env=_clean_env()),
        Contender(
            group,
            "archiver --version",
            (str(venv_bin / "archiver"), "--version"),
            1,
            "runs",
            env=_clean_env(),
        ),
    ]


def one_bag_contenders(bag: Path, out: Path, venv_bin: Path, cores: int) -> list[Contender]:
    """One bag of a few large files, warm: the whole command, start-up included."""
    group = "9 one bag (installed wheel)"
    total = float(sum(p.stat().st_size for p in (bag / "data").iterdir()))
    ledger = out / "ledger-one-bag.sqlite"
    return [
        Contender(
            group,
            f"bagit-python validate(processes={cores})",
            (PY, "-m", "bench.contenders", "validate-loop", str(bag), "--processes", str(cores)),
            total,
            "bytes",
        ),
        Contender(
            group,
            "archiver audit",
            (str(venv_bin / "archiver"), "audit", str(bag), "--ledger", str(ledger)),
            total,
            "bytes",
            before=_unlink(ledger),
            env=_clean_env(),
        ),
        Contender(
            group,
            "archiver audit (editable venv, byte-compiled)",
            (*ARCHIVER, "audit", str(bag), "--ledger", str(ledger)),
            total,
            "bytes",
            before=_unlink(ledger),
            env=_clean_env(),
        ),
        *peer_contenders(group, bag, cores, total),
    ]


def evaluate(results: Sequence[Result], sizes: Sizes, cores: int) -> list[Target]:
    """The performance targets from the medians (those whose groups ran)."""
    r = {(x.group, x.name): x for x in results}
    big, small = sizes.bags, sizes.bags_small
    audit_name = f"archiver audit --workers {cores}"
    targets: list[Target] = []

    def have(*keys: tuple[str, str]) -> bool:
        return all(k in r for k in keys)

    limit = ("1 limit", f"hashlib sha256+sha512 one read, {cores} cores")
    large_ours = ("2 large bag", audit_name)
    large_theirs = ("2 large bag", f"bagit-python validate(processes={cores})")
    if have(limit, large_ours, large_theirs):
        targets.append(
            Target(
                "large audit / all-core limit (sha256+sha512)",
                throughput_ratio(r[large_ours], r[limit]),
                0.9,
                True,
            )
        )
        targets.append(
            Target(
                "large audit speed / bagit-python validate(N)",
                speedup(r[large_theirs], r[large_ours]),
                1.0,
                True,
            )
        )
    for n, goal in ((big, 8.0), (small, 5.0)):
        ours, theirs = (
            (f"4 audit {n:,}", audit_name),
            (f"4 audit {n:,}", "bagit-python validate loop"),
        )
        if have(ours, theirs):
            targets.append(
                Target(
                    f"{n:,}-bag audit speedup over validate loop",
                    speedup(r[theirs], r[ours]),
                    goal,
                    True,
                )
            )
    build_ours, build_theirs = (
        (f"3 build {big:,}", "archiver build"),
        (
            f"3 build {big:,}",
            "bagit-python make_bag loop",
        ),
    )
    if have(build_ours, build_theirs):
        targets.append(
            Target(
                f"{big:,}-bag build time / make_bag loop",
                r[build_ours].seconds / r[build_theirs].seconds,
                1.2,
                False,
            )
        )
    for label, group_small, group_big, name in (
        ("build", f"3 build {small:,}", f"3 build {big:,}", "archiver build"),
        ("audit", f"4 audit {small:,}", f"4 audit {big:,}", audit_name),
    ):
        if have((group_small, name), (group_big, name)):
            targets.append(
                Target(
                    f"{label} time per bag, {big:,} vs {small:,} bags (1 = linear)",
                    growth(r[(group_small, name)], r[(group_big, name)]),
                    1.25,
                    False,
                )
            )
    cold = "5 cold large bag"
    if have((cold, "read limit: cat"), (cold, audit_name)):
        targets.append(
            Target(
                "cold large audit / cold sequential read (cat)",
                throughput_ratio(r[(cold, audit_name)], r[(cold, "read limit: cat")]),
                0.9,
                True,
            )
        )
    if have((cold, "read limit: cat"), (cold, audit_name), limit):
        slower = min(r[(cold, "read limit: cat")].rate, r[limit].rate)
        targets.append(
            Target(
                "cold large audit speed / min(disk, all-core hash limit)",
                r[(cold, audit_name)].rate / slower,
                0.9,
                True,
            )
        )
    cold_theirs = (cold, f"bagit-python validate(processes={cores})")
    if have((cold, audit_name), cold_theirs):
        targets.append(
            Target(
                "cold large audit time / bagit-python validate(N)",
                r[(cold, audit_name)].seconds / r[cold_theirs].seconds,
                0.8,
                False,
            )
        )
    item = (ITEM_GROUP, "archiver build")
    for reference, goal in ((ITEM_FLOOR, 1.5), (ITEM_PEER, 1.0)):
        if have(item, (ITEM_GROUP, reference)):
            targets.append(
                Target(
                    f"build of one {sizes.item_size >> 20} MiB item time / {reference}",
                    r[item].seconds / r[(ITEM_GROUP, reference)].seconds,
                    goal,
                    False,
                )
            )
    floor_name = f"floor: read + sha256 + sha512, {cores} processes"
    for group, label in (
        (f"4 audit {small:,} one-file bags", f"audit of {small:,} one-file bags"),
        (f"4 audit {small:,}", f"audit of {small:,} archiver-built bags"),
        (f"4 audit {big:,}", f"audit of {big:,} archiver-built bags"),
    ):
        if have((group, audit_name), (group, floor_name)):
            targets.append(
                Target(
                    f"{label}: speed / floor (read + hash, {cores} processes)",
                    speedup(r[(group, floor_name)], r[(group, audit_name)]),
                    0.5,
                    True,
                )
            )
    one_file = f"4 audit {small:,} one-file bags"
    if have((one_file, audit_name), (one_file, "bagit-python validate loop")):
        targets.append(
            Target(
                f"audit of {small:,} one-file bags: speedup over validate loop",
                speedup(r[(one_file, "bagit-python validate loop")], r[(one_file, audit_name)]),
                5.0,
                True,
            )
        )
    for group, theirs_name in (
        (cold, f"bagit-python validate(processes={cores})"),
        (f"6 cold audit {big:,}", "bagit-python validate loop"),
    ):
        if have((group, audit_name), (group, theirs_name)):
            targets.append(
                Target(
                    f"{group}: speed / bagit-python",
                    speedup(r[(group, theirs_name)], r[(group, audit_name)]),
                    1.0,
                    True,
                )
            )
    start = "8 start-up (installed wheel)"
    if have((start, "archiver --version"), (start, "python -c pass")):
        targets.append(
            Target(
                "archiver --version time / python -c pass",
                r[(start, "archiver --version")].seconds / r[(start, "python -c pass")].seconds,
                2.0,
                False,
            )
        )
    one = "9 one bag (installed wheel)"
    one_theirs = f"bagit-python validate(processes={cores})"
    if have((one, "archiver audit"), (one, one_theirs)):
        targets.append(
            Target(
                f"one bag {sizes.one_bag_files} × {sizes.one_bag_size >> 20} MiB: audit time / "
                "bagit-python",
                r[(one, "archiver audit")].seconds / r[(one, one_theirs)].seconds,
                0.95,
                False,
            )
        )
    if have((one, "archiver audit"), limit):
        targets.append(
            Target(
                f"one bag {sizes.one_bag_files} × {sizes.one_bag_size >> 20} MiB, whole command: "
                "speed / all-core hash limit",
                throughput_ratio(r[(one, "archiver audit")], r[limit]),
                0.9,
                True,
            )
        )
    if results:
        worst = max(results, key=lambda x: x.peak_rss_mib)
        targets.append(
            Target("peak RSS of any contender, MiB", worst.peak_rss_mib, 100.0, False, worst.name)
        )
    return targets


GROUPS = (
    "hashing",
    "item",
    "bags",
    "cold",
    "disk",
    "startup",
    "repair",
    "draft",
    "report",
    "dask",
    "ledger",
)
# parts that are benchmarks of their own, run as `python -m MODULE [--quick] --results F`
MODULES = {"dask": "bench.dask_audit", "ledger": "bench.ledger_scale"}


def run_module(module: str, quick: bool, path: Path) -> dict[str, Any]:
    """Run a benchmark module in its own process (it prints its tables); its JSON results."""
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [PY, "-m", module, "--results", str(path)] + (["--quick"] if quick else [])
    subprocess.run(command, check=True, cwd=REPO)
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
        choices=GROUPS,
        action="append",
        default=None,
        help="run only these parts (repeatable): hashing (limit, large bag), bags (build and "
        "audit of many small bags), disk (cold cache, page-cache hygiene), cold (the cold "
        "large bag alone, without the 10,000-bag builds disk needs), startup (installed "
        "wheel: --version, one-bag audit), item (the build of one large item), repair (one "
        "file from an OCFL replica), draft (the "
        "describe --draft evaluation), report (the HTML report of a large ledger), dask (the "
        "audit through a Dask LocalCluster vs the local pool), ledger (ledger bytes and "
        "times at 10k and 100k bags)",
    )
    args = parser.parse_args(argv)
    parts = set(args.only or GROUPS)
    if parts == {"draft"}:
        run_draft(REPO / "bench" / "results" / "draft.json")
        return 0
    sizes = QUICK if args.quick else FULL
    reps = args.reps or sizes.reps
    # a partial run (--only) never overwrites the results of a whole one
    only = "" if parts == set(GROUPS) else "-only-" + "-".join(sorted(parts))
    results_path = args.results or REPO / "bench" / "results" / (
        f"bench-{'quick' if args.quick else 'full'}{only}.json"
    )
    out: Path = args.out.resolve() / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    cores = os.cpu_count() or 1
    started = datetime.now(UTC)
    described = describe_machine()
    load_at_start = os.getloadavg()[0]

    empty_trash(out)  # an interrupted run's
    console.log("generating corpora (seeded; reused when unchanged)")
    counts = (sizes.bags_small, sizes.bags)
    if parts & {"hashing", "disk", "cold"}:
        large_bag = make_large_bag(out / "large", sizes.large_files, sizes.large_size, cores)
        payload = sorted((large_bag / "data").iterdir())
        total = float(sum(p.stat().st_size for p in payload))
        machine.warm(payload)
    if parts & {"bags", "disk"}:
        sources = {n: make_small_sources(out / f"sources-{n}", n).parent for n in counts}

    results: list[Result] = []
    measured: dict[str, object] = {}
    if "hashing" in parts:
        results += run_group(hashing_contenders(payload, cores), reps, console)
        results += run_group(large_audit_contenders(large_bag, out, cores, total), reps, console)
    if "item" in parts:
        catalog = make_large_item(out / "item-source", sizes.item_size)
        results += run_group(item_contenders(catalog, out), reps, console)
        for made in ("item-floor", "item-make-bag", "item-archiver"):
            _set_aside(out / made)()
        empty_trash(out)
    if "repair" in parts:
        results += run_group(repair_contenders(out, sizes.repair_size), reps, console)
    if parts & {"disk", "cold"}:
        results += run_group(
            cold_large_contenders(large_bag, payload, out, cores, total), reps, console
        )
    for n in counts if parts & {"bags", "disk"} else ():
        results += run_group(build_contenders(sources[n], out, n), reps, console)
        if "bags" in parts:
            sample = sizes.cli_sample if n == sizes.bags else 0
            results += run_group(
                small_audit_contenders(out / f"archiver-{n}", out, n, cores, sample), reps, console
            )
        if "disk" in parts and n == sizes.bags:
            results += run_group(
                cold_small_contenders(out / f"archiver-{n}", out, n, cores), reps, console
            )
        if "bags" in parts and n == sizes.bags_small:
            plain = out / f"one-file-{n}"
            _set_aside(plain)()
            make_plain = ("make-bag-loop", str(sources[n]), str(plain), "--no-profile")
            subprocess.run((PY, "-m", "bench.contenders", *make_plain), check=True, cwd=REPO)
            results += run_group(one_file_audit_contenders(plain, out, n, cores), reps, console)
            _set_aside(plain)()
        _set_aside(out / f"make-bag-{n}")()
    empty_trash(out)  # the builds' outputs, before the cold and hygiene runs
    if "disk" in parts:
        measured["cache_hygiene"] = cache_hygiene(out, sizes, cores, console)
    if "startup" in parts:
        venv_bin = installed_wheel(out)
        one_bag = make_large_bag(out / "one-bag", sizes.one_bag_files, sizes.one_bag_size, cores)
        machine.warm(machine.files_under([one_bag]))
        results += run_group(fixed_cost_contenders(venv_bin), sizes.fixed_reps, console)
        results += run_group(one_bag_contenders(one_bag, out, venv_bin, cores), reps, console)
    targets = evaluate(results, sizes, cores)
    if "report" in parts:
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
        "5 cold large bag": "read limit: cat",
        "8 start-up (installed wheel)": "python -c pass",
        "9 one bag (installed wheel)": f"bagit-python validate(processes={cores})",
        REPAIR_GROUP: REPAIR_REFERENCE,
    }
    for n in counts:
        references[f"3 build {n:,}"] = "bagit-python make_bag loop"
        references[f"4 audit {n:,}"] = "bagit-python validate loop"
        references[f"6 cold audit {n:,}"] = "read limit: cat"
        references[f"4 audit {n:,} one-file bags"] = "bagit-python validate loop"
    references[ITEM_GROUP] = ITEM_FLOOR
    stdout = Console(width=max(150, Console().width))
    stdout.print(results_table(results, references))
    stdout.print(targets_table(targets))
    if "cache_hygiene" in measured:
        stdout.print("page-cache hygiene (fraction of pages cached after each run):")
        stdout.print(measured["cache_hygiene"])
    contended = sum(r.contended_samples for r in results)
    described["load_average_at_end"] = list(os.getloadavg())
    stdout.print(
        f"{described['cpu_model']}, {cores} cores, {described['memory_gib']} GiB, Python "
        f"{described['python']}, {described['openssl']}; load average at start "
        f"{load_at_start:.2f}, at end {os.getloadavg()[0]:.2f}; "
        f"{reps} repetitions, medians"
    )
    if contended:
        stdout.print(
            f"[bold red]CONTENDED: {contended} of {sum(len(r.samples) for r in results)} runs "
            f"had other work on the machine using more than {machine.CONTENDED_SHARE:.0%} of a "
            "core; these figures are not a clean measurement.[/]"
        )
    document = {
        "mode": "quick" if args.quick else "full",
        "started": started.isoformat(timespec="seconds"),
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "repetitions": reps,
        "parts": sorted(parts),
        "clean": contended == 0,
        "contended_runs": contended,
        "sizes": {k: getattr(sizes, k) for k in Sizes.__dataclass_fields__},
        "machine": described,
        "results": [r.to_json() for r in results],
        "measured": measured,
        "targets": [t.to_json() for t in targets],
    }
    if "draft" in parts:
        document["draft"] = run_draft(results_path.parent / "draft.json")
    for part, module in MODULES.items():
        if part in parts:
            name = f"{part}-{'quick' if args.quick else 'full'}.json"
            document[part] = run_module(module, args.quick, results_path.parent / name)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    stdout.print(f"results written to {results_path}")
    if not args.keep:  # the seeded sources are small and reused; the rest is not kept
        for scratch in (
            "large",
            "hygiene",
            "one-bag",
            "wheel",
            "wheel-venv",
            "repair-work",
            "item-source",
        ):
            shutil.rmtree(out / scratch, ignore_errors=True)
        for n in counts:
            shutil.rmtree(out / f"archiver-{n}", ignore_errors=True)
        for ledger in out.glob("ledger-*.sqlite*"):
            ledger.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
