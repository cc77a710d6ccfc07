"""Schema validation, offline: JSON Schema (Draft 2020-12) and XML Schema (XSD).

JSON records are checked against ``schemas/<name>.schema.json``; XML against the vendored
XSDs in ``schemas/xsd/``, whose imports of official URLs are mapped to the local copies
through ``schemas/xsd/catalog.xml``. Nothing is ever fetched from the network: lxml gets
a resolver built from the catalog (no environment variable is set). (The tests check the
XSDs and our XML with a second, independent validator, the ``xmlschema`` package, given
the same mapping: ``tests/xmlschema_validator.py``.)

Qualified Dublin Core is checked against DCMI's container schema ``qualifieddc.xsd``
(an unqualified ``qualifieddc`` root of type ``dcterms:elementOrRefinementContainer``),
the schema that dc.xml itself names in ``xsi:noNamespaceSchemaLocation``. METS is checked
against a driver schema built here, in memory, that imports METS 1.12.1, PREMIS 3.0 and
the DCMI schemas, so the PREMIS and DC records wrapped in its ``xmlData`` (which METS
validates laxly) are checked strictly too.

A :class:`SchemaSet` compiles each schema once and keeps it; create one per run.

JSON validation has a fast path: a record the ``jsonschema-rs`` package accepts (Draft
2020-12, formats checked, offline) is accepted at once; a record it rejects goes to the
``jsonschema`` package, which words the error (and where the two disagree, the stricter
verdict stands). So every record accepted was accepted by ``jsonschema-rs``
(``ACCEPTING_JSON_VALIDATOR``: the PREMIS agent of the validation event names it).
PREMIS records took about 2.5 ms each with ``jsonschema`` alone and 15 us this way
(``make bench``). ``jsonschema`` is imported only when it is needed (a rejected record):
with its format extras, importing it costs about 0.7 s per process (``rfc3987-syntax``
builds a grammar at import time).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from archiver.model.errors import ConfigError, MetadataError

if TYPE_CHECKING:  # lxml is imported when an XML schema is first used
    import jsonschema
    from lxml import etree

XmlSchemaName = Literal["dc", "premis", "mets"]
XML_SCHEMAS = "dc, premis or mets"
ACCEPTING_JSON_VALIDATOR = "jsonschema-rs"  # the distribution that accepts every valid record

JSON_SCHEMA_FILES: Mapping[str, str] = {
    "dublin-core": "dublin-core.schema.json",
    "premis": "premis.schema.json",
}

XSD_NS = "http://www.w3.org/2001/XMLSchema"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
METS_NS = "http://www.loc.gov/METS/"
PREMIS_NS = "http://www.loc.gov/premis/v3"
CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"
# The schemas the METS driver imports: namespace -> vendored file.
METS_DRIVER_IMPORTS: tuple[tuple[str, str], ...] = (
    (METS_NS, "mets.xsd"),
    (PREMIS_NS, "premis-v3-0.xsd"),
    (DC_NS, "dc.xsd"),
    (DCTERMS_NS, "dcterms.xsd"),
)


def schemas_dir() -> Path:
    """The schemas shipped as package data (``archiver/metadata/schemas``; ``schemas/`` links here).

    Found beside this module, where a wheel installs them: lxml and xmlschema resolve
    ``xs:import``/``xs:include`` relative to real files, so the package must be installed
    on a file system (as pip and pipx install it), not run from a zip. (Not through
    ``importlib.resources``, whose import, zipfile's included, was every command's.)
    """
    root = Path(__file__).parent / "schemas"
    if not root.is_dir():
        raise ConfigError(
            f"{root}: no such directory; archiver's schemas must be installed with it, as "
            "files (pip install the wheel or source; not from a zip)"
        )
    return root


def json_pointer(path: Iterator[Any] | Any) -> str:
    """A JSON pointer (RFC 6901) in URI-fragment form, ``#`` for the document itself."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "#" + "".join("/" + p for p in parts)


def _first_line(text: str) -> str:
    return " ".join(text.split())


