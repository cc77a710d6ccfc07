"""The scoring of drafts against expected rows, and the evaluation set's score.

The held-out check is a score check (no time limit): the drafts of statements the engine
was not tuned on must stay at a mean of 0.9 over the five fields, places precision 0.6.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from draft_helpers import shared_drafter

from archiver.draft.scoring import match_lists, score_field, score_row
from bench import draft as bench_draft


def test_title_exact_normalized_or_close() -> None:
    assert (
        score_field(
            "dc.title", ["Open Appeal to the Authorities."], ["open appeal to the authorities"]
        )[0]
        == 1.0
    )
    close = score_field(
        "dc.title",
        ["Open appeal to the Kazakh authorities now"],
        ["Open appeal to the Kazakh authorities"],
    )
    assert 0.8 <= close[0] < 1.0
    assert score_field("dc.title", ["Menu"], ["Open appeal to the authorities"])[0] == 0.0
    assert score_field("dc.title", [], ["Open appeal"])[0] == 0.0


def test_date_is_exact() -> None:
    assert score_field("dc.date", ["2011-12-20"], ["2011-12-20"])[0] == 1.0
    assert score_field("dc.date", ["2011-12"], ["2011-12-20"])[0] == 0.0


def test_lists_are_scored_by_f1() -> None:
    score, counts = score_field("dc.creator", ["The Feminist League", "Extra"], ["Feminist League"])
    assert counts is not None and (counts.matched, counts.drafted, counts.expected) == (1, 2, 1)
    assert score == pytest.approx(2 / 3)
    assert match_lists([], [], lambda a, b: a == b).f1 == 1.0
    assert score_field("dc.language", ["en"], ["en", "fr"])[0] == pytest.approx(2 / 3)


def test_places_match_by_gazetteer_or_without_region_word() -> None:
    gazetteer = shared_drafter().gazetteer
    assert score_field("dcterms.spatial", ["Khorugh"], ["Khorog"], gazetteer)[0] == 1.0
    assert score_field("dcterms.spatial", ["Mangistau oblast"], ["Mangistau region"])[0] == 1.0
    assert score_field("dcterms.spatial", ["Almaty"], ["Astana"], gazetteer)[0] == 0.0


def test_row_scores_every_field() -> None:
    scores = score_row({"dc.title": ["A"]}, {"dc.title": ["A"], "dc.date": ["2011"]})
    assert set(scores) == {"dc.title", "dc.date", "dc.creator", "dcterms.spatial", "dc.language"}
    assert scores["dc.title"][0] == 1.0 and scores["dc.date"][0] == 0.0


def test_evaluation_set_is_split_and_large_enough() -> None:
    cases = bench_draft.eval_cases()
    assert len(cases) >= 15
    assert {c.split for c in cases} == {"tune", "dev", *bench_draft.HELDOUT}
    assert len([c for c in cases if c.split in bench_draft.HELDOUT]) >= 15
    assert not {c.name for c in cases} & {c.name for c in bench_draft.seed_cases()}


def test_heldout_score_stays_above_the_target() -> None:
    drafter = shared_drafter()
    cases = [c for c in bench_draft.eval_cases() if c.split in bench_draft.HELDOUT]
    drafts = {c.name: drafter.draft(c.text).draft_json() for c in cases}
    score = bench_draft.score_split("heldout", cases, drafts, drafter.gazetteer)
    assert score.mean >= bench_draft.TARGET_MEAN, score.per_field
    assert score.place_precision >= bench_draft.TARGET_PLACE_PRECISION


def test_bench_report_has_scores_time_and_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "draft.json"
    assert bench_draft.main(["--json", str(out), "--show", "tune"]) == 0
    printed = capsys.readouterr().out
    assert "== t01_aktau_detentions.txt [tune]" in printed and "held-out" in printed
    assert "h01_" not in printed  # held-out drafts are never shown unless asked for
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["scores"]) == {*bench_draft.SPLITS, "held-out"}
    assert set(report["scores"]["held-out"]["per_field"]) == {
        "dc.title",
        "dc.date",
        "dc.creator",
        "dcterms.spatial",
        "dc.language",
    }
    for key in ("first_file_s", "first_file_cpu_s", "next_file_max_s", "peak_rss_mib"):
        assert report[key] > 0
