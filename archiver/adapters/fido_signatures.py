"""FIDO's PRONOM signatures and matchers, used directly (FIDO has no library API).

FIDO (opf-fido) is a command-line tool; its ``Fido`` class is the only way in, and it
reports through a callback and recompiles every regex for every file. This module is the
one place that touches its internals, checked with opf-fido 1.6.1 (PRONOM v109):

- ``fido.versions.get_local_versions()`` and its ``pronom_version``,
  ``pronom_signature``, ``fido_extension_signature``;
- ``Fido(quiet=, handle_matches=, format_files=, nocontainer=)``, its ``conf_dir``,
  ``process_format_element`` (fed the signature files' ``format`` elements by
  ``_load_formats``, as ``load_fido_xml`` would), its ``formats`` (ElementTree
  ``format`` elements with ``puid``, ``name``, ``version``, ``mime``, ``extension`` and
  ``signature/pattern/{position,regex}``), ``externalsig``, ``get_buffers(stream, length,
  seekable)``, ``get_signatures``, ``get_patterns``, ``get_pos``, ``get_regex``,
  ``get_puid``, ``as_good_as_any`` and (in the tests, as the reference) ``load_fido_xml``,
  ``match_formats`` and ``match_extensions``.

``tests/test_fido_signatures.py`` checks that shape and that :meth:`FidoSignatures.match`
gives ``Fido.match_formats``' own results in the same order.

Loading FIDO's signature files and compiling every regex takes about half a second to a
second. It is done once per process (``shared_signatures``) and can be started early in a
daemon thread (``load_in_background``), so that it overlaps the copy and hashing of the
first payload (which run outside the GIL) instead of being paid on the first file's
identification. A forked child does not inherit a load in progress: it loads again if
it needs the tables (a finished load is inherited).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.adapters.regex_parser import leading_literal

# One PRONOM signature: its name and its (position, compiled regex) patterns; a None regex
# stands for a pattern that does not compile (FIDO then gives up on the whole format).
_Signature = tuple[str, tuple[tuple[str, "re.Pattern[bytes] | None"], ...]]
_Table = list[tuple[Any, tuple[_Signature, ...]]]


@dataclass(frozen=True, slots=True)
class PronomFormat:
    """A PRONOM format as FIDO's signature file describes it."""

    puid: str
    name: str
    version: str | None
    mime_type: str | None


class FidoSignatures:
    """FIDO with the PRONOM signatures it ships (containers off), loaded once."""

    def __init__(self) -> None:
        from fido import __version__ as fido_version
        from fido.fido import Fido
        from fido.versions import get_local_versions

        versions = get_local_versions()
        self.fido_version: str = fido_version
        self.pronom_version: str = str(versions.pronom_version)
        self.fido: Any = Fido(
            quiet=True, handle_matches=lambda *args: None, format_files=[], nocontainer=True
        )
        for name in (versions.pronom_signature, versions.fido_extension_signature):
            _load_formats(self.fido, os.path.join(os.path.abspath(self.fido.conf_dir), name))
        self._formats: dict[int, PronomFormat] = {}
        self._table: _Table | None = None
        self._by_first_byte: dict[int, _Table] = {}
        self._first_bytes: list[tuple[int | None, ...]] | None = None
        self._extensions: dict[str, list[Any]] | None = None

    def prepare(self) -> None:
        """Compile the signature tables now rather than on the first file."""
        self._table_for(b"\n")  # also works out every signature's first byte
        self.match_extensions("prepare.txt")

    def read(self, path: Path, size: int) -> tuple[bytes, bytes]:
        """The beginning and end of the file that FIDO's signatures look at."""
        with open(path, "rb") as stream:
            bof, eof, _ = self.fido.get_buffers(stream, size, seekable=True)
        return bof, eof

    def match(self, bof: bytes, eof: bytes) -> list[tuple[PronomFormat, str]]:
        """``Fido.match_formats`` over a precompiled table: same order, same results;
        each match with the name of the signature that matched."""
        return [(self._format(fmt), name) for fmt, name in self._match_formats(bof, eof)]

    def match_extensions(self, filename: str) -> list[PronomFormat]:
        """``Fido.match_extensions`` from an index of extensions built once."""
        fido = self.fido
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
        return [self._format(fmt) for fmt, _ in result if good(fmt, result)]

    def _format(self, fmt: Any) -> PronomFormat:
        found = self._formats.get(id(fmt))
        if found is None:
            found = PronomFormat(
                puid=self.fido.get_puid(fmt),
                name=fmt.findtext("name") or "unknown",
                version=fmt.findtext("version") or None,
                mime_type=fmt.findtext("mime") or None,
            )
            self._formats[id(fmt)] = found  # fido.formats keeps every element alive
        return found

    def _signature_table(self) -> _Table:
        """FIDO's signatures with every regex compiled once (FIDO recompiles per file)."""
        if self._table is None:
            fido = self.fido
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
        good = self.fido.as_good_as_any
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


