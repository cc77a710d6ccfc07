"""Characterization of a source file: text profile (encoding, BOM, line endings) and
PRONOM format identification with FIDO.

``TextProfiler`` is fed blocks as the file is read once for hashing; ``FormatIdentifier``
loads FIDO's PRONOM signatures once per run and identifies a file from its first and last
blocks.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.bag.digest import digest_stream
from archiver.errors import SourceError

PLAIN_TEXT_PUID = "x-fmt/111"

# One PRONOM signature: its name and its (position, compiled regex) patterns; a None regex
# stands for a pattern that does not compile (FIDO then gives up on the whole format).
_Signature = tuple[str, tuple[tuple[str, "re.Pattern[bytes] | None"], ...]]
_Table = list[tuple[Any, tuple[_Signature, ...]]]


@dataclass(frozen=True, slots=True)
class TextProfile:
    """What the bytes say about text: UTF-8 validity, BOM, NUL bytes, line endings."""

    valid_utf8: bool
    bom: bool
    has_nul: bool
    crlf: int
    lf: int
    cr: int

    @property
    def is_text(self) -> bool:
        """Valid UTF-8 (ASCII included) with no NUL bytes."""
        return self.valid_utf8 and not self.has_nul

    @property
    def encoding(self) -> str:
        """'UTF-8', 'UTF-8 with BOM' or 'unknown'."""
        if not self.valid_utf8:
            return "unknown"
        return "UTF-8 with BOM" if self.bom else "UTF-8"

    @property
    def line_endings(self) -> str:
        """'LF', 'CRLF', 'CR', 'mixed' or 'none'."""
        kinds = [name for name, n in (("LF", self.lf), ("CRLF", self.crlf), ("CR", self.cr)) if n]
        if not kinds:
            return "none"
        return kinds[0] if len(kinds) == 1 else "mixed"

    def describe(self) -> str:
        """One line for PREMIS and the build report."""
        if not self.is_text:
            return "not text: " + ("contains NUL bytes" if self.has_nul else "not valid UTF-8")
        return (
            f"{self.encoding}; line endings {self.line_endings} "
            f"(LF {self.lf}, CRLF {self.crlf}, CR {self.cr})"
        )


class TextProfiler:
    """Incrementally profiles text as blocks arrive (a sink for ``digest_stream``)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._valid = True
        self._first = True
        self._bom = False
        self._nul = False
        self._pending_cr = False
        self._crlf = self._lf = self._cr = 0

    def __call__(self, block: memoryview) -> None:
        """Feed the next block of the file."""
        data = bytes(block)
        if not data:
            return
        if self._first:
            self._bom = data.startswith(codecs.BOM_UTF8)
            self._first = False
        if self._valid:
            try:
                self._decoder.decode(data)
            except UnicodeDecodeError:
                self._valid = False
        if not self._nul and b"\x00" in data:
            self._nul = True
        crlf = data.count(b"\r\n")
        if self._pending_cr and data.startswith(b"\n"):
            crlf += 1
        self._crlf += crlf
        self._lf += data.count(b"\n")
        self._cr += data.count(b"\r")
        self._pending_cr = data.endswith(b"\r")

    def result(self) -> TextProfile:
        """The profile of everything fed so far (ends the UTF-8 check)."""
        valid = self._valid
        if valid:
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


