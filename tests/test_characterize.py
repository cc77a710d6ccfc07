"""archiver.build.characterize: text profile fed block by block, FIDO identification."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
from conftest import SEED_NAMES, SOURCES

from archiver.build.characterize import FormatIdentifier, TextProfiler, characterize_file
from archiver.errors import SourceError


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


HEADERS = {
    "pdf": b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(20),
    "gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(40) + b"PK\x05\x06" + bytes(18),
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(20) + b"\xff\xd9",
    "xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<root/>\n',
    "html": b"<!DOCTYPE html>\n<html><head><title>t</title></head></html>\n",
    "rtf": b"{\\rtf1\\ansi\\deff0 {\\fonttbl}}\n",
    "utf8-bom": b"\xef\xbb\xbfHello\n",
    "utf16": b"\xff\xfeH\x00i\x00",
    "text": b"Call me Ishmael.\n",
    "gzip": b"\x1f\x8b\x08\x00" + bytes(20),
    "ole2": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
}


@pytest.mark.parametrize("kind", sorted(HEADERS))
def test_signature_matching_agrees_with_fido(identifier: FormatIdentifier, kind: str) -> None:
    """The first-byte prefilter and precompiled table give FIDO's own matches, in order."""
    data = HEADERS[kind]
    fido = identifier._fido
    ours = [(fido.get_puid(f), sig) for f, sig in identifier._match_formats(data, data)]
    theirs = [(fido.get_puid(f), sig) for f, sig in fido.match_formats(data, data)]
    assert ours == theirs


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
