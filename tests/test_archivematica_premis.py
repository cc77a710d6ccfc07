"""premis.xml as Archivematica's PREMIS loader reads it.

An emulation of ``src/MCPClient/lib/clientScripts/load_premis_events_from_xml.py``
(artefactual/archivematica), with its own parsing (metsrw's premisrw) and each check it
makes before it saves anything, cited by function:

- ``get_validated_etree``: the document is valid against the PREMIS 3 XSD;
- ``main``: files are ``premis:object[@xsi:type="premis:file"]``, then agents and events
  (``get_elements`` with ``file_element_factory`` / ``agent_element_factory`` /
  ``event_element_factory``, which read ``originalName``, ``linkingEventIdentifier``,
  ``linkingObjectIdentifier`` and ``linkingAgentIdentifier`` through premisrw);
- ``get_invalid_file_identifiers``: every file has an ``originalName`` and
  ``%transferDirectory%`` + originalName is the original location of a transfer file;
- ``print_unrelated_files`` / ``_agents`` / ``_events``: every file and every agent is
  linked to an event, and every event to a file and an agent;
- ``print_nonexistent_references``: no link names an object that is not a *file*
  object, or an agent or event not in the document;
- ``parse_datetime`` (``event_element_factory``): every eventDateTime parses;
- ``ensure_event_id_is_uuid``: event identifiers are UUIDs (else Archivematica mints
  new ones).

Any of these failing makes the loader return FAILURE for the whole transfer.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any

import metsrw
import pytest
from lxml import etree
from metadata_items import Item, build_item, folder_item

from archiver.metadata.premis import serialize_xml

XSD = Path(__file__).parent.parent / "archiver" / "metadata" / "schemas" / "xsd" / "premis-v3-0.xsd"

TRANSFER_ORIGINAL_LOCATION_PREFIX = "%transferDirectory%"
premisrw = metsrw.plugins.premisrw


class PREMISFile(premisrw.PREMISObject):  # type: ignore[misc]
    """As the loader defines it: premisrw's object plus originalName."""

    @property
    def schema(self) -> Any:
        return super().schema + (("original_name",),)


def _identifier(element: Any) -> tuple[str, str]:
    return (element.identifier_type, element.identifier_value)


def _children(element: Any, selector: str) -> set[tuple[str, str]]:
    return {(i.type, i.value) for i in element.findall(selector)}


def _elements(tree: etree._ElementTree, selector: str, factory: Any) -> dict[Any, Any]:
    root = tree.getroot()
    version = root.get("version", premisrw.PREMIS_VERSION)
    namespaces = premisrw.PREMIS_VERSIONS_MAP[version]["namespaces"]
    result = {}
    for element in tree.findall(selector, namespaces):
        if element.get("version") is None:
            element.set("version", version)
        attributes = factory(element)
        result[attributes["identifier"]] = attributes
    return result


def _file(element: Any) -> dict[str, Any]:
    premis = PREMISFile(data=premisrw.premis_to_data(element))
    name = premis.original_name
    return {
        "identifier": _identifier(premis),
        "original_name": name.strip() if isinstance(name, str) else "",
        "events": _children(premis, "linking_event_identifier"),
    }


def _agent(element: Any) -> dict[str, Any]:
    premis = premisrw.PREMISAgent(data=premisrw.premis_to_data(element))
    return {
        "identifier": _identifier(premis),
        "events": _children(premis, "linking_event_identifier"),
    }


def _event(element: Any) -> dict[str, Any]:
    premis = premisrw.PREMISEvent(data=premisrw.premis_to_data(element))
    return {
        "identifier": _identifier(premis),
        "event_id": premis.identifier_value,
        "date_time": premis.date_time,
        "files": _children(premis, "linking_object_identifier"),
        "agents": _children(premis, "linking_agent_identifier"),
    }


