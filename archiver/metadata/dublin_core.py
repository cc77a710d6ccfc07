"""Dublin Core records: built from a catalog row, checked, and rendered as qualified DC XML.

A :class:`DublinCoreRecord` keeps the terms as the catalog names them (``dc.title``,
``dcterms.spatial``), each with its values in catalog order. Its JSON form
(:meth:`DublinCoreRecord.to_json`) is the source of truth, checked against
``schemas/dublin-core.schema.json``; :func:`render_xml` writes the XML from it.

The XML follows DCMI's XML guidelines for qualified DC: the root is DCMI's own container
element, the unqualified ``qualifieddc`` of DCMI's ``qualifieddc.xsd`` (type
``dcterms:elementOrRefinementContainer``), named by ``xsi:noNamespaceSchemaLocation`` so
that a validator given only the file finds its schema; it holds ``dc:*`` and
``dcterms:*`` elements, with encoding schemes as ``xsi:type`` (``dcterms:W3CDTF`` for
dates, ``dcterms:Period`` for date ranges, ``dcterms:RFC4646``/``dcterms:ISO639-2``/
``dcterms:ISO639-3`` for languages, ``dcterms:DCMIType`` for DCMI types, ``dcterms:URI``
for a source URL). It validates against the vendored DCMI XSDs.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pycountry
from lxml import etree

from archiver.metadata.catalog import DATE_REFINEMENTS, DC_ELEMENTS, CatalogRow
from archiver.metadata.rights import genre_term, genre_terms, rights_term
from archiver.model.errors import CatalogError, MetadataError

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NAMESPACES: Mapping[str, str] = {"dc": DC_NS, "dcterms": DCTERMS_NS}
SCHEMA_LOCATION = (
    f"{DC_NS} http://dublincore.org/schemas/xmls/qdc/2008/02/11/dc.xsd "
    f"{DCTERMS_NS} http://dublincore.org/schemas/xmls/qdc/2008/02/11/dcterms.xsd"
)
NO_NAMESPACE_SCHEMA_LOCATION = "http://dublincore.org/schemas/xmls/qdc/2008/02/11/qualifieddc.xsd"
ROOT_ELEMENT = "qualifieddc"

REQUIRED_TERMS: tuple[str, ...] = ("dc.title", "dc.date", "dc.creator", "dc.language")

# Terms whose values are dates (or, for temporal coverage, dates and intervals).
DATE_TERMS: frozenset[str] = frozenset(
    {"dc.date"} | {f"dcterms.{t}" for t in ("date", *DATE_REFINEMENTS, "temporal")}
)
LANGUAGE_TERMS: frozenset[str] = frozenset({"dc.language", "dcterms.language"})

DCMI_TYPES: frozenset[str] = frozenset(
    {
        "Collection",
        "Dataset",
        "Event",
        "Image",
        "InteractiveResource",
        "MovingImage",
        "PhysicalObject",
        "Service",
        "Software",
        "Sound",
        "StillImage",
        "Text",
    }
)

# Catalog spelling -> the PREMIS copyrightStatus label (as id.loc.gov spells it).
COPYRIGHT_STATUSES: Mapping[str, str] = {
    "copyrighted": "copyrighted",
    "public domain": "public domain",
    "publicdomain": "public domain",
    "unknown": "unknown",
}
CAPTURE_AGENT_TYPES: frozenset[str] = frozenset({"person", "organization", "software"})
_CAPTURE_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$"
)

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
DATE_EXPECTED = "expected YYYY, YYYY-MM or YYYY-MM-DD"


def _term_order(term: str) -> tuple[int, int, str]:
    prefix, _, name = term.partition(".")
    if prefix == "dc":
        return (0, DC_ELEMENTS.index(name), name)
    return (1, 0, name)


def _bounds(value: str) -> tuple[datetime.date, datetime.date] | None:
    """First and last day covered by ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; None if invalid."""
    match = _DATE_RE.match(value)
    if match is None:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    try:
        if month is None:
            return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        if day is None:
            first = datetime.date(year, month, 1)
            following = datetime.date(year + month // 12, month % 12 + 1, 1)
            return first, following - datetime.timedelta(days=1)
        exact = datetime.date(year, month, day)
    except ValueError:
        return None
    return exact, exact


def is_interval(value: str) -> bool:
    """True for an ISO 8601 / EDTF interval such as ``2011-12-16/2011-12-17``."""
    return "/" in value


def date_problem(value: str) -> str | None:
    """Why ``value`` is not an ISO 8601 date or interval (None when it is one)."""
    if is_interval(value):
        start, _, end = value.partition("/")
        start_bounds, end_bounds = _bounds(start), _bounds(end)
        if start_bounds is None or end_bounds is None:
            return (
                f"'{value}' is not an ISO 8601 interval "
                f"(expected START/END, each YYYY, YYYY-MM or YYYY-MM-DD)"
            )
        if start_bounds[0] > end_bounds[1]:
            return f"'{value}' is an interval that ends before it starts"
        return None
    if _bounds(value) is None:
        return f"'{value}' is not an ISO 8601 date ({DATE_EXPECTED})"
    return None


def language_scheme(code: str) -> str | None:
    """The ``dcterms`` encoding scheme for an ISO 639 code, or None if the code is unknown.

    Two letters (ISO 639-1) are valid RFC 4646 tags; a bibliographic ISO 639-2/B code is
    ``ISO639-2``, as is the ISO 639-2/T code of a language that also has a two-letter code;
    other three-letter codes are checked against ISO 639-3 and ISO 639-5 (collective codes).
    """
    if len(code) == 2 and code.isascii() and code.islower():
        return "RFC4646" if pycountry.languages.get(alpha_2=code) is not None else None
    if len(code) == 3 and code.isascii() and code.islower():
        if pycountry.languages.get(bibliographic=code) is not None:
            return "ISO639-2"
        language = pycountry.languages.get(alpha_3=code)
        if language is not None:
            return "ISO639-2" if hasattr(language, "alpha_2") else "ISO639-3"
        if pycountry.language_families.get(alpha_3=code) is not None:
            return "ISO639-2"
    return None


def _country_known(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


@dataclass(frozen=True)
class Capture:
    """Where and when the source was captured (``premis.capture*`` catalog columns)."""

    date: str  # YYYY-MM-DD, or a date and time with its offset
    source: str | None = None  # the URL
    agent: str | None = None
    agent_type: str = "person"


@dataclass(frozen=True)
class DublinCoreRecord:
    """The Dublin Core description of one source file.

    ``terms`` pairs each term (``dc.title``, ``dcterms.spatial``, ...) with its values, in
    a canonical order: the 15 DCMES elements in their standard order, then DCMI terms by
    name. ``copyright_status``, ``copyright_jurisdiction`` and ``capture`` come from the
    catalog's ``premis.*`` columns and feed PREMIS (the capture's URL is also
    ``dcterms.source``).
    """

    filename: str
    terms: tuple[tuple[str, tuple[str, ...]], ...]
    copyright_status: str = "unknown"
    copyright_jurisdiction: str | None = None
    capture: Capture | None = None

    def values(self, term: str) -> tuple[str, ...]:
        """Every value of ``term``."""
        for name, values in self.terms:
            if name == term:
                return values
        return ()

    def first(self, term: str) -> str:
        """The first value of ``term`` (empty string when there is none)."""
        values = self.values(term)
        return values[0] if values else ""

    @property
    def identifier(self) -> str:
        """The record's identifier (first ``dc.identifier``)."""
        return self.first("dc.identifier")

    @property
    def title(self) -> str:
        """The first title."""
        return self.first("dc.title")

    @property
    def date(self) -> str:
        """The first ``dc.date``."""
        return self.first("dc.date")

    @property
    def creators(self) -> tuple[str, ...]:
        """Every creator, in catalog order."""
        return self.values("dc.creator")

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language code."""
        return self.values("dc.language")

    @property
    def description(self) -> str:
        """The first description (empty string when there is none)."""
        return self.first("dc.description")

    def to_json(self) -> dict[str, Any]:
        """The JSON record: ``filename`` plus every term as a list of strings."""
        record: dict[str, Any] = {"filename": self.filename}
        for term, values in self.terms:
            record[term] = list(values)
        return record


def record_from_json(data: Mapping[str, Any]) -> DublinCoreRecord:
    """Rebuild a record from its JSON form (as written by :meth:`DublinCoreRecord.to_json`)."""
    terms = [
        (key, tuple(str(v) for v in value))
        for key, value in data.items()
        if key != "filename" and isinstance(value, list)
    ]
    terms.sort(key=lambda item: _term_order(item[0]))
    return DublinCoreRecord(filename=str(data.get("filename", "")), terms=tuple(terms))


# Catalog columns whose values are controlled URIs: rights statements, licenses, genres.
URI_TERMS: Mapping[str, str] = {
    "dcterms.rights": "rights statement",
    "dcterms.license": "license",
    "dcterms.type": "genre",
}


@dataclass(frozen=True, slots=True)
class RightsDefaults:
    """The archive's defaults (archive.toml ``[rights]`` ``statement``, ``license``,
    ``access``) for a row that names none."""

    statement: str | None = None  # a RightsStatements.org URI (dcterms.rights)
    license: str | None = None  # a Creative Commons URI (dcterms.license)
    access: str | None = None  # dcterms.accessRights


def record_from_row(row: CatalogRow, defaults: RightsDefaults | None = None) -> DublinCoreRecord:
    """Check one catalog row and build its record.

    Rights and genre are data: ``dcterms.rights`` (a RightsStatements.org URI),
    ``dcterms.license`` (a Creative Commons URI) and ``dcterms.type`` (a genre URI from
    ``schemas/genres.json``) must be known URIs; the genre's label is added to ``dc.type``
    after the DCMI type. ``defaults`` fill the rights of a row that gives none.

    Raises :class:`CatalogError` naming the catalog, row and column of the first problem:
    a row-level problem found by the parser, a missing required term (title, date,
    creator, language), a date that is not ISO 8601, or an unknown language code.
    """
    if row.problems:
        raise CatalogError(row.problems[0])
    for term in REQUIRED_TERMS:
        if not row.get(term):
            raise CatalogError(f"{row.where(term)}: required value is missing")
    terms: dict[str, tuple[str, ...]] = {}
    for column, values in row.values:
        if column.startswith("premis."):
            continue
        for value in values:
            _check_value(row, column, value)
        terms[column] = values
    terms["dc.identifier"] = row.identifiers
    if defaults is not None:
        for column, default in (
            ("dcterms.rights", defaults.statement),
            ("dcterms.license", defaults.license),
            ("dcterms.accessRights", defaults.access),
        ):
            if default and column not in terms:
                _check_value(row, column, default)
                terms[column] = (default,)
    labels = tuple(
        label
        for label in (_genre_label(uri) for uri in terms.get("dcterms.type", ()))
        if label not in terms.get("dc.type", ())
    )
    if labels:
        terms["dc.type"] = (*terms.get("dc.type", ()), *labels)
    status = row.first("premis.copyrightStatus") or "unknown"
    if status not in COPYRIGHT_STATUSES:
        raise CatalogError(
            f"{row.where('premis.copyrightStatus')}: '{status}' is not a copyright status "
            "(expected copyrighted, public domain or unknown)"
        )
    jurisdiction = row.first("premis.copyrightJurisdiction")
    if jurisdiction is not None and not _country_known(jurisdiction):
        raise CatalogError(
            f"{row.where('premis.copyrightJurisdiction')}: '{jurisdiction}' is not an "
            "ISO 3166-1 alpha-2 country code"
        )
    capture = _capture(row)
    if capture is not None and capture.source:
        sources = terms.get("dcterms.source", ())
        if capture.source not in sources:
            terms["dcterms.source"] = (*sources, capture.source)
    ordered = tuple(sorted(terms.items(), key=lambda item: _term_order(item[0])))
    return DublinCoreRecord(
        filename=row.filename,
        terms=ordered,
        copyright_status=COPYRIGHT_STATUSES[status],
        copyright_jurisdiction=jurisdiction.upper() if jurisdiction else None,
        capture=capture,
    )


def _capture(row: CatalogRow) -> Capture | None:
    """The capture described by the row's ``premis.capture*`` columns, if any."""
    source = row.first("premis.captureSource")
    date = row.first("premis.captureDate")
    agent = row.first("premis.captureAgent")
    agent_type = row.first("premis.captureAgentType")
    if date is None:
        for column, value in (
            ("premis.captureSource", source),
            ("premis.captureAgent", agent),
            ("premis.captureAgentType", agent_type),
        ):
            if value is not None:
                raise CatalogError(
                    f"{row.where('premis.captureDate')}: required when {column} is given"
                )
        return None
    if not _CAPTURE_TIME_RE.match(date) or _capture_time_invalid(date):
        raise CatalogError(
            f"{row.where('premis.captureDate')}: '{date}' is not a capture date "
            "(expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with Z or +hh:mm)"
        )
    if source is not None:
        parts = urlsplit(source)
        if parts.scheme not in {"http", "https", "ftp"} or not parts.netloc or " " in source:
            raise CatalogError(
                f"{row.where('premis.captureSource')}: '{source}' is not an absolute "
                "http, https or ftp URL"
            )
    if agent_type is not None and agent_type not in CAPTURE_AGENT_TYPES:
        raise CatalogError(
            f"{row.where('premis.captureAgentType')}: '{agent_type}' is not one of "
            f"{', '.join(sorted(CAPTURE_AGENT_TYPES))}"
        )
    if agent_type is not None and agent is None:
        raise CatalogError(
            f"{row.where('premis.captureAgent')}: required when premis.captureAgentType is given"
        )
    return Capture(date=date, source=source, agent=agent, agent_type=agent_type or "person")


