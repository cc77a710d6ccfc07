"""`archiver describe --draft`: JSON, CSV and table output, and its errors."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest

from archiver.cli import main
from archiver.draft.evidence import DRAFT_TERMS, Draft, Evidence
from archiver.draft.row import DEFAULT_COLUMNS
from archiver.metadata.rights import genre_terms
from archiver.workflows import describe

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "draft_eval"
T01 = EVAL / "t01_aktau_detentions.txt"
T09 = EVAL / "t09_ru_numbered_persons.txt"
PRESS_RELEASES = "http://id.loc.gov/authorities/genreForms/label/Press%20releases"
PETITIONS = "http://id.loc.gov/authorities/genreForms/label/Petitions"


def test_json_has_the_characterization_and_the_draft(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--draft", "--json", str(T01), str(T09)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in records] == [str(T01), str(T09)]
    first = records[0]
    assert set(first["digests"]) == {"sha256", "sha512"} and first["format"]["puid"]
    assert list(first["draft"]) == list(DRAFT_TERMS) == list(first["evidence"])
    assert first["draft"]["dc.title"] == [
        "Joint statement on the detention of oil workers in Aktau"
    ]
    assert first["draft"]["dc.date"] == ["2019-03-14"]
    assert first["draft"]["dc.type"] == ["Text"]
    for term in DRAFT_TERMS:
        assert [e["value"] for e in first["evidence"][term]] == first["draft"][term]
    date = first["evidence"]["dc.date"][0]
    assert date["line"] == 10 and date["text"] == "Almaty, 14 March 2019"
    assert 0 < date["confidence"] <= 1
    assert records[1]["draft"]["dc.creator"][0] == "Касымова, Алия"


def test_json_without_draft_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--json", str(T01)]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert "draft" not in record and record["size"] == T01.stat().st_size


def test_csv_rows_in_the_catalog_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--draft", "--csv", str(T01)]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    header = (ROOT / "sources" / "metadata.csv").read_text(encoding="utf-8").splitlines()[0]
    assert rows[0] == list(DEFAULT_COLUMNS) == header.split(",")
    row = dict(zip(rows[0], rows[1], strict=True))  # first value of each column
    assert row["filename"] == T01.name and row["dc.identifier"] == T01.stem
    assert row["dc.date"] == "2019-03-14" and row["premis.copyrightStatus"] == "unknown"
    creators = [cell for name, cell in zip(rows[0], rows[1], strict=True) if name == "dc.creator"]
    assert creators[:4] == [
        "Steppe Rights Monitor",
        "Caspian Labour Solidarity Network",
        'Legal Aid Centre "Adilet Zholy"',
        "Open Dialogue Initiative (Poland)",
    ]


def test_csv_with_the_header_of_another_catalog_and_overflow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "metadata.csv"
    catalog.write_text("filename,dc.title,dc.creator,dc.date\n", encoding="utf-8")
    assert main(["describe", "--draft", "--csv", "--catalog", str(catalog), str(T01)]) == 0
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert rows == [
        ["filename", "dc.title", "dc.creator", "dc.date"],
        [
            T01.name,
            "Joint statement on the detention of oil workers in Aktau",
            "Steppe Rights Monitor",
            "2019-03-14",
        ],
    ]
    assert "more dc.creator values than the catalog has dc.creator columns" in captured.err


def test_table_shows_value_confidence_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--draft", str(T01)]) == 0
    out = capsys.readouterr().out
    assert "sha256" in out and "draft:" in out
    assert "Steppe Rights Monitor" in out and "2019-03-14" in out and "0.9" in out


def test_refuses_a_directory_and_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--draft", str(tmp_path)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["describe", "--draft", "--json", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and len(err.strip().splitlines()) == 1


def test_not_utf8_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Déclaration du 12 juillet 2012".encode("latin-1"))
    assert main(["describe", "--draft", str(path)]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


def test_csv_needs_draft(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--csv", str(T01)]) == 2
    assert "--draft" in capsys.readouterr().err


def test_json_and_csv_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--draft", "--json", "--csv", str(T01)]) == 2
    assert "not allowed with" in capsys.readouterr().err


def test_without_the_extra_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "lingua", None)  # import lingua -> ImportError
    assert main(["describe", "--draft", str(T01)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'archiver[describe]'" in err
    assert main(["describe", str(T01)]) == 0  # the base command works without it


HOSTILE = ("=cmd|' /C calc'!A0", "@SUM(1+1)", "+cmd|' /C notepad'!A0", "-2+3", "\t=1", "\r=1")


class _HostileDrafter:
    """Drafts every term with formula-like values (one per creator column and more)."""

    def draft(self, text: str) -> Draft:
        values = [*HOSTILE, *HOSTILE, *HOSTILE]
        return Draft({t: tuple(Evidence(v, 1, v, 0.9) for v in values) for t in DRAFT_TERMS})


def test_csv_cells_a_spreadsheet_would_evaluate_are_quoted_in_every_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(describe, "_load_drafter", _HostileDrafter)
    source = tmp_path / "=1+2.txt"  # the filename and dc.identifier columns too
    source.write_text("A statement.\n", encoding="utf-8")
    assert main(["describe", "--draft", "--csv", str(source)]) == 0
    header, row = list(csv.reader(io.StringIO(capsys.readouterr().out, newline="")))
    assert tuple(header) == DEFAULT_COLUMNS
    assert row[0] == "'=1+2.txt" and row[1] == "'=1+2"
    for column, cell in zip(header, row, strict=True):
        if column in DRAFT_TERMS:
            assert cell in {"'" + v for v in HOSTILE}, (column, cell)
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    assert row[header.index("dc.creator") :][:6] == ["'" + v for v in HOSTILE]


def test_json_and_csv_carry_the_genre(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert {PRESS_RELEASES, PETITIONS} <= set(genre_terms())
    assert "dcterms.type" in DRAFT_TERMS
    assert main(["describe", "--draft", "--json", str(T01), str(T09)]) == 0
    first, second = json.loads(capsys.readouterr().out)
    assert first["draft"]["dcterms.type"] == [PRESS_RELEASES]  # "Joint statement ..."
    [evidence] = first["evidence"]["dcterms.type"]
    assert evidence["line"] == 8 and evidence["text"].startswith("Joint statement")
    assert 0 < evidence["confidence"] <= 1 and "Press releases" in evidence["note"]
    assert second["draft"]["dcterms.type"] == [PETITIONS]  # "Обращение к депутатам ..."
    assert main(["describe", "--draft", "--csv", str(T01)]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["dcterms.type"] == PRESS_RELEASES
    assert row["dcterms.rights"] == "" and row["dcterms.accessRights"] == ""  # never drafted


def test_a_text_without_a_genre_cue_drafts_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(
        "Workers detained in Aktau\n\nAlmaty, 14 March 2019\n\n"
        "The police detained eleven oil workers who had gathered peacefully in front of the "
        "administration to ask for the wages owed to them since November.\n",
        encoding="utf-8",
    )
    assert main(["describe", "--draft", "--json", str(path)]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["draft"]["dcterms.type"] == [] and record["evidence"]["dcterms.type"] == []
    assert main(["describe", "--draft", "--csv", str(path)]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert dict(zip(rows[0], rows[1], strict=True))["dcterms.type"] == ""