class SchemaSet:
    """Compiled JSON and XML validators, built on first use and kept for the run."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else schemas_dir()
        self.xsd_dir = self.root / "xsd"
        self._documents: dict[str, Any] = {}
        self._json: dict[str, jsonschema.protocols.Validator] = {}
        self._fast: dict[str, Any] = {}
        self._lxml: dict[str, etree.XMLSchema] = {}
        self._catalog: dict[str, Path] | None = None

    # -- JSON ---------------------------------------------------------------------------

    def _schema(self, schema_name: str) -> Any:
        """The parsed JSON Schema document ``schemas/<name>``, read once."""
        schema = self._documents.get(schema_name)
        if schema is None:
            filename = JSON_SCHEMA_FILES.get(schema_name, f"{schema_name}.schema.json")
            path = self.root / filename
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise MetadataError(f"{path}: cannot load JSON Schema: {exc}") from exc
            self._documents[schema_name] = schema
        return schema

    def json_validator(self, schema_name: str) -> jsonschema.protocols.Validator:
        """The Draft 2020-12 validator (with format checking) for a named JSON Schema."""
        validator = self._json.get(schema_name)
        if validator is None:
            import jsonschema

            schema = self._schema(schema_name)
            cls = jsonschema.Draft202012Validator
            try:
                cls.check_schema(schema)
            except jsonschema.SchemaError as exc:
                path = self.root / JSON_SCHEMA_FILES.get(schema_name, f"{schema_name}.schema.json")
                raise MetadataError(f"{path}: not a valid JSON Schema: {exc.message}") from exc
            validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
            self._json[schema_name] = validator
        return validator

    def _fast_validator(self, schema_name: str) -> Any:
        """The ``jsonschema_rs`` validator for a schema, compiled on first use."""
        if schema_name not in self._fast:
            schema = self._schema(schema_name)
            import jsonschema_rs

            try:
                self._fast[schema_name] = jsonschema_rs.Draft202012Validator(
                    schema, validate_formats=True, offline=True
                )
            except jsonschema_rs.ValidationError as exc:
                self.json_validator(schema_name)  # the authority's message, if it agrees
                raise MetadataError(
                    f"{self.root / JSON_SCHEMA_FILES.get(schema_name, schema_name)}: "
                    f"not a valid JSON Schema: {_first_line(str(exc))}"
                ) from exc
        return self._fast[schema_name]

    def compile_json(self, schema_name: str) -> None:
        """Compile a schema's validator now (the one that accepts records)."""
        self._fast_validator(schema_name)

    def validate_json(self, record: Mapping[str, Any], schema_name: str, name: str) -> None:
        """Raise :class:`MetadataError` naming the record, the JSON pointer and the problem."""
        fast = self._fast_validator(schema_name)
        if fast.is_valid(record):
            return
        validator = self.json_validator(schema_name)
        errors = sorted(
            validator.iter_errors(record),
            key=lambda e: (json_pointer(e.absolute_path), e.message),
        )
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise MetadataError(
                f"{name}: {json_pointer(first.absolute_path)}: {_first_line(first.message)}{more}"
            )
        # The two validators disagree (a format one of them does not check): the
        # stricter verdict stands, with the fast validator's own message.
        problem = next(iter(fast.iter_errors(record)))
        pointer = "#" + "".join(
            "/" + str(p).replace("~", "~0").replace("/", "~1") for p in problem.instance_path
        )
        raise MetadataError(f"{name}: {pointer}: {_first_line(problem.message)}")

    # -- XML with lxml ------------------------------------------------------------------

    def xml_catalog(self) -> dict[str, Path]:
        """URL -> local file, from ``schemas/xsd/catalog.xml``."""
        if self._catalog is None:
            from archiver.metadata.xml_catalog import read_xml_catalog

            self._catalog = read_xml_catalog(self.xsd_dir / "catalog.xml")
        return self._catalog

    def _parser(self) -> etree.XMLParser:
        from lxml import etree

        from archiver.metadata.xml_catalog import CatalogResolver

        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        parser.resolvers.add(CatalogResolver(self.xml_catalog()))
        return parser

    def xml_schema(self, which: XmlSchemaName) -> etree.XMLSchema:
        """The lxml ``XMLSchema`` for ``"dc"`` (qualified DC), ``"premis"`` (PREMIS 3.0) or
        ``"mets"`` (METS 1.12.1 with the PREMIS and DC it wraps)."""
        schema = self._lxml.get(which)
        if schema is None:
            from lxml import etree

            from archiver.metadata.xml_catalog import mets_driver_schema

            parser = self._parser()
            try:
                if which == "dc":
                    doc = etree.parse(str(self.xsd_dir / "qualifieddc.xsd"), parser)
                elif which == "premis":
                    doc = etree.parse(str(self.xsd_dir / "premis-v3-0.xsd"), parser)
                elif which == "mets":
                    source = etree.tostring(mets_driver_schema(self.xsd_dir))
                    base = (self.xsd_dir / "mets-driver.xsd").as_uri()
                    doc = etree.fromstring(source, parser, base_url=base).getroottree()
                else:
                    raise MetadataError(
                        f"{which}: unknown XML schema (expected dc, premis or mets)"
                    )
                schema = etree.XMLSchema(doc)
            except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
                raise MetadataError(f"{which}: cannot compile XSD: {exc}") from exc
            self._lxml[which] = schema
        return schema

    def validate_xml(self, xml_bytes: bytes, which: XmlSchemaName, name: str) -> None:
        """Validate XML against the XSD with lxml; raise :class:`MetadataError` on failure."""
        from lxml import etree

        schema = self.xml_schema(which)
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        try:
            doc = etree.fromstring(xml_bytes, parser)
        except etree.XMLSyntaxError as exc:
            raise MetadataError(f"{name}: not well-formed XML: {exc}") from exc
        if not schema.validate(doc):
            error = schema.error_log[0]
            more = len(schema.error_log) - 1
            suffix = f" (and {more} more)" if more else ""
            raise MetadataError(f"{name}: line {error.line}: {_first_line(error.message)}{suffix}")

    def validate_tree(self, root: etree._Element, which: XmlSchemaName, name: str) -> None:
        """Validate an element tree just built (no serializing and re-parsing).

        A tree the XSD rejects is serialized and checked again by :meth:`validate_xml`,
        whose message names the line; if the bytes pass where the tree did not, the
        tree's own first error is raised.
        """
        schema = self.xml_schema(which)
        if schema.validate(root):
            return
        error = schema.error_log[0]
        from lxml import etree

        self.validate_xml(
            etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True),
            which,
            name,
        )
        raise MetadataError(f"{name}: {_first_line(error.message)}")


def validate_json(record: Mapping[str, Any], schema_name: str, name: str = "record") -> None:
    """Validate one record against ``schemas/<schema_name>``; compiles the schema anew."""
    SchemaSet().validate_json(record, schema_name, name)


def validate_xml(xml_bytes: bytes, which: XmlSchemaName, name: str) -> None:
    """Validate XML with lxml against the ``dc``, ``premis`` or ``mets`` XSD; compiles anew."""
    SchemaSet().validate_xml(xml_bytes, which, name)