def _capture_time_invalid(value: str) -> bool:
    try:
        if "T" in value:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        else:
            datetime.date.fromisoformat(value)
    except ValueError:
        return True
    return False


def _genre_label(uri: str) -> str:
    term = genre_term(uri)
    return term.label if term is not None else uri


def uri_problem(column: str, value: str) -> str | None:
    """Why ``value`` is not an allowed URI for ``column`` (None when it is, or when the
    column takes no controlled URI)."""
    expected = URI_TERMS.get(column)
    if expected is None:
        return None
    if expected == "genre":
        if genre_term(value) is None:
            known = ", ".join(f"{t.label} <{t.uri}>" for t in genre_terms().values())
            return f"'{value}' is not a known genre URI (expected one of: {known})"
        return None
    term = rights_term(value)
    if term is None or term.kind != expected:
        source = "RightsStatements.org" if expected == "rights statement" else "Creative Commons"
        return (
            f"'{value}' is not a known {source} {expected} URI "
            "(see schemas/rights-uris.json, e.g. http://rightsstatements.org/vocab/CNE/1.0/ "
            "or https://creativecommons.org/licenses/by/4.0/)"
        )
    return None


def _check_value(row: CatalogRow, column: str, value: str) -> None:
    if column in URI_TERMS:
        problem = uri_problem(column, value)
        if problem:
            raise CatalogError(f"{row.where(column)}: {problem}")
    elif column in DATE_TERMS:
        problem = date_problem(value)
        if problem is None and is_interval(value) and column != "dcterms.temporal":
            problem = f"'{value}' is an interval; use a single date ({DATE_EXPECTED})"
        if problem:
            raise CatalogError(f"{row.where(column)}: {problem}")
    elif column in LANGUAGE_TERMS and language_scheme(value) is None:
        raise CatalogError(
            f"{row.where(column)}: '{value}' is not an ISO 639 language code "
            "(expected e.g. en, eng or kaz)"
        )


