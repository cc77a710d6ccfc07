"""PREMIS 3 preservation records: objects, events, agents and rights.

The caller describes what happened with frozen dataclasses (:class:`IntellectualEntity`,
:class:`FileObject`, :class:`Event`, :class:`Agent`, :class:`Rights`);
:func:`build_record` checks them (known event types, timezone-aware times, links that
resolve, supported digest algorithms) and returns a :class:`PremisRecord`, whose JSON
form (:meth:`PremisRecord.to_json`) is the source of truth, checked against
``schemas/premis.schema.json``. :func:`render_xml` renders PREMIS 3.0 XML from that JSON;
:func:`render_events_xml` renders a standalone document holding only some events (for the
audit ledger's fixity checks).

Three objects: the intellectual entity, the package (a ``representation``: the bag) and
the file, related structurally (entity "is Represented By" package, package "includes"
file). Controlled values carry ``authority``/``authorityURI`` and their id.loc.gov URIs
(``valueURI``): event types, event outcomes, agent types, agent and object roles in events,
hash functions, relationship types, rights bases, copyright statuses, rights agent roles
and granted acts (eventType terms: id.loc.gov deprecated actionsGranted for eventType).
Identifiers are PREMIS type/value pairs: a canonical UUID string is typed ``UUID``, any
other string ``local``; ``archiver.model.identifiers.derive_uuid`` makes UUIDs from content,
so rebuilding the same input yields the same identifiers. Output is deterministic:
identical input gives identical JSON and identical XML bytes.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lxml import etree

from archiver.model.digest import HEX_LENGTHS
from archiver.model.errors import MetadataError

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PREMIS_VERSION = "3.0"
SCHEMA_LOCATION = f"{PREMIS_NS} http://www.loc.gov/standards/premis/v3/premis.xsd"
VOCABULARY = "http://id.loc.gov/vocabulary/preservation"


def _terms(scheme: str, codes: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(
        {label: f"{VOCABULARY}/{scheme}/{code}" for label, code in codes.items()}
    )


EVENT_TYPES: Mapping[str, str] = _terms(
    "eventType",
    {
        "ingestion": "ing",
        "message digest calculation": "mes",
        "format identification": "for",
        "validation": "val",
        "information package creation": "ipc",
        "fixity check": "fix",
        "replication": "rep",
        "transfer": "tra",
        "packing": "pac",
        "capture": "cap",
        # a rebuild that replaces a package: its description changed (mem), or its content (mod)
        "metadata modification": "mem",
        "modification": "mod",
        "migration": "mig",
        "recovery": "rec",
        "quarantine": "qua",
        # an RFC 3161 token: a TSA's signature over a digest and a time (archiver.timestamp)
        "digital signature generation": "dig",
    },
)
AGENT_TYPES: Mapping[str, str] = _terms(
    "agentType",
    {"software": "sof", "organization": "org", "person": "per", "hardware": "har"},
)
EVENT_AGENT_ROLES: Mapping[str, str] = _terms(
    "eventRelatedAgentRole",
    {
        "executing program": "exe",
        "implementer": "imp",
        "authorizer": "aut",
        "validator": "val",
    },
)
EVENT_OBJECT_ROLES: Mapping[str, str] = _terms(
    "eventRelatedObjectRole", {"source": "sou", "outcome": "out"}
)
# Outcome as callers name it -> (id.loc.gov label, URI).
EVENT_OUTCOMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "success": ("success", f"{VOCABULARY}/eventOutcome/suc"),
        "failure": ("fail", f"{VOCABULARY}/eventOutcome/fai"),
        "warning": ("warning", f"{VOCABULARY}/eventOutcome/war"),
    }
)
# BagIt algorithm name -> (PREMIS label, id.loc.gov cryptographicHashFunctions URI).
HASH_FUNCTIONS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "sha1": ("SHA-1", f"{VOCABULARY}/cryptographicHashFunctions/sha1"),
        "sha256": ("SHA-256", f"{VOCABULARY}/cryptographicHashFunctions/sha256"),
        "sha512": ("SHA-512", f"{VOCABULARY}/cryptographicHashFunctions/sha512"),
    }
)
RELATIONSHIP_STRUCTURAL = ("structural", f"{VOCABULARY}/relationshipType/str")
RELATIONSHIP_DERIVATION = ("derivation", f"{VOCABULARY}/relationshipType/der")
RELATIONSHIP_TYPES: Mapping[str, str] = MappingProxyType(
    dict((RELATIONSHIP_STRUCTURAL, RELATIONSHIP_DERIVATION))
)
SUBTYPE_INCLUDES = ("includes", f"{VOCABULARY}/relationshipSubType/inc")
SUBTYPE_INCLUDED_IN = ("is Included In", f"{VOCABULARY}/relationshipSubType/isi")
SUBTYPE_REPRESENTS = ("represents", f"{VOCABULARY}/relationshipSubType/rep")
SUBTYPE_REPRESENTED_BY = ("is Represented By", f"{VOCABULARY}/relationshipSubType/isr")
# A package rebuilt with --replace "has source" the package it replaces (derivation).
SUBTYPE_HAS_SOURCE = ("has source", f"{VOCABULARY}/relationshipSubType/hss")
RELATIONSHIP_SUBTYPES: Mapping[str, str] = MappingProxyType(
    dict(
        (
            SUBTYPE_INCLUDES,
            SUBTYPE_INCLUDED_IN,
            SUBTYPE_REPRESENTS,
            SUBTYPE_REPRESENTED_BY,
            SUBTYPE_HAS_SOURCE,
        )
    )
)
# Rights vocabularies (id.loc.gov): basis, copyright status (labels as the vocabulary
# spells them) and the agent roles of a rights statement (not the event roles).
RIGHTS_BASES: Mapping[str, str] = _terms(
    "rightsBasis",
    {
        "copyright": "cop",
        "institutional policy": "ins",
        "license": "lic",
        "statute": "sta",
        "other": "oth",
    },
)
COPYRIGHT_STATUSES: Mapping[str, str] = _terms(
    "copyrightStatus", {"copyrighted": "cpr", "public domain": "pub", "unknown": "unk"}
)
RIGHTS_AGENT_ROLES: Mapping[str, str] = _terms(
    "rightsRelatedAgentRole",
    {"assignee": "ase", "contact": "con", "grantor": "gra", "rightsholder": "rig"},
)
# The acts a rights statement grants are eventType terms: id.loc.gov deprecated its
# actionsGranted vocabulary in 2018 and points to eventType instead (rep, mig, ...).
JURISDICTION_AUTHORITY = ("iso3166-1", "https://www.iso.org/iso-3166-country-codes.html")


@dataclass(frozen=True)
class Agent:
    """Who or what acted: archiver and the libraries it used, or the organization."""

    identifier: str
    name: str
    agent_type: str
    version: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Event:
    """One preservation event; ``agents`` are (agent id, role), ``objects`` (object id, role)."""

    identifier: str
    event_type: str
    date_time: str
    detail: str
    outcome: str
    outcome_detail: str
    agents: tuple[tuple[str, str], ...] = ()
    objects: tuple[tuple[str, str], ...] = ()
    capture: Mapping[str, str | None] | None = None  # a capture event's catalog values


@dataclass(frozen=True)
class FileObject:
    """The preserved file: fixity, size, format (PRONOM) and original name."""

    identifier: str
    original_name: str
    size: int
    digests: Mapping[str, str]
    format_name: str
    format_version: str | None
    puid: str | None
    format_registry: str
    mime_type: str | None
    encoding: str | None
    creating_application: str | None = None


@dataclass(frozen=True)
class IntellectualEntity:
    """The work the file carries (one statement), by the identifier shared with
    ``dc.identifier``, ``External-Identifier`` and the OCFL object. Its title and the
    rest of its description are in the Dublin Core record, not in PREMIS."""

    identifier: str


@dataclass(frozen=True)
class Grant:
    """An act a rights statement permits (an eventType label, e.g. "replication")."""

    act: str
    note: str | None = None


@dataclass(frozen=True)
class Rights:
    """A rights statement; ``agents`` are (agent id, rights role), ``objects`` object ids.

    ``basis`` is a rightsBasis label; a copyright statement has ``copyright_status`` (a
    copyrightStatus label) and ``jurisdiction`` (an ISO 3166-1 alpha-2 code).
    """

    identifier: str
    basis: str
    note: str
    copyright_status: str | None = None
    jurisdiction: str | None = None
    granted: tuple[Grant, ...] = ()
    agents: tuple[tuple[str, str], ...] = ()
    objects: tuple[str, ...] = ()
    # A URI documenting the statement (a RightsStatements.org statement for copyright, a
    # Creative Commons deed for a license): PREMIS copyright/licenseDocumentationIdentifier.
    documentation: str | None = None
    documentation_role: str | None = None


@dataclass(frozen=True)
class PremisRecord:
    """A checked PREMIS record; :meth:`to_json` gives its JSON form.

    ``package`` identifies the package itself (the bag, a PREMIS representation): the
    entity is represented by it, and it includes every file (``files``, sorted by
    original name, one per payload file). ``package_events`` are the events whose
    outcome is the package itself (information package creation): the package object
    links them (``linkingEventIdentifier``), because the events themselves link only file
    objects, which is what Archivematica's PREMIS loader accepts.
    """

    entity: IntellectualEntity
    package: str
    files: tuple[FileObject, ...]
    events: tuple[Event, ...]
    agents: tuple[Agent, ...]
    rights: tuple[Rights, ...] = field(default=())
    package_events: tuple[str, ...] = field(default=())
    sources: tuple[str, ...] = field(default=())  # packages this one replaces (has source)

    @property
    def file(self) -> FileObject:
        """The first file (the only one of a one-file item)."""
        return self.files[0]

    def to_json(self) -> dict[str, Any]:
        """The JSON record (the source of truth, see ``schemas/premis.schema.json``).

        Records before folder items had one ``file`` object; these have a ``files``
        array (also for one file), which :func:`record_files` reads in either shape.
        """
        package: dict[str, Any] = {
            "identifier": identifier_json(self.package),
            "relationships": [
                _relationship_json(SUBTYPE_REPRESENTS[0], self.entity.identifier),
                *(_relationship_json(SUBTYPE_INCLUDES[0], f.identifier) for f in self.files),
                *(_relationship_json(SUBTYPE_HAS_SOURCE[0], s) for s in self.sources),
            ],
        }
        if self.package_events:
            package["linkingEvents"] = [identifier_json(e) for e in self.package_events]
        return {
            "premisVersion": PREMIS_VERSION,
            "intellectualEntity": {
                "identifier": identifier_json(self.entity.identifier),
                "relationships": [_relationship_json(SUBTYPE_REPRESENTED_BY[0], self.package)],
            },
            "package": package,
            "files": [_file_json(f, self.package) for f in self.files],
            "events": [event_json(event) for event in self.events],
            "agents": [agent_json(agent) for agent in self.agents],
            "rights": [_rights_json(rights) for rights in self.rights],
        }


def record_files(record_json: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The file objects of a ``premis.json`` record in either shape: ``files`` (an
    array, since folder items) or ``file`` (one object, bags built before)."""
    files = record_json.get("files")
    if isinstance(files, list):
        return files
    single = record_json.get("file")
    return [single] if isinstance(single, Mapping) else []


