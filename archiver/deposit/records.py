"""What a deposit is aimed at and what it did: the target URI and the result records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from archiver.model.errors import DepositError, IntegrityError
from archiver.model.findings import Finding
from archiver.model.locations import Location, parse_location

# A deposit target is a storage location (``ocfl:``, ``file:`` or ``s3:``, never a bare path).
Target = Location


class DepositStatus(StrEnum):
    """What a deposit did at the target."""

    DEPOSITED = "deposited"  # first deposit of this bag at this target
    NEW_VERSION = "new-version"  # OCFL: the bag changed, a new version was added
    UPDATED = "updated"  # file/s3: the bag changed, the copy was replaced
    UNCHANGED = "unchanged"  # the target already holds this bag: nothing done


class VerifyStatus(StrEnum):
    """What re-verifying a deposited copy found."""

    VERIFIED = "verified"  # the target holds the bag, intact
    DAMAGED = "damaged"  # the copy is damaged, missing or differs from the bag
    SUPERSEDED = "superseded"  # OCFL: the bag is an older version of its object, intact


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of ``verify_deposit`` for one bag: its findings, or where it is held."""

    findings: tuple[Finding, ...] = ()
    superseded: str = ""  # e.g. "held as v1, head is v2" (OCFL, no findings)

    @property
    def status(self) -> VerifyStatus:
        """Damaged if there is any finding, else superseded or verified."""
        if self.findings:
            return VerifyStatus.DAMAGED
        return VerifyStatus.SUPERSEDED if self.superseded else VerifyStatus.VERIFIED


class DamagedTargetError(IntegrityError):
    """The copy already at the target is damaged, so nothing was deposited (exit 1)."""

    def __init__(self, message: str, findings: tuple[Finding, ...]) -> None:
        super().__init__(message)
        self.findings = findings


@dataclass(frozen=True, slots=True)
class DepositResult:
    """One bag deposited (or found already there) at one target, verified."""

    bag: str
    identifier: str
    target: str
    location: str
    status: DepositStatus
    event_type: str  # PREMIS event type: "replication" or "transfer"
    time: datetime
    version: str | None = None
    digests: Mapping[str, str] = field(default_factory=dict)
    verified: bool = True
    detail: str = ""
    identifier_from_bag_info: bool = True  # False: External-Identifier absent, dir name used

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-ready dict."""
        return {
            "bag": self.bag,
            "identifier": self.identifier,
            "target": self.target,
            "location": self.location,
            "status": str(self.status),
            "event_type": self.event_type,
            "time": self.time.isoformat(),
            "version": self.version,
            "digests": dict(self.digests),
            "verified": self.verified,
            "detail": self.detail,
            "identifier_from_bag_info": self.identifier_from_bag_info,
        }


def parse_target(uri: str) -> Target:
    """Parse a deposit ``--to`` address (pure); DepositError names it and what is wrong."""
    return parse_location(uri, option="--to", error=DepositError)
