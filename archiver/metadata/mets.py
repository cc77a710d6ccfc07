"""METS 1.12.1: the document through which a repository reads a bag as an AIP.

Pure: :func:`render_tree` builds ``metadata/mets.xml`` from the element trees of the DC
and PREMIS records (their elements are copied in, so the three documents never disagree)
and the payload files:

- ``metsHdr``: creation time, the organization and archiver as CREATOR agents;
- ``dmdSec``: the Dublin Core elements of ``dc.xml`` (``MDTYPE="DC"``);
- ``amdSec`` of the package: ``techMD`` for the intellectual entity and the package,
  ``rightsMD`` for each rights statement, ``digiprovMD`` for each event and agent; one
  ``amdSec`` per payload file with the ``techMD`` of its PREMIS file object;
- ``fileSec``: every payload file with MIME type, size and its SHA-256 as the one
  ``CHECKSUM`` METS allows (the SHA-512 is in the PREMIS file object), located by its
  path relative to the bag's root (``LOCTYPE="OTHER" OTHERLOCTYPE="SYSTEM"``);
- ``structMap`` (physical): Directory divs for the bag, ``data/`` and the item's
  folders, an Item div per file (see :func:`render_tree` for why this shape).

Every ``ID`` is an XML ID (an NCName): a kind prefix and a UUID, the file's, event's or
rights statement's own PREMIS identifier or else one derived from the package's
identifier and the described thing, so IDs are unique across bags and rebuilds, and a
reproducible rebuild gives the same bytes. :func:`file_checksums` reads
the fileSec back for the validator's consistency check against the manifests.

Written with lxml, not Artefactual's ``metsrw``: see the README ("METS").
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from lxml import etree

from archiver.metadata.dublin_core import DC_NS, DCTERMS_NS
from archiver.metadata.dublin_core import SCHEMA_LOCATION as DC_SCHEMA_LOCATION
from archiver.metadata.premis import PREMIS_NS, PREMIS_VERSION, identifier_type
from archiver.metadata.premis import SCHEMA_LOCATION as PREMIS_SCHEMA_LOCATION
from archiver.model.errors import MetadataError
from archiver.model.identifiers import derive_uuid

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
METS_SCHEMA_LOCATION = f"{METS_NS} http://www.loc.gov/standards/mets/version1121/mets.xsd"
SCHEMA_LOCATION = f"{METS_SCHEMA_LOCATION} {PREMIS_SCHEMA_LOCATION} {DC_SCHEMA_LOCATION}"
NSMAP = {
    "mets": METS_NS,
    "xlink": XLINK_NS,
    "xsi": XSI_NS,
    "premis": PREMIS_NS,
    "dc": DC_NS,
    "dcterms": DCTERMS_NS,
}
FILESEC_ALGORITHM = "sha256"
# BagIt algorithm name <-> METS CHECKSUMTYPE.
CHECKSUM_TYPES: Mapping[str, str] = {
    "md5": "MD5",
    "sha1": "SHA-1",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
}
ALGORITHMS_BY_CHECKSUM_TYPE: Mapping[str, str] = {v: k for k, v in CHECKSUM_TYPES.items()}


@dataclass(frozen=True, slots=True)
class MetsFile:
    """A payload file as the fileSec lists it."""

    path: str  # relative to the bag's root, e.g. "data/000_x.txt"
    size: int
    digests: Mapping[str, str]
    mime_type: str | None


@dataclass(frozen=True, slots=True)
class MetsHeader:
    """Who made the document, and when."""

    created: str  # xs:dateTime with its offset
    organization: str
    contact: str
    software: str  # "archiver"
    software_version: str
    label: str  # the title
    bag_name: str


def _q(name: str) -> str:
    return f"{{{METS_NS}}}{name}"


def _p(name: str) -> str:
    return f"{{{PREMIS_NS}}}{name}"


def _sub(parent: etree._Element, name: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, _q(name), attrs)


def _wrap(
    parent: etree._Element, section: str, ident: str, mdtype: str, content: list[etree._Element]
) -> None:
    """Append ``<section ID><mdWrap MDTYPE><xmlData>`` and move ``content`` into it."""
    element = _sub(parent, section, ID=ident)
    attrs = {"MDTYPE": mdtype}
    if mdtype.startswith("PREMIS"):
        attrs["MDTYPEVERSION"] = PREMIS_VERSION
    wrap = _sub(element, "mdWrap", **attrs)
    data = _sub(wrap, "xmlData")
    for item in content:
        data.append(item)  # moved: the callers hand in elements of a private copy


def _identifier(element: etree._Element, container: str) -> str:
    holder = element[0] if len(element) else None  # PREMIS puts the identifier first
    if holder is None or holder.tag != _p(container):
        holder = element.find(_p(container))
    value = holder.findtext(_p(container + "Value")) if holder is not None else None
    if not value:
        raise MetadataError(f"PREMIS {etree.QName(element).localname} without {container}")
    return value


def _file_objects(objects: Sequence[etree._Element]) -> dict[str, tuple[str, etree._Element]]:
    """PREMIS file objects by the bag path they describe -> (identifier, element).

    ``originalName`` is the path in the bag (``data/…``); bags built before folder items
    wrote the bare file name, which is read as ``data/<name>``.
    """
    found: dict[str, tuple[str, etree._Element]] = {}
    for obj in objects:
        name = obj.findtext(_p("originalName")) or ""
        path = name if name.startswith("data/") else f"data/{name}"
        found[path] = (_identifier(obj, "objectIdentifier"), obj)
    return found


def render_tree(
    header: MetsHeader,
    dc_root: etree._Element,
    premis_root: etree._Element,
    files: Sequence[MetsFile],
) -> etree._Element:
    """The METS element tree of a bag (validate it, then serialize it).

    Shaped as Archivematica's own AIP METS, so that metsrw 0.7 (``metsrw/mets.py``,
    ``METSDocument._parse_tree_structmap`` and ``_analyze_fptr``) and Archivematica read
    every file; compare metsrw's ``fixtures/complete_mets.xml`` (an Archivematica AIP
    METS) and ``tests/test_mets.py::TestMETSDocument::test_parse``:

    - the physical structMap's divs are ``TYPE="Directory"`` (the bag, ``data``, then the
      item's folders, as on disk) down to ``TYPE="Item"`` divs, each with one ``fptr``;
      metsrw walks only Directory divs and reads a file only through an fptr;
    - a ``mets:file``'s ``ID`` is ``file-<PREMIS file UUID>`` and its ``GROUPID``
      ``Group-<UUID>``: metsrw strips ``file-`` and takes the rest as the file's UUID
      (``FSEntry.file_uuid``), so it is the PREMIS identifier, stable across rebuilds
      while the file's path and content are;
    - ``ADMID`` names ``amdSec`` IDs (metsrw's ``_add_amdsecs_to_fs_entry`` looks each
      one up as ``mets:amdSec[@ID=…]``): each file has its own amdSec with the techMD of
      its PREMIS file object, as in Archivematica, and also names the package's amdSec,
      which holds the intellectual entity and package objects, the rights statements,
      the events and the agents once (Archivematica repeats events in each file's
      amdSec; with 10,000 files and events linking all of them that would be quadratic);
    - the DC dmdSec is named by ``DMDID`` on the item's div: the Item of a one-file item,
      the item's folder Directory of a folder item (Archivematica's directory-level
      metadata).

    ``FLocat xlink:href`` is the bag path percent-encoded (``urllib.parse.quote``, only
    ``/`` kept): metsrw decodes it with ``unquote_plus``, so ``+`` must be encoded too,
    and ``;``, ``?``, ``#`` and ``%`` would otherwise be taken for URL syntax; every name
    comes back byte for byte.

    ``dc_root`` and ``premis_root`` are not changed: each is copied once and the copy's
    elements are moved into the METS document (measured cheaper than copying each).
    """
    dc_root = copy.deepcopy(dc_root)
    parts: dict[str, list[etree._Element]] = {}
    for child in copy.deepcopy(premis_root):  # one pass over the copy's top-level elements
        if isinstance(child.tag, str):
            parts.setdefault(etree.QName(child).localname, []).append(child)
    objects: dict[str, list[etree._Element]] = {}
    for obj in parts.get("object", []):
        kind = (obj.get(f"{{{XSI_NS}}}type") or "").removeprefix("premis:")
        objects.setdefault(kind, []).append(obj)
    for kind in ("intellectualEntity", "representation", "file"):
        if kind not in objects:
            raise MetadataError(f"PREMIS record has no {kind} object for METS")
    entity_id = _identifier(objects["intellectualEntity"][0], "objectIdentifier")
    package_id = _identifier(objects["representation"][0], "objectIdentifier")
    described = _file_objects(objects["file"])

    def xml_id(prefix: str, *parts: str) -> str:
        return f"{prefix}-{derive_uuid('mets', package_id, prefix, *parts)}"

    def own_id(prefix: str, identifier: str) -> str:
        # Events, rights statements and files have UUIDs of their own: their METS IDs
        # carry them (digiprovmd-<event UUID>, file-<file UUID>), with no second derivation.
        if identifier_type(identifier) == "UUID":
            return f"{prefix}-{identifier}"
        return xml_id(prefix, identifier)

    root = etree.Element(_q("mets"), nsmap=NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    root.set("OBJID", entity_id)
    root.set("LABEL", " ".join(header.label.split()))
    root.set("TYPE", "Archival Information Package")

    mets_hdr = _sub(root, "metsHdr", CREATEDATE=header.created)
    org = _sub(mets_hdr, "agent", ROLE="CREATOR", TYPE="ORGANIZATION")
    etree.SubElement(org, _q("name")).text = header.organization
    etree.SubElement(org, _q("note")).text = header.contact
    software = _sub(mets_hdr, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    etree.SubElement(software, _q("name")).text = header.software
    etree.SubElement(software, _q("note")).text = f"version {header.software_version}"
    alt = _sub(mets_hdr, "altRecordID", TYPE="PREMIS package identifier")
    alt.text = package_id

    dmd_id = xml_id("dmd", entity_id)
    _wrap(root, "dmdSec", dmd_id, "DC", [child for child in dc_root if isinstance(child.tag, str)])

    package_amd = xml_id("amd", package_id)
    amd = _sub(root, "amdSec", ID=package_amd)
    _wrap(
        amd, "techMD", xml_id("techmd", "intellectualEntity", entity_id), "PREMIS:OBJECT",
        [objects["intellectualEntity"][0]],
    )  # fmt: skip
    _wrap(
        amd, "techMD", xml_id("techmd", "representation", package_id), "PREMIS:OBJECT",
        [objects["representation"][0]],
    )  # fmt: skip
    for rights in parts.get("rights", []):
        statement = rights.find(_p("rightsStatement"))
        ident = _identifier(statement, "rightsStatementIdentifier") if statement is not None else ""
        _wrap(amd, "rightsMD", own_id("rightsmd", ident), "PREMIS:RIGHTS", [rights])
    for event in parts.get("event", []):
        ident = own_id("digiprovmd", _identifier(event, "eventIdentifier"))
        _wrap(amd, "digiprovMD", ident, "PREMIS:EVENT", [event])
    for agent in parts.get("agent", []):
        ident = xml_id("digiprovmd", "agent", _identifier(agent, "agentIdentifier"))
        _wrap(amd, "digiprovMD", ident, "PREMIS:AGENT", [agent])

    ordered = sorted(files, key=lambda f: f.path)
    file_ids: dict[str, str] = {}
    file_amds: list[tuple[str, str, etree._Element]] = []
    for item in ordered:
        match = described.get(item.path)
        if match is None:
            raise MetadataError(f"{item.path}: no PREMIS file object describes it")
        premis_id, premis_object = match
        file_ids[item.path] = own_id("file", premis_id)
        file_amds.append((own_id("amd", premis_id), own_id("techmd", premis_id), premis_object))
    for amd_id, tech_id, premis_object in file_amds:
        _wrap(_sub(root, "amdSec", ID=amd_id), "techMD", tech_id, "PREMIS:OBJECT", [premis_object])

    file_sec = _sub(root, "fileSec")
    group = _sub(file_sec, "fileGrp", USE="original")
    for item, (amd_id, _, _) in zip(ordered, file_amds, strict=True):
        digest = item.digests.get(FILESEC_ALGORITHM)
        if digest is None:
            raise MetadataError(f"{item.path}: no {FILESEC_ALGORITHM} digest for the METS fileSec")
        ident = file_ids[item.path]
        attrs = {"ID": ident, "GROUPID": "Group-" + ident.removeprefix("file-")}
        if item.mime_type:
            attrs["MIMETYPE"] = item.mime_type
        attrs["SIZE"] = str(item.size)
        attrs["CHECKSUM"] = digest
        attrs["CHECKSUMTYPE"] = CHECKSUM_TYPES[FILESEC_ALGORITHM]
        attrs["ADMID"] = f"{amd_id} {package_amd}"
        element = _sub(group, "file", **attrs)
        location = _sub(element, "FLocat", LOCTYPE="OTHER", OTHERLOCTYPE="SYSTEM")
        location.set(f"{{{XLINK_NS}}}type", "simple")
        location.set(f"{{{XLINK_NS}}}href", href(item.path))

    struct = _sub(root, "structMap", TYPE="physical", LABEL="BagIt package")
    bag_div = _sub(struct, "div", TYPE="Directory", LABEL=header.bag_name, ADMID=package_amd)
    data_div = _sub(bag_div, "div", TYPE="Directory", LABEL="data")
    directories: dict[tuple[str, ...], etree._Element] = {(): data_div}
    for path, ident in file_ids.items():
        segments = tuple(path.removeprefix("data/").split("/"))
        for depth in range(1, len(segments)):
            key = segments[:depth]
            if key not in directories:
                attrs = {"TYPE": "Directory", "LABEL": key[-1]}
                if depth == 1:
                    attrs["DMDID"] = dmd_id  # the folder item as a whole
                directories[key] = _sub(directories[key[:-1]], "div", **attrs)
        attrs = {"TYPE": "Item", "LABEL": segments[-1]}
        if len(segments) == 1:
            attrs["DMDID"] = dmd_id  # a one-file item
        _sub(_sub(directories[segments[:-1]], "div", **attrs), "fptr", FILEID=ident)
    return root


def href(path: str) -> str:
    """The ``xlink:href`` of a bag path: every character but unreserved ones and ``/``
    percent-encoded (UTF-8), so ``unquote`` and metsrw's ``unquote_plus`` give it back."""
    return quote(path, safe="/")