# -- identifiers -------------------------------------------------------------------------


_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")


def software_agent_id(name: str, version: str | None) -> str:
    """A software agent's identifier: its name and version (``archiver-0.1.0``).

    One version of a program is one agent, so every record naming it (a bag's
    premis.xml, the ledger's export) uses the same identifier.
    """
    token = _UNSAFE_ID_CHARS.sub("-", version or "unknown").strip("-") or "unknown"
    return f"{name}-{token}"


# What str(uuid.UUID(...)) gives: 32 lowercase hex digits grouped 8-4-4-4-12.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def identifier_type(value: str) -> str:
    """``UUID`` for a canonical UUID string (as ``str(uuid.UUID(...))`` writes it),
    ``local`` for anything else."""
    return "UUID" if _CANONICAL_UUID.fullmatch(value) else "local"


def identifier_json(value: str) -> dict[str, str]:
    """The PREMIS identifier pair for ``value``."""
    return {"type": identifier_type(value), "value": value}


# -- checks ------------------------------------------------------------------------------

# RFC 3339 (what JSON Schema's "date-time" format means), so the offset is mandatory.
_DATE_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_time(where: str, value: str) -> None:
    if _DATE_RE.match(value):  # a day (e.g. when a capture happened, no time recorded)
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or not _DATE_TIME_RE.match(value):
        if parsed is not None and parsed.tzinfo is None:
            raise MetadataError(f"{where}: date_time '{value}' has no timezone")
        raise MetadataError(
            f"{where}: date_time '{value}' is not an ISO 8601 date and time "
            "(expected YYYY-MM-DDThh:mm:ss with Z or +hh:mm)"
        )


