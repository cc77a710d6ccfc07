"""The archive's settings as the rest of archiver reads them (``archiver.config`` reads
and validates archive.toml into this record)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.model.digest import PRESERVATION_ALGORITHMS


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    """What bag-info and PREMIS need to know about the archive."""

    organization: str
    organization_id: str
    contact_name: str
    contact_email: str
    collection_id: str
    profile_identifier: str  # the BagIt-Profile-Identifier our bags declare (bag.profile)
    algorithms: tuple[str, ...] = PRESERVATION_ALGORITHMS
    organization_address: str | None = None
    contact_phone: str | None = None
    jurisdiction: str | None = None  # ISO 3166-1 alpha-2, for PREMIS copyrightJurisdiction
    rights_statement: str | None = None  # [rights] statement: a RightsStatements.org URI
    rights_license: str | None = None  # [rights] license: a Creative Commons URI
    access_rights: str | None = None  # [rights] access: dcterms:accessRights
    deposit: dict[str, Any] = field(default_factory=dict, compare=False)
    audit: dict[str, Any] = field(default_factory=dict, compare=False)
    timestamp: dict[str, Any] | None = field(default=None, compare=False)  # [timestamp]
    source: Path | None = field(default=None, compare=False)  # the file it was read from
