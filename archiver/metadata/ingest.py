"""The PREMIS description of one ingest: agents, events and rights for a built bag.

Pure: it turns what characterization found (digests, size, text profile, PRONOM match)
and the archive's settings into a :class:`archiver.metadata.premis.PremisRecord`. Identifiers are
derived from content, so a rebuild of the same inputs gives the same record.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version

from lxml import etree

from archiver import __version__
from archiver.build.characterize import FormatMatch, TextProfile
from archiver.config import ArchiveConfig
from archiver.metadata.dublin_core import DublinCoreRecord
from archiver.metadata.premis import (
    Agent,
    Event,
    FileObject,
    IntellectualEntity,
    PremisRecord,
    Rights,
    build_record,
    derive_uuid,
)

ARCHIVER_AGENT_ID = "archiver"


@dataclass(frozen=True, slots=True)
class Toolset:
    """The versions of the software that does the work, named in PREMIS agents."""

    fido: str
    bagit: str
    hashlib: str
    jsonschema: str
    lxml: str
    libxml2: str


def current_toolset(fido: str, bagit: str) -> Toolset:
    """The versions installed now, with FIDO's and bagit-python's as given."""
    return Toolset(
        fido=fido,
        bagit=bagit,
        hashlib=ssl.OPENSSL_VERSION,
        jsonschema=version("jsonschema"),
        lxml=".".join(str(n) for n in etree.LXML_VERSION),
        libxml2=".".join(str(n) for n in etree.LIBXML_VERSION),
    )


@dataclass(frozen=True, slots=True)
class Ingest:
    """Everything known about one source when its bag is described."""

    source_name: str
    payload_path: str
    size: int
    digests: Mapping[str, str]
    text: TextProfile
    format: FormatMatch
    dc: DublinCoreRecord
    time: str  # ISO 8601 with timezone


def agents_for(config: ArchiveConfig, tools: Toolset) -> tuple[Agent, ...]:
    """archiver, the libraries that did the work, and the organization."""
    return (
        Agent(
            ARCHIVER_AGENT_ID,
            "archiver",
            "software",
            __version__,
            "Builds BagIt 1.0 preservation packages with Dublin Core and PREMIS 3.",
        ),
        Agent(
            "hashlib",
            "Python hashlib (OpenSSL)",
            "software",
            tools.hashlib,
            "Computed the SHA-2 message digests.",
        ),
        Agent(
            "fido",
            "FIDO (Format Identification for Digital Objects)",
            "software",
            tools.fido,
            "Identified the PRONOM format.",
        ),
        Agent(
            "jsonschema",
            "jsonschema (Python)",
            "software",
            tools.jsonschema,
            "Validated the JSON metadata records (Draft 2020-12).",
        ),
        Agent(
            "lxml",
            "lxml / libxml2",
            "software",
            f"{tools.lxml} / libxml2 {tools.libxml2}",
            "Rendered the XML metadata and validated it against the official XSDs.",
        ),
        Agent(
            "bagit-python",
            "bagit-python (Library of Congress)",
            "software",
            tools.bagit,
            "Validated the finished bag before it was moved into place.",
        ),
        Agent(
            config.organization_id,
            config.organization,
            "organization",
            None,
            f"Contact: {config.contact_name} <{config.contact_email}>",
        ),
    )


def describe_ingest(ingest: Ingest, config: ArchiveConfig, agents: Sequence[Agent]) -> PremisRecord:
    """The PREMIS record for one bag: entity, file, five events, agents and rights."""
    sha256 = ingest.digests["sha256"]
    key = (config.collection_id, ingest.source_name, sha256)
    entity_id = derive_uuid("entity", *key)
    file_id = derive_uuid("file", *key)
    org = config.organization_id

    def event(
        kind: str,
        detail: str,
        outcome_detail: str,
        actors: Sequence[tuple[str, str]],
        outcome: str = "success",
    ) -> Event:
        return Event(
            identifier=derive_uuid("event", kind, *key),
            event_type=kind,
            date_time=ingest.time,
            detail=detail,
            outcome=outcome,
            outcome_detail=outcome_detail,
            agents=tuple(actors),
            objects=((file_id, "source"),),
        )

    fmt = ingest.format
    digest_list = ", ".join(f"{alg} {d}" for alg, d in sorted(ingest.digests.items()))
    events = (
        event(
            "ingestion",
            f"Source file {ingest.source_name} received from {config.organization}",
            f"{ingest.size} bytes copied unmodified into {ingest.payload_path}",
            ((ARCHIVER_AGENT_ID, "executing program"), (org, "implementer")),
        ),
        event(
            "message digest calculation",
            f"Digests computed in one read of the file: {', '.join(sorted(ingest.digests))}",
            digest_list,
            ((ARCHIVER_AGENT_ID, "executing program"), ("hashlib", "executing program")),
        ),
        event(
            "format identification",
            "PRONOM format identification by signature, then "
            "by extension; valid text chooses Plain Text File among extension matches",
            fmt.describe(),
            (("fido", "executing program"),),
            "success" if fmt.puid else "warning",
        ),
        event(
            "validation",
            "Text encoding checked; Dublin Core and PREMIS records validated "
            "against their JSON Schemas and the official XSDs",
            f"{ingest.text.describe()}; metadata valid",
            (
                ("jsonschema", "validator"),
                ("lxml", "validator"),
                (ARCHIVER_AGENT_ID, "executing program"),
            ),
            "success" if ingest.text.is_text else "warning",
        ),
        event(
            "information package creation",
            f"BagIt 1.0 package with {', '.join(config.algorithms)} manifests and tag "
            f"manifests, conforming to profile {config.profile}",
            "Bag written in a staging directory, validated by bagit-python and the BagIt "
            "profile, then moved into place",
            (
                (ARCHIVER_AGENT_ID, "executing program"),
                ("bagit-python", "validator"),
                (org, "implementer"),
            ),
        ),
    )
    file_object = FileObject(
        identifier=file_id,
        original_name=ingest.source_name,
        size=ingest.size,
        digests=dict(ingest.digests),
        format_name=fmt.name,
        format_version=fmt.version,
        puid=fmt.puid,
        format_registry="PRONOM",
        mime_type=fmt.mime_type,
        encoding=ingest.text.encoding,
    )
    status = ingest.dc.copyright_status
    rights = Rights(
        identifier=derive_uuid("rights", *key),
        basis="copyright",
        copyright_status=status,
        jurisdiction=ingest.dc.copyright_jurisdiction,
        note=(
            "Copyright status as recorded in the catalog"
            if status != "unknown"
            else "Copyright status not stated in the catalog"
        ),
        agents=((org, "implementer"),),
        objects=(entity_id,),
    )
    return build_record(
        IntellectualEntity(entity_id, ingest.dc.title), file_object, events, agents, rights
    )
