"""A second, independent XSD validator for the tests: the ``xmlschema`` package.

archiver validates XML with lxml; the tests check the vendored XSDs and archiver's XML
again with ``xmlschema`` (local files only, the same XML catalog mapping), so a quirk of
libxml2 cannot hide a problem. Only the tests use ``xmlschema`` (the ``test`` extra).
"""

from __future__ import annotations

from typing import Any

import xmlschema
from lxml import etree

from archiver.metadata.validation import SchemaSet, XmlSchemaName
from archiver.metadata.xml_catalog import mets_driver_schema
from archiver.model.errors import MetadataError


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def compile_schema(schemas: SchemaSet, which: XmlSchemaName) -> Any:
    """The ``xmlschema.XMLSchema`` for ``which``, local files only."""
    mapping = {url: str(path) for url, path in schemas.xml_catalog().items()}
    try:
        if which == "mets":
            source = etree.tostring(mets_driver_schema(schemas.xsd_dir)).decode("utf-8")
            return xmlschema.XMLSchema(
                source, base_url=str(schemas.xsd_dir), uri_mapper=mapping, allow="local"
            )
        if which in ("dc", "premis"):
            filename = "qualifieddc.xsd" if which == "dc" else "premis-v3-0.xsd"
            return xmlschema.XMLSchema(
                str(schemas.xsd_dir / filename), uri_mapper=mapping, allow="local"
            )
    except (xmlschema.XMLSchemaException, OSError) as exc:
        raise MetadataError(f"{which}: cannot compile XSD: {exc}") from exc
    raise MetadataError(f"{which}: unknown XML schema (expected dc, premis or mets)")


def validate_xml_xmlschema(
    xml_bytes: bytes, which: XmlSchemaName, name: str = "document", schemas: SchemaSet | None = None
) -> None:
    """Validate XML with the ``xmlschema`` package; raise :class:`MetadataError`."""
    schema = compile_schema(schemas or SchemaSet(), which)
    try:
        root = etree.fromstring(xml_bytes, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise MetadataError(f"{name}: not well-formed XML: {exc}") from exc
    try:
        errors = list(schema.iter_errors(root, use_location_hints=False))
    except xmlschema.XMLSchemaException as exc:  # e.g. an xsi:type naming no type
        raise MetadataError(f"{name}: {_first_line(str(exc))}") from exc
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        reason = first.reason or first.message
        raise MetadataError(f"{name}: {first.path}: {_first_line(reason)}{more}")
