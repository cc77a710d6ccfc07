"""Message digests: every algorithm fed from one read of the data.

``ALGORITHMS`` maps BagIt algorithm names to hashlib constructors; ``PRESERVATION_ALGORITHMS``
are the ones archiver records. ``digest_stream``
reads a binary stream once, in large blocks, into one reused page-aligned buffer, and
updates every requested hash from the same bytes.
"""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Protocol

BLOCK_SIZE = 1 << 20  # 1 MiB; measured in benchmarks, see README "Performance"

# The algorithms archiver itself computes and records: the manifests and tag manifests of
# the bags it builds, the tag-manifest records of the ledger, serialized bags' sidecars,
# the fixity of PREMIS objects. The one list; a bag from elsewhere may use any of
# ``ALGORITHMS``.
PRESERVATION_ALGORITHMS: tuple[str, ...] = ("sha256", "sha512")


class _Hash(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...
    def hexdigest(self) -> str: ...


ALGORITHMS: Mapping[str, Callable[[], _Hash]] = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
    "sha224": hashlib.sha224,
    "sha384": hashlib.sha384,
    "sha3-256": hashlib.sha3_256,
    "sha3-512": hashlib.sha3_512,
    "blake2b": hashlib.blake2b,
}

# Digest length in hex characters, used to check manifest syntax.
HEX_LENGTHS: Mapping[str, int] = {
    "md5": 32,
    "sha1": 40,
    "sha256": 64,
    "sha512": 128,
    "sha224": 56,
    "sha384": 96,
    "sha3-256": 64,
    "sha3-512": 128,
    "blake2b": 128,
}


def new_buffer(size: int = BLOCK_SIZE) -> mmap.mmap:
    """A reusable, page-aligned anonymous buffer for ``digest_stream``.

    The mapping is private (copy-on-write) where the platform has MAP_PRIVATE, so a buffer
    inherited across fork is never shared: a child's reads cannot overwrite its parent's.
    """
    private = getattr(mmap, "MAP_PRIVATE", None)
    if private is None:  # no fork on such platforms (Windows)
        return mmap.mmap(-1, size)
    return mmap.mmap(-1, size, flags=private)


def digest_stream(
    stream: IO[bytes],
    algorithms: Iterable[str],
    buffer: mmap.mmap | None = None,
    sinks: Sequence[Callable[[memoryview], object]] = (),
) -> tuple[dict[str, str], int]:
    """Hash a binary stream with every algorithm in one pass.

    Returns ``({algorithm: hexdigest}, bytes_read)``. Pass a buffer from ``new_buffer``
    to reuse it across calls. Each sink (a file's ``write``, a text profiler) is also fed
    every block, so copying and characterizing cost no extra read.
    """
    hashes = {name: ALGORITHMS[name]() for name in algorithms}
    buf = buffer if buffer is not None else new_buffer()
    view = memoryview(buf)
    total = 0
    updaters = [h.update for h in hashes.values()] + list(sinks)
    try:
        while True:
            n = stream.readinto(view)  # type: ignore[attr-defined]
            if not n:
                break
            total += n
            chunk = view[:n] if n < len(view) else view
            for update in updaters:
                update(chunk)
    finally:
        view.release()
    return {name: h.hexdigest() for name, h in hashes.items()}, total


def digest_bytes(data: bytes, algorithms: Iterable[str]) -> dict[str, str]:
    """Hash bytes already in memory (tag files we just rendered) with every algorithm."""
    result = {}
    for name in algorithms:
        h = ALGORITHMS[name]()
        h.update(data)
        result[name] = h.hexdigest()
    return result