def _check_choice(where: str, field_name: str, value: str, allowed: Iterable[str]) -> None:
    allowed = sorted(allowed)
    if value not in allowed:
        raise MetadataError(f"{where}: {field_name} '{value}' is not one of: {', '.join(allowed)}")


def _check_event(event: Event, agent_ids: set[str], object_ids: set[str] | None) -> None:
    where = f"event {event.identifier}"
    _check_choice(where, "event_type", event.event_type, EVENT_TYPES)
    _check_choice(where, "outcome", event.outcome, EVENT_OUTCOMES)
    _check_time(where, event.date_time)
    for agent_id, role in event.agents:
        _check_choice(where, "agent role", role, EVENT_AGENT_ROLES)
        if agent_id not in agent_ids:
            raise MetadataError(f"{where}: links agent '{agent_id}', which is not described")
    for object_id, role in event.objects:
        _check_choice(where, "object role", role, EVENT_OBJECT_ROLES)
        if object_ids is not None and object_id not in object_ids:
            raise MetadataError(f"{where}: links object '{object_id}', which is not described")


def _check_agent(agent: Agent) -> None:
    _check_choice(f"agent {agent.identifier}", "agent_type", agent.agent_type, AGENT_TYPES)


def _check_file(file_object: FileObject) -> None:
    where = f"file {file_object.identifier}"
    if file_object.size < 0:
        raise MetadataError(f"{where}: size {file_object.size} is negative")
    if not file_object.digests:
        raise MetadataError(f"{where}: no digests")
    for algorithm, digest in file_object.digests.items():
        _check_choice(where, "digest algorithm", algorithm, HASH_FUNCTIONS)
        length = HEX_LENGTHS[algorithm]
        if len(digest) != length or not all(c in "0123456789abcdef" for c in digest):
            raise MetadataError(
                f"{where}: {algorithm} digest '{digest}' is not {length} lowercase hex digits"
            )


