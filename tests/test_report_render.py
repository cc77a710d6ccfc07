"""Tests for report.render: one self-contained HTML page, autoescaped, data kept safe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html
from test_report_collect import EVIL_TITLE, NOW, make_collection

from archiver.report.collect import collect
from archiver.report.render import history_text, render_page, size, when


@pytest.fixture
def page_html(tmp_path: Path) -> str:
    ledger, _ = make_collection(tmp_path, titles={"c": EVIL_TITLE})
    return render_page(collect(ledger, now=NOW))


def test_a_script_in_a_title_is_text_not_markup(page_html: str) -> None:
    assert "<script>alert(" not in page_html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in page_html
    tree = lxml_html.fromstring(page_html)
    assert len(tree.findall(".//script")) == 1  # ours, at the end
    row = tree.get_element_by_id("b1")
    assert row.findall("td")[0].text_content() == EVIL_TITLE


def test_the_page_loads_nothing_from_elsewhere(page_html: str) -> None:
    tree = lxml_html.fromstring(page_html)
    for element in tree.iter():
        for attribute in ("src", "href", "action", "srcset", "poster", "data"):
            value = element.get(attribute)
            if value is not None:
                assert value.startswith(("#", "data:")), (element.tag, attribute, value)
    assert not re.search(r"url\(|@import|https?://(?!www\.w3\.org/2000/svg)", page_html)


def test_the_table_has_one_row_per_bag_and_marks_the_failing_one(page_html: str) -> None:
    tree = lxml_html.fromstring(page_html)
    rows = tree.xpath('//table[@id="bag-table"]/tbody/tr')
    assert [r.get("id") for r in rows] == ["b1", "b2", "b3"]
    assert [r.get("class") for r in rows] == ["bad never", "ok", "ok"]
    assert rows[0].xpath("th")[0].get("scope") == "row"
    assert [th.text_content() for th in tree.xpath('//table[@id="bag-table"]/thead//th')] == [
        "Bag", "Title", "Last good check", "Last outcome", "Open problems", "Copies",
        "Repairs", "History",
    ]  # fmt: skip
    # the open problem links to the row; the row to its history; the history to its runs
    assert tree.xpath('//ul[@class="problems"]//a/@href') == ["#b1"]
    assert tree.xpath('//tr[@id="b1"]//a/@href') == ["#h1"]
    history = tree.get_element_by_id("h1")
    assert history.xpath(".//a/@href") == ["#run-2", "#run-3", "#b1"]
    assert tree.get_element_by_id("run-2") is not None


def test_summary_shows_head_hash_and_verify_result(page_html: str, tmp_path: Path) -> None:
    tree = lxml_html.fromstring(page_html)
    summary = tree.get_element_by_id("summary").text_content()
    assert "Ledger verify" in summary and "passes" in summary
    head = tree.xpath('//code[@class="hash"]')[0].text_content()
    assert re.fullmatch("[0-9a-f]{64}", head) and head in summary
    assert "1 bag" in tree.get_element_by_id("summary").xpath(".//a")[0].text_content()


def test_charts_are_inline_svg_with_titles_and_text_alternatives(page_html: str) -> None:
    tree = lxml_html.fromstring(page_html)
    charts = tree.xpath("//figure/svg")
    assert len(charts) == 4
    for svg in charts:
        assert svg.get("role") == "img"
        labelled = svg.get("aria-labelledby").split()
        assert [tree.get_element_by_id(i).tag for i in labelled] == ["title", "desc"]
        assert all(tree.get_element_by_id(i).text_content().strip() for i in labelled)
        assert svg.getparent().xpath(".//details/table")  # the numbers, as a table


def test_bags_beyond_the_plain_rows_are_script_safe_data(tmp_path: Path) -> None:
    ledger, names = make_collection(tmp_path, titles={"a": "</script><script>alert(1)//"})
    text = render_page(collect(ledger, now=NOW), plain_rows=1)
    tree = lxml_html.fromstring(text)
    assert len(tree.xpath('//table[@id="bag-table"]/tbody/tr')) == 1
    scripts = tree.findall(".//script")
    assert [s.get("type") for s in scripts] == ["application/json", None]
    data = json.loads(scripts[0].text)
    rows = data["rows"]
    assert [data["dirs"][row[2]] + row[1] for row in rows] == names[:2]
    assert [row[0] for row in rows] == [2, 3]
    assert rows[0][3] == "</script><script>alert(1)//"
    assert [data["runs"][str(row[5])] for row in rows] == [
        "2026-01-01 01:00 UTC",
        "2026-01-02 01:00 UTC",
    ]
    assert [(row[6], row[7]) for row in rows] == [(3, 1), (3, 0)]
    assert data["copies"][rows[1][10]] == "ocfl:///srv/ocfl v1"
    assert "</script><script>alert" not in text
    note = tree.get_element_by_id("more-note").text_content()
    assert "2 more bags" in note


def test_notable_histories_and_runs_are_listed(page_html: str) -> None:
    tree = lxml_html.fromstring(page_html)
    assert [a.get("id") for a in tree.xpath('//section[@id="histories"]/article')] == ["h1", "h2"]
    assert len(tree.xpath('//table[@class="runs"]/tbody/tr')) == 4


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2026-01-02T03:04:05+00:00", "2026-01-02 03:04 UTC"),
        ("2026-01-02T03:04:05.123456+00:00", "2026-01-02 03:04 UTC"),
        ("2026-01-02T03:04:05+05:00", "2026-01-02 03:04 +05:00"),
        ("2026-01-02T03:04:05", "2026-01-02 03:04"),
        ("", ""),
    ],
)
def test_when(text: str, shown: str) -> None:
    assert when(text) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0 bytes"), (999, "999 bytes"), (1500, "1.5 KB"), (2 * 10**12, "2.0 TB")],
)
def test_size(value: int, shown: str) -> None:
    assert size(value) == shown


def test_history_text(tmp_path: Path) -> None:
    ledger, _ = make_collection(tmp_path)
    rows = collect(ledger, now=NOW).rows
    assert [history_text(row) for row in rows] == [
        "2 checks, 2 failed",
        "3 checks, 1 failed",
        "3 checks, all valid",
    ]
