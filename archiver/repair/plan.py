"""What a repair must restore, and the records of what it did (pure: no disk, no clock).

The trust model (README "Repair"): the bag's own manifests are the reference only when its
tag manifests' digests equal those recorded at its last good audit (or, with no record,
when its tag files verify against its tag manifests and none is damaged). A file is
"good" only when every algorithm the reference has for it matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from archiver.bag.tagfiles import decode_tag_file, manifest_name, parse_manifest
from archiver.model.findings import BagReport, Severity

Digests = Mapping[str, str]


class AttemptStatus(StrEnum):
    """What one replica held for one file."""

    USED = "used"
    MISSING = "missing"
    WRONG_DIGEST = "wrong digest"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One replica tried for one file, and what it held there."""

    replica: str
    status: AttemptStatus
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        """The attempt as a JSON-ready dict."""
        return {"replica": self.replica, "status": str(self.status), "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Restored:
    """A file restored (or, in a dry run, restorable) from a replica."""

    path: str
    replica: str
    where: str
    digests: Digests

    def to_json(self) -> dict[str, Any]:
        """The restored file as a JSON-ready dict."""
        return {
            "path": self.path,
            "replica": self.replica,
            "where": self.where,
            "digests": dict(self.digests),
        }


@dataclass(frozen=True, slots=True)
class Unhealed:
    """A file no replica could provide, with every replica tried."""

    path: str
    wanted: Digests
    attempts: tuple[Attempt, ...]

    def to_json(self) -> dict[str, Any]:
        """The unhealed file as a JSON-ready dict."""
        return {
            "path": self.path,
            "wanted": dict(self.wanted),
            "attempts": [a.to_json() for a in self.attempts],
        }


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An unexpected file moved out of the bag, with its digests."""

    path: str
    size: int
    digests: Digests
    moved_to: str

    def to_json(self) -> dict[str, Any]:
        """The quarantined file as a JSON-ready dict."""
        return {
            "path": self.path,
            "size": self.size,
            "digests": dict(self.digests),
            "moved_to": self.moved_to,
        }


class RepairStatus(StrEnum):
    """The outcome of repairing one bag (see ``BagRepair``)."""

    INTACT = "intact"
    REPAIRED = "repaired"
    WOULD_REPAIR = "would-repair"
    FAILED = "failed"
    REFUSED = "refused"


OK_STATUSES = frozenset({RepairStatus.INTACT, RepairStatus.REPAIRED, RepairStatus.WOULD_REPAIR})


@dataclass(frozen=True, slots=True)
class BagRepair:
    """The outcome of repairing one bag.

    ``status``: ``intact`` (nothing to do), ``repaired``, ``would-repair`` (dry run),
    ``failed`` (some file could not be restored, or the bag is still invalid after),
    ``refused`` (no trustworthy reference: ``reason`` says why).
    """

    bag: str
    status: RepairStatus
    before: BagReport
    after: BagReport | None = None
    restored: tuple[Restored, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    unhealed: tuple[Unhealed, ...] = ()
    unreachable: tuple[Attempt, ...] = ()
    reason: str = ""
    notes: tuple[str, ...] = ()
    started: str = ""
    ended: str = ""
    kept: tuple[Quarantined, ...] = ()  # damaged bytes of replaced files, kept aside

    @property
    def ok(self) -> bool:
        """True when the bag is (or would be) intact."""
        return self.status in OK_STATUSES

    def to_json(self) -> dict[str, Any]:
        """The repair as a JSON-ready dict."""
        return {
            "bag": self.bag,
            "status": str(self.status),
            "reason": self.reason,
            "notes": list(self.notes),
            "before": self.before.to_json(),
            "after": self.after.to_json() if self.after is not None else None,
            "restored": [r.to_json() for r in self.restored],
            "quarantined": [q.to_json() for q in self.quarantined],
            "kept": [k.to_json() for k in self.kept],
            "unhealed": [u.to_json() for u in self.unhealed],
            "unreachable": [a.to_json() for a in self.unreachable],
        }


@dataclass(frozen=True, slots=True)
class RepairPlan:
    """What to do to one bag: files to restore (path → wanted digests), files to quarantine."""

    restore: Mapping[str, Digests] = field(default_factory=dict)
    quarantine: tuple[str, ...] = ()


def digests_match(want: Digests, found: Digests) -> bool:
    """True when ``found`` has every algorithm of ``want`` with the same digest."""
    return bool(want) and all(found.get(alg, "").lower() == d.lower() for alg, d in want.items())


def record_mismatch(current: Mapping[str, Digests], recorded: Mapping[str, Digests]) -> list[str]:
    """The tag manifests whose digests differ from the record (or are absent); pure."""
    return [
        name
        for name in sorted(recorded.keys() | current.keys())
        if name not in current
        or name not in recorded
        or not digests_match(recorded[name], current[name])
    ]


def parse_entries(files: Mapping[str, bytes], *, tag: bool) -> dict[str, dict[str, str]]:
    """Path → {algorithm: digest} from the (tag) manifests ``files`` (name → bytes).

    Raises ``ValueError`` naming the manifest when one cannot be parsed.
    """
    entries: dict[str, dict[str, str]] = {}
    for name in sorted(files):
        described = manifest_name(name)
        if described is None or described.tag is not tag:
            continue
        lines, issues = decode_tag_file(files[name], "UTF-8", name)
        manifest, more = parse_manifest(lines, name, described.algorithm, tag=tag, version=(1, 0))
        errors = [i for i in (*issues, *more) if i.severity is Severity.ERROR]
        if errors:
            raise ValueError(f"{name}: {errors[0].message}")
        for path, digest in manifest.entries.items():
            entries.setdefault(path, {})[described.algorithm] = digest.lower()
    return entries


def plan_repair(
    reference: Mapping[str, Digests],
    present: Iterable[str],
    current: Mapping[str, Digests],
) -> RepairPlan:
    """The files to restore and to quarantine (pure).

    ``reference``: every file the bag must hold with its digests; ``present``: the files
    the bag holds (bag-relative); ``current``: their digests as hashed now. A payload file
    (``data/...``) present but not in the reference is unexpected and quarantined; tag
    files not listed in a tag manifest are allowed by BagIt and left alone.
    """
    held = set(present)
    restore = {
        path: want
        for path, want in sorted(reference.items())
        if path not in held or not digests_match(want, current.get(path, {}))
    }
    unexpected = tuple(sorted(p for p in held if p.startswith("data/") and p not in reference))
    return RepairPlan(restore=restore, quarantine=unexpected)
