"""Tests for report.model and report.charts: the data behind the collection report (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from archiver.model.findings import Finding, Kind, Severity
from archiver.model.records import (
    BagSummary,
    LedgerEvent,
    Problem,
    RecordedEvent,
    RunRecord,
)
from archiver.report.charts import bar_chart, format_number, nice_ceiling
from archiver.report.model import (
    AGE_BINS,
    NEVER,
    NEVER_CHECKED,
    age_bin,
    age_days,
    build_page,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MISMATCH = Finding(
    Kind.CHECKSUM_MISMATCH, "/c/bad", "data/x.txt", "sha256 differs", algorithm="sha256"
)
WARNING = Finding(Kind.UNEXPECTED_FILE, "/c/bad", "data/extra", "extra", Severity.WARNING)


def run(
    seq: int,
    day: int,
    *,
    kind: str = "audit",
    mode: str = "full",
    bags: int = 3,
    failed: int = 0,
    seconds: float = 2.0,
    size: int = 4_000_000,
) -> RunRecord:
    return RunRecord(
        seq=seq,
        run_id=f"r{seq}",
        kind=kind,
        started=f"2026-02-{day:02d}T01:00:00+00:00",
        ended=f"2026-02-{day:02d}T01:00:02+00:00",
        mode=mode,
        roots=("/c",),
        versions={},
        bags=bags,
        failed=failed,
        files=bags * 2,
        bytes=size,
        seconds=seconds,
        children=bags,
        children_hash="c" * 64,
        prev_hash="0" * 64,
        hash=f"{seq:064d}",
    )


def summary(
    bag: str,
    *,
    last: int = 3,
    status: str = "valid",
    good: int | None = 3,
    failed: Sequence[int] = (),
    findings: tuple[Finding, ...] = (),
    checks: int = 3,
) -> BagSummary:
    return BagSummary(
        bag=bag,
        checks=checks,
        first_seq=1,
        last_seq=last,
        last_status=status,
        last_files=2,
        last_bytes=100,
        last_findings=findings,
        last_good_seq=good,
        failed_seqs=tuple(failed),
    )


def event(
    seq: int,
    bag: str,
    event_type: str = "replication",
    outcome: str = "success",
    target: str = "ocfl:///store",
    detail: str = "created version v1 at x/v1; verified",
    when: str = "2026-02-05T10:00:00+00:00",
) -> RecordedEvent:
    return RecordedEvent(
        seq=seq,
        run_id=f"r{seq}",
        event=LedgerEvent(
            event_type=event_type,
            bag=bag,
            date_time=when,
            outcome=outcome,
            detail="deposit",
            outcome_detail=detail,
            target=target,
        ),
        hash="e" * 64,
    )


RUNS = [run(1, 1), run(2, 10, failed=1), run(3, 20, failed=1), run(4, 21, kind="deposit")]
SUMMARIES = [
    summary("/c/old", last=1, good=1),
    summary("/c/fresh"),
    summary("/c/bad", status="invalid", good=1, failed=(2, 3), findings=(MISMATCH, WARNING)),
    summary("/c/never", status="invalid", good=None, failed=(1, 2, 3)),
]
EVENTS = [
    event(4, "/c/fresh"),
    event(4, "/c/fresh", detail="updated version v2 at x/v2; verified"),
    event(4, "/c/fresh", target="s3://bucket/p", detail="created at s3://bucket/p/fresh.tar"),
    event(4, "/c/old", outcome="failure", detail="unreachable"),
    event(4, "/c/deposited-only"),
]


def page(problems: Sequence[Problem] | None = (), **changes: object) -> object:
    arguments: dict[str, object] = {
        "ledger": "/c/.audit-ledger.sqlite",
        "runs": RUNS,
        "summaries": SUMMARIES,
        "events": EVENTS,
        "head": (4, "f" * 64),
        "problems": problems,
        "titles": {"/c/bad": "A <script>alert(1)</script> title", "/c/fresh": "Fresh"},
        "now": NOW,
    }
    arguments.update(changes)
    return build_page(**arguments)  # type: ignore[arg-type]


def test_rows_put_failing_then_never_good_then_oldest_good_check_first() -> None:
    result = page()
    assert [row.identifier for row in result.rows] == [
        "bad",
        "never",
        "deposited-only",
        "old",
        "fresh",
    ]
    assert [row.number for row in result.rows] == [1, 2, 3, 4, 5]
    assert [row.anchor for row in result.rows][:2] == ["b1", "b2"]


def test_a_failing_bag_row_has_its_open_errors_last_good_check_and_history() -> None:
    bad = page().rows[0]
    assert bad.failing and bad.status == "invalid"
    assert [(p.kind, p.path) for p in bad.problems] == [("checksum-mismatch", "data/x.txt")]
    assert bad.last_good == "2026-02-01T01:00:02+00:00"
    assert bad.last_good_age_days == 28
    assert [r.seq for r in bad.failed_runs] == [2, 3]
    assert bad.checks == 3 and bad.notable
    assert bad.title == "A <script>alert(1)</script> title"  # data; the template escapes it


def test_places_are_the_distinct_kind_and_path_of_the_open_problems() -> None:
    sha512 = Finding(Kind.CHECKSUM_MISMATCH, "/c/bad", "data/x.txt", "sha512 differs")
    gone = Finding(Kind.MISSING_FILE, "/c/bad", "data/y.txt", "gone")
    summaries = [summary("/c/bad", status="invalid", findings=(MISMATCH, sha512, gone))]
    row = page(summaries=summaries, events=[]).rows[0]
    assert len(row.problems) == 3
    assert row.places == (("checksum-mismatch", "data/x.txt"), ("missing-file", "data/y.txt"))


def test_copies_keep_the_latest_per_target_with_its_version_and_failures_count() -> None:
    rows = {row.identifier: row for row in page().rows}
    fresh = rows["fresh"]
    assert [(c.target, c.version) for c in fresh.copies] == [
        ("ocfl:///store", "v2"),
        ("s3://bucket/p", ""),
    ]
    assert not fresh.notable  # copies alone are not news
    assert rows["old"].copies == () and rows["old"].failed_copies == 1 and rows["old"].notable


def test_a_bag_with_deposits_but_no_audit_is_listed_as_never_checked() -> None:
    row = {row.identifier: row for row in page().rows}["deposited-only"]
    assert row.status == NEVER_CHECKED and not row.failing
    assert row.checks == 0 and row.last_good == "" and row.last_good_age_days is None


def test_repairs_are_recovery_and_quarantine_events() -> None:
    runs = [*RUNS, run(5, 22, kind="repair")]
    events = [
        *EVENTS,
        event(5, "/c/bad", event_type="recovery", target="ocfl:///store", detail="restored"),
        event(5, "/c/bad", event_type="quarantine", target="", detail="moved out"),
        event(5, "/c/bad", event_type="fixity check", target="", detail="after"),
        event(5, "/c/bad", event_type="replication", target="ocfl:///store", detail="x"),
        event(4, "/c/never", event_type="recovery", target="/replica", when="2026-02-21T00:00:00Z"),
    ]
    rows = {row.identifier: row for row in page(runs=runs, events=events).rows}
    assert [(r.source, r.seq) for r in rows["bad"].repairs] == [("ocfl:///store", 5), ("", 5)]
    assert rows["bad"].copies == ()  # a repair run's events are no copies
    assert [r.source for r in rows["never"].repairs] == ["/replica"]
    assert rows["fresh"].repairs == ()


def test_summary_counts_last_audit_head_and_verify_result() -> None:
    s = page().summary
    assert (s.bags, s.files, s.bytes) == (5, 8, 400)
    assert s.failing == 2 and s.never_good == 2
    assert s.last_audit is not None and s.last_audit.seq == 3  # the deposit run is not an audit
    assert s.last_audit.mb_per_second == pytest.approx(2.0)
    assert (s.head_seq, s.head_hash, s.runs) == (4, "f" * 64, 4)
    assert s.verified is True and s.verify_problems == ()
    assert s.oldest_good == "2026-02-01T01:00:02+00:00"
    tampered = page([Problem("edited-run", "run seq 2 edited", 2, "r2")]).summary
    assert tampered.verified is False and tampered.verify_problems == ("run seq 2 edited",)
    assert page(None).summary.verified is None


def test_an_empty_ledger_gives_an_empty_page() -> None:
    empty = page(runs=[], summaries=[], events=[], head=(0, "0" * 64))
    assert empty.rows == () and empty.summary.last_audit is None
    assert empty.summary.oldest_good == ""
    assert [len(chart.bars) for chart in empty.charts] == [0, 0, 0, len(AGE_BINS) + 1]


def test_charts_show_audit_runs_failures_throughput_and_ages() -> None:
    checked, failures, throughput, ages = page().charts
    assert [b.value for b in checked.bars] == ["3", "3", "3"]
    assert [b.value for b in failures.bars] == ["0", "1", "1"]
    assert [b.value for b in throughput.bars] == ["2", "2", "2"]
    assert dict(ages.rows) == {
        "≤ 1 day": "0",
        "2–7 days": "0",
        "8–30 days": "3",
        "31–90 days": "0",
        "91–365 days": "0",
        "> 1 year": "0",
        NEVER: "2",
    }
    assert ages.description.startswith("≤ 1 day: 0 bags")
    for chart in (checked, failures, throughput, ages):
        assert chart.title and chart.description


def test_charts_keep_the_latest_runs_and_say_so() -> None:
    runs = [run(i, 1) for i in range(1, 71)]
    checked = page(runs=runs).charts[0]
    assert len(checked.bars) == 60
    assert checked.bars[0].label.startswith("#11 ")
    assert "latest 60 of 70" in checked.title


@pytest.mark.parametrize(
    ("then", "days", "label"),
    [
        ("2026-03-01T00:00:00+00:00", 0, "≤ 1 day"),
        ("2026-02-27T12:00:00+00:00", 2, "2–7 days"),
        ("2026-01-01T00:00:00+00:00", 59, "31–90 days"),
        ("2024-01-01T00:00:00+00:00", 790, "> 1 year"),
        ("2026-02-20T12:00:00", 9, "8–30 days"),  # naive: taken in now's zone
        ("2027-01-01T00:00:00+00:00", 0, "≤ 1 day"),  # in the future: no negative age
    ],
)
def test_age_in_days_and_its_bin(then: str, days: int, label: str) -> None:
    assert age_days(then, NOW) == days
    assert age_bin(days) == label


def test_unreadable_times_have_no_age() -> None:
    assert age_days("yesterday", NOW) is None
    assert age_bin(None) == NEVER


def test_bar_chart_geometry_scales_to_a_nice_ceiling_and_keeps_small_bars_visible() -> None:
    chart = bar_chart("c", "T", "bags", [("a", 100.0, "bar"), ("b", 1.0, "bar")], "d")
    first, second = chart.bars
    assert first.y + first.height == pytest.approx(chart.baseline)
    assert first.height > 100 and 1.5 <= second.height < 3
    assert [t.text for t in chart.y_ticks] == ["0", "25", "50", "75", "100"]
    assert chart.rows == (("a", "100"), ("b", "1"))
    many = bar_chart("c", "T", "u", [(str(i), float(i), "bar") for i in range(50)], "d")
    assert len(many.x_ticks) <= 13


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (0.3, 0.5), (7, 10), (101, 200), (100_000, 100_000)]
)
def test_nice_ceiling(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0"), (12, "12"), (2.5, "2.5"), (1500, "1.5k"), (4_200_000, "4.2M")]
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text
