"""Building bags (``archiver build``): the archive's settings, the clock and the catalog
composed into one build run of ``archiver.build.collection``; then, for the bags
``--replace`` rebuilt, a ledger run of kind ``replace`` that makes their new tag manifests
the audit's reference.

A replaced bag is a correction made on purpose (a catalog fix, a corrected source): the
next audit must not take it for a payload substituted by hand. The bags replaced are
audited in full here (the same check, and the same record, as ``archiver audit --accept``
makes), and recorded, with one "information package creation" event per bag, in the ledger
``archiver.config.resolve_ledger`` finds for the output directory's collection. When that
ledger does not exist yet (no audit has run), there is no reference to move: nothing is
recorded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archiver.bag.validator import MAX_TAG_BYTES
from archiver.build.collection import (
    BuildOutcome,
    BuildReport,
    BuildStatus,
    build_collection,
)
from archiver.config import LedgerLocation, load_config, resolve_ledger, timestamp_settings_for
from archiver.model.clock import clock_from_environment
from archiver.model.records import LedgerEvent
from archiver.model.reports import ProgressCallback
from archiver.storage.fileio import read_bounded

REPLACE_KIND = "replace"  # the ledger run's kind
REPLACE_EVENT = "information package creation"  # PREMIS: the package was made anew
REPLACE_DETAIL = (
    "bag replaced by 'archiver build --replace' (a correction made on purpose); its tag "
    "manifests are the audit's reference from now on"
)


@dataclass(frozen=True, slots=True)
class BuildRun:
    """A build: its report, and what was recorded for the bags it replaced.

    ``location`` is the ledger consulted when a bag was replaced (None: nothing replaced);
    ``replace_run`` the run id recorded there (None: no ledger yet, nothing recorded).
    """

    report: BuildReport
    location: LedgerLocation | None = None
    replace_run: str | None = None
    recorded: tuple[str, ...] = ()  # the replaced bags whose new reference was recorded
    rejected: tuple[str, ...] = ()  # replaced bags the audit found invalid: no reference
    stamp_failures: tuple[str, ...] = ()  # [timestamp]: why the run was recorded unstamped


def build_bags(
    *,
    config_path: Path,
    catalog_path: Path,
    out_dir: Path,
    sources: Sequence[Path] = (),
    replace: bool = False,
    ledger: Path | None = None,
    on_outcome: Callable[[BuildOutcome], None] | None = None,
    progress: ProgressCallback | None = None,
    environ: Mapping[str, str] | None = None,
) -> BuildRun:
    """Build one bag per source (default: every file beside the catalog) into ``out_dir``.

    The settings are read from ``config_path`` (ConfigError if they are wrong), the clock
    from ``environ`` (default: this process's environment; SOURCE_DATE_EPOCH freezes it).
    ``on_outcome`` hears each source's outcome as it is known, in source order;
    ``progress`` hears (sources done, sources), the total known once they are planned,
    before any is built. A failed source is a ``failed`` outcome and the others are
    still built; problems with the catalog or the output directory raise ArchiverError.
    The bags replaced are recorded as the audit's new reference in the ledger
    (``ledger``, else as ``resolve_ledger`` finds it for the collection at ``out_dir``)
    when it exists.
    """
    config = load_config(config_path)
    clock = clock_from_environment(os.environ if environ is None else environ)
    total = done = 0

    def planned(count: int) -> None:
        nonlocal total
        total = count
        if progress is not None:
            progress(0, total)

    def heard(outcome: BuildOutcome) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, max(total, done))
        if on_outcome is not None:
            on_outcome(outcome)

    report = build_collection(
        config=config,
        catalog_path=catalog_path,
        out_dir=out_dir,
        sources=sources,
        clock=clock,
        replace=replace,
        on_outcome=heard,
        on_planned=planned,
    )
    replaced = [o.bag for o in report.outcomes if o.status == BuildStatus.REPLACED and o.bag]
    if not replaced:
        return BuildRun(report)
    location = resolve_ledger(ledger, config=config_path, roots=[out_dir], create=False)
    if not location.path.exists():
        return BuildRun(report, location)
    return _record_replaced(report, location, out_dir, replaced, config_path)


def _detail(bag: str, replaced: str | None) -> str:
    """The replace event's detail; with the packages' identifiers when both are known, so
    the ledger's PREMIS export links each earlier audit to the package it checked."""
    from archiver.ledger.premis_export import package_identity, replace_detail

    if replaced is None:
        return REPLACE_DETAIL
    try:
        record = json.loads(read_bounded(Path(bag) / "metadata" / "premis.json", MAX_TAG_BYTES))
    except (OSError, ValueError):
        return REPLACE_DETAIL
    identity = package_identity(record) if isinstance(record, dict) else None
    if identity is None:
        return REPLACE_DETAIL
    return f"{REPLACE_DETAIL}; {replace_detail(identity[1], replaced)}"


def _record_replaced(
    report: BuildReport,
    location: LedgerLocation,
    out_dir: Path,
    replaced: Sequence[str],
    config_path: Path,
) -> BuildRun:
    """Audit the replaced bags in full and record the run (kind ``replace``, an event per
    bag): a valid bag's new tag manifests become its reference, as with ``audit --accept``."""
    from archiver.audit.collection import audit  # the audit engine only when a bag was replaced
    from archiver.ledger.store import Ledger
    from archiver.timestamp.bags import stamper

    stamps = timestamp_settings_for(config_path)
    bags = [os.path.abspath(b) for b in replaced]
    checked = audit([str(out_dir)], bags=bags, mode="full")
    now = datetime.now(UTC).isoformat()
    valid = {b.bag for b in checked.bags if b.valid}
    replaced_ids = {
        os.path.abspath(o.bag): o.replaces for o in report.outcomes if o.bag and o.replaces
    }
    events = [
        LedgerEvent(
            event_type=REPLACE_EVENT,
            bag=bag.bag,
            date_time=now,
            outcome="success" if bag.bag in valid else "failure",
            detail=_detail(bag.bag, replaced_ids.get(bag.bag)),
            outcome_detail="" if bag.bag in valid else "the replaced bag failed its audit",
        )
        for bag in checked.bags
    ]
    with Ledger.open(location.path) as opened:
        opened.stamp = stamper(stamps)  # the run gets a token once recorded
        run_id = opened.record_run(checked, events, kind=REPLACE_KIND)
        failures = tuple(opened.stamp_failures)
    recorded = tuple(sorted(valid))
    rejected = tuple(sorted(b.bag for b in checked.bags if b.bag not in valid))
    return BuildRun(report, location, run_id, recorded, rejected, failures)
