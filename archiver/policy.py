"""Archiver's policy for bags: our BagIt profile and metadata records.

Bags that declare our BagIt profile (``BagIt-Profile-Identifier`` in bag-info.txt) are
checked against ``schemas/bagit-profile.json`` (``profile-violation``) and their metadata
records against the JSON Schemas and XSDs of ``archiver.metadata.validation``
(``invalid-metadata``). The checkers run on the ``BagPlan`` the generic validator
(``archiver.bag.validator``) already made; ``archiver.checks`` composes the two. The
profile is evaluated here, once, for every command: the builder checks each new bag
with the same ``ProfileChecker`` (on the tag files it has just written), and audits and
validation on the plan. (The bagit-profile library needs a ``bagit.Bag``, re-reading every
tag file and walking the payload, stops at the first problem of each rule and logs each
one through the root logger, none of which suits an audit of a whole collection.)

The profile is also the one source of truth for the digest algorithms of the bags
archiver builds (``build_algorithms_problem``): archive.toml may name only those.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from archiver.bag.tagfiles import Declaration, manifest_name, tag_values
from archiver.bag.validator import BagPlan, Checker
from archiver.metadata.validation import SchemaSet, XmlSchemaName, schemas_dir
from archiver.model.errors import ConfigError, MetadataError
from archiver.model.findings import Finding, Kind
from archiver.storage.fileio import read_bounded

METADATA_RECORDS: tuple[tuple[str, str, str], ...] = (
    ("metadata/dc.json", "json", "dublin-core"),
    ("metadata/premis.json", "json", "premis"),
    ("metadata/dc.xml", "xml", "dc"),
    ("metadata/premis.xml", "xml", "premis"),
    ("metadata/mets.xml", "xml", "mets"),
)
METS_RECORD = "metadata/mets.xml"
_CORE_TAG_FILES = ("bagit.txt", "fetch.txt")


def _read_nofollow(path: Path) -> bytes:
    """Read a record whole through ``read_bounded``: never a link swapped in after the bag
    was listed, never a FIFO or device (not read), never more than ``MAX_RECORD_BYTES``."""
    return read_bounded(path, MAX_RECORD_BYTES)


MAX_RECORD_BYTES = 64 << 20  # a metadata record is a tag file (archiver.bag.validator)


def load_profile(path: Path | None = None) -> dict[str, Any]:
    """Read our BagIt profile (default ``schemas/bagit-profile.json``)."""
    target = path if path is not None else schemas_dir() / "bagit-profile.json"
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{target}: cannot read the BagIt profile: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{target}: the BagIt profile is not a JSON object")
    return data


class TagView(Protocol):
    """What a profile is evaluated on: a bag's declaration, bag-info and tag file names
    (a ``BagPlan``, or ``StagedTags`` for a bag just written)."""

    @property
    def bag(self) -> str: ...
    @property
    def declaration(self) -> Declaration | None: ...
    @property
    def info(self) -> Sequence[tuple[str, str]]: ...
    @property
    def tag_files(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class StagedTags:
    """The tag files of a bag being built, as written (no need to read them back)."""

    bag: str
    declaration: Declaration | None
    info: Sequence[tuple[str, str]]
    tag_files: Sequence[str]


def build_algorithms_problem(algorithms: Iterable[str], profile: Mapping[str, Any]) -> str | None:
    """Why bags with these manifest algorithms would not conform to ``profile``; None if
    they would (every algorithm allowed and every required one present)."""
    chosen = list(algorithms)
    problems = []
    for label in ("Manifests", "Tag-Manifests"):
        allowed = profile.get(f"{label}-Allowed")
        if allowed is not None:
            refused = [alg for alg in chosen if alg not in allowed]
            if refused:
                problems.append(
                    f"{', '.join(refused)} not supported (the BagIt profile allows "
                    f"{', '.join(allowed)})"
                )
                break
    for label in ("Manifests", "Tag-Manifests"):
        missing = [alg for alg in profile.get(f"{label}-Required", []) if alg not in chosen]
        if missing:
            problems.append(f"{', '.join(missing)} missing (the BagIt profile requires it)")
            break
    return "; ".join(problems) or None


def declared_profile(plan: TagView) -> str | None:
    """The bag's BagIt-Profile-Identifier, if it declares one."""
    values = tag_values(plan.info, "BagIt-Profile-Identifier")
    return values[0] if values else None


