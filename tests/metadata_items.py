"""Build one item's metadata (DC, PREMIS, METS, RO-Crate) directly from ``Ingest``,
without the build: for the metadata tests of one-file and folder items."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conftest import ROOT
from lxml import etree

from archiver import __version__
from archiver.config import load_config
from archiver.metadata.dublin_core import DublinCoreRecord
from archiver.metadata.dublin_core import render_tree as render_dc_tree
from archiver.metadata.ingest import (
    Ingest,
    IngestFile,
    agents_for,
    current_toolset,
    describe_ingest,
)
from archiver.metadata.mets import MetsFile, MetsHeader
from archiver.metadata.mets import render_tree as render_mets_tree
from archiver.metadata.premis import PremisRecord
from archiver.metadata.premis import render_tree as render_premis_tree
from archiver.model.formats import FormatMatch, TextProfile

CONFIG = load_config(ROOT / "archive.toml")
AGENTS = agents_for(CONFIG, current_toolset("1.6.1 (PRONOM signatures v109)", "1.9.0"))
TEXT = TextProfile(valid_utf8=True, bom=False, has_nul=False, crlf=0, lf=1, cr=0)
BINARY = TextProfile(valid_utf8=False, bom=False, has_nul=True, crlf=0, lf=0, cr=0)
PLAIN = FormatMatch("x-fmt/111", "Plain Text File", None, "text/plain", "extension+text")
TIFF = FormatMatch("fmt/353", "Tagged Image File Format", None, "image/tiff", "signature")
TIME = "2026-01-02T03:04:05+00:00"
# Names in several scripts, with spaces, '%', '+', ';', '#', '?' and several dots.
AWKWARD = (
    "Заявление 2022.txt",
    "100% + more;v=1#frag?.tar.gz.txt",
    "a b/c d/声明 (copy).v2.final.txt",
    "scans/page 1.tif",
)


def dc_record(name: str, identifier: str = "item-1") -> DublinCoreRecord:
    return DublinCoreRecord(
        name,
        (
            ("dc.title", ("Open Appeal",)),
            ("dc.creator", ("Kharkiv Human Rights Group",)),
            ("dc.date", ("2011-12",)),
            ("dc.type", ("Text", "Open letters")),
            ("dc.identifier", (identifier,)),
            ("dc.language", ("en",)),
            ("dcterms.accessRights", ("Open access",)),
            ("dcterms.license", ("https://creativecommons.org/licenses/by/4.0/",)),
            ("dcterms.rights", ("http://rightsstatements.org/vocab/CNE/1.0/",)),
            ("dcterms.type", ("http://id.loc.gov/authorities/genreForms/label/Open%20letters",)),
        ),
    )


def ingest_file(path: str, data: bytes) -> IngestFile:
    binary = path.endswith(".tif")
    return IngestFile(
        path=path,
        size=len(data),
        digests={
            "sha256": hashlib.sha256(data).hexdigest(),
            "sha512": hashlib.sha512(data).hexdigest(),
        },
        text=BINARY if binary else TEXT,
        format=TIFF if binary else PLAIN,
    )


@dataclass(frozen=True)
class Item:
    ingest: Ingest
    record: PremisRecord
    premis_json: dict[str, Any]
    dc_tree: etree._Element
    premis_tree: etree._Element
    mets_tree: etree._Element
    contents: Mapping[str, bytes]  # bag path -> bytes


def build_item(
    name: str, contents: Mapping[str, bytes] | None = None, *, identifier: str = "item-1"
) -> Item:
    """A one-file item (``contents`` None: the file ``name``) or a folder item whose
    files are ``contents`` (paths relative to the folder)."""
    folder = contents is not None
    payload = (
        {f"data/{name}/{rel}": data for rel, data in contents.items()}
        if contents is not None
        else {f"data/{name}": b"Statement text\n"}
    )
    files = tuple(ingest_file(path, data) for path, data in sorted(payload.items()))
    dc = dc_record(name, identifier)
    ingest = Ingest(source_name=name, files=files, dc=dc, time=TIME, folder=folder)
    record = describe_ingest(ingest, CONFIG, AGENTS)
    premis_json = record.to_json()
    dc_tree = render_dc_tree(dc)
    premis_tree = render_premis_tree(premis_json)
    mets_tree = render_mets_tree(
        MetsHeader(
            created=TIME,
            organization=CONFIG.organization,
            contact="Contact: someone",
            software="archiver",
            software_version=__version__,
            label=dc.title,
            bag_name=identifier,
        ),
        dc_tree,
        premis_tree,
        [MetsFile(f.path, f.size, f.digests, f.format.mime_type) for f in files],
    )
    return Item(ingest, record, premis_json, dc_tree, premis_tree, mets_tree, payload)


def folder_item(identifier: str = "item-2") -> Item:
    return build_item(
        "Сканы 2022 (100%)",
        {name: f"content of {name}\n".encode() for name in AWKWARD},
        identifier=identifier,
    )
