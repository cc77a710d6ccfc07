"""The machine under the benchmark: other work on its CPUs, and the page cache of a corpus.

This machine is shared. A run is only worth reporting if nothing else used the cores
while it ran: ``cpu_busy_seconds`` reads ``/proc/stat`` before and after each contender
and the runner subtracts the contender's own CPU time (``wait4``'s rusage); what is left
is someone else's work, and a sample where it exceeds ``CONTENDED_SHARE`` of one core
over the sample's wall time is marked contended.

Cold-cache groups evict their corpus before every run with ``POSIX_FADV_DONTNEED`` on each
file (no root needed) and check with ``mincore`` that it worked.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from archiver.storage import pagecache

CONTENDED_SHARE = 0.25  # of one core, over the sample's wall time
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal (not idle, iowait)


def cpu_busy_seconds(stat: str | None = None) -> float:
    """CPU seconds spent busy on all cores since boot (``/proc/stat``; 0.0 if unreadable)."""
    try:
        text = stat if stat is not None else Path("/proc/stat").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("cpu "):
            ticks = [int(v) for v in line.split()[1:]]
            busy = sum(ticks[i] for i in _BUSY_FIELDS if i < len(ticks))
            return busy / os.sysconf("SC_CLK_TCK")
    return 0.0


def other_cpu(busy_before: float, busy_after: float, own_cpu: float) -> float:
    """CPU seconds used by anything but the contender during its run (never negative)."""
    return max(0.0, busy_after - busy_before - own_cpu)


def contended(other_seconds: float, wall_seconds: float) -> bool:
    """True when other work used more than ``CONTENDED_SHARE`` of a core during the run."""
    return other_seconds > CONTENDED_SHARE * max(wall_seconds, 0.05)


def files_under(roots: Iterable[Path]) -> list[Path]:
    """Every regular file under the roots (a root may be a file), sorted."""
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
            continue
        for directory, _, names in os.walk(root):
            found.extend(Path(directory, n) for n in names)
    return sorted(found)


def resident_fraction(files: Sequence[Path]) -> float:
    """The share of the files' pages in the page cache (1.0 for no bytes)."""
    pages = resident = 0
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            vector = pagecache.residency(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        if vector is None:
            raise SystemExit("bench: mincore is not available here; cannot check the cache")
        pages += len(vector)
        resident += sum(b & 1 for b in vector)
    return resident / pages if pages else 1.0


def evict(files: Sequence[Path], check: bool = True) -> float:
    """Drop the files from the page cache; returns what stayed resident (checked < 5 %)."""
    os.sync()  # dirty pages cannot be dropped
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            pagecache.evict(fd)
        finally:
            os.close(fd)
    left = resident_fraction(files) if check else 0.0
    if left > 0.05:
        raise SystemExit(f"bench: eviction left {left:.0%} of the corpus cached; not cold")
    return left


def warm(files: Sequence[Path]) -> None:
    """Read every file once so the page cache holds it."""
    for path in files:
        with open(path, "rb", buffering=0) as stream:
            while stream.read(1 << 22):
                pass
