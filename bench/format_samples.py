"""Small, valid office and PDF files made from scratch, for format-identification checks.

Each ``make_*`` writes one deterministic file (fixed ZIP timestamps, no clock) and returns
its path: a one-page PDF 1.4 with a correct cross-reference table, a Word 2007+ document
(Office Open XML: ``[Content_Types].xml``, ``_rels/.rels``, ``word/document.xml``) and an
OpenDocument 1.2 text (``mimetype`` stored first and uncompressed, as the specification
requires, then the manifest, content, styles and meta). Used by ``bench/format_id.py``
and by the identification tests.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

_ZIP_TIME = (2022, 1, 5, 12, 0, 0)


def make_pdf(path: Path, text: str = "Zhanaozen, December 2011") -> Path:
    """A one-page PDF 1.4 showing ``text`` (ASCII) in Helvetica."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def _write_zip(path: Path, members: list[tuple[str, str, int]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content, compression in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = compression
            archive.writestr(info, content.encode("utf-8"))
    return path


_DEFLATED = zipfile.ZIP_DEFLATED
_STORED = zipfile.ZIP_STORED

_OOXML = "http://schemas.openxmlformats.org"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_DOCX_TYPES = (
    f'{_DECLARATION}<Types xmlns="{_OOXML}/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)

_DOCX_RELS = (
    f'{_DECLARATION}<Relationships xmlns="{_OOXML}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_OOXML}/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)

_DOCX_DOCUMENT = (
    f'{_DECLARATION}<w:document xmlns:w="{_OOXML}/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
)


def make_docx(path: Path, text: str = "Zhanaozen, December 2011") -> Path:
    """A one-paragraph Word 2007+ document (the three parts Word needs)."""
    return _write_zip(
        path,
        [
            ("[Content_Types].xml", _DOCX_TYPES, _DEFLATED),
            ("_rels/.rels", _DOCX_RELS, _DEFLATED),
            ("word/document.xml", _DOCX_DOCUMENT.format(text=text), _DEFLATED),
        ],
    )


_ODT_MIME = "application/vnd.oasis.opendocument.text"

_ODT_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
    f'manifest:media-type="{_ODT_MIME}"/>'
    + "".join(
        f'<manifest:file-entry manifest:full-path="{part}" manifest:media-type="text/xml"/>'
        for part in ("content.xml", "styles.xml", "meta.xml")
    )
    + "</manifest:manifest>"
)

_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.2"'
)

_ODT_CONTENT = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {_ODF_NS}>
<office:body><office:text><text:p>{{text}}</text:p></office:text></office:body>
</office:document-content>"""

_ODT_STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {_ODF_NS}/>"""

_ODT_META = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {_ODF_NS}>
<office:meta><meta:generator>archiver format samples</meta:generator></office:meta>
</office:document-meta>"""


def make_odt(path: Path, text: str = "Zhanaozen, December 2011") -> Path:
    """A one-paragraph OpenDocument 1.2 text document."""
    return _write_zip(
        path,
        [
            ("mimetype", _ODT_MIME, _STORED),  # first and uncompressed (ODF 1.2, 3.3)
            ("META-INF/manifest.xml", _ODT_MANIFEST, _DEFLATED),
            ("content.xml", _ODT_CONTENT.format(text=text), _DEFLATED),
            ("styles.xml", _ODT_STYLES, _DEFLATED),
            ("meta.xml", _ODT_META, _DEFLATED),
        ],
    )


SAMPLES = {"sample.pdf": make_pdf, "sample.docx": make_docx, "sample.odt": make_odt}


def make_samples(directory: Path) -> list[Path]:
    """Write every sample into ``directory``; return their paths in a fixed order."""
    return [make(directory / name) for name, make in SAMPLES.items()]
