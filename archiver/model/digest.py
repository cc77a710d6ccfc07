"""Message digests: every algorithm fed from one read of the data.

``ALGORITHMS`` maps BagIt algorithm names to hashlib constructors; ``PRESERVATION_ALGORITHMS``
are the ones archiver records. ``digest_stream``
reads a binary stream once, in large blocks, into one reused page-aligned buffer, and
updates every requested hash from the same bytes.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, Protocol

BLOCK_SIZE = 1 << 20  # 1 MiB; measured in benchmarks, see README "Performance"
# ``digest_stream(threads=True)``: files smaller than this are hashed in the calling
# thread (starting the threads would cost more than they save); the blocks in flight.
THREADED_MIN_SIZE = 4 << 20
THREADED_DEPTH = 3

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
    *,
    threads: bool = False,
) -> tuple[dict[str, str], int]:
    """Hash a binary stream with every algorithm in one pass.

    Returns ``({algorithm: hexdigest}, bytes_read)``. Pass a buffer from ``new_buffer``
    to reuse it across calls. Each sink (a file's ``write``, a text profiler) is also fed
    every block, in order, so copying and characterizing cost no extra read.

    With ``threads`` (one large file on an otherwise idle machine: the build of one
    item), a file of at least ``THREADED_MIN_SIZE`` bytes is read in the calling thread
    while every algorithm and every sink consumes the blocks already read in a thread of
    its own (hashlib and file writes release the GIL): sha256 and sha512 run on two cores,
    overlapped with the copy and with the read of the next block. ``buffer`` is then not
    used (the pipeline has its own ``THREADED_DEPTH`` blocks). The digests, the sinks'
    input and the exceptions are those of the sequential pass.
    """
    hashes = {name: ALGORITHMS[name]() for name in algorithms}
    if threads and (hashes or sinks) and _size_at_least(stream, THREADED_MIN_SIZE):
        total = _pipeline(stream, [h.update for h in hashes.values()] + list(sinks))
        return {name: h.hexdigest() for name, h in hashes.items()}, total
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


def _size_at_least(stream: IO[bytes], size: int) -> bool:
    """True when ``stream`` is a file of at least ``size`` bytes (False if it cannot tell)."""
    try:
        return os.fstat(stream.fileno()).st_size >= size
    except (AttributeError, OSError, ValueError):
        return False


def _pipeline(stream: IO[bytes], consumers: Sequence[Callable[[memoryview], object]]) -> int:
    """Read ``stream`` into a ring of ``THREADED_DEPTH`` buffers in this thread; each
    consumer takes every block, in order, in a thread of its own; a buffer is read into
    again only when every consumer is done with it. Returns the bytes read; re-raises the
    first exception of the read or of a consumer (the others stop at the next block)."""
    buffers = [new_buffer() for _ in range(THREADED_DEPTH)]
    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(THREADED_DEPTH):
        free.put(index)
    users = [0] * THREADED_DEPTH
    lock = threading.Lock()
    errors: list[BaseException] = []
    inboxes: list[queue.SimpleQueue[tuple[memoryview, int] | None]] = [
        queue.SimpleQueue() for _ in consumers
    ]

    def done(index: int) -> None:
        with lock:
            users[index] -= 1
            last = users[index] == 0
        if last:
            free.put(index)

    def consume(update: Callable[[memoryview], object], inbox: queue.SimpleQueue[Any]) -> None:
        while (item := inbox.get()) is not None:
            chunk, index = item
            try:
                if not errors:
                    update(chunk)
            except BaseException as exc:  # re-raised in the reading thread
                errors.append(exc)
            finally:
                chunk.release()
                done(index)

    workers = [
        threading.Thread(target=consume, args=(update, inbox), daemon=True)
        for update, inbox in zip(consumers, inboxes, strict=True)
    ]
    for worker in workers:
        worker.start()
    views = [memoryview(b) for b in buffers]
    total = 0
    try:
        while not errors:
            index = free.get()
            n = stream.readinto(views[index])  # type: ignore[attr-defined]
            if not n:
                free.put(index)
                break
            total += n
            with lock:
                users[index] = len(consumers)
            for inbox in inboxes:
                inbox.put((views[index][:n], index))
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for worker in workers:
            worker.join()
        for view in views:
            view.release()
        for b in buffers:
            b.close()
    if errors:
        raise errors[0]
    return total


class ReadBackError(OSError):
    """The bytes read back from a file just written are not the bytes that were hashed."""


class ReadBack:
    """A sink that writes each block to ``out`` and reads it back (from the page cache,
    with ``os.preadv`` into a buffer of its own), hashing what it read with ``algorithm``.

    It gives a copy the value of an independent re-read -- the digest of the bytes the
    file holds, not of the buffers they were written from -- without a second pass over
    the file afterwards: with ``digest_stream(threads=True)`` it runs in a thread of its
    own, overlapped with the hashing of the source. ``check(digests)`` then raises
    ``ReadBackError`` unless the read-back digest equals the source's. It reads through a
    descriptor of its own (``out`` may be write-only), closed on leaving ``with``.
    """

    def __init__(self, out: IO[bytes], algorithm: str = "sha256") -> None:
        out.flush()
        self.algorithm = algorithm
        self._out = out
        self._fd = os.open(out.name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._offset = out.tell()
        self._hash = ALGORITHMS[algorithm]()
        self._buffer = new_buffer()

    def __enter__(self) -> ReadBack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the descriptor it reads back with (``with ReadBack(out) as copy:``)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __call__(self, block: memoryview) -> None:
        """Write the next block, then read it back and hash what was read."""
        self._out.write(block)
        self._out.flush()
        with memoryview(self._buffer) as view:
            done = 0
            while done < len(block):
                want = min(len(view), len(block) - done)
                with view[:want] as part:
                    got = os.preadv(self._fd, [part], self._offset + done)
                    if not got:
                        raise ReadBackError(f"{self._out.name}: shorter than what was written")
                    with part[:got] as read:
                        self._hash.update(read)
                done += got
        self._offset += len(block)

    @property
    def hexdigest(self) -> str:
        """The digest of everything read back so far."""
        return self._hash.hexdigest()

    def check(self, digests: Mapping[str, str]) -> None:
        """Raise ``ReadBackError`` unless what was read back hashes as the source did."""
        expected = digests.get(self.algorithm)
        if expected != self.hexdigest:
            raise ReadBackError(
                f"{self._out.name}: the bytes read back ({self.algorithm} {self.hexdigest}) "
                f"are not the bytes copied ({expected})"
            )


def digest_bytes(data: bytes, algorithms: Iterable[str]) -> dict[str, str]:
    """Hash bytes already in memory (tag files we just rendered) with every algorithm."""
    result = {}
    for name in algorithms:
        h = ALGORITHMS[name]()
        h.update(data)
        result[name] = h.hexdigest()
    return result
