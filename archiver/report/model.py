"""What the collection report shows, built from ledger records (pure: no disk, no clock).

``build_page`` takes the ledger's runs, per-bag summaries and events, its head and the
result of ``verify``, the bags' titles and the time "now", and returns a ``Page``: the
summary, one ``BagRow`` per bag (most in need of attention first), the open problems,
the notable bag histories, the runs and the charts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from archiver.model.findings import Severity
from archiver.model.records import BagSummary, Problem, RecordedEvent, RunRecord
from archiver.report.charts import Chart, bar_chart

AUDIT_KINDS = frozenset({"audit", "repair"})  # runs that check bags (others record events)
COPY_EVENTS = frozenset({"replication", "transfer"})  # a deposit made a copy
REPAIR_EVENTS = frozenset({"recovery", "quarantine"})  # archiver repair: restored, moved out
MAX_CHART_RUNS = 60  # the charts of runs show the latest ones
AGE_BINS: tuple[tuple[str, float], ...] = (
    ("≤ 1 day", 1),
    ("2–7 days", 7),
    ("8–30 days", 30),
    ("31–90 days", 90),
    ("91–365 days", 365),
    ("> 1 year", float("inf")),
)
NEVER = "never"
_VERSION = re.compile(r"\bversion (\S+) at ")


@dataclass(frozen=True, slots=True)
class RunView:
    """One run of the ledger as the page shows it."""

    seq: int
    run_id: str
    kind: str
    ended: str
    mode: str
    bags: int
    failed: int
    files: int
    bytes: int
    seconds: float
    hash: str

    @property
    def anchor(self) -> str:
        """The id of the run's row in the runs table."""
        return f"run-{self.seq}"

    @property
    def mb_per_second(self) -> float:
        """Throughput in MB/s (0 for a run that read nothing or took no time)."""
        return self.bytes / self.seconds / 1e6 if self.seconds > 0 else 0.0


class Copy(NamedTuple):
    """A copy of a bag made by a deposit: where, which version, when."""

    target: str
    version: str
    when: str
    detail: str


@dataclass(frozen=True, slots=True)
class Repair:
    """A repair step recorded for a bag."""

    when: str
    outcome: str
    source: str
    detail: str
    seq: int


@dataclass(frozen=True, slots=True)
class OpenProblem:
    """A problem found in a bag's last check (kind, path, message)."""

    kind: str
    path: str
    message: str


class BagRow(NamedTuple):
    """One bag in the table (a named tuple: a report builds one per bag, and a tuple is
    built several times faster than a frozen dataclass)."""

    number: int  # its place in the table, from 1
    bag: str  # as the ledger names it (its path when audited)
    identifier: str  # its directory name
    title: str
    status: str  # the last outcome: valid, invalid, ... or "never checked"
    last_checked: str
    last_good: str  # time of the last good fixity check, "" if never
    last_good_seq: int | None  # its run
    last_good_age_days: int | None
    problems: tuple[OpenProblem, ...]
    copies: tuple[Copy, ...]
    repairs: tuple[Repair, ...]
    checks: int
    first_checked: str
    failed_runs: tuple[RunView, ...]
    failed_copies: int  # deposits that failed
    failing: bool  # the last check did not find the bag valid

    @property
    def anchor(self) -> str:
        """The id of the bag's table row."""
        return f"b{self.number}"

    @property
    def history_anchor(self) -> str:
        """The id of the bag's history entry."""
        return f"h{self.number}"

    @property
    def places(self) -> tuple[tuple[str, str], ...]:
        """The open problems' distinct (kind, path), in order."""
        return tuple(dict.fromkeys((p.kind, p.path) for p in self.problems))

    @property
    def notable(self) -> bool:
        """True when the history has more to say than "checked, always valid"."""
        return bool(self.failed_runs or self.repairs or self.failed_copies or self.failing)


NEVER_CHECKED = "never checked"


@dataclass(frozen=True, slots=True)
class Summary:
    """The top of the page."""

    bags: int
    files: int
    bytes: int
    failing: int
    never_good: int
    last_audit: RunView | None
    runs: int
    head_seq: int
    head_hash: str
    verified: bool | None  # None: not verified for this report
    verify_problems: tuple[str, ...]
    oldest_good: str  # the oldest last good check ("" when none)