class ProfileChecker:
    """Check bags that declare this BagIt profile (BagIt Profiles 1.4.0) against it."""

    def __init__(
        self,
        profile: Mapping[str, Any],
        schemas: SchemaSet | None = None,
        versions: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.profile = profile
        info = profile.get("BagIt-Profile-Info", {})
        self.identifier: str = str(info.get("BagIt-Profile-Identifier", ""))
        self.schemas = schemas
        # Bag-Info's rules: (label, required, not repeatable, allowed values)
        self.bag_info_rules: list[tuple[str, bool, bool, Sequence[str] | None]] = [
            (label, bool(r.get("required")), r.get("repeatable") is False, r.get("values"))
            for label, r in profile.get("Bag-Info", {}).items()
        ]
        allowed_tags = profile.get("Tag-Files-Allowed")
        # Tag-Files-Allowed's globs as one expression (fnmatchcase's own translation)
        self.allowed_tags = (
            None
            if allowed_tags is None
            else re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in allowed_tags) or "(?!)")
        )
        # other versions of the profile: a bag declaring one is checked against it
        self.versions = {c.identifier: c for c in (ProfileChecker(v, schemas) for v in versions)}

    def __call__(self, plan: BagPlan) -> list[Finding]:
        """The profile violations of one planned bag (none if it declares another profile)."""
        declared = declared_profile(plan)
        if declared != self.identifier:
            other = self.versions.get(declared or "")
            return [] if other is None else other.violations(plan)
        return self.violations(plan)

    def violations(self, plan: TagView) -> list[Finding]:
        """Every way the bag departs from the profile, whatever profile it declares."""
        found: list[Finding] = []

        def violation(path: str, message: str) -> None:
            found.append(Finding(Kind.PROFILE_VIOLATION, plan.bag, path, message))

        self._bag_info(plan, violation)
        names = [described for rel in plan.tag_files if (described := manifest_name(rel))]
        for tag, label in ((False, "Manifests"), (True, "Tag-Manifests")):
            prefix = "tagmanifest" if tag else "manifest"
            present = {m.algorithm for m in names if m.tag is tag}
            for alg in self.profile.get(f"{label}-Required", []):
                if alg not in present:
                    violation(f"{prefix}-{alg}.txt", f"required by the profile ({label}-Required)")
            allowed = self.profile.get(f"{label}-Allowed")
            if allowed is not None:
                for alg in sorted(present - set(allowed)):
                    violation(
                        f"{prefix}-{alg}.txt", f"not allowed by the profile ({label}-Allowed)"
                    )
        for rel in self.profile.get("Tag-Files-Required", []):
            if rel not in plan.tag_files:
                violation(rel, "required by the profile (Tag-Files-Required) but absent")
        if self.allowed_tags is not None:
            manifests = {m.name for m in names}
            allowed = self.allowed_tags.match
            for rel in plan.tag_files:
                if rel in _CORE_TAG_FILES or rel in manifests:
                    continue
                if allowed(rel) is None:
                    violation(rel, "tag file not allowed by the profile (Tag-Files-Allowed)")
        if self.profile.get("Allow-Fetch.txt") is False and "fetch.txt" in plan.tag_files:
            violation("fetch.txt", "the profile does not allow fetch.txt")
        versions = self.profile.get("Accept-BagIt-Version")
        if versions and plan.declaration is not None:
            if plan.declaration.version_text not in versions:
                violation(
                    "bagit.txt",
                    f"BagIt version {plan.declaration.version_text} is not one the profile "
                    f"accepts ({', '.join(versions)})",
                )
        return found

    def _bag_info(self, plan: TagView, violation: Callable[[str, str], None]) -> None:
        info_path = "bag-info.txt"
        if info_path not in plan.tag_files:
            violation(info_path, "the profile requires bag-info.txt")
            return
        by_label: dict[str, list[str]] = {}
        for key, value in plan.info:
            by_label.setdefault(key, []).append(value)
        for label, required, single, allowed in self.bag_info_rules:
            values = by_label.get(label, [])
            if required and not values:
                violation(info_path, f"required label {label!r} is missing")
            if single and len(values) > 1:
                violation(info_path, f"label {label!r} appears {len(values)} times")
            if allowed:
                for value in values:
                    if value not in allowed:
                        violation(info_path, f"{label}: {value!r} is not an allowed value")
        if self.schemas is None:
            return
        labels = [k for k, _ in plan.info]
        if len(labels) == len(set(labels)):
            try:
                self.schemas.validate_json(dict(plan.info), "bag-info", info_path)
            except MetadataError as exc:
                violation(info_path, str(exc))


