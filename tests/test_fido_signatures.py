"""archiver.adapters.fido_signatures: FIDO's internals have the shape the adapter uses,
and its precompiled matching gives FIDO's own results."""

from __future__ import annotations

import inspect
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from archiver.adapters.fido_signatures import FidoSignatures, PronomFormat


@pytest.fixture(scope="module")
def signatures() -> FidoSignatures:
    return FidoSignatures()


def test_fido_versions_and_signature_files() -> None:
    from fido import __version__
    from fido.versions import get_local_versions

    versions = get_local_versions()
    assert isinstance(__version__, str) and __version__
    assert str(versions.pronom_version).isdigit()
    assert versions.pronom_signature.endswith(".xml")
    assert versions.fido_extension_signature.endswith(".xml")


def test_fido_internals_have_the_expected_shape(signatures: FidoSignatures) -> None:
    from fido.fido import Fido

    init = inspect.signature(Fido.__init__).parameters
    for name in ("quiet", "handle_matches", "format_files", "nocontainer"):
        assert name in init, f"Fido.__init__ lost {name!r}"
    assert list(inspect.signature(Fido.get_buffers).parameters) == [
        "self",
        "stream",
        "length",
        "seekable",
    ]
    for method in ("get_signatures", "get_patterns", "get_pos", "get_regex", "get_puid"):
        assert len(inspect.signature(getattr(Fido, method)).parameters) == 2, method
    assert list(inspect.signature(Fido.as_good_as_any).parameters) == [
        "self",
        "f1",
        "match_list",
    ]
    fido = signatures.fido
    assert fido.externalsig.findtext("name") == "External"
    assert len(fido.formats) > 1000
    fmt = next(f for f in fido.formats if fido.get_puid(f) == "fmt/18")
    assert isinstance(fmt, ET.Element)
    assert fmt.findtext("name") and fmt.findtext("mime") == "application/pdf"
    assert "pdf" in [e.text for e in fmt.findall("extension")]
    sig = fido.get_signatures(fmt)[0]
    pattern = fido.get_patterns(sig)[0]
    assert fido.get_pos(pattern) in ("BOF", "EOF", "VAR", "IFB")
    assert isinstance(fido.get_regex(pattern), bytes)
    re.compile(fido.get_regex(pattern))


def test_formats_are_fidos_own_load_less_what_fido_never_reads(
    signatures: FidoSignatures,
) -> None:
    """The incremental load gives ``Fido.load_fido_xml``'s formats, in order, with every
    element FIDO reads and its text; only the PRONOM descriptions, notes, PRONOM patterns
    and the indentation are gone."""
    from fido.fido import Fido
    from fido.versions import get_local_versions

    versions = get_local_versions()
    reference = Fido(
        quiet=True,
        handle_matches=lambda *args: None,
        format_files=[versions.pronom_signature, versions.fido_extension_signature],
        nocontainer=True,
    )
    ours = signatures.fido
    dropped = {("format", "details"), ("signature", "note"), ("pattern", "pronom_pattern")}

    def blank(text: str | None) -> str | None:
        return None if text is None or text.isspace() else text

    def kept(element: ET.Element) -> list[object]:
        """Every child FIDO may read, with its text; indentation (whitespace around
        children, as text or tail) taken for none."""
        return [
            (
                child.tag,
                child.attrib,
                blank(child.text) if len(child) else child.text,
                blank(child.tail),
                kept(child),
            )
            for child in element
            if (element.tag, child.tag) not in dropped
        ]

    assert [ours.get_puid(f) for f in ours.formats] == [
        reference.get_puid(f) for f in reference.formats
    ]
    for mine, theirs in zip(ours.formats, reference.formats, strict=True):
        assert (mine.attrib, kept(mine)) == (theirs.attrib, kept(theirs))
        assert not [(e.tag, c.tag) for e in mine.iter() for c in e if (e.tag, c.tag) in dropped]
    assert ours.puid_has_priority_over_map == reference.puid_has_priority_over_map
    assert set(ours.puid_format_map) == set(reference.puid_format_map)
    assert any(f.find("details") is not None for f in reference.formats)


def test_read_gives_fidos_buffers(signatures: FidoSignatures, tmp_path: Path) -> None:
    data = b"%PDF-1.4\n" + bytes(200_000) + b"%%EOF\n"
    (tmp_path / "x.pdf").write_bytes(data)
    bof, eof = signatures.read(tmp_path / "x.pdf", len(data))
    assert data.startswith(bof) and data.endswith(eof) and bof and eof


def test_formats_are_described(signatures: FidoSignatures) -> None:
    matches = signatures.match(b"%PDF-1.4\n", b"%%EOF\n")
    assert matches and isinstance(matches[0][0], PronomFormat)
    fmt = matches[0][0]
    assert fmt.puid.startswith("fmt/") and "PDF" in fmt.name
    assert fmt.mime_type == "application/pdf"


@pytest.mark.parametrize("name", ["a.txt", "a.PDF", "a.odt", "noext", "a.zzzunknown"])
def test_extension_matching_agrees_with_fido(signatures: FidoSignatures, name: str) -> None:
    fido = signatures.fido
    ours = [fmt.puid for fmt in signatures.match_extensions(name)]
    assert ours == [fido.get_puid(f) for f, _ in fido.match_extensions(name)]


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
def test_signature_matching_agrees_with_fido(signatures: FidoSignatures, kind: str) -> None:
    """The first-byte prefilter and precompiled table give FIDO's own matches, in order."""
    data = HEADERS[kind]
    fido = signatures.fido
    ours = [(fmt.puid, sig) for fmt, sig in signatures.match(data, data)]
    theirs = [(fido.get_puid(f), sig) for f, sig in fido.match_formats(data, data)]
    assert ours == theirs
