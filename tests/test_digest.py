"""archiver.model.digest: every algorithm from one read, large reused buffer, sinks."""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

import pytest

from archiver.model.digest import ALGORITHMS, HEX_LENGTHS, digest_bytes, digest_stream, new_buffer


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def readinto(self, buffer: object) -> int:  # type: ignore[override]
        self.reads += 1
        return super().readinto(buffer)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 1, 4096, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3_000_001])
def test_digests_match_hashlib(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    digests, total = digest_stream(io.BytesIO(data), ["sha256", "sha512", "md5"])
    assert total == size
    assert digests == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }


def test_one_read_per_block_feeds_every_algorithm_and_sink() -> None:
    data = b"a" * (3 << 20)
    stream = CountingStream(data)
    seen = bytearray()
    digests, _ = digest_stream(stream, ["sha256", "sha512"], new_buffer(), sinks=(seen.extend,))
    assert stream.reads == 4  # three full 1 MiB blocks and the final empty read
    assert bytes(seen) == data
    assert digests["sha512"] == hashlib.sha512(data).hexdigest()


def test_buffer_is_reused_across_calls() -> None:
    buffer = new_buffer(4096)
    first, _ = digest_stream(io.BytesIO(b"first" * 2000), ["sha256"], buffer)
    second, _ = digest_stream(io.BytesIO(b"second"), ["sha256"], buffer)
    assert second["sha256"] == hashlib.sha256(b"second").hexdigest()
    assert first["sha256"] == hashlib.sha256(b"first" * 2000).hexdigest()


def test_hex_lengths_match_the_algorithms() -> None:
    assert set(HEX_LENGTHS) == set(ALGORITHMS)
    for name, constructor in ALGORITHMS.items():
        assert len(constructor().hexdigest()) == HEX_LENGTHS[name]


def test_digest_bytes() -> None:
    assert digest_bytes(b"abc", ["sha256"]) == {"sha256": hashlib.sha256(b"abc").hexdigest()}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_buffer_inherited_across_fork_is_private() -> None:
    buffer = new_buffer(4096)
    buffer[:6] = b"parent"
    with warnings.catch_warnings():
        # Python 3.12+ warns when forking while other threads run (an earlier test's
        # deposit leaves fsspec's event-loop thread); this child only touches the buffer.
        warnings.filterwarnings(
            "ignore", r".* is multi-threaded, use of fork\(\)", DeprecationWarning
        )
        pid = os.fork()
    if pid == 0:  # child: write its copy of the buffer, then leave without cleanup
        buffer[:6] = b"child!"
        buffer.flush()
        os._exit(0 if buffer[:6] == b"child!" else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert buffer[:6] == b"parent"


@pytest.mark.parametrize("size", [0, 5, (4 << 20) - 1, 4 << 20, (9 << 20) + 12345])
def test_threaded_pass_gives_the_sequential_digests_and_sink_bytes(
    tmp_path: Path, size: int
) -> None:
    """``threads=True``: the same digests, every sink fed the same bytes in order."""
    data = os.urandom(size)
    path = tmp_path / "payload"
    path.write_bytes(data)
    copies: list[bytearray] = [bytearray(), bytearray()]
    with open(path, "rb", buffering=0) as stream:
        digests, total = digest_stream(
            stream,
            ["sha256", "sha512"],
            sinks=(copies[0].extend, copies[1].extend),
            threads=True,
        )
    assert total == size
    assert digests == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
    }
    assert copies[0] == data and copies[1] == data


def test_threaded_pass_raises_a_sinks_error(tmp_path: Path) -> None:
    path = tmp_path / "payload"
    path.write_bytes(bytes(6 << 20))
    seen: list[int] = []

    def full_disk(block: memoryview) -> None:
        seen.append(len(block))
        if len(seen) == 2:
            raise OSError(28, "No space left on device")

    with open(path, "rb", buffering=0) as stream, pytest.raises(OSError, match="No space"):
        digest_stream(stream, ["sha256"], sinks=(full_disk,), threads=True)
    assert len(seen) == 2  # stopped at the next block


def test_threaded_pass_of_a_stream_that_is_no_file_is_sequential() -> None:
    data = os.urandom(5 << 20)
    digests, total = digest_stream(io.BytesIO(data), ["sha256"], threads=True)
    assert (digests["sha256"], total) == (hashlib.sha256(data).hexdigest(), len(data))


@pytest.mark.parametrize("size", [0, 4096, (5 << 20) + 7])
def test_read_back_copies_and_hashes_what_the_file_holds(tmp_path: Path, size: int) -> None:
    from archiver.model.digest import ReadBack

    data = os.urandom(size)
    source, copy = tmp_path / "source", tmp_path / "copy"
    source.write_bytes(data)
    with (
        open(source, "rb", buffering=0) as stream,
        open(copy, "xb") as out,
        ReadBack(out) as check,
    ):
        digests, _ = digest_stream(stream, ["sha256", "sha512"], sinks=(check,), threads=True)
        check.check(digests)
    assert copy.read_bytes() == data
    assert check.hexdigest == hashlib.sha256(data).hexdigest()


def test_read_back_refuses_bytes_that_differ_from_the_copied_ones(tmp_path: Path) -> None:
    from archiver.model.digest import ReadBack, ReadBackError

    with open(tmp_path / "copy", "xb") as out, ReadBack(out) as check:
        check(memoryview(b"what was written"))
        with pytest.raises(ReadBackError, match="not the bytes copied"):
            check.check({"sha256": hashlib.sha256(b"what was hashed").hexdigest()})
        check.check({"sha256": hashlib.sha256(b"what was written").hexdigest()})