class MetadataChecker:
    """Validate the DC, PREMIS and METS records of bags that declare our profile, and the
    METS fileSec against the manifests."""

    def __init__(self, identifier: str, schemas: SchemaSet, also: Sequence[str] = ()) -> None:
        self.identifier = identifier
        self.schemas = schemas
        self.identifiers = {identifier, *also}  # the profile's versions

    def __call__(self, plan: BagPlan) -> list[Finding]:
        """``invalid-metadata`` for each record that fails its JSON Schema or XSD."""
        if declared_profile(plan) not in self.identifiers:
            return []
        found: list[Finding] = []
        for rel, syntax, schema in METADATA_RECORDS:
            if rel not in plan.tag_files:
                continue  # the profile check reports a required record that is absent
            try:
                data = _read_nofollow(plan.root / rel)
            except OSError:
                continue  # a link or an unreadable file: reported by the plan
            try:
                if syntax == "json":
                    record = json.loads(data.decode("utf-8"))
                    if not isinstance(record, dict):
                        raise MetadataError(f"{rel}: not a JSON object")
                    self.schemas.validate_json(record, schema, rel)
                else:
                    self.schemas.validate_xml(data, _xml_schema(schema), rel)
                    if rel == METS_RECORD:
                        found += mets_consistency(plan, data)
            except (MetadataError, ValueError) as exc:
                message = str(exc) if isinstance(exc, MetadataError) else f"{rel}: {exc}"
                found.append(Finding(Kind.INVALID_METADATA, plan.bag, rel, message))
        return found


def _xml_schema(name: str) -> XmlSchemaName:
    if name == "dc":
        return "dc"
    if name == "mets":
        return "mets"
    return "premis"


def mets_consistency(plan: BagPlan, mets_xml: bytes) -> list[Finding]:
    """``invalid-metadata`` where the METS fileSec and the payload manifests disagree.

    Every payload file of the manifests must be in the fileSec, every fileSec file in the
    manifests, and each fileSec CHECKSUM must equal the manifest's digest for its
    CHECKSUMTYPE (when the bag has a manifest of that algorithm).
    """
    from archiver.metadata.mets import file_checksums  # --metadata only: DC/PREMIS stack

    listed = file_checksums(mets_xml, METS_RECORD)
    manifests = {m.algorithm: m.entries for m in plan.manifests if not m.tag}
    payload = {path for entries in manifests.values() for path in entries}
    found: list[Finding] = []

    def problem(path: str, message: str, digests: tuple[str, str, str] | None = None) -> None:
        algorithm, expected, seen = digests if digests is not None else (None, None, None)
        found.append(
            Finding(
                Kind.INVALID_METADATA,
                plan.bag,
                METS_RECORD,
                f"{path}: {message}",
                algorithm=algorithm,
                expected=expected,
                found=seen,
            )
        )

    for path in sorted(payload - listed.keys()):
        problem(path, "payload file missing from the METS fileSec")
    for path, (algorithm, digest) in sorted(listed.items()):
        if path not in payload:
            problem(path, "in the METS fileSec but not in the payload manifests")
            continue
        expected = manifests.get(algorithm, {}).get(path)
        if expected is not None and expected.lower() != digest:
            problem(
                path,
                f"METS fileSec {algorithm} checksum differs from manifest-{algorithm}.txt",
                (algorithm, expected.lower(), digest),
            )
    return found


