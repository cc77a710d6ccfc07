"""The PREMIS description of one ingest: agents, events and rights for a built bag.

Pure: it turns what characterization found (digests, size, text profile, PRONOM match)
and the archive's settings into a :class:`archiver.metadata.premis.PremisRecord`. Identifiers are
derived from the inputs, so a rebuild of the same inputs gives the same record and a
rebuild after any change (a catalog edit, another time) new event, package and rights
identifiers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from lxml import etree

from archiver import __version__
from archiver.metadata.dublin_core import Capture, DublinCoreRecord
from archiver.metadata.premis import (
    Agent,
    Event,
    FileObject,
    Grant,
    IntellectualEntity,
    PremisRecord,
    Rights,
    build_record,
    software_agent_id,
)
from archiver.metadata.validation import ACCEPTING_JSON_VALIDATOR
from archiver.model.formats import FormatMatch, TextProfile
from archiver.model.identifiers import derive_uuid
from archiver.model.settings import ArchiveConfig


@dataclass(frozen=True, slots=True)
class Toolset:
    """The versions of the software that does the work, named in PREMIS agents."""

    fido: str
    bagit: str
    hashlib: str
    json_validator: str  # the version of ACCEPTING_JSON_VALIDATOR
    lxml: str
    libxml2: str


def current_toolset(fido: str, bagit: str) -> Toolset:
    """The versions installed now, with FIDO's and bagit-python's as given."""
    return Toolset(
        fido=fido,
        bagit=bagit,
        hashlib=ssl.OPENSSL_VERSION,
        json_validator=version(ACCEPTING_JSON_VALIDATOR),
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


@dataclass(frozen=True, slots=True)
class Timestamping:
    """An RFC 3161 token the build obtained for the bag (``archiver.timestamp``)."""

    token_path: str  # e.g. "metadata/timestamps/manifest-sha512.txt.tsr"
    stamped_path: str  # the file whose SHA-512 the token's imprint is: "manifest-sha512.txt"
    gen_time: str  # the token's genTime, ISO 8601 with timezone
    tsa: str  # the TSA's certificate subject (RFC 4514)
    serial: int  # the token's serial number at the TSA
    url: str  # where the TSA was asked


def timestamp_event(stamp: Timestamping, package_id: str, archiver: str) -> tuple[Event, Agent]:
    """The PREMIS event of a trusted timestamp and the TSA as its agent.

    The eventType is id.loc.gov's "digital signature generation" (``dig``): a TSA's token
    is a signature (CMS SignedData) by a third party over the digest of the payload
    manifest and the time; no other term of the vocabulary names a signature made over a
    digest, and "message digest calculation" is the digest itself. The event's time is the
    token's genTime, the TSA's clock, not ours.
    """
    tsa = Agent(
        derive_uuid("agent", "tsa", stamp.tsa),
        stamp.tsa,
        "organization",
        None,
        f"RFC 3161 Time-Stamp Authority at {stamp.url}",
    )
    event = Event(
        identifier=derive_uuid("event", "timestamp", package_id, stamp.gen_time, str(stamp.serial)),
        event_type="digital signature generation",
        date_time=stamp.gen_time,
        detail=f"RFC 3161 trusted timestamp requested over the SHA-512 of {stamp.stamped_path}",
        outcome="success",
        outcome_detail=(
            f"Token {stamp.token_path} (serial {stamp.serial}), genTime {stamp.gen_time}, "
            f"signed by {stamp.tsa}; checked against the configured CA"
        ),
        agents=((tsa.identifier, "implementer"), (archiver, "executing program")),
        objects=((package_id, "source"),),
    )
    return event, tsa


def agents_for(config: ArchiveConfig, tools: Toolset) -> tuple[Agent, ...]:
    """archiver, the libraries that did the work, and the organization.

    Software agents are identified by name and version (:func:`software_agent_id`), so a
    bag's premis.xml and the ledger's export name archiver by the same identifier.
    """
    return (
        Agent(
            archiver_agent_id(),
            "archiver",
            "software",
            __version__,
            "Builds BagIt 1.0 preservation packages with Dublin Core, PREMIS 3 and METS.",
        ),
        Agent(
            software_agent_id("hashlib", tools.hashlib),
            "Python hashlib (OpenSSL)",
            "software",
            tools.hashlib,
            "Computed the SHA-2 message digests.",
        ),
        Agent(
            software_agent_id("fido", tools.fido),
            "FIDO (Format Identification for Digital Objects)",
            "software",
            tools.fido,
            "Identified the PRONOM format.",
        ),
        Agent(
            software_agent_id(ACCEPTING_JSON_VALIDATOR, tools.json_validator),
            "jsonschema-rs (Rust, Python bindings)",
            "software",
            tools.json_validator,
            "Validated the JSON metadata records (Draft 2020-12).",
        ),
        Agent(
            software_agent_id("lxml", f"{tools.lxml}-libxml2-{tools.libxml2}"),
            "lxml / libxml2",
            "software",
            f"{tools.lxml} / libxml2 {tools.libxml2}",
            "Rendered the XML metadata and validated it against the official XSDs.",
        ),
        Agent(
            software_agent_id("bagit-python", tools.bagit),
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


def archiver_agent_id() -> str:
    """The identifier of this archiver version as a PREMIS agent (``archiver-0.1.0``)."""
    return software_agent_id("archiver", __version__)


def _agent_id(agents: Sequence[Agent], name: str) -> str:
    for agent in agents:
        if agent.identifier.startswith(f"{name}-") and agent.agent_type == "software":
            return agent.identifier
    return software_agent_id(name, None)


def catalog_facts(dc: DublinCoreRecord, config: ArchiveConfig) -> dict[str, Any]:
    """What the PREMIS record takes from the catalog row beyond the DC record (and the
    archive's default jurisdiction): a rebuild must notice when one of these changes."""
    capture = dc.capture
    return {
        "copyrightStatus": dc.copyright_status,
        "jurisdiction": dc.copyright_jurisdiction or config.jurisdiction,
        "capture": None if capture is None else _capture_json(capture),
    }


def _capture_json(capture: Capture) -> dict[str, str | None]:
    return {
        "source": capture.source,
        "date": capture.date,
        "agent": capture.agent,
        "agentType": capture.agent_type if capture.agent else None,
    }


def catalog_facts_from_premis(record: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`catalog_facts` as recorded in an existing ``premis.json`` (for comparison)."""
    copyright_status = jurisdiction = None
    for rights in record.get("rights", []):
        if rights.get("basis") == "copyright":
            copyright_status, jurisdiction = (
                rights.get("copyrightStatus"),
                rights.get("jurisdiction"),
            )
    capture = None
    for event in record.get("events", []):
        if event.get("type") == "capture":
            capture = event.get("capture")
    return {"copyrightStatus": copyright_status, "jurisdiction": jurisdiction, "capture": capture}


def _inputs_digest(ingest: Ingest, config: ArchiveConfig, agents: Sequence[Agent]) -> str:
    """SHA-256 over everything an ingest's record is made from: the source (name, size,
    digests), its catalog description, the archive's settings, the tools and the time."""
    inputs = {
        "collection": config.collection_id,
        "organization": config.organization_id,
        "profile": config.profile_identifier,
        "algorithms": list(config.algorithms),
        "source": ingest.source_name,
        "size": ingest.size,
        "digests": dict(sorted(ingest.digests.items())),
        "dc": ingest.dc.to_json(),
        "catalog": catalog_facts(ingest.dc, config),
        "agents": sorted(a.identifier for a in agents),
        "time": ingest.time,
    }
    encoded = json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _with_derived_id(event: Event, inputs: str) -> Event:
    """The event with an identifier derived from all of its content and the ingest's inputs."""
    parts = [event.event_type, event.date_time, event.detail, event.outcome, event.outcome_detail]
    parts += [f"{agent}\x1e{role}" for agent, role in event.agents]
    parts += [f"{obj}\x1e{role}" for obj, role in event.objects]
    if event.capture is not None:
        parts += [f"{key}\x1e{value}" for key, value in sorted(event.capture.items())]
    return dataclasses.replace(event, identifier=derive_uuid("event", inputs, *parts))


def describe_ingest(
    ingest: Ingest,
    config: ArchiveConfig,
    agents: Sequence[Agent],
    timestamp: Timestamping | None = None,
) -> PremisRecord:
    """The PREMIS record for one bag: entity, package, file, events, agents and rights.

    The intellectual entity is the catalog's ``dc.identifier`` (also the bag's
    External-Identifier and its OCFL object id). The file's identifier is derived from
    its content, so the same bytes keep it; the package's, the events' and the rights
    statements' are derived from every input of the ingest (see :func:`_inputs_digest`),
    so a rebuild after a catalog edit gets new ones and a reproducible rebuild the same.
    """
    sha256 = ingest.digests["sha256"]
    entity_id = ingest.dc.identifier or ingest.source_name
    file_id = derive_uuid("file", config.collection_id, ingest.source_name, sha256)
    inputs = _inputs_digest(ingest, config, agents)
    package_id = derive_uuid("package", entity_id, inputs)
    org = config.organization_id
    archiver = archiver_agent_id()

    def event(
        kind: str,
        detail: str,
        outcome_detail: str,
        actors: Sequence[tuple[str, str]],
        outcome: str = "success",
        *,
        date_time: str | None = None,
        objects: Sequence[tuple[str, str]] = ((file_id, "source"),),
    ) -> Event:
        return Event(
            identifier="",
            event_type=kind,
            date_time=date_time or ingest.time,
            detail=detail,
            outcome=outcome,
            outcome_detail=outcome_detail,
            agents=tuple(actors),
            objects=tuple(objects),
        )

    fmt = ingest.format
    digest_list = ", ".join(f"{alg} {d}" for alg, d in sorted(ingest.digests.items()))
    extra_agents: list[Agent] = []
    events: list[Event] = []
    capture = ingest.dc.capture
    if capture is not None:
        actors: list[tuple[str, str]] = [(org, "implementer")]
        if capture.agent:
            capturer = Agent(
                derive_uuid("agent", capture.agent_type, capture.agent),
                capture.agent,
                capture.agent_type,
                None,
                "Captured the source (catalog column premis.captureAgent).",
            )
            extra_agents.append(capturer)
            actors = [(capturer.identifier, "implementer")]
        where = f" from {capture.source}" if capture.source else ""
        captured = event(
            "capture",
            f"Source captured{where}",
            f"Captured {capture.date} as recorded in the catalog; the file "
            f"{ingest.source_name} is the captured text",
            actors,
            date_time=capture.date,
            objects=((file_id, "outcome"),),
        )
        events.append(
            dataclasses.replace(
                captured,
                capture=_capture_json(capture),
            )
        )
    events += [
        event(
            "ingestion",
            f"Source file {ingest.source_name} received from {config.organization}",
            f"{ingest.size} bytes copied unmodified into {ingest.payload_path}",
            ((archiver, "executing program"), (org, "implementer")),
        ),
        event(
            "message digest calculation",
            f"Digests computed in one read of the file: {', '.join(sorted(ingest.digests))}",
            digest_list,
            ((archiver, "executing program"), (_agent_id(agents, "hashlib"), "executing program")),
        ),
        event(
            "format identification",
            "PRONOM format identification by signature, then "
            "by extension; valid text chooses Plain Text File among extension matches",
            fmt.describe(),
            ((_agent_id(agents, "fido"), "executing program"),),
            "success" if fmt.puid else "warning",
        ),
        event(
            "validation",
            "Text encoding checked; Dublin Core, PREMIS and METS records validated "
            "against their JSON Schemas and the official XSDs",
            f"{ingest.text.describe()}; metadata valid",
            (
                (_agent_id(agents, ACCEPTING_JSON_VALIDATOR), "validator"),
                (_agent_id(agents, "lxml"), "validator"),
                (archiver, "executing program"),
            ),
            "success" if ingest.text.is_text else "warning",
        ),
        event(
            "information package creation",
            f"BagIt 1.0 package with {', '.join(config.algorithms)} manifests and tag "
            f"manifests, conforming to profile {config.profile_identifier}",
            "Bag written in a staging directory, validated by bagit-python and the BagIt "
            "profile, then moved into place",
            (
                (archiver, "executing program"),
                (_agent_id(agents, "bagit-python"), "validator"),
                (org, "implementer"),
            ),
            objects=((file_id, "source"), (package_id, "outcome")),
        ),
    ]
    events = [_with_derived_id(e, inputs) for e in events]
    if timestamp is not None:  # not in the inputs: a rebuild differs only by this event
        stamp_event, tsa = timestamp_event(timestamp, package_id, archiver)
        events.append(stamp_event)
        extra_agents.append(tsa)
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
    jurisdiction = ingest.dc.copyright_jurisdiction or config.jurisdiction
    copyright_note = (
        "Copyright status as recorded in the catalog"
        if status != "unknown"
        else "Copyright status not stated in the catalog"
    )
    preservation_note = (
        f"{config.organization} keeps this work for preservation under its institutional "
        "policy: it may replicate the files and migrate them to new formats."
    )
    rights = (
        Rights(
            identifier=derive_uuid("rights", "copyright", package_id),
            basis="copyright",
            note=copyright_note,
            copyright_status=status,
            jurisdiction=jurisdiction,
            agents=((org, "contact"),),
            objects=(entity_id,),
        ),
        Rights(
            identifier=derive_uuid("rights", "institutional policy", package_id),
            basis="institutional policy",
            note=preservation_note,
            granted=(Grant("replication"), Grant("migration")),
            agents=((org, "assignee"),),
            objects=(entity_id,),
        ),
    )
    return build_record(
        IntellectualEntity(entity_id),
        package_id,
        file_object,
        events,
        (*agents, *extra_agents),
        rights,
    )
