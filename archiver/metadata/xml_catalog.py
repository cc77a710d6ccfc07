"""The XML catalog, offline: official schema URLs served from the vendored XSDs.

Kept apart from ``archiver.metadata.validation`` so that lxml is imported only by a run
that validates XML (an audit without ``--metadata`` never does).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from archiver.metadata.validation import CATALOG_NS, METS_DRIVER_IMPORTS, XSD_NS
from archiver.model.errors import MetadataError


def read_xml_catalog(catalog: Path) -> dict[str, Path]:
    """Map every ``uri``/``system`` entry of an OASIS XML catalog to a local file."""
    tree = etree.parse(str(catalog), etree.XMLParser(no_network=True, resolve_entities=False))
    mapping: dict[str, Path] = {}
    for entry in tree.getroot():
        if not isinstance(entry.tag, str):
            continue
        if entry.tag == f"{{{CATALOG_NS}}}uri":
            key = entry.get("name")
        elif entry.tag == f"{{{CATALOG_NS}}}system":
            key = entry.get("systemId")
        else:
            continue
        target = entry.get("uri")
        if key and target:
            mapping[key] = (catalog.parent / target).resolve()
    return mapping


class CatalogResolver(etree.Resolver):
    """An lxml resolver serving catalog-mapped URLs from disk and refusing other remote URLs."""

    def __init__(self, mapping: Mapping[str, Path]) -> None:
        super().__init__()
        self._mapping = dict(mapping)

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        """Return the local copy of a mapped URL; a remote URL that is not mapped is an error."""
        if system_url is None:
            return None
        target = self._mapping.get(system_url)
        if target is not None:
            return self.resolve_filename(str(target), context)
        if "://" in system_url and not system_url.startswith("file:"):
            raise MetadataError(f"{system_url}: not in the XML catalog, refusing to fetch it")
        return None


def mets_driver_schema(xsd_dir: Path) -> etree._Element:
    """The in-memory schema importing METS, PREMIS and DC (for METS and its wrapped records)."""
    root = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xs": XSD_NS})
    for namespace, filename in METS_DRIVER_IMPORTS:
        etree.SubElement(
            root,
            f"{{{XSD_NS}}}import",
            namespace=namespace,
            schemaLocation=(xsd_dir / filename).as_uri(),
        )
    return root
