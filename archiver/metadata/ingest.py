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
from archiver.metadata.rights import rights_term
from archiver.metadata.validation import ACCEPTING_JSON_VALIDATOR
from archiver.model.errors import MetadataError
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
class IngestFile:
    """One payload file as characterized."""

    path: str  # its path in the bag, e.g. "data/scans/page 1.tif" or "data/Заявление 2022.txt"
    size: int
    digests: Mapping[str, str]  # sha256, sha512
    text: TextProfile
    format: FormatMatch


@dataclass(frozen=True, slots=True)
class Ingest:
    """Everything known about one catalog item when its bag is described."""

    source_name: str  # the item's name as in the catalog: a file name or a folder name
    files: tuple[IngestFile, ...]  # sorted by path; one for a one-file item
    dc: DublinCoreRecord
    time: str  # ISO 8601 with timezone
    folder: bool = False  # the item is a folder

    @property
    def size(self) -> int:
        """The payload's total size in bytes."""
        return sum(f.size for f in self.files)


@dataclass(frozen=True, slots=True)
class Timestamping:
    """An RFC 3161 token the build obtained for the bag (``archiver.timestamp``)."""

    token_path: str  # e.g. "metadata/timestamps/manifest-sha512.txt.tsr"
    stamped_path: str  # the file whose SHA-512 the token's imprint is: "manifest-sha512.txt"
    gen_time: str  # the token's genTime, ISO 8601 with timezone
    tsa: str  # the TSA's certificate subject (RFC 4514)
    serial: int  # the token's serial number at the TSA
    url: str  # where the TSA was asked


def timestamp_event(
    stamp: Timestamping, package_id: str, file_ids: Sequence[str], archiver: str
) -> tuple[Event, Agent]:
    """The PREMIS event of a trusted timestamp and the TSA as its agent.

    It links the file objects (the token covers the payload manifest, which holds every
    file's digest: Archivematica's loader imports events linked to files); the package
    links the event (``linkingEvents``).

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
        objects=tuple((file_id, "source") for file_id in file_ids),
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


@dataclass(frozen=True, slots=True)
class Replacing:
    """The package a rebuild with ``--replace`` replaces: its PREMIS package identifier,
    where the new bag keeps that package's own PREMIS record (its events, so the history
    is carried forward), and whether the payload changed or only the description."""

    package: str
    record_path: str  # e.g. "metadata/history/premis-<package>.xml"
    content_changed: bool


def _inputs_digest(
    ingest: Ingest,
    config: ArchiveConfig,
    agents: Sequence[Agent],
    replacing: Replacing | None = None,
) -> str:
    """SHA-256 over everything an ingest's record is made from: the source (name, size,
    digests), its catalog description, the archive's settings, the tools and the time."""
    inputs = {
        "collection": config.collection_id,
        "organization": config.organization_id,
        "profile": config.profile_identifier,
        "algorithms": list(config.algorithms),
        "source": ingest.source_name,
        "folder": ingest.folder,
        "files": [
            [f.path, f.size, dict(sorted(f.digests.items()))]
            for f in sorted(ingest.files, key=lambda f: f.path)
        ],
        "dc": ingest.dc.to_json(),
        "catalog": catalog_facts(ingest.dc, config),
        "agents": sorted(a.identifier for a in agents),
        "time": ingest.time,
    }
    if replacing is not None:  # absent otherwise: builds that replace nothing hash as before
        inputs["replaces"] = replacing.package
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


def file_identifier(config: ArchiveConfig, path: str, sha256: str) -> str:
    """A payload file's PREMIS identifier: derived from the collection, the file's path
    below ``data/`` and its SHA-256, so the same content at the same path keeps it (a
    one-file item's file keeps the identifier of bags built before folder items)."""
    return derive_uuid("file", config.collection_id, path.removeprefix("data/"), sha256)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _format_summary(files: Sequence[IngestFile]) -> str:
    """The format identification outcome: one file's match, or counts per PUID."""
    if len(files) == 1:
        return files[0].format.describe()
    counts: dict[str, int] = {}
    for item in files:
        key = f"{item.format.puid} ({item.format.name})" if item.format.puid else "no match"
        counts[key] = counts.get(key, 0) + 1
    parts = "; ".join(f"{key}: {n}" for key, n in sorted(counts.items()))
    return f"{_plural(len(files), 'file')} identified: {parts}; each file object names its format"