@dataclass(frozen=True, slots=True)
class Page:
    """Everything the report shows."""

    ledger: str
    generated: str
    summary: Summary
    rows: tuple[BagRow, ...]
    runs: tuple[RunView, ...]
    charts: tuple[Chart, ...]
    failing_rows: tuple[BagRow, ...]  # the bags failing now, in table order


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def age_days(then: str, now: datetime) -> int | None:
    """Whole days from ``then`` (ISO 8601) to ``now``; None when ``then`` is unreadable."""
    moment = _parse(then)
    if moment is None:
        return None
    if moment.tzinfo is None and now.tzinfo is not None:
        moment = moment.replace(tzinfo=now.tzinfo)
    return max(0, (now - moment).days)


def age_bin(days: int | None) -> str:
    """The label of the age histogram's bin for ``days`` (None: never good)."""
    if days is None:
        return NEVER
    for label, limit in AGE_BINS:
        if days <= limit:
            return label
    return AGE_BINS[-1][0]  # pragma: no cover - the last limit is infinite


def run_view(run: RunRecord) -> RunView:
    """A ``RunRecord`` as the page shows it."""
    return RunView(
        seq=run.seq,
        run_id=run.run_id,
        kind=run.kind,
        ended=run.ended,
        mode=run.mode,
        bags=run.bags,
        failed=run.failed,
        files=run.files,
        bytes=run.bytes,
        seconds=run.seconds,
        hash=run.hash,
    )


def _copies_and_repairs(
    events: Sequence[RecordedEvent], kinds: Mapping[int, str]
) -> tuple[dict[str, dict[str, Copy]], dict[str, list[Repair]], dict[str, int]]:
    """Per bag: its copies (the latest per target), its repairs, its failed deposits."""
    copies: dict[str, dict[str, Copy]] = {}
    repairs: dict[str, list[Repair]] = {}
    failed: dict[str, int] = {}
    for recorded in events:
        event = recorded.event
        if event.event_type in REPAIR_EVENTS:
            repairs.setdefault(event.bag, []).append(
                Repair(event.date_time, event.outcome, event.target, event.detail, recorded.seq)
            )
        elif event.event_type in COPY_EVENTS and kinds.get(recorded.seq) != "repair":
            if event.outcome != "success":
                failed[event.bag] = failed.get(event.bag, 0) + 1
                continue
            detail = event.outcome_detail
            match = _VERSION.search(detail) if " version " in detail else None
            copy = Copy(event.target, match.group(1) if match else "", event.date_time, detail)
            held = copies.get(event.bag)
            if held is None:
                copies[event.bag] = {event.target: copy}
            else:
                held[event.target] = copy  # the latest per target
    return copies, repairs, failed


def _charts(audits: Sequence[RunView], rows: Sequence[BagRow]) -> tuple[Chart, ...]:
    shown = audits[-MAX_CHART_RUNS:]
    note = (
        f" (the latest {len(shown)} of {len(audits)} audit runs)"
        if len(audits) > len(shown)
        else ""
    )
    labels = [f"#{run.seq} {run.ended[:10]}" for run in shown]
    checked = bar_chart(
        "chart-checked",
        "Bags checked per audit run" + note,
        "bags",
        [(label, float(run.bags), "bar") for label, run in zip(labels, shown, strict=True)],
        f"{len(shown)} audit runs checked between "
        f"{min((r.bags for r in shown), default=0):,} and "
        f"{max((r.bags for r in shown), default=0):,} bags each.",
    )
    failures = bar_chart(
        "chart-failed",
        "Bags failing per audit run" + note,
        "bags",
        [(label, float(run.failed), "bar bad") for label, run in zip(labels, shown, strict=True)],
        f"{sum(1 for r in shown if r.failed)} of {len(shown)} audit runs found failing bags; "
        f"at most {max((r.failed for r in shown), default=0):,} in one run.",
    )
    rates = [run.mb_per_second for run in shown]
    throughput = bar_chart(
        "chart-throughput",
        "Throughput per audit run, MB/s" + note,
        "MB/s",
        [(label, rate, "bar") for label, rate in zip(labels, rates, strict=True)],
        f"Throughput ranged from {min(rates, default=0):.1f} to {max(rates, default=0):.1f} MB/s"
        + (f"; the last run read {rates[-1]:.1f} MB/s." if rates else "."),
    )
    counts = {label: 0 for label, _ in AGE_BINS}
    counts[NEVER] = 0
    for days, count in Counter(row.last_good_age_days for row in rows).items():
        counts[age_bin(days)] += count
    ages = bar_chart(
        "chart-age",
        "Age of each bag's last good check",
        "bags",
        [
            (label, float(count), "bar bad" if label == NEVER else "bar")
            for label, count in counts.items()
        ],
        "; ".join(f"{label}: {count:,} bags" for label, count in counts.items()) + ".",
    )
    return (checked, failures, throughput, ages)


