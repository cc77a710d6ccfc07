"""Reading, checking and exporting the audit ledger (``archiver ledger show|verify|premis``).

Each function opens the ledger read-only: the one ``archiver.config.resolve_ledger``
finds (``ledger``, else the ``[ledger] path`` of ``config``, else the default ledger of
the collection at ``roots``, ``bags`` when it is here, as ``archiver audit`` keeps it), and
says which it opened (``location``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from archiver.bag.identity import bag_identifier
from archiver.bag.validator import MAX_TAG_BYTES
from archiver.config import LedgerLocation, resolve_ledger, timestamp_settings_for
from archiver.ledger.premis_export import package_identity
from archiver.ledger.store import Ledger
from archiver.model.records import BagOutcome, Problem, RecordedEvent, RunRecord
from archiver.storage.fileio import check_output_path, read_bounded, write_bytes_atomic


@dataclass(frozen=True, slots=True)
class LedgerShow:
    """What ``ledger show`` found: every run (no bag asked for), or one bag's history."""

    ledger: Path
    bag: str | None = None  # the recorded name of the bag asked for
    runs: tuple[RunRecord, ...] = ()  # without a bag
    stamped: Mapping[int, str] = field(default_factory=dict)  # run seq -> its token's time
    history: tuple[BagOutcome, ...] = ()  # with a bag: its audits, oldest first
    events: tuple[RecordedEvent, ...] = ()  # with a bag: its deposit/repair events
    location: LedgerLocation | None = None  # how the ledger was chosen


@dataclass(frozen=True, slots=True)
class LedgerVerification:
    """The ledger's chain recomputed: its problems (none when intact), runs and head."""

    ledger: Path
    problems: tuple[Problem, ...]
    runs: int
    head: str
    location: LedgerLocation | None = None  # how the ledger was chosen

    @property
    def intact(self) -> bool:
        """True when no problem was found."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class PremisExport:
    """One bag's recorded events as a PREMIS 3 document, written to ``out`` if given."""

    ledger: Path
    bag: str
    document: bytes
    out: Path | None = None
    location: LedgerLocation | None = None  # how the ledger was chosen


def show_ledger(
    bag: str | None = None,
    *,
    ledger: Path | None = None,
    roots: Sequence[str] | None = None,
    config: Path | None = None,
) -> LedgerShow:
    """The runs recorded, or (``bag``: a path or a name the recorded path ends with) that
    bag's audits and deposit events."""
    location = _location(ledger, roots, config)
    path = location.path
    with Ledger.open(path, readonly=True) as opened:
        if bag is None:
            stamped = {t.seq: t.gen_time for t in opened.run_tokens().values()}
            return LedgerShow(path, runs=tuple(opened.runs()), stamped=stamped, location=location)
        name = _bag_name(opened, bag)
        history = tuple(opened.history(name))
        events = tuple(opened.events(name))
    return LedgerShow(path, name, history=history, events=events, location=location)


def verify_ledger(
    head: str | None = None,
    *,
    ledger: Path | None = None,
    roots: Sequence[str] | None = None,
    config: Path | None = None,
    now: datetime | None = None,
) -> LedgerVerification:
    """Recompute the ledger's hash chain (against ``head``, a head hash recorded earlier
    outside the ledger, if given) and, when ``config``'s ``[timestamp]`` names a CA
    (default: archive.toml here, if present), check every run's RFC 3161 token against it
    at ``now``; never writes."""
    timestamps = timestamp_settings_for(config)
    location = _location(ledger, roots, config)
    path = location.path
    with Ledger.open(path, readonly=True) as opened:
        problems = list(opened.verify(head))
        cas = timestamps.roots() if timestamps is not None and timestamps.ca is not None else None
        problems += opened.verify_timestamps(cas, now=now or datetime.now(UTC))
        seq, last = opened.head()
    return LedgerVerification(path, tuple(problems), seq, last, location)


def export_premis(
    bag: str,
    *,
    object_id: str | None = None,
    out: Path | None = None,
    ledger: Path | None = None,
    roots: Sequence[str] | None = None,
    config: Path | None = None,
) -> PremisExport:
    """One bag's fixity checks and deposit events as PREMIS 3 XML, written atomically to
    ``out`` when given (OutputError if it lies inside a bag).

    The events link to ``object_id`` if given, else, while the bag is still there, to
    the package object of its metadata/premis.json (with the entity it represents), else
    to its External-Identifier or directory name.
    """
    location = _location(ledger, roots, config)
    path = location.path
    with Ledger.open(path, readonly=True) as opened:
        name = _bag_name(opened, bag)
        identifier = object_id
        entity = None
        if identifier is None and Path(name).is_dir():
            identity = _package_identity(Path(name))
            if identity is not None:
                entity, identifier = identity
            else:
                identifier, _ = bag_identifier(Path(name))
        document = opened.premis_xml(name, identifier, entity_identifier=entity)
    if out is not None:
        check_output_path(out, what="PREMIS document")
        write_bytes_atomic(out, document)
    return PremisExport(path, name, document, out, location)


def _location(
    ledger: Path | None, roots: Sequence[str] | None, config: Path | None
) -> LedgerLocation:
    """The ledger to read (``resolve_ledger``); LedgerError when it is not there."""
    location = resolve_ledger(ledger, config=config, roots=roots, create=False)
    if not location.path.exists():
        raise location.missing()
    return location


def _bag_name(ledger: Ledger, text: str) -> str:
    """The recorded name for a bag given as a path (absolute or not) or a name."""
    absolute = os.path.abspath(text)
    if absolute in ledger.bags():
        return absolute
    return ledger.resolve_bag(text)


def _package_identity(bag: Path) -> tuple[str, str] | None:
    """(entity, package) identifiers from the bag's metadata/premis.json, if readable."""
    try:
        record = json.loads(read_bounded(bag / "metadata" / "premis.json", MAX_TAG_BYTES))
    except (OSError, ValueError):
        return None
    return package_identity(record) if isinstance(record, dict) else None
