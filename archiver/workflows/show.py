"""One bag at a glance (``archiver show BAG``): what it is (identifier, title, creators,
dates, profile), what it holds (each payload file with its format and size), and what the
ledger knows of it (its last audit, its copies).

The bag is only read, through bounded reads that never follow a link
(``archiver.bag.validator.read_tag_file``: tag files of at most ``MAX_TAG_BYTES``):
bagit.txt, bag-info.txt, the first payload manifest, metadata/dc.json and
metadata/premis.json. Payload files are not opened: a size PREMIS does not give is the
file's own (``lstat``). The ledger is the one ``archiver.config.resolve_ledger`` finds for
the collection holding the bag (as ``deposit`` and ``repair`` find it), opened read-only;
when there is none yet the result says so.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.bag.tagfiles import decode_tag_file, parse_bag_info, parse_manifest, tag_values
from archiver.bag.validator import read_tag_file
from archiver.config import LedgerLocation, resolve_ledger
from archiver.ledger.store import Ledger
from archiver.metadata.premis import record_files
from archiver.model.digest import ALGORITHMS
from archiver.model.errors import BagReadError
from archiver.model.records import BagOutcome, RecordedEvent

COPY_EVENTS = frozenset({"replication", "transfer"})  # the events that made a copy


@dataclass(frozen=True, slots=True)
class PayloadFile:
    """One payload file: its path in the bag, size, format (PRONOM) and digest."""

    path: str
    size: int | None
    format: str = ""  # e.g. "Plain Text File (x-fmt/111)"
    mime_type: str = ""
    algorithm: str = ""
    digest: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "path": self.path,
            "size": self.size,
            "format": self.format or None,
            "mime_type": self.mime_type or None,
            "digest": {self.algorithm: self.digest} if self.algorithm else {},
        }


@dataclass(frozen=True, slots=True)
class BagShow:
    """What ``archiver show`` found about one bag."""

    bag: Path
    identifier: str
    title: tuple[str, ...]
    creators: tuple[str, ...]
    dates: tuple[str, ...]
    profile: str
    files: tuple[PayloadFile, ...]
    bag_info: tuple[tuple[str, str], ...]
    location: LedgerLocation | None  # None: no ledger could be named
    ledger_found: bool  # the ledger exists
    last_audit: BagOutcome | None = None
    copies: tuple[RecordedEvent, ...] = ()
    notes: tuple[str, ...] = ()  # what could not be read (a missing record, say)

    @property
    def payload_bytes(self) -> int:
        """The payload's bytes (the files whose size is known)."""
        return sum(f.size or 0 for f in self.files)

    def to_json(self) -> dict[str, Any]:
        """The machine report (``archiver show --json``)."""
        last = self.last_audit
        return {
            "bag": str(self.bag),
            "identifier": self.identifier,
            "title": list(self.title),
            "creators": list(self.creators),
            "dates": list(self.dates),
            "profile": self.profile or None,
            "files": [f.to_json() for f in self.files],
            "bag_info": [[label, value] for label, value in self.bag_info],
            "ledger": str(self.location.path) if self.location is not None else None,
            "ledger_found": self.ledger_found,
            "last_audit": None
            if last is None
            else {
                "run_id": last.run_id,
                "checked": last.checked,
                "mode": last.mode,
                "status": last.status,
                "problems": len(last.findings),
            },
            "copies": [
                {
                    "event": c.event.event_type,
                    "date_time": c.event.date_time,
                    "outcome": c.event.outcome,
                    "target": c.event.target,
                    "run_id": c.run_id,
                }
                for c in self.copies
            ],
            "notes": list(self.notes),
        }


