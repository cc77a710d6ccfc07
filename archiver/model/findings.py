"""What validation and audit find: stable kinds, findings and per-bag reports.

Kinds are a stable contract (scripts match on them); their meanings are kept as data in
``KIND_DESCRIPTIONS``, which ``archiver validate --help`` and ``archiver audit --help``
print.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """The stable kinds of problem a bag can have."""

    CHECKSUM_MISMATCH = "checksum-mismatch"
    MISSING_FILE = "missing-file"
    UNEXPECTED_FILE = "unexpected-file"
    OXUM_MISMATCH = "oxum-mismatch"
    INVALID_DECLARATION = "invalid-declaration"
    INVALID_MANIFEST = "invalid-manifest"
    UNSAFE_PATH = "unsafe-path"
    INVALID_METADATA = "invalid-metadata"
    PROFILE_VIOLATION = "profile-violation"
    FIXITY_RECORD_MISMATCH = "fixity-record-mismatch"
    TAG_MANIFEST_CHANGED = "tag-manifest-changed"
    OVERSIZED_TAG_FILE = "oversized-tag-file"
    UNREADABLE_BAG = "unreadable-bag"
    TIMESTAMP_INVALID = "timestamp-invalid"


KIND_DESCRIPTIONS: dict[Kind, str] = {
    Kind.CHECKSUM_MISMATCH: "a file's digest differs from the one its manifest records",
    Kind.MISSING_FILE: "a file listed in a manifest (or required by BagIt) is absent",
    Kind.UNEXPECTED_FILE: "a payload file is present but listed in no payload manifest",
    Kind.OXUM_MISMATCH: "Payload-Oxum disagrees with the payload's byte and file counts",
    Kind.INVALID_DECLARATION: "bagit.txt is missing, malformed or declares an unknown version",
    Kind.INVALID_MANIFEST: "a manifest, tag manifest, bag-info.txt or fetch.txt is malformed",
    Kind.UNSAFE_PATH: "a path escapes the bag (absolute, '..', '~', link) and was not followed",
    Kind.INVALID_METADATA: "a DC or PREMIS record fails its JSON Schema or XSD",
    Kind.PROFILE_VIOLATION: "the bag does not conform to the BagIt profile it declares",
    Kind.FIXITY_RECORD_MISMATCH: "a payload file's manifest digest differs from the fixity "
    "its PREMIS record (metadata/premis.json) kept since the build",
    Kind.TAG_MANIFEST_CHANGED: "a tag manifest's digests differ from those recorded at the "
    "bag's last good audit in the ledger (the bag was rewritten since)",
    Kind.OVERSIZED_TAG_FILE: "a tag file is larger than the tag-file size limit; it was not read",
    Kind.UNREADABLE_BAG: "the bag could not be read or checked at all (not a bag, an I/O "
    "error, or input no check foresaw); the other bags are still checked",
    Kind.TIMESTAMP_INVALID: "an RFC 3161 timestamp token (metadata/timestamps/) does not verify: "
    "signature or chain against the configured CA, imprint against the file it names, or "
    "its time; or no CA is configured to verify it",
}


class Severity(StrEnum):
    """Errors make a bag invalid; warnings are shown but leave it valid."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one bag, at one path (relative to the bag, '/'-separated)."""

    kind: Kind
    bag: str
    path: str
    message: str
    severity: Severity = Severity.ERROR
    algorithm: str | None = None
    expected: str | None = None
    found: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict, without empty optional fields."""
        data = {k: v for k, v in asdict(self).items() if v is not None}
        data["kind"] = str(self.kind)
        data["severity"] = str(self.severity)
        return data


@dataclass(frozen=True, slots=True)
class BagReport:
    """The outcome of checking one bag."""

    bag: str
    findings: tuple[Finding, ...] = ()
    files: int = 0
    bytes: int = 0
    checks: tuple[str, ...] = field(default=())
    # tag manifest name -> {algorithm: digest of its bytes}, as read by a full check
    tag_manifests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that make the bag invalid."""
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings shown as warnings only."""
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def valid(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    @property
    def status(self) -> str:
        """'valid' or 'invalid'."""
        return "valid" if self.valid else "invalid"

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {
            "bag": self.bag,
            "status": self.status,
            "files": self.files,
            "bytes": self.bytes,
            "checks": list(self.checks),
            "problems": [f.to_json() for f in self.findings],
        }


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in a stable order: by bag, path, kind, algorithm."""
    return sorted(findings, key=lambda f: (f.bag, f.path, str(f.kind), f.algorithm or ""))