def _check_rights(rights: Rights, agent_ids: set[str], object_ids: set[str]) -> None:
    where = f"rights {rights.identifier}"
    _check_choice(where, "basis", rights.basis, RIGHTS_BASES)
    if rights.basis == "copyright":
        _check_choice(where, "copyright_status", rights.copyright_status or "", COPYRIGHT_STATUSES)
        jurisdiction = rights.jurisdiction or ""
        if not re.fullmatch(r"[A-Z]{2}", jurisdiction):
            raise MetadataError(
                f"{where}: jurisdiction '{jurisdiction}' is not an ISO 3166-1 alpha-2 code"
            )
    elif rights.copyright_status is not None or rights.jurisdiction is not None:
        raise MetadataError(f"{where}: copyright status and jurisdiction need basis copyright")
    if rights.basis == "license" and not rights.documentation:
        raise MetadataError(f"{where}: a license statement needs its documentation URI")
    if rights.documentation and rights.basis not in {"copyright", "license"}:
        raise MetadataError(f"{where}: a documentation URI needs basis copyright or license")
    for grant in rights.granted:
        _check_choice(where, "granted act", grant.act, EVENT_TYPES)
    for agent_id, role in rights.agents:
        _check_choice(where, "agent role", role, RIGHTS_AGENT_ROLES)
        if agent_id not in agent_ids:
            raise MetadataError(f"{where}: links agent '{agent_id}', which is not described")
    for object_id in rights.objects:
        if object_id not in object_ids:
            raise MetadataError(f"{where}: links object '{object_id}', which is not described")


def _check_unique(identifiers: Iterable[str]) -> None:
    seen: set[str] = set()
    for identifier in identifiers:
        if identifier in seen:
            raise MetadataError(f"identifier '{identifier}' is used twice in one record")
        seen.add(identifier)


def _sorted_events(events: Iterable[Event]) -> tuple[Event, ...]:
    # Chronological; events at the same instant keep the caller's (logical) order.
    def instant(event: Event) -> datetime.datetime:
        moment = datetime.datetime.fromisoformat(event.date_time)
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)

    return tuple(sorted(events, key=instant))