def _text_summary(files: Sequence[IngestFile]) -> str:
    if len(files) == 1:
        return files[0].text.describe()
    text = sum(1 for f in files if f.text.is_text)
    return (
        f"{_plural(len(files), 'file')}: {text} valid UTF-8 text, {len(files) - text} not text; "
        "each file object names its encoding"
    )


def _digest_summary(files: Sequence[IngestFile], algorithms: Sequence[str]) -> str:
    """One file's digests; for several, how many (every file object carries its fixity,
    so 10,000 files do not put 20,000 digests into one string)."""
    if len(files) == 1:
        return ", ".join(f"{alg} {d}" for alg, d in sorted(files[0].digests.items()))
    total = sum(f.size for f in files)
    return (
        f"{', '.join(algorithms)} digests of {_plural(len(files), 'file')} ({total} bytes), "
        "recorded in each file object's fixity"
    )


def describe_ingest(
    ingest: Ingest,
    config: ArchiveConfig,
    agents: Sequence[Agent],
    timestamp: Timestamping | None = None,
    replacing: Replacing | None = None,
) -> PremisRecord:
    """The PREMIS record for one bag: entity, package, files, events, agents and rights.

    The intellectual entity is the catalog's ``dc.identifier`` (also the bag's
    External-Identifier and its OCFL object id). Each payload file is one PREMIS file
    object (:func:`file_identifier`; ``originalName`` is its path in the bag, ``data/…``,
    which is how Archivematica's ``load_premis_events_from_xml.py`` matches it to the
    transfer's files), included in the package. Every event links the file objects it
    concerns and nothing else (that loader rejects an event linking an object that is
    not a file); the package links the package-creation event, its outcome. The
    package's, the events' and the rights statements' identifiers are derived from every
    input of the ingest (see :func:`_inputs_digest`), so a rebuild after a catalog edit
    gets new ones and a reproducible rebuild the same.
    """
    if not ingest.files:
        raise MetadataError(f"{ingest.source_name}: an item without payload files")
    files = tuple(sorted(ingest.files, key=lambda f: f.path))
    entity_id = ingest.dc.identifier or ingest.source_name
    file_ids = [file_identifier(config, f.path, f.digests["sha256"]) for f in files]
    inputs = _inputs_digest(ingest, config, agents, replacing)
    package_id = derive_uuid("package", entity_id, inputs)
    org = config.organization_id
    archiver = archiver_agent_id()
    sources = tuple((file_id, "source") for file_id in file_ids)
    algorithms = sorted({alg for f in files for alg in f.digests})

    def event(
        kind: str,
        detail: str,
        outcome_detail: str,
        actors: Sequence[tuple[str, str]],
        outcome: str = "success",
        *,
        date_time: str | None = None,
        objects: Sequence[tuple[str, str]] = sources,
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

    kind = "folder" if ingest.folder else "file"
    where = f"data/{ingest.source_name}/" if ingest.folder else files[0].path
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
        origin = f" from {capture.source}" if capture.source else ""
        captured = event(
            "capture",
            f"Source captured{origin}",
            f"Captured {capture.date} as recorded in the catalog; the {kind} "
            f"{ingest.source_name} is the captured text",
            actors,
            date_time=capture.date,
            objects=tuple((file_id, "outcome") for file_id in file_ids),
        )
        events.append(dataclasses.replace(captured, capture=_capture_json(capture)))
    copied = (
        f"{_plural(len(files), 'file')}, {ingest.size} bytes, copied unmodified into {where}"
        if ingest.folder
        else f"{ingest.size} bytes copied unmodified into {where}"
    )
    events += [
        event(
            "ingestion",
            f"Source {kind} {ingest.source_name} received from {config.organization}",
            copied,
            ((archiver, "executing program"), (org, "implementer")),
        ),
        event(
            "message digest calculation",
            f"Digests computed in one read of {'each' if ingest.folder else 'the'} file: "
            f"{', '.join(algorithms)}",
            _digest_summary(files, algorithms),
            ((archiver, "executing program"), (_agent_id(agents, "hashlib"), "executing program")),
        ),
        event(
            "format identification",
            "PRONOM format identification by signature, then "
            "by extension; valid text chooses Plain Text File among extension matches",
            _format_summary(files),
            ((_agent_id(agents, "fido"), "executing program"),),
            "success" if all(f.format.puid for f in files) else "warning",
        ),
        event(
            "validation",
            "Text encoding checked; Dublin Core, PREMIS and METS records validated "
            "against their JSON Schemas and the official XSDs",
            f"{_text_summary(files)}; metadata valid",
            (
                (_agent_id(agents, ACCEPTING_JSON_VALIDATOR), "validator"),
                (_agent_id(agents, "lxml"), "validator"),
                (archiver, "executing program"),
            ),
            "success" if all(f.text.is_text for f in files) else "warning",
        ),
        event(
            "information package creation",
            f"BagIt 1.0 package with {', '.join(config.algorithms)} manifests and tag "
            f"manifests, conforming to profile {config.profile_identifier}",
            f"Bag {package_id} written in a staging directory, validated by bagit-python "
            "and the BagIt profile, then moved into place",
            (
                (archiver, "executing program"),
                (_agent_id(agents, "bagit-python"), "validator"),
                (org, "implementer"),
            ),
        ),
    ]
    if replacing is not None:
        changed = "the source" if replacing.content_changed else "the catalog description"
        events.append(
            event(
                "modification" if replacing.content_changed else "metadata modification",
                f"Rebuilt with --replace: package {package_id} replaces package "
                f"{replacing.package}, whose PREMIS record and events are kept in "
                f"{replacing.record_path}",
                f"{changed} changed"
                + ("" if replacing.content_changed else "; the payload is the same bytes"),
                ((archiver, "executing program"), (org, "implementer")),
            )
        )
    events = [_with_derived_id(e, inputs) for e in events]
    if timestamp is not None:  # not in the inputs: a rebuild differs only by this event
        stamp_event, tsa = timestamp_event(timestamp, package_id, file_ids, archiver)
        events.append(stamp_event)
        extra_agents.append(tsa)
    package_events = tuple(
        e.identifier
        for e in events
        if e.event_type
        in (
            "information package creation",
            "digital signature generation",
            "metadata modification",
            "modification",
        )
    )
    file_objects = [
        FileObject(
            identifier=file_id,
            original_name=item.path,
            size=item.size,
            digests=dict(item.digests),
            format_name=item.format.name,
            format_version=item.format.version,
            puid=item.format.puid,
            format_registry="PRONOM",
            mime_type=item.format.mime_type,
            encoding=item.text.encoding,
        )
        for file_id, item in zip(file_ids, files, strict=True)
    ]
    return build_record(
        IntellectualEntity(entity_id),
        package_id,
        file_objects,
        events,
        (*agents, *extra_agents),
        _rights(ingest.dc, config, package_id, entity_id),
        package_events,
        sources=() if replacing is None else (replacing.package,),
    )


def _rights(
    dc: DublinCoreRecord, config: ArchiveConfig, package_id: str, entity_id: str
) -> tuple[Rights, ...]:
    """Copyright (with its RightsStatements.org statement, ``dcterms.rights``), the
    license (a Creative Commons deed, ``dcterms.license``) and the archive's policy (with
    the access rights, ``dcterms.accessRights``)."""
    org = config.organization_id
    status = dc.copyright_status
    jurisdiction = dc.copyright_jurisdiction or config.jurisdiction
    copyright_note = (
        "Copyright status as recorded in the catalog"
        if status != "unknown"
        else "Copyright status not stated in the catalog"
    )
    statement = rights_term(dc.first("dcterms.rights"))
    if statement is not None:
        copyright_note += f"; rights statement: {statement.label}"
    preservation_note = (
        f"{config.organization} keeps this work for preservation under its institutional "
        "policy: it may replicate the files and migrate them to new formats."
    )
    access = dc.first("dcterms.accessRights")
    if access:
        preservation_note += f" Access: {access}"
    rights = [
        Rights(
            identifier=derive_uuid("rights", "copyright", package_id),
            basis="copyright",
            note=copyright_note,
            copyright_status=status,
            jurisdiction=jurisdiction,
            agents=((org, "contact"),),
            objects=(entity_id,),
            documentation=statement.uri if statement else None,
            documentation_role="rights statement" if statement else None,
        ),
        Rights(
            identifier=derive_uuid("rights", "institutional policy", package_id),
            basis="institutional policy",
            note=preservation_note,
            granted=(Grant("replication"), Grant("migration")),
            agents=((org, "assignee"),),
            objects=(entity_id,),
        ),
    ]
    license_term = rights_term(dc.first("dcterms.license"))
    if license_term is not None:
        rights.append(
            Rights(
                identifier=derive_uuid("rights", "license", package_id),
                basis="license",
                note=f"Licensed under {license_term.label}",
                agents=((org, "contact"),),
                objects=(entity_id,),
                documentation=license_term.uri,
                documentation_role="license",
            )
        )
    return tuple(rights)
