"""The audit ledger's history as PREMIS 3 events (pure: no disk, no clock).

A bag's fixity checks (audits that hashed every file) and its deposit / replication /
transfer events become PREMIS events linked to the bag's object and to the archiver
version that ran them; ``archiver.metadata.premis.render_events_xml`` writes the document.

The identifiers are the bag's own: the object is the package object of the bag's
premis.xml (:func:`package_identity` reads it from ``premis.json``), the intellectual
entity its entity, and archiver the agent ``archiver-<version>``
(:func:`archiver.metadata.premis.software_agent_id`), so the two documents join.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archiver.model.errors import LedgerError
from archiver.model.findings import Finding, Severity
from archiver.model.identifiers import derive_uuid
from archiver.model.records import BagOutcome, LedgerEvent, RecordedEvent

if TYPE_CHECKING:  # imported where used: recording an audit needs no PREMIS (nor lxml)
    from archiver.metadata.premis import Agent, Event


def package_identity(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """(intellectual entity, package) identifiers of a bag's ``premis.json``, if it has them."""
    try:
        entity = record["intellectualEntity"]["identifier"]["value"]
        package = record["package"]["identifier"]["value"]
    except (KeyError, TypeError):
        return None
    if isinstance(entity, str) and isinstance(package, str) and entity and package:
        return entity, package
    return None


# Events whose ``target`` is where the bytes came from (a replica), not where they went.
SOURCED_EVENTS = frozenset({"recovery"})


def premis_document(
    object_identifier: str,
    history: Sequence[BagOutcome],
    events: Sequence[RecordedEvent],
    versions_by_run: Mapping[str, Mapping[str, str]],
    *,
    entity_identifier: str | None = None,
    stamps: Mapping[str, tuple[str, str]] | None = None,
) -> bytes | None:
    """The PREMIS 3 document of ``premis_events``; None when there is nothing to export.

    ``object_identifier`` is the package the events happened to; with
    ``entity_identifier`` the document also names the intellectual entity it represents.
    ``stamps``: run id -> (token genTime, TSA) of the runs with an RFC 3161 token; each
    such run of the bag adds a "digital signature generation" event by the TSA.
    """
    from archiver.metadata.premis import render_events_xml

    premis, agents = premis_events(object_identifier, history, events, versions_by_run)
    if not premis:
        return None
    if stamps:
        extra, tsas = _stamp_events(object_identifier, premis, stamps)
        premis += extra
        agents = sorted(
            {a.identifier: a for a in (*agents, *tsas)}.values(), key=lambda a: a.identifier
        )
    described = {object_identifier} | {oid for event in premis for oid, _ in event.objects}
    described.discard(entity_identifier or "")
    return render_events_xml(premis, agents, described, entity_identifier=entity_identifier)


def _agent_id(versions: Mapping[str, str]) -> str:
    from archiver.metadata.premis import software_agent_id

    return software_agent_id("archiver", versions.get("archiver"))


def _problem_summary(findings: Sequence[Finding]) -> str:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = len(findings) - len(errors)
    parts = [
        f"{f.kind} {f.path}"
        + (f" ({f.algorithm} expected {f.expected}, found {f.found})" if f.algorithm else "")
        for f in errors
    ]
    if warnings:
        parts.append(f"{warnings} warnings")
    return "; ".join(parts)


REPLACES = re.compile(r"package (\S+) replaces package (\S+)")


def replace_detail(new: str, old: str) -> str:
    """The words a replace event records about the packages (``replaced_packages``)."""
    return f"package {new} replaces package {old}"


def replaced_packages(events: Sequence[RecordedEvent]) -> list[tuple[int, str]]:
    """(seq, package replaced) of a bag's recorded replacements, oldest first."""
    found: list[tuple[int, str]] = []
    for recorded in sorted(events, key=lambda r: r.seq):
        match = REPLACES.search(recorded.event.detail)
        if match is not None:
            found.append((recorded.seq, match.group(2)))
    return found