def build_record(
    entity: IntellectualEntity,
    package: str,
    files: FileObject | Iterable[FileObject],
    events: Iterable[Event],
    agents: Iterable[Agent],
    rights: Rights | Iterable[Rights] = (),
    package_events: Iterable[str] = (),
    sources: Iterable[str] = (),
) -> PremisRecord:
    """Check the parts and assemble a :class:`PremisRecord` (files by original name,
    events in time order, agents and rights by identifier). Raises
    :class:`MetadataError` naming the part."""
    file_objects = (files,) if isinstance(files, FileObject) else tuple(files)
    file_objects = tuple(sorted(file_objects, key=lambda f: f.original_name))
    if not file_objects:
        raise MetadataError("PREMIS record: no file objects")
    events = tuple(events)
    agents = tuple(sorted(agents, key=lambda a: a.identifier))
    rights_list = (rights,) if isinstance(rights, Rights) else tuple(rights)
    _check_unique(
        [entity.identifier, package]
        + [f.identifier for f in file_objects]
        + [e.identifier for e in events]
        + [a.identifier for a in agents]
        + [r.identifier for r in rights_list]
    )
    _check_unique(["name " + f.original_name for f in file_objects])
    for file_object in file_objects:
        _check_file(file_object)
    for agent in agents:
        _check_agent(agent)
    agent_ids = {a.identifier for a in agents}
    object_ids = {entity.identifier, package, *(f.identifier for f in file_objects)}
    for event in events:
        _check_event(event, agent_ids, object_ids)
    event_ids = {e.identifier for e in events}
    linked = tuple(package_events)
    for event_id in linked:
        if event_id not in event_ids:
            raise MetadataError(f"package {package}: links event '{event_id}', not described")
    for statement in rights_list:
        _check_rights(statement, agent_ids, object_ids)
    return PremisRecord(
        entity=entity,
        package=package,
        files=file_objects,
        events=_sorted_events(events),
        agents=agents,
        rights=tuple(sorted(rights_list, key=lambda r: r.identifier)),
        package_events=linked,
        sources=tuple(sources),
    )


# -- JSON --------------------------------------------------------------------------------


def _relationship_json(subtype: str, related: str) -> dict[str, Any]:
    kind = RELATIONSHIP_DERIVATION if subtype == SUBTYPE_HAS_SOURCE[0] else RELATIONSHIP_STRUCTURAL
    return {
        "type": kind[0],
        "subType": subtype,
        "relatedObject": identifier_json(related),
    }


def _file_json(file_object: FileObject, package_id: str) -> dict[str, Any]:
    return {
        "identifier": identifier_json(file_object.identifier),
        "originalName": file_object.original_name,
        "size": file_object.size,
        "fixity": [
            {"algorithm": name, "digest": file_object.digests[name]}
            for name in sorted(file_object.digests)
        ],
        "format": {
            "name": file_object.format_name,
            "version": file_object.format_version,
            "registry": file_object.format_registry,
            "registryKey": file_object.puid,
            "mimeType": file_object.mime_type,
        },
        "encoding": file_object.encoding,
        "creatingApplication": file_object.creating_application,
        "relationships": [_relationship_json(SUBTYPE_INCLUDED_IN[0], package_id)],
    }


def event_json(event: Event) -> dict[str, Any]:
    """The JSON form of one event (as in ``premis.json`` ``events``)."""
    return {
        "identifier": identifier_json(event.identifier),
        "type": event.event_type,
        "typeURI": EVENT_TYPES[event.event_type],
        "dateTime": event.date_time,
        "detail": event.detail,
        "outcome": event.outcome,
        "outcomeDetail": event.outcome_detail,
        "linkingAgents": [
            {"identifier": identifier_json(agent_id), "role": role}
            for agent_id, role in event.agents
        ],
        "linkingObjects": [
            {"identifier": identifier_json(object_id), "role": role}
            for object_id, role in event.objects
        ],
    } | ({"capture": dict(event.capture)} if event.capture is not None else {})


def agent_json(agent: Agent) -> dict[str, Any]:
    """The JSON form of one agent (as in ``premis.json`` ``agents``)."""
    return {
        "identifier": identifier_json(agent.identifier),
        "name": agent.name,
        "type": agent.agent_type,
        "version": agent.version,
        "note": agent.note,
    }


def _rights_json(rights: Rights) -> dict[str, Any]:
    return {
        "identifier": identifier_json(rights.identifier),
        "basis": rights.basis,
        "copyrightStatus": rights.copyright_status,
        "jurisdiction": rights.jurisdiction,
        "note": rights.note,
        "granted": [{"act": grant.act, "note": grant.note} for grant in rights.granted],
        "linkingObjects": [identifier_json(object_id) for object_id in rights.objects],
        "linkingAgents": [
            {"identifier": identifier_json(agent_id), "role": role}
            for agent_id, role in rights.agents
        ],
    } | (
        {"documentation": {"uri": rights.documentation, "role": rights.documentation_role}}
        if rights.documentation
        else {}
    )