def show_bag(bag: Path, *, ledger: Path | None = None, config: Path | None = None) -> BagShow:
    """Describe ``bag`` from its tag files and metadata records, and its ledger history.

    BagReadError when ``bag`` is not a bag (no regular bagit.txt in a directory) or a tag
    file cannot be read within bounds; LedgerError when the ledger exists but cannot be
    read.
    """
    try:
        if not stat.S_ISDIR(os.lstat(bag).st_mode):
            raise BagReadError(f"{bag}: not a directory, not a bag")
    except FileNotFoundError:
        raise BagReadError(f"{bag}: no such bag directory") from None
    if read_tag_file(bag, "bagit.txt") is None:
        raise BagReadError(f"{bag}: no bagit.txt, not a bag")
    notes: list[str] = []
    info = _bag_info(bag)
    dc = _record(bag, "metadata/dc.json", notes)
    premis = _record(bag, "metadata/premis.json", notes)
    identifier = _first(dc.get("dc.identifier")) or _first(tag_values(info, "External-Identifier"))
    title = _strings(dc.get("dc.title")) or tuple(tag_values(info, "External-Description"))
    files = _files(bag, premis, notes)
    location = resolve_ledger(ledger, config=config, roots=[bag.parent], create=False)
    found = location.path.exists()
    last: BagOutcome | None = None
    copies: tuple[RecordedEvent, ...] = ()
    if found:
        key = os.path.abspath(bag)
        with Ledger.open(location.path, readonly=True) as opened:
            history = opened.history(key) if key in opened.bags() else []
            events = opened.events(key)
        last = history[-1] if history else None
        copies = tuple(e for e in events if e.event.event_type in COPY_EVENTS)
    return BagShow(
        bag=bag,
        identifier=identifier or os.path.basename(os.path.abspath(bag)),
        title=title,
        creators=_strings(dc.get("dc.creator")),
        dates=_strings(dc.get("dc.date")),
        profile=_first(tag_values(info, "BagIt-Profile-Identifier")),
        files=files,
        bag_info=tuple(info),
        location=location,
        ledger_found=found,
        last_audit=last,
        copies=copies,
        notes=tuple(notes),
    )


def _bag_info(bag: Path) -> list[tuple[str, str]]:
    """bag-info.txt's (label, value) pairs; none when it is absent."""
    data = read_tag_file(bag, "bag-info.txt")
    if data is None:
        return []
    lines, _ = decode_tag_file(data, "UTF-8", "bag-info.txt")
    tags, _ = parse_bag_info(lines)
    return tags


def _record(bag: Path, rel: str, notes: list[str]) -> dict[str, Any]:
    """A JSON metadata record of the bag; empty (and a note) when absent or unreadable."""
    data = read_tag_file(bag, rel)
    if data is None:
        notes.append(f"{rel}: absent")
        return {}
    try:
        record = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        notes.append(f"{rel}: not JSON ({exc})")
        return {}
    if not isinstance(record, dict):
        notes.append(f"{rel}: not a JSON object")
        return {}
    return record


def _files(bag: Path, premis: dict[str, Any], notes: list[str]) -> tuple[PayloadFile, ...]:
    """The payload files the first manifest lists, with PREMIS's size and format."""
    described: dict[str, dict[str, Any]] = {}
    for obj in record_files(premis):
        name = obj.get("originalName")
        if isinstance(obj, dict) and isinstance(name, str):  # data/... since folder items
            described[name if name.startswith("data/") else f"data/{name}"] = obj
    for algorithm in sorted(ALGORITHMS, key=_strength):
        name = f"manifest-{algorithm}.txt"
        data = read_tag_file(bag, name)
        if data is None:
            continue
        lines, _ = decode_tag_file(data, "UTF-8", name)
        manifest, _ = parse_manifest(lines, name, algorithm, tag=False, version=(1, 0))
        return tuple(
            _payload_file(bag, path, described.get(path, {}), algorithm, digest)
            for path, digest in sorted(manifest.entries.items())
        )
    notes.append("no payload manifest")
    return ()


def _strength(algorithm: str) -> tuple[int, str]:
    """sha256 first (the shortest digest a bag of ours has), then the others by name."""
    return (0 if algorithm == "sha256" else 1, algorithm)


def _payload_file(
    bag: Path, path: str, obj: dict[str, Any], algorithm: str, digest: str
) -> PayloadFile:
    """One file, its size from PREMIS, else its own (``lstat``: links are not followed)."""
    size = obj.get("size")
    if not isinstance(size, int):
        try:
            size = os.lstat(bag / path).st_size
        except OSError:
            size = None
    found = obj.get("format")
    fmt: dict[str, Any] = found if isinstance(found, dict) else {}
    name, key = fmt.get("name") or "", fmt.get("registryKey") or ""
    shown = f"{name} ({key})" if name and key else str(name or key)
    return PayloadFile(path, size, shown, str(fmt.get("mimeType") or ""), algorithm, digest)


def _strings(value: object) -> tuple[str, ...]:
    """A record's value as strings (a list of them, or one)."""
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int | float))
    return (str(value),) if isinstance(value, str) else ()


def _first(value: object) -> str:
    """The first of a record's values, or ''."""
    values = _strings(value)
    return values[0] if values else ""
