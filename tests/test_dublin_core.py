"""Tests for archiver.metadata.dublin_core: row checks, the JSON record and qualified DC XML."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree
from xmlschema_validator import validate_xml_xmlschema

from archiver.metadata.catalog import CatalogRow, load_catalog, parse_catalog
from archiver.metadata.dublin_core import (
    Capture,
    DublinCoreRecord,
    date_problem,
    language_scheme,
    record_from_json,
    record_from_row,
    render_xml,
)
from archiver.metadata.validation import SchemaSet
from archiver.model.errors import CatalogError

REPO = Path(__file__).resolve().parent.parent
DC = "{http://purl.org/dc/elements/1.1/}"
DCTERMS = "{http://purl.org/dc/terms/}"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"

GOOD = {
    "filename": "a.txt",
    "dc.title": "A statement",
    "dc.creator": "Some Group",
    "dc.date": "2011-12-20",
    "dc.language": "en",
}


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet()


@pytest.fixture
def seed_rows(tmp_path: Path) -> tuple[CatalogRow, ...]:
    target = tmp_path / "metadata.csv"
    shutil.copyfile(REPO / "sources" / "metadata.csv", target)
    return load_catalog(target, "sources/metadata.csv").rows


def row_with(column: str, value: str | None) -> CatalogRow:
    values = dict(GOOD)
    if value is None:
        values.pop(column)
    else:
        values[column] = value
    header = ",".join(values)
    line = ",".join(f'"{v}"' for v in values.values())
    return parse_catalog(f"{header}\n{line}\n", "t.csv").rows[0]


def test_every_seed_row_validates_as_json_and_with_both_xml_validators(
    seed_rows: tuple[CatalogRow, ...], schemas: SchemaSet
) -> None:
    assert len(seed_rows) == 5
    for row in seed_rows:
        record = record_from_row(row)
        schemas.validate_json(record.to_json(), "dublin-core", f"{row.filename} dc.json")
        xml = render_xml(record)
        schemas.validate_xml(xml, "dc", f"{row.filename} dc.xml")
        validate_xml_xmlschema(xml, "dc", f"{row.filename} dc.xml", schemas=schemas)


def test_seed_record_for_undated_letter_says_date_is_inferred(
    seed_rows: tuple[CatalogRow, ...],
) -> None:
    record = record_from_row(seed_rows[1])
    assert record.date == "2011-12"
    assert "inferred" in record.description


def test_record_fields_and_json() -> None:
    record = record_from_row(row_with("dc.identifier", "stmt-1"))
    assert record.title == "A statement"
    assert record.creators == ("Some Group",)
    assert record.languages == ("en",)
    assert record.identifier == "stmt-1"
    assert record.copyright_status == "unknown"
    assert record.to_json() == {
        "filename": "a.txt",
        "dc.title": ["A statement"],
        "dc.creator": ["Some Group"],
        "dc.date": ["2011-12-20"],
        "dc.identifier": ["stmt-1"],
        "dc.language": ["en"],
    }


def test_identifier_defaults_to_file_stem() -> None:
    assert record_from_row(row_with("dc.title", "A statement")).identifier == "a"


def test_premis_columns_stay_out_of_dc_json() -> None:
    row = parse_catalog(
        "filename,dc.title,dc.creator,dc.date,dc.language,premis.copyrightStatus,"
        "premis.copyrightJurisdiction\na.txt,T,C,2011,en,copyrighted,KZ\n",
        "t.csv",
    ).rows[0]
    record = record_from_row(row)
    assert record.copyright_status == "copyrighted"
    assert record.copyright_jurisdiction == "KZ"
    assert not any(key.startswith("premis.") for key in record.to_json())


@pytest.mark.parametrize(("given", "label"), [("publicdomain", "public domain"),
                                              ("public domain", "public domain")])  # fmt: skip
def test_copyright_status_takes_the_vocabulary_label(given: str, label: str) -> None:
    row = parse_catalog(
        f"filename,dc.title,dc.creator,dc.date,dc.language,premis.copyrightStatus\n"
        f"a.txt,T,C,2011,en,{given}\n",
        "t.csv",
    ).rows[0]
    assert record_from_row(row).copyright_status == label


CAPTURE_HEADER = (
    "filename,dc.title,dc.creator,dc.date,dc.language,premis.captureSource,"
    "premis.captureDate,premis.captureAgent,premis.captureAgentType\n"
)


def test_capture_columns_become_capture_and_dcterms_source() -> None:
    row = parse_catalog(
        CAPTURE_HEADER + "a.txt,T,C,2011,en,https://example.org/s?a=1,2011-12-21,A. V.,person\n",
        "t.csv",
    ).rows[0]
    record = record_from_row(row)
    assert record.capture == Capture("2011-12-21", "https://example.org/s?a=1", "A. V.", "person")
    assert record.values("dcterms.source") == ("https://example.org/s?a=1",)
    root = etree.fromstring(render_xml(record))
    source = root.find(f"{DCTERMS}source")
    assert source is not None
    assert (source.text, source.get(XSI_TYPE)) == ("https://example.org/s?a=1", "dcterms:URI")
    SchemaSet().validate_xml(render_xml(record), "dc", "dc.xml")


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("https://example.org/s,,,", "column premis.captureDate: required when"),
        ("https://example.org/s,21.12.2011,,", "'21.12.2011' is not a capture date"),
        ("https://example.org/s,2011-02-30,,", "'2011-02-30' is not a capture date"),
        ("https://example.org/s,2011-12-21T10:00:00,,", "is not a capture date"),
        ("example.org/s,2011-12-21,,", "column premis.captureSource: 'example.org/s' is not"),
        (",2011-12-21,A,robot", "column premis.captureAgentType: 'robot' is not one of"),
        (",2011-12-21,,person", "column premis.captureAgent: required when"),
    ],
)
def test_bad_capture_columns(cells: str, message: str) -> None:
    row = parse_catalog(CAPTURE_HEADER + f"a.txt,T,C,2011,en,{cells}\n", "t.csv").rows[0]
    with pytest.raises(CatalogError, match=message):
        record_from_row(row)


def test_capture_date_may_have_a_time_with_offset() -> None:
    row = parse_catalog(
        CAPTURE_HEADER + "a.txt,T,C,2011,en,,2011-12-21T10:00:00+06:00,,\n", "t.csv"
    ).rows[0]
    capture = record_from_row(row).capture
    assert capture is not None
    assert (capture.date, capture.source) == ("2011-12-21T10:00:00+06:00", None)


BAD_ROWS = [
    ("dc.title", None, "t.csv: row 2, column dc.title: required value is missing"),
    ("dc.date", None, "t.csv: row 2, column dc.date: required value is missing"),
    ("dc.creator", None, "t.csv: row 2, column dc.creator: required value is missing"),
    ("dc.language", None, "t.csv: row 2, column dc.language: required value is missing"),
    ("dc.title", "  ", "t.csv: row 2, column dc.title: required value is missing"),
    (
        "dc.date",
        "20.12.2011",
        "t.csv: row 2, column dc.date: '20.12.2011' is not an ISO 8601 date "
        "(expected YYYY, YYYY-MM or YYYY-MM-DD)",
    ),
    ("dc.date", "2011-13", "t.csv: row 2, column dc.date: '2011-13' is not an ISO 8601 date"),
    ("dc.date", "2011-02-30", "t.csv: row 2, column dc.date: '2011-02-30' is not an ISO 8601"),
    ("dc.date", "December 2011", "t.csv: row 2, column dc.date: 'December 2011' is not"),
    (
        "dc.date",
        "2011-12-16/2011-12-17",
        "t.csv: row 2, column dc.date: '2011-12-16/2011-12-17' is an interval",
    ),
    (
        "dcterms.temporal",
        "2011-12-17/2011-12-16",
        "t.csv: row 2, column dcterms.temporal: '2011-12-17/2011-12-16' is an interval that "
        "ends before it starts",
    ),
    (
        "dcterms.temporal",
        "2011-12-16/soon",
        "t.csv: row 2, column dcterms.temporal: '2011-12-16/soon' is not an ISO 8601 interval",
    ),
    ("dcterms.created", "12/2011", "t.csv: row 2, column dcterms.created: '12/2011' is not"),
    (
        "dc.language",
        "xx",
        "t.csv: row 2, column dc.language: 'xx' is not an ISO 639 language code",
    ),
    ("dc.language", "EN", "t.csv: row 2, column dc.language: 'EN' is not an ISO 639"),
    ("dc.language", "english", "t.csv: row 2, column dc.language: 'english' is not an ISO"),
    ("dc.language", "en-GB", "t.csv: row 2, column dc.language: 'en-GB' is not an ISO 639"),
    (
        "premis.copyrightStatus",
        "maybe",
        "t.csv: row 2, column premis.copyrightStatus: 'maybe' is not a copyright status",
    ),
    (
        "premis.copyrightJurisdiction",
        "XX",
        "t.csv: row 2, column premis.copyrightJurisdiction: 'XX' is not an ISO 3166-1",
    ),
]


@pytest.mark.parametrize(("column", "value", "message"), BAD_ROWS)
def test_bad_rows_name_file_row_and_column(column: str, value: str | None, message: str) -> None:
    row = row_with(column, value)
    with pytest.raises(CatalogError) as caught:
        record_from_row(row)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_row_problem_found_by_parser_is_raised_for_that_row_only() -> None:
    rows = parse_catalog(
        "filename,dc.title,dc.creator,dc.date,dc.language\n"
        "../x.txt,T,C,2011,en\nok.txt,T,C,2011,en\n",
        "t.csv",
    ).rows
    with pytest.raises(CatalogError, match=r"row 2, column filename: '\.\./x\.txt' is not"):
        record_from_row(rows[0])
    assert record_from_row(rows[1]).filename == "ok.txt"


@pytest.mark.parametrize(
    "value",
    ["2011", "2011-12", "2011-12-20", "2012-02-29", "2011-12-16/2011-12-17", "2011/2012-01"],
)
def test_good_dates(value: str) -> None:
    assert date_problem(value) is None


@pytest.mark.parametrize(
    ("code", "scheme"),
    [
        ("en", "RFC4646"),
        ("kk", "RFC4646"),
        ("eng", "ISO639-2"),
        ("ger", "ISO639-2"),
        ("kaz", "ISO639-2"),
        ("sla", "ISO639-2"),
        ("ckb", "ISO639-3"),
        ("xx", None),
        ("qqq", None),
        ("En", None),
        ("e", None),
    ],
)
def test_language_scheme(code: str, scheme: str | None) -> None:
    assert language_scheme(code) == scheme


def test_xml_carries_encoding_schemes() -> None:
    row = parse_catalog(
        "filename,dc.title,dc.creator,dc.date,dc.language,dc.language,dc.type,dcterms.temporal,"
        "dcterms.temporal\na.txt,T,C,2011-12,en,kaz,Text,2011-12-16/2011-12-17,2011-12-16\n",
        "t.csv",
    ).rows[0]
    root = etree.fromstring(render_xml(record_from_row(row)))
    assert root.tag == "qualifieddc"
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == (
        "http://dublincore.org/schemas/xmls/qdc/2008/02/11/qualifieddc.xsd"
    )
    assert root.find(f"{DC}date").get(XSI_TYPE) == "dcterms:W3CDTF"
    assert [e.get(XSI_TYPE) for e in root.iter(f"{DC}language")] == [
        "dcterms:RFC4646",
        "dcterms:ISO639-2",
    ]
    assert root.find(f"{DC}type").get(XSI_TYPE) == "dcterms:DCMIType"
    temporal = [(e.text, e.get(XSI_TYPE)) for e in root.iter(f"{DCTERMS}temporal")]
    assert temporal == [
        ("start=2011-12-16; end=2011-12-17; scheme=W3C-DTF;", "dcterms:Period"),
        ("2011-12-16", "dcterms:W3CDTF"),
    ]
    assert root.find(f"{DC}title").get(XSI_TYPE) is None


def test_xml_order_is_canonical_and_values_keep_catalog_order() -> None:
    row = parse_catalog(
        "filename,dcterms.spatial,dc.language,dc.creator,dc.title,dc.creator,dc.date\n"
        "a.txt,Almaty,en,Second,T,First,2011\n",
        "t.csv",
    ).rows[0]
    root = etree.fromstring(render_xml(record_from_row(row)))
    names = [etree.QName(e).localname for e in root]
    assert names == ["title", "creator", "creator", "date", "identifier", "language", "spatial"]
    assert [e.text for e in root.iter(f"{DC}creator")] == ["Second", "First"]


def test_render_is_deterministic(seed_rows: tuple[CatalogRow, ...]) -> None:
    first = [render_xml(record_from_row(row)) for row in seed_rows]
    second = [render_xml(record_from_row(row)) for row in seed_rows]
    assert first == second
    assert first[0].startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_json_round_trip(seed_rows: tuple[CatalogRow, ...]) -> None:
    for row in seed_rows:
        record = record_from_row(row)
        rebuilt = record_from_json(record.to_json())
        assert isinstance(rebuilt, DublinCoreRecord)
        assert rebuilt.terms == record.terms
        assert render_xml(rebuilt) == render_xml(record)