# -- XML (rendered from the JSON form) ---------------------------------------------------


def _q(name: str) -> str:
    return f"{{{PREMIS_NS}}}{name}"


def _add(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, _q(name), attrs)
    if text is not None:
        element.text = text
    return element


def _add_term(
    parent: etree._Element, name: str, label: str, authority: str, value_uri: str
) -> None:
    _add(
        parent,
        name,
        label,
        authority=authority,
        authorityURI=f"{VOCABULARY}/{authority}",
        valueURI=value_uri,
    )


def _add_identifier(parent: etree._Element, element: str, prefix: str, ident: Any) -> Any:
    container = _add(parent, element)
    _add(container, f"{prefix}Type", ident["type"])
    _add(container, f"{prefix}Value", ident["value"])
    return container


def _root() -> etree._Element:
    root = etree.Element(_q("premis"), nsmap={"premis": PREMIS_NS, "xsi": XSI_NS})
    root.set("version", PREMIS_VERSION)
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    return root


def _object(root: etree._Element, kind: str) -> Any:
    element = _add(root, "object")
    element.set(f"{{{XSI_NS}}}type", f"premis:{kind}")
    return element


def _add_relationship(parent: etree._Element, relationship: Mapping[str, Any]) -> None:
    container = _add(parent, "relationship")
    _add_term(
        container, "relationshipType", relationship["type"], "relationshipType",
        RELATIONSHIP_TYPES[relationship["type"]],
    )  # fmt: skip
    _add_term(
        container, "relationshipSubType", relationship["subType"], "relationshipSubType",
        RELATIONSHIP_SUBTYPES[relationship["subType"]],
    )  # fmt: skip
    _add_identifier(
        container, "relatedObjectIdentifier", "relatedObjectIdentifier",
        relationship["relatedObject"],
    )  # fmt: skip


def _entity_xml(root: etree._Element, entity: Mapping[str, Any], kind: str) -> None:
    element = _object(root, kind)
    _add_identifier(element, "objectIdentifier", "objectIdentifier", entity["identifier"])
    for relationship in entity.get("relationships", []):
        _add_relationship(element, relationship)
    for event_id in entity.get("linkingEvents", []):
        _add_identifier(element, "linkingEventIdentifier", "linkingEventIdentifier", event_id)


def _file_xml(root: etree._Element, file_json: Mapping[str, Any]) -> None:
    element = _object(root, "file")
    _add_identifier(element, "objectIdentifier", "objectIdentifier", file_json["identifier"])
    characteristics = _add(element, "objectCharacteristics")
    _add(characteristics, "compositionLevel", "0")
    for fixity in file_json["fixity"]:
        label, uri = HASH_FUNCTIONS[fixity["algorithm"]]
        container = _add(characteristics, "fixity")
        _add_term(container, "messageDigestAlgorithm", label, "cryptographicHashFunctions", uri)
        _add(container, "messageDigest", fixity["digest"])
    _add(characteristics, "size", str(file_json["size"]))
    fmt = file_json["format"]
    format_element = _add(characteristics, "format")
    designation = _add(format_element, "formatDesignation")
    _add(designation, "formatName", fmt["name"])
    if fmt.get("version"):
        _add(designation, "formatVersion", fmt["version"])
    if fmt.get("registryKey"):
        registry = _add(format_element, "formatRegistry")
        _add(registry, "formatRegistryName", fmt["registry"])
        _add(registry, "formatRegistryKey", fmt["registryKey"])
    if fmt.get("mimeType"):
        _add(format_element, "formatNote", f"MIME type: {fmt['mimeType']}")
    if file_json.get("encoding"):
        _add(format_element, "formatNote", f"Character encoding: {file_json['encoding']}")
    if file_json.get("creatingApplication"):
        application = _add(characteristics, "creatingApplication")
        _add(application, "creatingApplicationName", file_json["creatingApplication"])
    _add(element, "originalName", file_json["originalName"])
    for relationship in file_json.get("relationships", []):
        _add_relationship(element, relationship)


