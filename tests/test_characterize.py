"""archiver.build.characterize: text profile fed block by block, FIDO identification."""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SEED_NAMES, SOURCES

from archiver.build.characterize import FormatIdentifier, TextProfiler, characterize_file
from archiver.model.errors import SourceError
from bench.format_samples import make_docx, make_odt, make_pdf


def profile(*blocks: bytes):  # type: ignore[no-untyped-def]
    profiler = TextProfiler()
    for block in blocks:
        profiler(memoryview(block))
    return profiler.result()


@pytest.mark.parametrize(
    ("blocks", "encoding", "endings", "is_text"),
    [
        ((b"a\nb\n",), "UTF-8", "LF", True),
        ((b"a\r\nb\r\n",), "UTF-8", "CRLF", True),
        ((b"a\r", b"\nb\r\n"), "UTF-8", "CRLF", True),  # CRLF split across blocks
        ((b"a\rb\r",), "UTF-8", "CR", True),
        ((b"a\nb\r\n",), "UTF-8", "mixed", True),
        ((codecs.BOM_UTF8 + b"x",), "UTF-8 with BOM", "none", True),
        (("Жанаозен".encode()[:3], "Жанаозен".encode()[3:]), "UTF-8", "none", True),
        ((b"\xff\xfe",), "unknown", "none", False),
        ((b"caf\xe9\n",), "unknown", "LF", False),
        (("é".encode()[:1],), "unknown", "none", False),  # truncated sequence at the end
        ((b"a\x00b",), "UTF-8", "none", False),
    ],
)
def test_text_profile(
    blocks: tuple[bytes, ...], encoding: str, endings: str, is_text: bool
) -> None:
    result = profile(*blocks)
    assert (result.encoding, result.line_endings, result.is_text) == (encoding, endings, is_text)


def test_line_ending_counts() -> None:
    result = profile(b"a\r\nb\nc\rd\r", b"\n")
    assert (result.crlf, result.lf, result.cr) == (2, 1, 1)


def test_not_text_is_decided_on_the_block_that_shows_it() -> None:
    """A NUL or a non-UTF-8 byte ends the examination: later blocks are not counted."""
    binary = profile(b"GIF89a\x00\x01\r\n", b"\r\n" * 1000, "é".encode())
    assert (binary.is_text, binary.has_nul, binary.valid_utf8) == (False, True, True)
    assert (binary.crlf, binary.lf, binary.cr) == (1, 0, 0)
    latin1 = profile(b"caf\xe9\n", b"\x00\n\n")
    assert (latin1.valid_utf8, latin1.has_nul, latin1.lf) == (False, False, 1)


@pytest.mark.parametrize("cut", [1, 2, 3, 7, 64, 4096])
def test_text_profile_does_not_depend_on_the_blocks(cut: int) -> None:
    """Text (ASCII and multi-byte, every line ending) gives one profile however split."""
    text = ("Жана\r\nозен\n" * 50 + "ascii only\r" * 30 + "end\r\n").encode()
    whole = profile(text)
    assert profile(*(text[i : i + cut] for i in range(0, len(text), cut))) == whole
    assert (whole.valid_utf8, whole.crlf, whole.lf, whole.cr) == (True, 51, 50, 30)


@pytest.fixture(scope="module")
def identifier() -> FormatIdentifier:
    return FormatIdentifier()


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seeds_are_plain_text(identifier: FormatIdentifier, name: str) -> None:
    found = characterize_file(SOURCES / name, ["sha256"], identifier)
    assert found.format.puid == "x-fmt/111"
    assert found.format.basis == "extension+text"
    assert "x-fmt/111" in found.format.candidates
    assert found.text.encoding == "UTF-8"


def test_signature_match_wins(identifier: FormatIdentifier, tmp_path: Path) -> None:
    pdf = tmp_path / "doc.txt"  # a PDF with a misleading extension
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    found = characterize_file(pdf, ["sha256"], identifier)
    assert found.format.basis == "signature"
    assert found.format.puid is not None and found.format.puid.startswith("fmt/")
    assert "PDF" in found.format.name


def test_binary_with_text_extension_is_not_called_text(
    identifier: FormatIdentifier, tmp_path: Path
) -> None:
    blob = tmp_path / "blob.txt"
    blob.write_bytes(bytes(range(256)) * 4)
    found = characterize_file(blob, ["sha256"], identifier)
    assert found.format.basis == "extension"
    assert not found.text.is_text


def test_unknown_extension_and_binary(identifier: FormatIdentifier, tmp_path: Path) -> None:
    blob = tmp_path / "blob.zzzunknown"
    blob.write_bytes(b"\x00\x01\x02")
    found = characterize_file(blob, ["sha256"], identifier)
    assert found.format.puid is None and found.format.describe() == "no PRONOM format matched"


def test_unreadable_file_is_a_source_error(identifier: FormatIdentifier, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="missing.txt: cannot read"):
        characterize_file(tmp_path / "missing.txt", ["sha256"], identifier)


# What FIDO 1.6.1 (PRONOM v109, containers off) makes of the office and PDF samples that
# bench/format_id.py measures: the PDF exactly; the DOCX only as the ZIP it is (Word's
# fmt/412 needs container signatures); the ODT 1.2 as OpenDocument Text 1.1 (fmt/290, by
# the "mimetype" entry at the start of the ZIP: the 1.2 signature, fmt/291, also wants
# office:version="1.2" in the raw bytes, which the deflated XML parts hide). These are
# the recorded limits of the kept tool (README, "Format identification").
@pytest.mark.parametrize(
    ("make", "puid", "name"),
    [
        (make_pdf, "fmt/18", "Acrobat PDF 1.4 - Portable Document Format"),
        (make_docx, "x-fmt/263", "ZIP Format"),
        (make_odt, "fmt/290", "OpenDocument Text"),
    ],
)
def test_office_and_pdf_samples(
    identifier: FormatIdentifier,
    tmp_path: Path,
    make: Callable[[Path], Path],
    puid: str,
    name: str,
) -> None:
    sample = make(tmp_path / f"sample.{make.__name__.removeprefix('make_')}")
    found = characterize_file(sample, ["sha256"], identifier).format
    assert (found.puid, found.name, found.basis) == (puid, name, "signature")
    assert found.candidates == (puid,)


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_non_regular_files_are_refused_without_blocking(kind: str, tmp_path: Path) -> None:
    """Issue 9, class 3: opened non-blocking and checked with fstat before any read, so a
    FIFO with no writer cannot hang the command."""
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path
    with pytest.raises(SourceError, match="not a regular file"):
        characterize_file(path, ("sha256",), FormatIdentifier())


def test_signatures_are_loaded_once_per_process() -> None:
    first, second = FormatIdentifier(), FormatIdentifier()
    assert first._signatures is second._signatures
    first.prepare()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_does_not_inherit_a_load_in_progress() -> None:
    from archiver.adapters import fido_signatures

    with fido_signatures._lock:  # as a background loader holds it
        pid = os.fork()
        if pid == 0:  # the child: a lock of its own, no loader thread
            os._exit(0 if not fido_signatures._lock.locked() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
