"""Smoke tests of the benchmark harness: corpora, contenders, arithmetic, tables.

No timing is asserted here: performance is measured by ``make bench`` only.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from archiver.metadata.catalog import load_catalog
from archiver.metadata.dublin_core import record_from_row
from bench import contenders, corpus, machine, report, run
from bench.report import Result, Sample, Target


def _result(group: str, name: str, seconds: list[float], work: float = 100.0, **kw: Any) -> Result:
    samples = tuple(Sample(s, 10 * 1024) for s in seconds)
    return Result(group=group, name=name, work=work, unit="bags", samples=samples, **kw)


# -- corpora -------------------------------------------------------------------------------


def test_small_sources_are_deterministic_and_described(tmp_path: Path) -> None:
    first = corpus.make_small_sources(tmp_path / "a", 12, size=1024)
    second = corpus.make_small_sources(tmp_path / "b", 12, size=1024)
    names = sorted(p.name for p in first.parent.iterdir())
    assert names == sorted(p.name for p in second.parent.iterdir())
    for name in names:
        assert (first.parent / name).read_bytes() == (second.parent / name).read_bytes()
    texts = sorted(first.parent.glob("*.txt"))
    assert len(texts) == 12
    assert all(1024 <= p.stat().st_size < 1024 + 200 for p in texts)
    catalog = load_catalog(first)
    for text in texts:
        row = catalog.row_for(text.name)
        assert row is not None and not row.problems
        assert record_from_row(row).identifier == text.stem


def test_small_sources_are_reused_when_unchanged_and_remade_otherwise(tmp_path: Path) -> None:
    catalog = corpus.make_small_sources(tmp_path / "s", 3, size=256)
    marker = catalog.parent / "s000000.txt"
    marker.write_bytes(b"changed")
    corpus.make_small_sources(tmp_path / "s", 3, size=256)
    assert marker.read_bytes() == b"changed"  # same spec: reused as is
    corpus.make_small_sources(tmp_path / "s", 4, size=256)
    assert marker.read_bytes() != b"changed"  # new spec: generated anew
    assert len(list((tmp_path / "s").glob("*.txt"))) == 4


def test_seed_changes_the_corpus(tmp_path: Path) -> None:
    a = corpus.make_small_sources(tmp_path / "a", 1, size=512, seed=1)
    b = corpus.make_small_sources(tmp_path / "b", 1, size=512, seed=2)
    assert (a.parent / "s000000.txt").read_bytes() != (b.parent / "s000000.txt").read_bytes()


def test_large_files_have_exact_sizes_and_distinct_deterministic_content(tmp_path: Path) -> None:
    size = (1 << 20) + 123
    first = corpus.make_large_files(tmp_path / "a", 2, size)
    second = corpus.make_large_files(tmp_path / "b", 2, size)
    assert [p.stat().st_size for p in first] == [size, size]
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in first]
    assert digests == [hashlib.sha256(p.read_bytes()).hexdigest() for p in second]
    assert digests[0] != digests[1]


def test_large_bag_is_a_valid_bagit_bag_and_reused(tmp_path: Path) -> None:
    bag = corpus.make_large_bag(tmp_path / "large", 2, 4096)
    assert sorted(p.name for p in (bag / "data").iterdir()) == ["large-00.bin", "large-01.bin"]
    assert contenders.validate_loop(bag, processes=1) == 1
    stamp_time = (tmp_path / "large" / corpus.STAMP).stat().st_mtime_ns
    assert corpus.make_large_bag(tmp_path / "large", 2, 4096) == bag
    assert (tmp_path / "large" / corpus.STAMP).stat().st_mtime_ns == stamp_time


# -- contenders ----------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_hash_files_reads_every_byte(tmp_path: Path, workers: int) -> None:
    files = corpus.make_large_files(tmp_path, 3, 3000)
    total = contenders.hash_files([str(f) for f in files], ["sha256", "sha512"], workers)
    assert total == 9000


def test_make_bag_loop_then_validate_loop(tmp_path: Path) -> None:
    catalog = corpus.make_small_sources(tmp_path / "src", 3, size=512)
    assert contenders.make_bag_loop(catalog.parent, tmp_path / "bags") == 3
    info = (tmp_path / "bags" / "s000001" / "bag-info.txt").read_text()
    assert "External-Identifier: s000001" in info
    assert (tmp_path / "bags" / "s000001" / "manifest-sha512.txt").is_file()
    assert contenders.validate_loop(tmp_path / "bags", processes=1) == 3


def test_validate_loop_fails_on_a_damaged_bag(tmp_path: Path) -> None:
    import bagit

    catalog = corpus.make_small_sources(tmp_path / "src", 1, size=512)
    contenders.make_bag_loop(catalog.parent, tmp_path / "bags")
    (tmp_path / "bags" / "s000000" / "data" / "s000000.txt").write_bytes(b"damaged")
    with pytest.raises(bagit.BagValidationError):
        contenders.validate_loop(tmp_path / "bags", processes=1)


# -- arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3.0], 3.0), ([5.0, 1.0, 3.0], 3.0), ([4.0, 1.0, 2.0, 3.0], 2.5), ([2.0, 2.0], 2.0)],
)
def test_median(values: list[float], expected: float) -> None:
    assert report.median(values) == expected


def test_median_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        report.median([])


def test_result_median_rate_scale_and_rss() -> None:
    r = _result("g", "sampled", [1.0, 3.0, 2.0], work=200.0, scale=10.0)
    assert r.seconds == 20.0
    assert r.rate == 10.0
    assert r.rate_unit == "bags/s"
    assert r.peak_rss_mib == 10.0
    b = Result("g", "bytes", 4e6, "bytes", (Sample(2.0, 2048),))
    assert b.rate == 2.0 and b.rate_unit == "MB/s"
    assert b.to_json()["median_seconds"] == 2.0


@pytest.mark.parametrize(
    ("baseline", "contender", "speedup"),
    [([4.0], [1.0], 4.0), ([1.0], [2.0], 0.5), ([3.0, 9.0, 6.0], [2.0, 3.0, 1.0], 3.0)],
)
def test_speedup(baseline: list[float], contender: list[float], speedup: float) -> None:
    assert report.speedup(_result("g", "a", baseline), _result("g", "b", contender)) == speedup


def test_throughput_ratio_and_growth() -> None:
    limit = Result("l", "limit", 1e9, "bytes", (Sample(1.0, 1),))
    ours = Result("l", "ours", 1e9, "bytes", (Sample(1.25, 1),))
    assert report.throughput_ratio(ours, limit) == pytest.approx(0.8)
    small = _result("g", "x", [1.0], work=1000.0)
    linear = _result("g", "x", [10.0], work=10000.0)
    worse = _result("g", "x", [20.0], work=10000.0)
    assert report.growth(small, linear) == pytest.approx(1.0)
    assert report.growth(small, worse) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("measured", "goal", "higher_is_better", "met"),
    [
        (0.96, 0.95, True, True),
        (0.95, 0.95, True, True),
        (0.94, 0.95, True, False),
        (1.4, 1.5, False, True),
        (1.6, 1.5, False, False),
        (99.0, 100.0, False, True),
        (101.0, 100.0, False, False),
    ],
)
def test_target_met(measured: float, goal: float, higher_is_better: bool, met: bool) -> None:
    target = Target("t", measured, goal, higher_is_better)
    assert target.met is met
    assert target.to_json()["met"] is met


def _render(table: object) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=200).print(table)
    return buffer.getvalue()


def test_tables_show_every_row_ratio_and_verdict() -> None:
    results = [_result("g", "reference", [2.0]), _result("g", "fast one", [0.5])]
    text = _render(report.results_table(results, {"g": "reference"}))
    assert "fast one" in text and "4.00×" in text and "1.00×" in text
    text = _render(
        report.targets_table([Target("speed", 4.0, 4.0, True), Target("rss", 120, 100, False)])
    )
    assert "yes" in text and "NO" in text and "≥ 4" in text and "≤ 100" in text


# -- runner --------------------------------------------------------------------------------


def test_run_once_measures_a_child_and_rejects_failures() -> None:
    sample = run.run_once([sys.executable, "-c", "x = bytearray(30 << 20)"], {})
    assert sample.seconds > 0
    assert sample.maxrss_kib >= 30 << 10
    with pytest.raises(SystemExit, match="exited 3"):
        run.run_once([sys.executable, "-c", "raise SystemExit(3)"], {})


def test_describe_machine_names_what_the_issue_asks() -> None:
    machine = run.describe_machine()
    for key in ("cpu_model", "cores", "memory_gib", "python", "openssl", "versions"):
        assert machine[key]
    assert "bagit" in machine["versions"]


def _synthetic(sizes: run.Sizes, cores: int, audit_speedup: float) -> list[Result]:
    times = {
        ("1 limit", f"hashlib sha256+sha512 one read, {cores} cores"): 2.0,
        ("2 large bag", f"archiver audit --workers {cores}"): 2.0,
        ("2 large bag", f"bagit-python validate(processes={cores})"): 3.0,
    }
    for n in (sizes.bags_small, sizes.bags):
        times[(f"3 build {n:,}", "archiver build")] = n / 1000
        times[(f"3 build {n:,}", "bagit-python make_bag loop")] = n / 1000
        times[(f"4 audit {n:,}", f"archiver audit --workers {cores}")] = n / 1000 / audit_speedup
        times[(f"4 audit {n:,}", "bagit-python validate loop")] = n / 1000
    results = []
    for (group, name), seconds in times.items():
        bags = group[0] in "34"
        work = float(int(group.split()[-1].replace(",", ""))) if bags else 1e9
        unit = "bags" if bags else "bytes"
        results.append(Result(group, name, work, unit, (Sample(seconds, 1024),)))
    return results


@pytest.mark.parametrize("sizes", [run.QUICK, run.FULL])
@pytest.mark.parametrize(("speedup", "met"), [(8.0, True), (7.9, False)])
def test_evaluate_gives_every_target(sizes: run.Sizes, speedup: float, met: bool) -> None:
    targets = run.evaluate(_synthetic(sizes, 2, speedup), sizes, 2)
    assert len(targets) == 8
    verdicts = {t.name: t.met for t in targets}
    audit = f"{sizes.bags:,}-bag audit speedup over validate loop"
    assert verdicts.pop(audit) is met  # 8x at the large size, 6x at the small one
    assert all(verdicts.values()), verdicts


# -- issue 12: the ledger at scale and Dask ------------------------------------------------


def test_ledger_scale_measures_a_small_ledger(tmp_path: Path) -> None:
    from bench import ledger_scale

    results = tmp_path / "ledger.json"
    assert ledger_scale.main(["--size", "300x4", "--size", "600x3", "--results", str(results)]) == 0
    document = json.loads(results.read_text())
    small, large = document["measures"]
    assert (small["bags"], small["runs"], large["bags"]) == (300, 4, 600)
    assert small["first_run_bytes_per_bag"] > 0
    # later runs store only what changed: far less than a full run
    assert small["bytes_per_bag_per_later_run"] < small["first_run_bytes_per_bag"] / 10
    assert set(small["verify_seconds_after_runs"]) == {"1", "4"}
    year = document["year_projection"]
    assert year["bags"] == 1_000_000 and year["gib"] < year["format_1_gib"]


def test_ledger_projection_fits_fixed_and_per_bag_growth() -> None:
    from bench.ledger_scale import Measure, projection

    def m(bags: int, later: float) -> Measure:
        return Measure(bags, 10, 0.001, 400 * bags, later, 1.0, {10: 1.0}, {10: 0.1}, 0)

    year = projection([m(1_000, 5_000.0), m(10_000, 14_000.0)], bags=100_000, runs=11)
    # per run: 4,000 fixed + 1 byte per bag
    assert year["later_run_bytes"] == pytest.approx(104_000)
    assert year["bytes"] == pytest.approx(400 * 100_000 + 10 * 104_000)


def test_dask_contenders_are_the_pool_and_a_local_cluster(tmp_path: Path) -> None:
    from bench import dask_audit

    pool, cluster = dask_audit.contenders(tmp_path / "bags", tmp_path, "small bags 10", 10, "bags")
    assert "--scheduler" not in pool.command
    assert cluster.command[: len(pool.command)] == pool.command
    assert cluster.command[-2:] == ("--scheduler", "local")


def test_evaluate_cold_cache_and_start_up_targets() -> None:
    sizes, audit = run.QUICK, "archiver audit --workers 2"

    def result(group: str, name: str, seconds: float, unit: str = "bytes") -> Result:
        return Result(group, name, 1e9 if unit == "bytes" else 200.0, unit, (Sample(seconds, 1),))

    results = [
        result("5 cold large bag", "read limit: cat", 1.0),
        result("5 cold large bag", audit, 1.05),  # 0.95 of the read limit
        result("5 cold large bag", "bagit-python validate(processes=2)", 1.2),
        result("6 cold audit 200", audit, 1.0, "bags"),
        result("6 cold audit 200", "bagit-python validate loop", 0.9, "bags"),  # slower: missed
        result("8 start-up (installed wheel)", "python -c pass", 0.02, "runs"),
        result("8 start-up (installed wheel)", "archiver --version", 0.05, "runs"),  # 2.5x: missed
        result("9 one bag (installed wheel)", "bagit-python validate(processes=2)", 1.0),
        result("9 one bag (installed wheel)", "archiver audit", 0.9),
    ]
    verdicts = {t.name: t.met for t in run.evaluate(results, sizes, 2)}
    assert verdicts == {
        "cold large audit / cold sequential read (cat)": True,
        "5 cold large bag: speed / bagit-python": True,
        "cold large audit time / bagit-python validate(N)": False,  # 0.875 > 0.8
        "6 cold audit 200: speed / bagit-python": False,
        "archiver --version time / python -c pass": False,
        "one bag 4 × 8 MiB: audit time / bagit-python": True,
        "peak RSS of any contender, MiB": True,
    }


def test_evaluate_item_build_and_floor_targets() -> None:
    sizes, audit = run.QUICK, "archiver audit --workers 2"
    floor = "floor: read + sha256 + sha512, 2 processes"

    def result(group: str, name: str, seconds: float, unit: str = "bytes") -> Result:
        return Result(group, name, 1e9 if unit == "bytes" else 50.0, unit, (Sample(seconds, 1),))

    results = [
        result(run.ITEM_GROUP, run.ITEM_FLOOR, 4.0),
        result(run.ITEM_GROUP, run.ITEM_PEER, 5.0),
        result(run.ITEM_GROUP, "archiver build", 5.5),  # 1.375 x floor, 1.1 x make_bag
        result("4 audit 50 one-file bags", floor, 1.0, "bags"),
        result("4 audit 50 one-file bags", "bagit-python validate loop", 9.0, "bags"),
        result("4 audit 50 one-file bags", audit, 1.8, "bags"),  # 0.56 of the floor, 5x
        result("4 audit 50", floor, 1.0, "bags"),
        result("4 audit 50", audit, 2.5, "bags"),  # 0.4 of the floor
    ]
    verdicts = {t.name: t.met for t in run.evaluate(results, sizes, 2)}
    assert verdicts == {
        f"build of one 64 MiB item time / {run.ITEM_FLOOR}": True,
        f"build of one 64 MiB item time / {run.ITEM_PEER}": False,
        "audit of 50 one-file bags: speed / floor (read + hash, 2 processes)": True,
        "audit of 50 archiver-built bags: speed / floor (read + hash, 2 processes)": False,
        "audit of 50 one-file bags: speedup over validate loop": True,
        "peak RSS of any contender, MiB": True,
    }


def test_floor_contenders_read_every_file(tmp_path: Path) -> None:
    catalog = corpus.make_small_sources(tmp_path / "src", 3, size=512)
    contenders.make_bag_loop(catalog.parent, tmp_path / "bags")
    every = sum(p.stat().st_size for p in (tmp_path / "bags").rglob("*") if p.is_file())
    assert contenders.floor_bags(tmp_path / "bags", workers=1) == every
    item = corpus.make_large_item(tmp_path / "item", 1 << 16)
    (payload,) = item.parent.glob("*.bin")
    contenders.cp_make_bag(payload, tmp_path / "made")
    assert contenders.validate_loop(tmp_path / "made", processes=1) == 1
    contenders.floor_build(payload, tmp_path / "floor")
    assert (tmp_path / "floor" / payload.name).read_bytes() == payload.read_bytes()


def test_contention_is_measured_from_proc_stat() -> None:
    stat = "cpu  100 0 50 900 40 0 10 5 0 0\ncpu0 50 0 25 450 20 0 5 2 0 0\n"
    ticks = os.sysconf("SC_CLK_TCK")
    # user + nice + system + irq + softirq + steal; idle and iowait are not busy
    assert machine.cpu_busy_seconds(stat) == pytest.approx(165 / ticks)
    assert machine.cpu_busy_seconds("intr 1 2 3\n") == 0.0
    assert machine.other_cpu(10.0, 12.0, 1.5) == pytest.approx(0.5)
    assert machine.other_cpu(10.0, 11.0, 1.5) == 0.0  # never negative
    assert machine.contended(0.3, 1.0) and not machine.contended(0.2, 1.0)


def test_a_sample_records_other_work_and_a_result_counts_contended_runs() -> None:
    sample = run.run_once([sys.executable, "-c", "pass"], {})
    assert sample.other_cpu >= 0.0
    busy = Result("g", "n", 1.0, "runs", (Sample(1.0, 1, 0.9, True), Sample(1.0, 1, 0.0, False)))
    assert busy.contended_samples == 1
    document = busy.to_json()
    assert document["contended_samples"] == 1
    assert document["samples"][0]["contended"] is True


def test_eviction_is_checked_with_mincore(tmp_path: Path) -> None:
    files = [tmp_path / "a", tmp_path / "b"]
    for f in files:
        f.write_bytes(os.urandom(1 << 20))
    machine.warm(files)
    assert machine.resident_fraction(files) > 0.9
    assert machine.evict(files) <= 0.05
    assert machine.files_under([tmp_path]) == files
    assert machine.resident_fraction([]) == 1.0


def test_cat_reads_every_file_of_the_roots(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_bytes(b"x")
    command = run._cat_all([tmp_path])
    assert run.run_once(command, dict(os.environ)).seconds > 0


def test_repair_contenders_both_heal_the_corrupted_file(tmp_path: Path) -> None:
    import bagit

    contenders = run.repair_contenders(tmp_path, 64 << 10)
    assert [c.name for c in contenders] == [run.REPAIR_REFERENCE, "archiver repair --from ocfl://"]
    bag = tmp_path / "repair-work" / "bags" / "bag"
    for contender in contenders:
        contender.before()
        with pytest.raises(bagit.BagValidationError):
            bagit.Bag(str(bag)).validate()
        run.run_once(contender.command, {})
        bagit.Bag(str(bag)).validate()


# -- format identification (bench/format_id.py) ----------------------------------------------


def test_format_id_corpus_and_fido_measurement(tmp_path: Path) -> None:
    from bench import format_id

    corpus = format_id.make_corpus(tmp_path)
    names = [path.name for path in corpus]
    assert names[-3:] == ["sample.pdf", "sample.docx", "sample.odt"]
    assert len(names) == len(list((Path(__file__).parent.parent / "sources").glob("*.txt"))) + 3
    measured = format_id.measure("fido", corpus, reps=1)
    assert measured["results"]["sample.pdf"] == {"puid": "fmt/18", "basis": "signature"}
    assert set(measured["results"]) == set(names)
    assert measured["version"].startswith("FIDO 1.") and measured["threads_after_load"] >= 1
    report = {
        "python": "3.x",
        "machine": "test",
        "files": names,
        "bare_interpreter_peak_rss_kib": 16384,
        "not_installed": ["siegfried"],
        "tools": {"fido": {**measured, "fork_check": {"fork": {"outcome": "ok", "warnings": []}}}},
    }
    text = format_id.render(report)
    assert "sample.docx" in text and "x-fmt/263" in text
    assert "not installed: siegfried" in text
    assert "fido loaded, then a fork worker: ok" in text


def test_outputs_are_set_aside_not_deleted_between_timed_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Freed inodes slow the next build on this disk: the previous output is renamed
    into trash/ (nothing freed) and deleted only when nothing is being timed."""
    output = tmp_path / "archiver-10"
    (output / "bag").mkdir(parents=True)
    inode = (output / "bag").stat().st_ino
    run._set_aside(output)()
    run._set_aside(output)()  # nothing there now: nothing to do
    assert not output.exists()
    [kept] = (tmp_path / "trash").iterdir()
    assert (kept / "bag").stat().st_ino == inode
    slept: list[float] = []
    monkeypatch.setattr(run.time, "sleep", slept.append)
    monkeypatch.setattr(run.os, "sync", lambda: slept.append(0))
    run.empty_trash(tmp_path)
    assert not (tmp_path / "trash").exists()
    assert slept == [0, run.RECENTLY_DELETED_SECONDS]  # synced, then waited
    run.empty_trash(tmp_path)  # no trash: no wait
    assert slept == [0, run.RECENTLY_DELETED_SECONDS]


def test_peers_check_a_good_bag_and_fail_a_damaged_one(tmp_path: Path) -> None:
    bag = corpus.make_large_bag(tmp_path / "large", 2, 1 << 16)
    peers = run.peer_contenders("2 large bag", bag, 2, 1.0)
    names = [p.name for p in peers]
    assert names[:2] == ["sha256sum -c ‖ sha512sum -c", "bagit.py --validate --processes 2"]
    for peer in peers:
        assert subprocess.run(peer.command, capture_output=True).returncode == 0, peer.name
    payload = sorted((bag / "data").iterdir())[0]
    payload.write_bytes(b"changed")
    for peer in peers:
        assert subprocess.run(peer.command, capture_output=True).returncode != 0, peer.name