def _event_xml(root: etree._Element, event: Mapping[str, Any]) -> None:
    element = _add(root, "event")
    _add_identifier(element, "eventIdentifier", "eventIdentifier", event["identifier"])
    _add_term(element, "eventType", event["type"], "eventType", event["typeURI"])
    _add(element, "eventDateTime", event["dateTime"])
    detail = _add(element, "eventDetailInformation")
    _add(detail, "eventDetail", event["detail"])
    outcome_label, outcome_uri = EVENT_OUTCOMES[event["outcome"]]
    outcome = _add(element, "eventOutcomeInformation")
    _add_term(outcome, "eventOutcome", outcome_label, "eventOutcome", outcome_uri)
    outcome_detail = _add(outcome, "eventOutcomeDetail")
    _add(outcome_detail, "eventOutcomeDetailNote", event["outcomeDetail"])
    for link in event["linkingAgents"]:
        container = _add_identifier(
            element, "linkingAgentIdentifier", "linkingAgentIdentifier", link["identifier"]
        )
        _add_term(
            container, "linkingAgentRole", link["role"], "eventRelatedAgentRole",
            EVENT_AGENT_ROLES[link["role"]],
        )  # fmt: skip
    for link in event["linkingObjects"]:
        container = _add_identifier(
            element, "linkingObjectIdentifier", "linkingObjectIdentifier", link["identifier"]
        )
        _add_term(
            container, "linkingObjectRole", link["role"], "eventRelatedObjectRole",
            EVENT_OBJECT_ROLES[link["role"]],
        )  # fmt: skip


def _agent_xml(root: etree._Element, agent: Mapping[str, Any]) -> None:
    element = _add(root, "agent")
    _add_identifier(element, "agentIdentifier", "agentIdentifier", agent["identifier"])
    _add(element, "agentName", agent["name"])
    _add_term(element, "agentType", agent["type"], "agentType", AGENT_TYPES[agent["type"]])
    if agent.get("version"):
        _add(element, "agentVersion", agent["version"])
    if agent.get("note"):
        _add(element, "agentNote", agent["note"])


def _rights_xml(root: etree._Element, rights: Mapping[str, Any]) -> None:
    statement = _add(_add(root, "rights"), "rightsStatement")
    _add_identifier(
        statement, "rightsStatementIdentifier", "rightsStatementIdentifier", rights["identifier"]
    )
    basis = rights["basis"]
    _add_term(statement, "rightsBasis", basis, "rightsBasis", RIGHTS_BASES[basis])
    if basis == "copyright":
        copyright_info = _add(statement, "copyrightInformation")
        status = rights["copyrightStatus"]
        _add_term(
            copyright_info, "copyrightStatus", status, "copyrightStatus",
            COPYRIGHT_STATUSES[status],
        )  # fmt: skip
        authority, authority_uri = JURISDICTION_AUTHORITY
        _add(
            copyright_info, "copyrightJurisdiction", rights["jurisdiction"],
            authority=authority, authorityURI=authority_uri,
        )  # fmt: skip
        _add(copyright_info, "copyrightNote", rights["note"])
        _add_documentation(copyright_info, "copyrightDocumentation", rights.get("documentation"))
    elif basis == "license":
        license_info = _add(statement, "licenseInformation")
        _add_documentation(license_info, "licenseDocumentation", rights.get("documentation"))
        _add(license_info, "licenseNote", rights["note"])
    for grant in rights.get("granted", []):
        granted = _add(statement, "rightsGranted")
        _add_term(granted, "act", grant["act"], "eventType", EVENT_TYPES[grant["act"]])
        if basis not in {"copyright", "license"} and rights["note"]:
            _add(granted, "rightsGrantedNote", rights["note"])
        if grant.get("note"):
            _add(granted, "rightsGrantedNote", grant["note"])
    for ident in rights["linkingObjects"]:
        _add_identifier(statement, "linkingObjectIdentifier", "linkingObjectIdentifier", ident)
    for link in rights["linkingAgents"]:
        container = _add_identifier(
            statement, "linkingAgentIdentifier", "linkingAgentIdentifier", link["identifier"]
        )
        _add_term(
            container, "linkingAgentRole", link["role"], "rightsRelatedAgentRole",
            RIGHTS_AGENT_ROLES[link["role"]],
        )  # fmt: skip


