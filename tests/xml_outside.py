"""Outside validators: they know only an XML file and the XML catalog, not archiver.

What a repository receiving a bag would do: read the document's own ``xsi:schemaLocation``
and ``xsi:noNamespaceSchemaLocation`` hints and resolve those URLs offline through the
OASIS catalog (``schemas/xsd/catalog.xml``). Nothing here imports archiver, so a schema
that archiver assembles itself can never make a record look valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"


def catalog_mapping(catalog: Path) -> dict[str, str]:
    """URL -> local path from the catalog's ``uri`` and ``system`` entries."""
    mapping: dict[str, str] = {}
    for entry in etree.parse(str(catalog)).getroot():
        if entry.tag == f"{{{CATALOG_NS}}}uri":
            key = entry.get("name")
        elif entry.tag == f"{{{CATALOG_NS}}}system":
            key = entry.get("systemId")
        else:
            continue
        target = entry.get("uri")
        if key and target:
            mapping[key] = str((catalog.parent / target).resolve())
    return mapping


def hints(path: Path) -> tuple[list[tuple[str, str]], str | None]:
    """The root's (namespace, location) pairs and its no-namespace location, if any."""
    root = etree.parse(str(path)).getroot()
    words = (root.get(f"{{{XSI_NS}}}schemaLocation") or "").split()
    pairs = list(zip(words[0::2], words[1::2], strict=True))
    return pairs, root.get(f"{{{XSI_NS}}}noNamespaceSchemaLocation")


def errors_xmlschema(path: Path, catalog: Path) -> list[str]:
    """Validate with xmlschema from the file's own hints, local files only."""
    mapping = catalog_mapping(catalog)
    try:
        found: list[Any] = list(xmlschema.iter_errors(str(path), uri_mapper=mapping, allow="local"))
    except xmlschema.XMLSchemaException as exc:
        return [f"{type(exc).__name__}: {exc}"]
    return [str(error) for error in found]


class _Catalog(etree.Resolver):
    def __init__(self, mapping: dict[str, str]) -> None:
        super().__init__()
        self.mapping = mapping

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        if system_url in self.mapping:
            return self.resolve_filename(self.mapping[system_url], context)
        if system_url and "://" in system_url and not system_url.startswith("file:"):
            raise OSError(f"{system_url}: not in the catalog")
        return None


def errors_lxml(path: Path, catalog: Path) -> list[str]:
    """Validate with lxml/libxml2: a driver schema importing every hinted location."""
    pairs, no_namespace = hints(path)
    if not pairs and not no_namespace:
        return ["no xsi:schemaLocation or xsi:noNamespaceSchemaLocation hint"]
    driver = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xs": XSD_NS})
    if no_namespace:
        etree.SubElement(driver, f"{{{XSD_NS}}}include", schemaLocation=no_namespace)
    for namespace, location in pairs:
        etree.SubElement(
            driver, f"{{{XSD_NS}}}import", namespace=namespace, schemaLocation=location
        )
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Catalog(catalog_mapping(catalog)))
    source = etree.tostring(driver)
    base = (path.parent / "outside-driver.xsd").as_uri()
    try:
        schema = etree.XMLSchema(etree.fromstring(source, parser, base_url=base).getroottree())
    except (etree.XMLSchemaParseError, OSError) as exc:
        return [f"schema: {exc}"]
    document = etree.parse(str(path), etree.XMLParser(no_network=True))
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