def _identifier(bag: str) -> str:
    """The bag's directory name (its last path component)."""
    return bag.rstrip("/").rsplit("/", 1)[-1] or bag


def build_page(
    *,
    ledger: str,
    runs: Sequence[RunRecord],
    summaries: Sequence[BagSummary],
    events: Sequence[RecordedEvent],
    head: tuple[int, str],
    problems: Sequence[Problem] | None,
    titles: Mapping[str, str],
    now: datetime,
) -> Page:
    """The page's data. ``problems``: what ``Ledger.verify`` found, None when not run."""
    views = {run.seq: run_view(run) for run in runs}
    kinds = {run.seq: run.kind for run in runs}
    copies, repairs, failed_copies = _copies_and_repairs(events, kinds)
    by_bag = {summary.bag: summary for summary in summaries}
    names = sorted(set(by_bag) | {recorded.event.bag for recorded in events})
    keyed: list[tuple[tuple[int, str, str], str, str, int | None]] = []
    for name in names:
        summary = by_bag.get(name)
        status = NEVER_CHECKED if summary is None else summary.last_status
        good = summary.last_good_seq if summary is not None else None
        last_good = views[good].ended if good is not None and good in views else ""
        identifier = _identifier(name)
        if status not in ("valid", NEVER_CHECKED):
            key = (0, "", identifier)  # failing now
        elif not last_good:
            key = (1, "", identifier)
        else:
            key = (2, last_good, identifier)
        keyed.append((key, name, last_good, good if last_good else None))
    keyed.sort()
    ages = {text: age_days(text, now) for text in {item[2] for item in keyed}}
    rows: list[BagRow] = []
    ended = {seq: view.ended for seq, view in views.items()}
    for index, (key, name, last_good, good_seq) in enumerate(keyed, 1):
        summary = by_bag.get(name)
        failed_runs: tuple[RunView, ...] = ()
        found: tuple[OpenProblem, ...] = ()
        if summary is None:
            status, last_checked, first_checked, checks = NEVER_CHECKED, "", "", 0
        else:
            status = summary.last_status
            last_checked = ended.get(summary.last_seq, "")
            first_checked = ended.get(summary.first_seq, "")
            checks = summary.checks
            if summary.failed_seqs:
                failed_runs = tuple(views[s] for s in summary.failed_seqs if s in views)
            if summary.last_findings:
                found = tuple(
                    OpenProblem(str(f.kind), f.path, f.message)
                    for f in summary.last_findings
                    if f.severity is Severity.ERROR
                )
        rows.append(
            BagRow(
                number=index,
                bag=name,
                identifier=key[2],
                title=titles.get(name, ""),
                status=status,
                last_checked=last_checked,
                last_good=last_good,
                last_good_seq=good_seq,
                last_good_age_days=ages[last_good] if last_good else None,
                problems=found,
                copies=tuple(copies[name].values()) if name in copies else (),
                repairs=tuple(repairs.get(name, ())),
                checks=checks,
                first_checked=first_checked,
                failed_runs=failed_runs,
                failed_copies=failed_copies.get(name, 0),
                failing=key[0] == 0,
            )
        )
    ordered = tuple(rows)
    failing = tuple(row for row in ordered if row.failing)
    audits = [views[run.seq] for run in runs if run.kind in AUDIT_KINDS]
    goods = [row.last_good for row in ordered if row.last_good]
    top = Summary(
        bags=len(ordered),
        files=sum(s.last_files for s in summaries),
        bytes=sum(s.last_bytes for s in summaries),
        failing=len(failing),
        never_good=sum(1 for row in ordered if not row.last_good),
        last_audit=audits[-1] if audits else None,
        runs=len(runs),
        head_seq=head[0],
        head_hash=head[1],
        verified=None if problems is None else not problems,
        verify_problems=tuple(p.message for p in problems or ()),
        oldest_good=min(goods, default=""),
    )
    return Page(
        ledger=ledger,
        generated=now.isoformat(timespec="seconds"),
        summary=top,
        rows=ordered,
        runs=tuple(views[run.seq] for run in runs),
        charts=_charts(audits, ordered),
        failing_rows=failing,
    )