def _add_documentation(
    parent: etree._Element, prefix: str, documentation: Mapping[str, Any] | None
) -> None:
    if not documentation:
        return
    container = _add(parent, f"{prefix}Identifier")
    _add(container, f"{prefix}IdentifierType", "URI")
    _add(container, f"{prefix}IdentifierValue", documentation["uri"])
    if documentation.get("role"):
        _add(container, f"{prefix}Role", documentation["role"])


def serialize_xml(root: etree._Element) -> bytes:
    """A PREMIS document's bytes: UTF-8 with an XML declaration, indented."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render_xml(record_json: Mapping[str, Any]) -> bytes:
    """PREMIS 3.0 XML rendered from a record's JSON form (deterministic bytes)."""
    return serialize_xml(render_tree(record_json))


def render_tree(record_json: Mapping[str, Any]) -> etree._Element:
    """The PREMIS 3.0 element tree of :func:`render_xml` (to validate it before writing)."""
    return TreeRenderer().render(record_json)


class TreeRenderer:
    """Renders records as PREMIS element trees, reusing each agent's rendered subtree.

    The agents of a build run are the same in every record; a renderer kept for the run
    renders each distinct agent once and appends a copy of it (the bytes serialized are
    identical to rendering it afresh).
    """

    def __init__(self) -> None:
        self._agents: dict[str, etree._Element] = {}

    def _agent(self, agent: Mapping[str, Any]) -> etree._Element:
        key = repr(sorted(agent.items()))
        element = self._agents.get(key)
        if element is None:
            scratch = _root()
            _agent_xml(scratch, agent)
            element = self._agents[key] = scratch[0]
        return copy.deepcopy(element)

    def render(self, record_json: Mapping[str, Any]) -> etree._Element:
        """The PREMIS 3.0 element tree of a record's JSON form."""
        try:
            root = _root()
            _entity_xml(root, record_json["intellectualEntity"], "intellectualEntity")
            _entity_xml(root, record_json["package"], "representation")
            files = record_files(record_json)
            if not files:
                raise KeyError("files")
            for file_json in files:
                _file_xml(root, file_json)
            for event in record_json["events"]:
                _event_xml(root, event)
            for agent in record_json["agents"]:
                root.append(self._agent(agent))
            for rights in record_json.get("rights", []):
                _rights_xml(root, rights)
        except (KeyError, TypeError, AttributeError) as exc:
            raise MetadataError(f"PREMIS JSON record: missing or malformed field {exc}") from exc
        return root


def render_events_xml(
    events: Sequence[Event],
    agents: Sequence[Agent],
    object_identifiers: Iterable[str],
    *,
    entity_identifier: str | None = None,
) -> bytes:
    """A standalone, XSD-valid PREMIS document holding just ``events`` and their agents.

    PREMIS requires at least one object: each identifier in ``object_identifiers`` is
    written as a minimal ``representation`` object that only carries the identifier, a
    reference to the object described in full elsewhere (the package object of the bag's
    premis.xml). With ``entity_identifier`` the intellectual entity is written too, and
    each representation says it represents it, as in the bag's premis.xml.
    """
    object_ids = sorted(set(object_identifiers))
    if not object_ids:
        raise MetadataError("PREMIS events document: at least one object identifier is needed")
    agents = sorted(agents, key=lambda a: a.identifier)
    _check_unique([e.identifier for e in events] + [a.identifier for a in agents])
    for agent in agents:
        _check_agent(agent)
    agent_ids = {a.identifier for a in agents}
    known = set(object_ids) | ({entity_identifier} if entity_identifier else set())
    for event in events:
        _check_event(event, agent_ids, known)
    root = _root()
    if entity_identifier:
        _entity_xml(
            root,
            {
                "identifier": identifier_json(entity_identifier),
                "relationships": [
                    _relationship_json(SUBTYPE_REPRESENTED_BY[0], object_id)
                    for object_id in object_ids
                ],
            },
            "intellectualEntity",
        )
    for object_id in object_ids:
        relationships = (
            [_relationship_json(SUBTYPE_REPRESENTS[0], entity_identifier)]
            if entity_identifier
            else []
        )
        _entity_xml(
            root,
            {"identifier": identifier_json(object_id), "relationships": relationships},
            "representation",
        )
    for event in _sorted_events(events):
        _event_xml(root, event_json(event))
    for agent in agents:
        _agent_xml(root, agent_json(agent))
    return serialize_xml(root)