@dataclass(frozen=True, slots=True)
class FormatMatch:
    """A PRONOM identification."""

    puid: str | None
    name: str
    version: str | None
    mime_type: str | None
    basis: str  # "signature", "container", "extension", "extension+text" or "none"
    candidates: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for PREMIS: what was chosen and why."""
        if self.puid is None:
            return "no PRONOM format matched"
        others = [c for c in self.candidates if c != self.puid]
        tail = f"; other candidates: {', '.join(others)}" if others else ""
        return f"{self.puid} ({self.name}) by {self.basis} match{tail}"


class FormatIdentifier:
    """FIDO with the PRONOM signatures it ships, loaded once and reused for every file."""

    def __init__(self) -> None:
        from fido import __version__ as fido_version
        from fido.fido import Fido
        from fido.versions import get_local_versions

        versions = get_local_versions()
        self.fido_version: str = fido_version
        self.pronom_version: str = str(versions.pronom_version)
        self._fido: Any = Fido(
            quiet=True,
            handle_matches=lambda *args: None,
            format_files=[versions.pronom_signature, versions.fido_extension_signature],
            nocontainer=True,
        )
        self._table: _Table | None = None
        self._by_first_byte: dict[int, _Table] = {}
        self._first_bytes: list[tuple[int | None, ...]] | None = None
        self._extensions: dict[str, list[Any]] | None = None

    @property
    def agent_version(self) -> str:
        """FIDO's version with the PRONOM signature release it used."""
        return f"{self.fido_version} (PRONOM signatures v{self.pronom_version})"

    def identify(self, path: Path, text: TextProfile) -> FormatMatch:
        """Identify a file by signature, else by extension.

        Among extension matches, valid text chooses Plain Text File (x-fmt/111).
        """
        fido = self._fido
        size = os.stat(path).st_size
        with open(path, "rb") as stream:
            bof, eof, _ = fido.get_buffers(stream, size, seekable=True)
        matches: Sequence[tuple[Any, str]] = self._match_formats(bof, eof) if size else []
        basis = "signature"
        if not matches:
            matches = self._match_extensions(path.name)
            basis = "extension"
        if not matches:
            if text.is_text and size:
                return FormatMatch(
                    PLAIN_TEXT_PUID, "Plain Text File", None, "text/plain", "text", ()
                )
            return FormatMatch(None, "unknown", None, None, "none", ())
        candidates = tuple(fido.get_puid(fmt) for fmt, _ in matches)
        chosen = matches[0][0]
        if basis == "extension" and text.is_text:
            for fmt, _ in matches:
                if fido.get_puid(fmt) == PLAIN_TEXT_PUID:
                    chosen, basis = fmt, "extension+text"
                    break
        return FormatMatch(
            puid=fido.get_puid(chosen),
            name=chosen.findtext("name") or "unknown",
            version=chosen.findtext("version") or None,
            mime_type=chosen.findtext("mime") or None,
            basis=basis,
            candidates=candidates,
        )

    def _signature_table(self) -> _Table:
        """FIDO's signatures with every regex compiled once (FIDO recompiles per file)."""
        if self._table is None:
            fido = self._fido
            table = []
            for fmt in fido.formats:
                signatures = []
                for sig in fido.get_signatures(fmt):
                    patterns = []
                    for pat in fido.get_patterns(sig):
                        try:
                            regex: re.Pattern[bytes] | None = re.compile(fido.get_regex(pat))
                        except (re.error, AttributeError):
                            regex = None
                        patterns.append((fido.get_pos(pat), regex))
                    signatures.append((sig.findtext("name"), tuple(patterns)))
                if signatures:  # a format without signatures can never match
                    table.append((fmt, tuple(signatures)))
            self._table = table
        return self._table

    def prepare(self) -> None:
        """Compile the signature tables now rather than on the first file."""
        self._table_for(b"\n")  # also works out every signature's first byte
        self._match_extensions("prepare.txt")

    def _match_extensions(self, filename: str) -> list[tuple[Any, str]]:
        """``Fido.match_extensions`` from an index of extensions built once."""
        fido = self._fido
        if self._extensions is None:
            index: dict[str, list[Any]] = {}
            for fmt in fido.formats:
                for ext in dict.fromkeys(e.text for e in fmt.findall("extension")):
                    index.setdefault(ext, []).append(fmt)
            self._extensions = index
        ext = os.path.splitext(filename)[1].lower().lstrip(".")
        if not ext:
            return []
        name = fido.externalsig.findtext("name")
        result = [(fmt, name) for fmt in self._extensions.get(ext, ())]
        good = fido.as_good_as_any
        return [match for match in result if good(match[0], result)]

    def _table_for(self, bof: bytes) -> _Table:
        """The signature table without the signatures that cannot match ``bof``.

        Most PRONOM signatures (about 1,600 of 1,950) begin, anchored at the start of
        the file, with a literal byte; a file can only match those whose byte is its
        first. Dropping the others changes nothing (their first pattern would fail, and
        FIDO would go on to the next signature) but saves most of the regex calls and
        loop turns. The tables are made once per first byte seen.
        """
        key = bof[0] if bof else -1
        table = self._by_first_byte.get(key)
        if table is None:
            if self._first_bytes is None:
                self._first_bytes = [
                    tuple(_required_first_byte(sig) for sig in signatures)
                    for _, signatures in self._signature_table()
                ]
            table = []
            for (fmt, signatures), firsts in zip(
                self._signature_table(), self._first_bytes, strict=True
            ):
                kept = tuple(
                    sig
                    for sig, first in zip(signatures, firsts, strict=True)
                    if first in (None, key)
                )
                if kept:
                    table.append((fmt, kept))
            self._by_first_byte[key] = table
        return table

    def _match_formats(self, bof: bytes, eof: bytes) -> list[tuple[Any, str]]:
        """``Fido.match_formats`` over the precompiled table: same order, same results."""
        good = self._fido.as_good_as_any
        result: list[tuple[Any, str]] = []
        for fmt, signatures in self._table_for(bof):
            if result and not good(fmt, result):
                continue
            for name, patterns in signatures:
                for pos, regex in patterns:
                    if regex is None:
                        break
                    if pos == "BOF":
                        if regex.match(bof) is None:
                            break
                    elif pos == "EOF":
                        if regex.search(eof) is None:
                            break
                    elif pos in ("VAR", "IFB") and regex.search(bof) is None:
                        break
                else:
                    result.append((fmt, name))
                    continue
                if regex is None:
                    break  # FIDO abandons a format whose pattern does not compile
        return [match for match in result if good(match[0], result)]


def _required_first_byte(signature: _Signature) -> int | None:
    """The byte a file must start with for ``signature`` to match, if its first pattern
    fixes one (a BOF pattern that begins, after an optional ``\\A``, with a literal byte
    and is case-sensitive); else None."""
    _, patterns = signature
    if not patterns:
        return None
    position, regex = patterns[0]
    if position != "BOF" or regex is None or regex.flags & re.IGNORECASE:
        return None
    try:  # CPython's regex parser: private, so any surprise means "no filter", not an error
        from re import _constants as sre_constants  # type: ignore[attr-defined]
        from re import _parser as sre_parser  # type: ignore[attr-defined]

        items = list(sre_parser.parse(regex.pattern, regex.flags))
    except (ImportError, AttributeError, re.error):
        return None
    starts = (sre_constants.AT_BEGINNING, sre_constants.AT_BEGINNING_STRING)
    while items and items[0][0] is sre_constants.AT and items[0][1] in starts:
        items.pop(0)
    if items and items[0][0] is sre_constants.LITERAL:
        first: int = items[0][1]
        return first
    return None


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
            raise SourceError(f"{path}: {_file_kind(mode)}, not a regular file; not read")
        os.set_blocking(fd, True)
        with open(fd, "rb", buffering=0, closefd=False) as stream:
            digests, size = digest_stream(stream, algorithms, sinks=(profiler,))
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    text = profiler.result()
    return Characterization(str(path), size, digests, text, identifier.identify(path, text))


def _file_kind(mode: int) -> str:
    """What a non-regular file is, for messages."""
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is a special file"