# What FIDO never reads of a format, dropped as it is parsed: its PRONOM description,
# a signature's note, a pattern's PRONOM byte sequence (half of what the tree holds).
_UNUSED: Mapping[str, tuple[str, ...]] = {
    "format": ("details",),
    "signature": ("note",),
    "pattern": ("pronom_pattern",),
}


def _load_formats(fido: Any, path: str) -> None:
    """``Fido.load_fido_xml`` without what FIDO never reads: each ``format`` element under
    the root, in order, to ``Fido.process_format_element``, parsed incrementally, each
    element stripped as it ends of its ``_UNUSED`` children and of the indentation
    around its children (a string object each). The formats then hold 5 MiB instead
    of the 21 MiB of the whole tree. A file that does not parse raises ``ParseError``
    (FIDO exits)."""
    from xml.etree import ElementTree  # FIDO's own parser, imported with it

    depth = 0
    for event, element in ElementTree.iterparse(path, events=("start", "end")):
        if event == "start":
            depth += 1
            continue
        depth -= 1
        for tag in _UNUSED.get(element.tag, ()):
            for child in element.findall(tag):
                element.remove(child)
        if element.tail is not None and element.tail.isspace():
            element.tail = None
        if len(element) and element.text is not None and element.text.isspace():
            element.text = None
        if depth == 1 and element.tag == "format":
            fido.process_format_element(element)


def _required_first_byte(signature: _Signature) -> int | None:
    """The byte a file must start with for ``signature`` to match, if its first pattern
    (at BOF) fixes one; else None."""
    _, patterns = signature
    if not patterns:
        return None
    position, regex = patterns[0]
    if position != "BOF" or regex is None:
        return None
    return leading_literal(regex)


_lock = threading.Lock()  # held while the shared signatures are being built
_shared: FidoSignatures | None = None
_loader: threading.Thread | None = None


def fido_versions() -> tuple[str, str]:
    """FIDO's version and the PRONOM signature release it ships, without loading them.

    Also imports FIDO's modules here, in the calling thread, so that the background load
    never holds an import lock that a fork could leave held in a child."""
    import fido.fido  # noqa: F401
    from fido import __version__ as fido_version
    from fido.versions import get_local_versions

    return str(fido_version), str(get_local_versions().pronom_version)


def shared_signatures() -> FidoSignatures:
    """The process's one ``FidoSignatures``, with its tables compiled: built here on the
    first call, or awaited if ``load_in_background`` is building it."""
    global _shared
    with _lock:
        if _shared is None:
            signatures = FidoSignatures()
            signatures.prepare()
            _shared = signatures
        return _shared


def load_in_background() -> None:
    """Start building the shared signatures in a daemon thread (nothing if it is built or
    being built). A failure there is left for ``shared_signatures`` to raise."""
    global _loader
    if _shared is not None or _loader is not None:
        return

    def load() -> None:
        try:
            shared_signatures()
        except Exception:  # raised again where the signatures are needed
            pass

    _loader = threading.Thread(target=load, name="fido-signatures", daemon=True)
    _loader.start()


def _after_fork_in_child() -> None:
    global _lock, _loader
    _lock = threading.Lock()  # the parent's may be held by a loader that did not fork
    _loader = None


os.register_at_fork(after_in_child=_after_fork_in_child)