def serialize_xml(root: etree._Element) -> bytes:
    """A METS document's bytes: UTF-8 with an XML declaration, indented."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def file_checksums(xml_bytes: bytes, name: str) -> dict[str, tuple[str, str]]:
    """The fileSec read back: bag-relative path -> (BagIt algorithm, digest).

    Raises :class:`MetadataError` for a document that is not METS or lists a file
    without a location, a checksum or a known checksum type.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    try:
        root = etree.fromstring(xml_bytes, parser)
    except etree.XMLSyntaxError as exc:
        raise MetadataError(f"{name}: not well-formed XML: {exc}") from exc
    if root.tag != _q("mets"):
        raise MetadataError(f"{name}: the root element is not mets:mets")
    found: dict[str, tuple[str, str]] = {}
    for element in root.iter(_q("file")):
        ident = element.get("ID", "?")
        href = element.find(_q("FLocat"))
        location = href.get(f"{{{XLINK_NS}}}href") if href is not None else None
        checksum, kind = element.get("CHECKSUM"), element.get("CHECKSUMTYPE")
        if not location or not checksum or not kind:
            raise MetadataError(f"{name}: fileSec file {ident} lacks FLocat, CHECKSUM or type")
        algorithm = ALGORITHMS_BY_CHECKSUM_TYPE.get(kind)
        if algorithm is None:
            raise MetadataError(f"{name}: fileSec file {ident}: CHECKSUMTYPE {kind} not supported")
        found[unquote(location)] = (algorithm, checksum.lower())
    return found
