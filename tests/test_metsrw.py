"""METS read by metsrw 0.7 (Archivematica's METS library): every payload file found with
its path, SHA-256, dmdSec (DC) and amdSec (PREMIS); names round-trip byte for byte."""

from __future__ import annotations

import metsrw
import pytest
from lxml import etree
from metadata_items import AWKWARD, Item, build_item, folder_item

from archiver.metadata.mets import file_checksums, serialize_xml
from archiver.metadata.validation import SchemaSet

PREMIS_NS = {"premis": "http://www.loc.gov/premis/v3"}


def items() -> list[Item]:
    return [build_item("000_5e17403660513e1c.txt"), build_item(AWKWARD[1]), folder_item()]


def dmdsecs(entry: metsrw.FSEntry) -> list[metsrw.SubSection]:
    """The entry's dmdSecs, or its nearest folder's (a folder item's DC is on its div)."""
    while entry is not None:
        if entry.dmdsecs:
            return list(entry.dmdsecs)
        entry = entry.parent
    return []


def elements_of(document: object) -> list[etree._Element]:
    """metsrw's mdWrap content: one element, or a list of xmlData's children."""
    return list(document) if isinstance(document, list) else [document]  # type: ignore[list-item]


@pytest.mark.parametrize("item", items(), ids=["one-file", "awkward-name", "folder"])
def test_metsrw_reads_every_file(item: Item) -> None:
    xml = serialize_xml(item.mets_tree)
    SchemaSet().validate_tree(item.mets_tree, "mets", "mets.xml")
    document = metsrw.METSDocument.fromstring(xml)
    found = {f.path: f for f in document.all_files() if f.type == "Item"}
    assert sorted(found) == sorted(item.contents)  # every name byte for byte
    premis_files = {f["originalName"]: f for f in item.premis_json["files"]}
    for path, entry in found.items():
        sha256 = next(
            x["digest"] for x in premis_files[path]["fixity"] if x["algorithm"] == "sha256"
        )
        assert entry.checksum == sha256 and entry.checksumtype == "SHA-256"
        assert entry.file_uuid == premis_files[path]["identifier"]["value"]
        assert entry.file_id() == f"file-{entry.file_uuid}"
        dc = dmdsecs(entry)
        assert [d.contents.mdtype for d in dc] == ["DC"]
        elements = elements_of(dc[0].contents.document)
        titles = [e.text for e in elements if e.tag == "{http://purl.org/dc/elements/1.1/}title"]
        assert titles == ["Open Appeal"]
        techmds = [s for amd in entry.amdsecs for s in amd.subsections if s.subsection == "techMD"]
        objects = [o for t in techmds for o in elements_of(t.contents.document)]
        own = [
            o for o in objects if o.findtext(".//premis:originalName", namespaces=PREMIS_NS) == path
        ]
        assert len(own) == 1
        value = own[0].findtext(
            "premis:objectIdentifier/premis:objectIdentifierValue", namespaces=PREMIS_NS
        )
        assert value == entry.file_uuid
        kinds = {s.subsection for amd in entry.amdsecs for s in amd.subsections}
        assert kinds == {"techMD", "rightsMD", "digiprovMD"}
    # archiver's own reader of the fileSec agrees
    assert {p: c for p, (_, c) in file_checksums(xml, "mets.xml").items()} == {
        p: e.checksum for p, e in found.items()
    }


@pytest.mark.parametrize("item", items(), ids=["one-file", "awkward-name", "folder"])
def test_metsrw_round_trip(item: Item) -> None:
    document = metsrw.METSDocument.fromstring(serialize_xml(item.mets_tree))
    again = metsrw.METSDocument.fromstring(document.tostring())
    first = {(f.path, f.file_uuid, f.checksum) for f in document.all_files() if f.type == "Item"}
    second = {(f.path, f.file_uuid, f.checksum) for f in again.all_files() if f.type == "Item"}
    assert first == second and len(first) == len(item.contents)


def test_structmap_follows_the_folders() -> None:
    item = folder_item()
    document = metsrw.METSDocument.fromstring(serialize_xml(item.mets_tree))
    (bag,) = document.get_subsections_counts() and [document._root_elements[0]]
    assert bag.type == "Directory"
    (data,) = bag.children
    (folder,) = data.children
    assert (data.label, folder.label) == ("data", "Сканы 2022 (100%)")
    scans = next(c for c in folder.children if c.label == "scans")
    assert [c.label for c in scans.children] == ["page 1.tif"]


def test_file_ids_are_stable_across_rebuilds_of_the_same_file() -> None:
    one = build_item("s.txt")
    other = build_item("s.txt", identifier="item-1")
    xpath = "//mets:file/@ID"
    ns = {"mets": "http://www.loc.gov/METS/"}
    assert one.mets_tree.xpath(xpath, namespaces=ns) == other.mets_tree.xpath(xpath, namespaces=ns)
    root = etree.fromstring(serialize_xml(one.mets_tree))
    (file_id,) = root.xpath(xpath, namespaces=ns)
    assert file_id == "file-" + one.premis_json["files"][0]["identifier"]["value"]