def premis_events(
    object_identifier: str,
    history: Sequence[BagOutcome],
    events: Sequence[RecordedEvent],
    versions_by_run: Mapping[str, Mapping[str, str]],
) -> tuple[list[Event], list[Agent]]:
    """A bag's fixity checks and deposit events as PREMIS events and their agents (pure).

    Only audits that hashed every file (mode "full") are fixity checks; a "fast" or
    "completeness" audit is not exported. Each event is linked to ``object_identifier``
    (role "source") and to the archiver version that ran it ("executing program"), except
    audits made before a ``build --replace``: those checked the package it replaced, which
    the ledger's replace event names (``replaced_packages``), and are linked to that one.
    """
    from archiver.metadata.premis import Agent, Event

    replacements = replaced_packages(events)

    def checked(seq: int) -> str:
        """The package an audit recorded at ``seq`` checked."""
        for replaced_at, old in replacements:
            if seq < replaced_at:
                return old
        return object_identifier

    premis: list[Event] = []
    agents: dict[str, Agent] = {}

    def agent_for(run_id: str) -> str:
        versions = versions_by_run.get(run_id, {})
        identifier = _agent_id(versions)
        agents.setdefault(
            identifier,
            Agent(
                identifier=identifier,
                name="archiver",
                agent_type="software",
                version=versions.get("archiver"),
            ),
        )
        return identifier

    for outcome in history:
        if not outcome.is_fixity_check:
            continue
        summary = _problem_summary(outcome.findings)
        if outcome.status == "valid":
            result = "success"
            detail = "every checksum matches" + (f" ({summary})" if summary else "")
        else:
            result = "failure"
            detail = summary or f"status {outcome.status}"
        premis.append(
            Event(
                identifier=_premis_event_id("fixity check", outcome.run_id, outcome.bag),
                event_type="fixity check",
                date_time=outcome.checked,
                detail=f"archiver audit run {outcome.run_id}: every file in every manifest "
                f"re-hashed ({outcome.files} files, {outcome.bytes} bytes)",
                outcome=result,
                outcome_detail=detail,
                agents=((agent_for(outcome.run_id), "executing program"),),
                objects=((checked(outcome.seq), "source"),),
            )
        )
    for recorded in events:
        event = recorded.event
        if event.event_type in SOURCED_EVENTS and event.target:
            # the bytes came from the replica: it is the source, the bag the outcome
            objects: tuple[tuple[str, str], ...] = (
                (event.target, "source"),
                (object_identifier, "outcome"),
            )
            target = f" from {event.target}"
        else:
            objects = ((object_identifier, "source"),)
            target = f" to {event.target}" if event.target else ""
        premis.append(
            Event(
                identifier=event.identifier,
                event_type=event.event_type,
                date_time=event.date_time,
                detail=f"{event.detail}{target} (archiver run {recorded.run_id})",
                outcome=event.outcome,
                outcome_detail=event.outcome_detail or event.outcome,
                agents=((agent_for(recorded.run_id), "executing program"),),
                objects=objects,
            )
        )
    return premis, sorted(agents.values(), key=lambda a: a.identifier)


def _stamp_events(
    object_identifier: str, premis: Sequence[Event], stamps: Mapping[str, tuple[str, str]]
) -> tuple[list[Event], list[Agent]]:
    """A "digital signature generation" event per timestamped run among ``premis``."""
    from archiver.metadata.premis import Agent, Event

    runs = sorted(
        {m.group(1) for e in premis if (m := _RUN_IN_DETAIL.search(e.detail)) is not None}
    )
    events: list[Event] = []
    agents: list[Agent] = []
    for run_id in runs:
        if run_id not in stamps:
            continue
        gen_time, tsa = stamps[run_id]
        agent = Agent(derive_uuid("agent", "tsa", tsa), tsa, "organization", None, "RFC 3161 TSA")
        agents.append(agent)
        events.append(
            Event(
                identifier=_premis_event_id(
                    "digital signature generation", run_id, object_identifier
                ),
                event_type="digital signature generation",
                date_time=gen_time,
                detail=f"RFC 3161 trusted timestamp over the hash of ledger run {run_id}",
                outcome="success",
                outcome_detail=f"token genTime {gen_time}, signed by {tsa}",
                agents=((agent.identifier, "implementer"),),
                objects=((object_identifier, "source"),),
            )
        )
    return events, agents


_RUN_IN_DETAIL = re.compile(r"run ([0-9a-f-]{36})")


def _premis_event_id(event_type: str, run_id: str, bag: str) -> str:
    return derive_uuid("archiver:ledger", event_type, run_id, bag, namespace=uuid.NAMESPACE_URL)


def check_event(event: LedgerEvent) -> None:
    """Refuse an event PREMIS could not express (unknown type or outcome, naive time)."""
    from archiver.metadata.premis import EVENT_OUTCOMES, EVENT_TYPES

    where = f"event {event.event_type!r} for {event.bag}"
    if event.event_type not in EVENT_TYPES:
        raise LedgerError(f"{where}: unknown event type (known: {', '.join(sorted(EVENT_TYPES))})")
    if event.outcome not in EVENT_OUTCOMES:
        raise LedgerError(
            f"{where}: outcome {event.outcome!r} is not one of {', '.join(sorted(EVENT_OUTCOMES))}"
        )
    try:
        moment = datetime.datetime.fromisoformat(event.date_time)
    except ValueError:
        raise LedgerError(f"{where}: date_time {event.date_time!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise LedgerError(f"{where}: date_time {event.date_time!r} has no timezone")