def loader_problems(premis_xml: bytes, transfer_files: list[str]) -> list[str]:
    """What load_premis_events_from_xml.py would log before returning FAILURE."""
    problems: list[str] = []
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    tree = etree.ElementTree(etree.fromstring(premis_xml))
    if not schema.validate(tree):
        return [f"invalid: {schema.error_log}"]
    files = _elements(tree, 'premis:object[@xsi:type="premis:file"]', _file)
    agents = _elements(tree, "premis:agent", _agent)
    events = _elements(tree, "premis:event", _event)
    locations = {TRANSFER_ORIGINAL_LOCATION_PREFIX + path for path in transfer_files}
    for ident, item in files.items():
        if not item["original_name"]:
            problems.append(f"{ident}: no originalName")
        elif TRANSFER_ORIGINAL_LOCATION_PREFIX + item["original_name"] not in locations:
            problems.append(f"{ident}: originalName {item['original_name']!r} matches no file")
    for ident, item in files.items():  # relate_files_to_events
        for event_id in item["events"]:
            if event_id in events:
                events[event_id]["files"].add(ident)
    for ident, item in agents.items():  # relate_agents_to_events
        for event_id in item["events"]:
            if event_id in events:
                events[event_id]["agents"].add(ident)
    related_files = set().union(*(e["files"] for e in events.values()))
    related_agents = set().union(*(e["agents"] for e in events.values()))
    problems += [f"{i}: file related to no event" for i in files if i not in related_files]
    problems += [f"{i}: agent related to no event" for i in agents if i not in related_agents]
    for ident, event in events.items():
        if not event["files"] or not event["agents"]:
            problems.append(f"{ident}: event without files or agents")
        if event["files"] - set(files):
            problems.append(
                f"{ident}: links objects that are not files: {event['files'] - set(files)}"
            )
        if event["agents"] - set(agents):
            problems.append(f"{ident}: links absent agents")
        value = event["date_time"]
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None:
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                problems.append(f"{ident}: eventDateTime {value!r} does not parse")
        try:
            uuid.UUID(event["event_id"], version=4)
        except ValueError:
            problems.append(f"{ident}: event identifier is not a UUID")
    for ident, item in files.items():
        if item["events"] - set(events):
            problems.append(f"{ident}: links absent events")
    return problems


@pytest.mark.parametrize(
    "item", [build_item("000_5e17403660513e1c.txt"), folder_item()], ids=["one-file", "folder"]
)
def test_archivematica_loader_accepts_premis_xml(item: Item) -> None:
    xml = serialize_xml(item.premis_tree)
    assert loader_problems(xml, sorted(item.contents)) == []


def test_the_emulation_rejects_what_the_loader_rejects() -> None:
    item = folder_item()
    xml = serialize_xml(item.premis_tree)
    # a transfer without one of the files: its originalName matches nothing
    assert any("matches no file" in p for p in loader_problems(xml, sorted(item.contents)[1:]))
    # an event linking the package (a representation, not a file): what bags did before
    root = etree.fromstring(xml)
    ns = {"premis": "http://www.loc.gov/premis/v3"}
    package = root.findtext(
        "premis:object[@xsi:type='premis:representation']/premis:objectIdentifier/"
        "premis:objectIdentifierValue",
        namespaces=ns | {"xsi": "http://www.w3.org/2001/XMLSchema-instance"},
    )
    link = root.find("premis:event/premis:linkingObjectIdentifier", ns)
    assert link is not None and package
    link.find("premis:linkingObjectIdentifierValue", ns).text = package  # type: ignore[union-attr]
    assert any(
        "not files" in p for p in loader_problems(etree.tostring(root), sorted(item.contents))
    )


def test_built_bags_premis_xml_is_accepted(built_collection: Path) -> None:
    for bag in sorted(p for p in built_collection.iterdir() if (p / "bagit.txt").is_file()):
        payload = sorted(str(p.relative_to(bag)) for p in (bag / "data").rglob("*") if p.is_file())
        xml = (bag / "metadata" / "premis.xml").read_bytes()
        assert loader_problems(xml, payload) == [], bag.name
