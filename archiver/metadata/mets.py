"""METS 1.12.1: the document through which a repository reads a bag as an AIP.

Pure: :func:`render_tree` builds ``metadata/mets.xml`` from the element trees of the DC
and PREMIS records (their elements are copied in, so the three documents never disagree)
and the payload files:

- ``metsHdr``: creation time, the organization and archiver as CREATOR agents;
- ``dmdSec``: the Dublin Core elements of ``dc.xml`` (``MDTYPE="DC"``);
- ``amdSec``: ``techMD`` for each PREMIS object (intellectual entity, package, file),
  ``rightsMD`` for each rights statement, ``digiprovMD`` for each event and agent;
- ``fileSec``: every payload file with MIME type, size and its SHA-256 as the one
  ``CHECKSUM`` METS allows (the SHA-512 is in the PREMIS file object), located by its
  path relative to the bag's root (``LOCTYPE="OTHER" OTHERLOCTYPE="SYSTEM"``);
- ``structMap`` (physical): the bag, its ``data/`` directory and the files.

Every ``ID`` is an XML ID (an NCName): a kind prefix and a UUID, the event's or rights
statement's own (minted for this package) or else one derived from the package's
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


def render_tree(
    header: MetsHeader,
    dc_root: etree._Element,
    premis_root: etree._Element,
    files: Sequence[MetsFile],
) -> etree._Element:
    """The METS element tree of a bag (validate it, then serialize it).

    ``dc_root`` and ``premis_root`` are not changed: each is copied once and the copy's
    elements are moved into the METS document (measured cheaper than copying each).
    """
    dc_root = copy.deepcopy(dc_root)
    parts: dict[str, list[etree._Element]] = {}
    for child in copy.deepcopy(premis_root):  # one pass over the copy's top-level elements
        if isinstance(child.tag, str):
            parts.setdefault(etree.QName(child).localname, []).append(child)
    objects = {
        (obj.get(f"{{{XSI_NS}}}type") or "").removeprefix("premis:"): obj
        for obj in parts.get("object", [])
    }
    for kind in ("intellectualEntity", "representation", "file"):
        if kind not in objects:
            raise MetadataError(f"PREMIS record has no {kind} object for METS")
    entity_id = _identifier(objects["intellectualEntity"], "objectIdentifier")
    package_id = _identifier(objects["representation"], "objectIdentifier")
    premis_file = objects["file"]
    file_id = _identifier(premis_file, "objectIdentifier")
    original_name = premis_file.findtext(_p("originalName")) or ""

    def xml_id(prefix: str, *parts: str) -> str:
        return f"{prefix}-{derive_uuid('mets', package_id, prefix, *parts)}"

    def own_id(prefix: str, identifier: str) -> str:
        # Events and rights statements have UUIDs of their own, minted for this package:
        # their METS IDs carry them (digiprovmd-<event UUID>), with no second derivation.
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

    amd = _sub(root, "amdSec", ID=xml_id("amd", package_id))
    tech = {
        "intellectualEntity": xml_id("techmd", "intellectualEntity", entity_id),
        "representation": xml_id("techmd", "representation", package_id),
        "file": xml_id("techmd", "file", file_id),
    }
    for kind in ("intellectualEntity", "representation", "file"):
        _wrap(amd, "techMD", tech[kind], "PREMIS:OBJECT", [objects[kind]])
    rights_ids: list[str] = []
    for rights in parts.get("rights", []):
        statement = rights.find(_p("rightsStatement"))
        ident = _identifier(statement, "rightsStatementIdentifier") if statement is not None else ""
        rights_ids.append(own_id("rightsmd", ident))
        _wrap(amd, "rightsMD", rights_ids[-1], "PREMIS:RIGHTS", [rights])
    event_ids: list[str] = []
    for event in parts.get("event", []):
        event_ids.append(own_id("digiprovmd", _identifier(event, "eventIdentifier")))
        _wrap(amd, "digiprovMD", event_ids[-1], "PREMIS:EVENT", [event])
    agent_ids: list[str] = []
    for agent in parts.get("agent", []):
        agent_ids.append(xml_id("digiprovmd", "agent", _identifier(agent, "agentIdentifier")))
        _wrap(amd, "digiprovMD", agent_ids[-1], "PREMIS:AGENT", [agent])

    file_sec = _sub(root, "fileSec")
    group = _sub(file_sec, "fileGrp", USE="original")
    file_ids: dict[str, str] = {}
    for item in sorted(files, key=lambda f: f.path):
        digest = item.digests.get(FILESEC_ALGORITHM)
        if digest is None:
            raise MetadataError(f"{item.path}: no {FILESEC_ALGORITHM} digest for the METS fileSec")
        described = item.path == f"data/{original_name}"
        file_ids[item.path] = xml_id("file", file_id if described else item.path)
        attrs = {"ID": file_ids[item.path]}
        if item.mime_type:
            attrs["MIMETYPE"] = item.mime_type
        attrs["SIZE"] = str(item.size)
        attrs["CHECKSUM"] = digest
        attrs["CHECKSUMTYPE"] = CHECKSUM_TYPES[FILESEC_ALGORITHM]
        if described:
            attrs["ADMID"] = " ".join([tech["file"], *rights_ids, *event_ids])
        element = _sub(group, "file", **attrs)
        location = _sub(element, "FLocat", LOCTYPE="OTHER", OTHERLOCTYPE="SYSTEM")
        location.set(f"{{{XLINK_NS}}}type", "simple")
        location.set(f"{{{XLINK_NS}}}href", quote(item.path))

    struct = _sub(root, "structMap", TYPE="physical", LABEL="BagIt package")
    bag_div = _sub(
        struct,
        "div",
        TYPE="Bag",
        LABEL=header.bag_name,
        DMDID=dmd_id,
        ADMID=" ".join(
            [tech["intellectualEntity"], tech["representation"], *rights_ids, *agent_ids]
        ),
    )
    data_div = _sub(bag_div, "div", TYPE="Directory", LABEL="data")
    for path, ident in file_ids.items():
        item_div = _sub(data_div, "div", TYPE="Item", LABEL=path.removeprefix("data/"))
        _sub(item_div, "fptr", FILEID=ident)
    return root


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
