"""Tests for archiver.metadata.catalog: parsing sources/metadata.csv and its file-level errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archiver.metadata.catalog import load_catalog, parse_catalog
from archiver.model.errors import CatalogError

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "metadata"
HEADER = "filename,dc.title,dc.creator,dc.creator,dc.date,dc.language,dc.identifier\n"


@pytest.fixture
def seed_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "metadata.csv"
    shutil.copyfile(REPO / "sources" / "metadata.csv", target)
    return target


def test_seed_catalog_has_one_row_per_statement(seed_catalog: Path) -> None:
    catalog = load_catalog(seed_catalog, "sources/metadata.csv")
    statements = sorted(p.name for p in (REPO / "sources").glob("*.txt"))
    assert sorted(catalog.filenames) == statements
    assert all(not row.problems for row in catalog.rows)
    assert [row.row for row in catalog.rows] == [2, 3, 4, 5, 6]


def test_seed_catalog_keeps_every_signatory_in_order(seed_catalog: Path) -> None:
    catalog = load_catalog(seed_catalog, "sources/metadata.csv")
    row = catalog.row_for("003_8f94555c1076f2cd.txt")
    assert row is not None
    creators = row.get("dc.creator")
    assert len(creators) == 13
    assert creators[0] == "Freedom of Eurasia (Austria)"
    assert creators[-1] == "Project “No Borders” (Ukraine)"
    assert row.first("dc.date") == "2022-01-05"
    assert row.first("premis.copyrightStatus") == "unknown"


def test_repeated_columns_keep_values_and_drop_empty_cells() -> None:
    text = HEADER + "a.txt,Title,First,,2011,en,a\nb.txt,B,,Second,2012,en,b\n"
    catalog = parse_catalog(text, "t.csv")
    assert catalog.rows[0].get("dc.creator") == ("First",)
    assert catalog.rows[1].get("dc.creator") == ("Second",)
    assert catalog.rows[0].get("dc.publisher") == ()
    assert catalog.rows[0].first("dc.publisher") is None
    assert catalog.row_for("missing.txt") is None


def test_lines_iterable_and_string_parse_alike() -> None:
    text = HEADER + "a.txt,Title,First,Second,2011,en,a\n"
    from_text = parse_catalog(text, "t.csv")
    from_lines = parse_catalog(text.splitlines(keepends=True), "t.csv")
    assert from_text == from_lines


def test_quoted_cell_with_comma_and_newline() -> None:
    text = HEADER + 'a.txt,"Title, with comma\nand newline",X,,2011,en,a\n'
    row = parse_catalog(text, "t.csv").rows[0]
    assert row.first("dc.title") == "Title, with comma\nand newline"


def test_blank_lines_are_skipped_but_counted() -> None:
    text = HEADER + "\na.txt,T,C,,2011,en,a\n"
    row = parse_catalog(text, "t.csv").rows[0]
    assert row.row == 3
    assert row.where("dc.title") == "t.csv: row 3, column dc.title"


def test_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom-crlf.csv"
    shutil.copyfile(DATA / "bom-crlf.csv", path)
    catalog = load_catalog(path, "bom-crlf.csv")
    assert catalog.columns[0] == "filename"
    assert catalog.rows[0].first("dc.language") == "en"


def test_not_utf8_names_byte_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    shutil.copyfile(DATA / "latin1.csv", path)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path, "sources/metadata.csv")
    assert str(caught.value) == "sources/metadata.csv: not valid UTF-8 (byte 0xe9 at offset 64)"


def test_not_utf8_offset_counts_the_bom(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"\xef\xbb\xbffilename\n\xff.txt\n")
    with pytest.raises(CatalogError, match=r"m\.csv: not valid UTF-8 \(byte 0xff at offset 12\)"):
        load_catalog(path, "m.csv")


def test_unreadable_catalog(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"nope\.csv: cannot read"):
        load_catalog(tmp_path / "nope.csv", "nope.csv")


def test_default_display_name_is_the_path(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("title\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=str(path)):
        load_catalog(path)


FILE_LEVEL_ERRORS = [
    ("", "t.csv: empty catalog"),
    ("title,filename\nx,y\n", "t.csv: row 1, column 1: the first column must be 'filename'"),
    ("filename,foo.bar\n", "t.csv: row 1, column 2: unknown column 'foo.bar'"),
    ("filename,title\n", "t.csv: row 1, column 2: unknown column 'title'"),
    ("filename,dc.titel\n", "t.csv: row 1, column 2: 'dc.titel' is not a known dc term"),
    ("filename,dcterms.foo\n", "t.csv: row 1, column 2: 'dcterms.foo' is not a known dcterms"),
    ("filename,premis.owner\n", "t.csv: row 1, column 2: 'premis.owner' is not a known premis"),
    ("filename,dc.title,\n", "t.csv: row 1, column 3: column has no name"),
    ("filename,filename\n", "t.csv: row 1, column 2: 'filename' repeated"),
    (
        "filename,dc.title\na.txt,A\nb.txt,B\na.txt,C\n",
        "t.csv: rows 2 and 4, column filename: duplicate file name 'a.txt'",
    ),
    (
        "filename,dc.identifier\na.txt,x\nb.txt,y\nc.txt,x\n",
        "t.csv: rows 2 and 4, column dc.identifier: duplicate identifier 'x'",
    ),
    (
        "filename,dc.identifier\na.txt,b\nb.txt,\n",
        "t.csv: rows 2 and 3, column dc.identifier: duplicate identifier 'b'",
    ),
    ("filename,dc.title\n,A\n", "t.csv: row 2, column filename: empty"),
    ('filename,dc.title\na.txt,"unclosed\n', "t.csv: line 2: not valid CSV"),
    ('filename,dc.title\na.txt,"x"y\n', "t.csv: line 2: not valid CSV"),
]


@pytest.mark.parametrize(("text", "message"), FILE_LEVEL_ERRORS)
def test_file_level_errors(text: str, message: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "t.csv")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


ROW_LEVEL_PROBLEMS = [
    ("../etc/passwd", "t.csv: row 3, column filename: '../etc/passwd' is not a plain file name"),
    ("sub/a.txt", "t.csv: row 3, column filename: 'sub/a.txt' is not a plain file name"),
    ("sub\\a.txt", "t.csv: row 3, column filename: 'sub\\a.txt' is not a plain file name"),
    ("..", "t.csv: row 3, column filename: '..' is not a plain file name"),
    (" a.txt", "t.csv: row 3, column filename: ' a.txt' has leading or trailing spaces"),
]


@pytest.mark.parametrize(("filename", "message"), ROW_LEVEL_PROBLEMS)
def test_row_level_problems_do_not_stop_other_rows(filename: str, message: str) -> None:
    text = f"filename,dc.title\ngood.txt,Good\n{filename},Bad\nalso.txt,Also\n"
    catalog = parse_catalog(text, "t.csv")
    assert [row.problems for row in catalog.rows] == [(), (message,), ()]


def test_extra_cells_are_a_row_problem() -> None:
    catalog = parse_catalog("filename,dc.title\na.txt,A,surplus\nb.txt,B\n", "t.csv")
    assert catalog.rows[0].problems == ("t.csv: row 2: 3 cells but the header has 2 columns",)
    assert catalog.rows[1].problems == ()


@pytest.mark.parametrize("char", ["\x1b", "\x01", "\x00", "\x7f", "\x85", "\ufffe"])
def test_control_character_in_a_cell_is_a_row_problem_naming_row_and_column(char: str) -> None:
    """Issue 9: a control character in a cell is refused in one line naming row and column
    (it would end in the XML records or on a terminal)."""
    text = f"filename,dc.title\ngood.txt,Good\nbad.txt,Ti{char}tle\n"
    catalog = parse_catalog(text, "t.csv")
    assert catalog.rows[0].problems == ()
    (problem,) = catalog.rows[1].problems
    assert problem.startswith(
        f"t.csv: row 3, column dc.title: contains the control character U+{ord(char):04X}"
    )
    assert "\n" not in problem and char not in problem


def test_tabs_and_line_breaks_in_a_cell_are_text() -> None:
    catalog = parse_catalog('filename,dc.description\na.txt,"one\ttwo\nthree"\n', "t.csv")
    assert catalog.rows[0].problems == ()


def test_control_character_in_the_header_is_refused() -> None:
    with pytest.raises(CatalogError, match="row 1, column 2: contains the control character"):
        parse_catalog("filename,dc.ti\x1btle\na.txt,x\n", "t.csv")
