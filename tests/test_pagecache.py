"""Tests for archiver.storage.pagecache: residency, eviction, hashing that leaves the cache."""

from __future__ import annotations

import hashlib
import mmap
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.bag.validator import HashJob, hash_jobs
from archiver.storage import pagecache

PAGE = mmap.PAGESIZE
SIZE = 4 << 20  # above MIN_SIZE


def _cold_file(path: Path, size: int = SIZE) -> Path:
    path.write_bytes(os.urandom(size))
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # dirty pages cannot be dropped
        pagecache.evict(fd)
    finally:
        os.close(fd)
    return path


def _fraction(path: Path) -> float:
    fd = os.open(path, os.O_RDONLY)
    try:
        value = pagecache.resident_fraction(fd, path.stat().st_size)
    finally:
        os.close(fd)
    assert value is not None
    return value


def _warm(path: Path, offset: int = 0, length: int | None = None) -> None:
    with open(path, "rb", buffering=0) as fh:
        os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_RANDOM)  # no read-ahead beyond
        fh.seek(offset)
        fh.read(length if length is not None else -1)


@pytest.fixture
def cold(tmp_path: Path) -> Path:
    path = _cold_file(tmp_path / "cold.bin")
    if _fraction(path) > 0.5:
        pytest.skip("this file system keeps pages resident after POSIX_FADV_DONTNEED (tmpfs?)")
    return path


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        (b"", []),
        (b"\x01\x01", []),
        (b"\x00\x00", [(0, 2 * PAGE)]),
        (b"\x01\x00\x00\x01\x00", [(PAGE, 2 * PAGE), (4 * PAGE, PAGE)]),
        (b"\x00\x81\x00", [(0, PAGE), (2 * PAGE, PAGE)]),  # only bit 0 means resident
    ],
)
def test_uncached_ranges(vector: bytes, expected: list[tuple[int, int]]) -> None:
    assert pagecache.uncached_ranges(vector) == expected


def test_residency_reads_nothing_and_sees_reads(cold: Path) -> None:
    assert _fraction(cold) < 0.1
    assert _fraction(cold) < 0.1  # asking did not bring the pages in
    _warm(cold)
    assert _fraction(cold) > 0.9


def test_residency_of_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert _fraction(empty) == 1.0


def test_a_cold_file_is_dropped_after_hashing(cold: Path) -> None:
    with open(cold, "rb", buffering=0) as stream:
        digests, size = pagecache.hygienic_digest(stream, ["sha256", "sha512"])
    data = cold.read_bytes()  # warms it again, after the check below is taken
    assert size == SIZE
    assert digests == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
    }


def test_hashing_leaves_cold_pages_cold_and_warm_pages_warm(cold: Path) -> None:
    half = SIZE // 2
    _warm(cold, 0, half)  # someone else uses the first half
    assert _fraction(cold) == pytest.approx(0.5, abs=0.05)
    with open(cold, "rb", buffering=0) as stream:
        pagecache.hygienic_digest(stream, ["sha256"])
    fd = os.open(cold, os.O_RDONLY)
    try:
        vector = pagecache.residency(fd, SIZE)
    finally:
        os.close(fd)
    assert vector is not None
    pages = len(vector)
    first = sum(b & 1 for b in vector[: pages // 2]) / (pages // 2)
    second = sum(b & 1 for b in vector[pages // 2 :]) / (pages - pages // 2)
    assert first > 0.9  # what was cached before stays cached
    assert second < 0.1  # what the hash brought in is gone


def test_without_hygiene_the_pages_stay(cold: Path) -> None:
    job = HashJob("bag", str(cold.parent), "data/x", cold.name, SIZE, ("sha256",))
    [result] = hash_jobs([job], hygiene=False)
    assert result.size == SIZE
    assert _fraction(cold) > 0.9


def test_hash_jobs_with_hygiene_drops_them(cold: Path) -> None:
    job = HashJob("bag", str(cold.parent), "data/x", cold.name, SIZE, ("sha256",))
    [result] = hash_jobs([job], hygiene=True)
    assert result.digests["sha256"] == hashlib.sha256(cold.read_bytes()).hexdigest()
    # read_bytes above warmed it; hash again cold to look at the state the audit leaves
    _cold_file(cold)
    hash_jobs([job], hygiene=True)
    assert _fraction(cold) < 0.1


def test_small_files_are_read_plainly(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.write_bytes(b"x" * (pagecache.MIN_SIZE - 1))
    _warm(small)
    with open(small, "rb", buffering=0) as stream:
        digests, size = pagecache.hygienic_digest(stream, ["sha256"])
    assert size == pagecache.MIN_SIZE - 1
    assert _fraction(small) > 0.9


def test_many_separate_runs_fall_back_to_a_whole_file_decision() -> None:
    mostly_cold = b"\x00\x01" * (pagecache.MAX_RANGES + 1) + b"\x00" * 100
    assert pagecache._drop_plan(mostly_cold) == [(0, 0)]
    mostly_warm = b"\x01\x00" * (pagecache.MAX_RANGES + 1) + b"\x01" * 100
    assert pagecache._drop_plan(mostly_warm) == []


def _runs_page_by_page(vector: bytes) -> list[tuple[int, int]]:
    """The uncached runs found the plain way, one page at a time."""
    page, ranges, start = pagecache._PAGE, [], -1
    for index, flag in enumerate([*vector, 1]):
        if not flag & 1 and start < 0:
            start = index
        elif flag & 1 and start >= 0:
            ranges.append((start * page, (index - start) * page))
            start = -1
    return ranges


@given(st.binary(max_size=64))
def test_uncached_ranges_read_only_the_resident_bit(vector: bytes) -> None:
    """mincore sets bit 0 for a resident page; the other bits are reserved."""
    assert pagecache.uncached_ranges(vector) == _runs_page_by_page(vector)