def period(value: str) -> str:
    """A date range (``START/END``) in DCMI Period syntax, the value of a ``dcterms:Period``."""
    start, _, end = value.partition("/")
    return f"start={start}; end={end}; scheme=W3C-DTF;"


def _xsi_type(term: str, value: str) -> str | None:
    name = term.partition(".")[2]
    if term in DATE_TERMS:
        return "dcterms:Period" if is_interval(value) else "dcterms:W3CDTF"
    if term in {"dc.source", "dcterms.source"} and _is_url(value):
        return "dcterms:URI"
    if term in LANGUAGE_TERMS:
        scheme = language_scheme(value)
        return f"dcterms:{scheme}" if scheme else None
    if name == "type" and value in DCMI_TYPES:
        return "dcterms:DCMIType"
    if term in URI_TERMS:
        return "dcterms:URI"
    return None


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https", "ftp"} and bool(parts.netloc) and " " not in value


def render_xml(record: DublinCoreRecord) -> bytes:
    """Qualified DC XML for ``record`` (UTF-8, deterministic bytes for identical input)."""
    return serialize_xml(render_tree(record))


def serialize_xml(root: etree._Element) -> bytes:
    """A Dublin Core document's bytes: UTF-8 with an XML declaration, indented."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render_tree(record: DublinCoreRecord) -> etree._Element:
    """The element tree of :func:`render_xml` (to validate it before writing)."""
    xsi_type = f"{{{XSI_NS}}}type"
    root = etree.Element(ROOT_ELEMENT, nsmap={"dc": DC_NS, "dcterms": DCTERMS_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}noNamespaceSchemaLocation", NO_NAMESPACE_SCHEMA_LOCATION)
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    for term, values in record.terms:
        prefix, _, name = term.partition(".")
        namespace = NAMESPACES.get(prefix)
        if namespace is None:
            raise MetadataError(f"{record.filename}: {term}: not a dc or dcterms term")
        for value in values:
            element = etree.SubElement(root, f"{{{namespace}}}{name}")
            scheme = _xsi_type(term, value)
            element.text = period(value) if scheme == "dcterms:Period" else value
            if scheme:
                element.set(xsi_type, scheme)
    return root