class FixityRecordChecker:
    """Compare the payload manifests with the fixity kept in ``metadata/premis.json``.

    A payload file replaced together with regenerated manifests, Payload-Oxum and tag
    manifests passes every BagIt check; the PREMIS record written at build time still holds
    the original digests. Each algorithm the record and the manifests share must agree
    (``fixity-record-mismatch``); a file the record names but no manifest lists is one too.
    The file's bytes are checked against the manifests by the validator itself.
    """

    record = "metadata/premis.json"

    def __init__(self, identifier: str, also: Sequence[str] = ()) -> None:
        self.identifier = identifier
        self.identifiers = {identifier, *also}  # the profile's versions

    def __call__(self, plan: BagPlan) -> list[Finding]:
        """The record mismatches of one planned bag (none unless it declares our profile)."""
        from archiver.metadata.premis import record_files  # lxml: for bags with PREMIS

        if declared_profile(plan) not in self.identifiers or self.record not in plan.tag_files:
            return []
        listed = {path: dict(digests) for path, digests in plan.expected.items()}
        for manifest in plan.manifests:  # completeness-free modes leave ``expected`` empty
            if not manifest.tag:
                for path, digest in manifest.entries.items():
                    listed.setdefault(path, {}).setdefault(manifest.algorithm, digest)
        try:
            data = orjson.loads(_read_nofollow(plan.root / self.record))
            recorded: list[tuple[str, dict[str, str]]] = []
            for file_record in record_files(data):
                name = str(file_record["originalName"])  # data/... since folder items
                path = name if name.startswith("data/") else "data/" + name
                fixity = {
                    str(f["algorithm"]): str(f["digest"]).lower() for f in file_record["fixity"]
                }
                recorded.append((path, fixity))
        except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            return []  # unreadable or malformed: the tag manifests and metadata checks report it
        found: list[Finding] = []
        for path, fixity in recorded:
            digests = listed.get(path)
            if digests is None:
                message = (
                    f"{self.record} records this file's fixity, but no payload manifest lists it"
                )
                found.append(Finding(Kind.FIXITY_RECORD_MISMATCH, plan.bag, path, message))
                continue
            for alg in sorted(fixity.keys() & digests.keys()):
                if fixity[alg] != digests[alg].lower():
                    found.append(
                        Finding(
                            Kind.FIXITY_RECORD_MISMATCH,
                            plan.bag,
                            path,
                            f"the payload manifest's {alg} differs from the fixity recorded in "
                            f"{self.record} at build time (replaced and re-manifested?)",
                            algorithm=alg,
                            expected=fixity[alg],
                            found=digests[alg],
                        )
                    )
        return found


# our profile's versions after the first (schemas/bagit-profile.json, v1), each still
# accepted: a bag is checked against the one it declares (v2 allows the RFC 3161 token
# metadata/timestamps/manifest-sha512.txt.tsr, archiver.timestamp.bags)
LATER_PROFILES = ("bagit-profile-v2.json",)


def later_profiles() -> list[dict[str, Any]]:
    """The later versions of our BagIt profile (``LATER_PROFILES``)."""
    return [load_profile(schemas_dir() / name) for name in LATER_PROFILES]


def default_checkers(profile_path: Path | None = None, *, metadata: bool = True) -> list[Checker]:
    """The profile check and the PREMIS fixity-record check, and unless ``metadata`` is
    False the metadata records' schema checks, for bags that declare our profile (any of
    its versions, unless ``profile_path`` names one)."""
    profile = load_profile(profile_path)
    schemas = SchemaSet()
    checker = ProfileChecker(profile, schemas, later_profiles() if profile_path is None else ())
    also = tuple(checker.versions)
    fixity = FixityRecordChecker(checker.identifier, also)
    if not metadata:
        return [checker, fixity]
    return [checker, fixity, MetadataChecker(checker.identifier, schemas, also)]
