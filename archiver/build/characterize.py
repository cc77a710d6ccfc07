"""Characterization of a source file: text profile (encoding, BOM, line endings) and
PRONOM format identification with FIDO.

``TextProfiler`` is fed blocks as the file is read once for hashing; ``FormatIdentifier``
loads FIDO's PRONOM signatures once per run (through
:mod:`archiver.adapters.fido_signatures`, the one module that touches FIDO's internals)
and identifies a file from its first and last blocks.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.adapters.fido_signatures import (
    FidoSignatures,
    fido_versions,
    load_in_background,
    shared_signatures,
)
from archiver.model.digest import digest_stream
from archiver.model.errors import SourceError
from archiver.model.formats import PLAIN_TEXT_PUID, FormatMatch, TextProfile
from archiver.storage.fileio import file_kind


class TextProfiler:
    """Incrementally profiles text as blocks arrive (a sink for ``digest_stream``).

    A text file is examined whole: UTF-8 validity, BOM, NUL bytes and every line ending.
    As soon as a block shows that the file is not text (a NUL byte, or bytes that are not
    UTF-8), the rest of the file is not examined: a 1 GiB image is decided on its first
    block instead of being decoded and counted to the end. The profile of such a file
    describes its bytes up to the end of that block (``is_text`` False, the evidence
    found, the line endings counted so far).
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._valid = True
        self._first = True
        self._bom = False
        self._nul = False
        self._decided = False  # not text: nothing more to examine
        self._pending_cr = False
        self._crlf = self._lf = self._cr = 0

    def __call__(self, block: memoryview) -> None:
        """Feed the next block of the file."""
        if self._decided:
            return
        data = bytes(block)
        if not data:
            return
        if self._first:
            self._bom = data.startswith(codecs.BOM_UTF8)
            self._first = False
        # ASCII needs no decoding unless a multi-byte sequence is still open
        if not (data.isascii() and not self._decoder.getstate()[0]):
            try:
                self._decoder.decode(data)
            except UnicodeDecodeError:
                self._valid = False
        if b"\x00" in data:
            self._nul = True
        crlf = data.count(b"\r\n")
        if self._pending_cr and data.startswith(b"\n"):
            crlf += 1
        self._crlf += crlf
        self._lf += data.count(b"\n")
        self._cr += data.count(b"\r")
        self._pending_cr = data.endswith(b"\r")
        self._decided = self._nul or not self._valid

    def result(self) -> TextProfile:
        """The profile of everything fed so far (ends the UTF-8 check)."""
        valid = self._valid
        if valid and not self._decided:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
        return TextProfile(
            valid_utf8=valid,
            bom=self._bom,
            has_nul=self._nul,
            crlf=self._crlf,
            lf=self._lf - self._crlf,
            cr=self._cr - self._crlf,
        )


class FormatIdentifier:
    """FIDO with the PRONOM signatures it ships, loaded once per process and shared.

    Making one starts loading the signatures in the background (FIDO's files parsed,
    every regex compiled: about a second), so the load overlaps the copy and hashing of
    the first payload; ``prepare`` (before forking workers) and ``identify`` wait for it.
    """

    def __init__(self) -> None:
        self.fido_version, self.pronom_version = fido_versions()
        load_in_background()

    @property
    def agent_version(self) -> str:
        """FIDO's version with the PRONOM signature release it used."""
        return f"{self.fido_version} (PRONOM signatures v{self.pronom_version})"

    @property
    def _signatures(self) -> FidoSignatures:
        return shared_signatures()

    def prepare(self) -> None:
        """Have the signature tables compiled now (waits for the background load)."""
        shared_signatures()

    def identify(self, path: Path, text: TextProfile) -> FormatMatch:
        """Identify a file by signature, else by extension.

        Among extension matches, valid text chooses Plain Text File (x-fmt/111).
        """
        size = os.stat(path).st_size
        bof, eof = self._signatures.read(path, size)
        matches = [fmt for fmt, _ in self._signatures.match(bof, eof)] if size else []
        basis = "signature"
        if not matches:
            matches = self._signatures.match_extensions(path.name)
            basis = "extension"
        if not matches:
            if text.is_text and size:
                return FormatMatch(
                    PLAIN_TEXT_PUID, "Plain Text File", None, "text/plain", "text", ()
                )
            return FormatMatch(None, "unknown", None, None, "none", ())
        chosen = matches[0]
        if basis == "extension" and text.is_text:
            for fmt in matches:
                if fmt.puid == PLAIN_TEXT_PUID:
                    chosen, basis = fmt, "extension+text"
                    break
        return FormatMatch(
            puid=chosen.puid,
            name=chosen.name,
            version=chosen.version,
            mime_type=chosen.mime_type,
            basis=basis,
            candidates=tuple(fmt.puid for fmt in matches),
        )


@dataclass(frozen=True, slots=True)
class Characterization:
    """Everything archiver learns about a file before it is packaged."""

    path: str
    size: int
    digests: dict[str, str]
    text: TextProfile
    format: FormatMatch

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (used by `archiver describe --json`)."""
        return {
            "path": self.path,
            "size": self.size,
            "digests": dict(sorted(self.digests.items())),
            "format": {
                "puid": self.format.puid,
                "name": self.format.name,
                "version": self.format.version,
                "mimeType": self.format.mime_type,
                "basis": self.format.basis,
                "candidates": list(self.format.candidates),
            },
            "text": {
                "encoding": self.text.encoding,
                "bom": self.text.bom,
                "lineEndings": self.text.line_endings,
                "isText": self.text.is_text,
            },
        }


def characterize_file(
    path: Path, algorithms: Sequence[str], identifier: FormatIdentifier
) -> Characterization:
    """Hash and profile a file in one read, then identify its format.

    Only a regular file is read: a FIFO, device, socket or directory is refused
    (``SourceError``) without blocking, since it is opened non-blocking and checked with
    ``fstat`` on the open descriptor before any read.
    """
    profiler = TextProfiler()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SourceError(f"{path}: is {file_kind(mode)}, not a regular file; not read")
        os.set_blocking(fd, True)
        with open(fd, "rb", buffering=0, closefd=False) as stream:
            digests, size = digest_stream(stream, algorithms, sinks=(profiler,))
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    text = profiler.result()
    return Characterization(str(path), size, digests, text, identifier.identify(path, text))
