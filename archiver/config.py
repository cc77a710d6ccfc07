"""The archive's settings, read from archive.toml and checked against its JSON Schema.

``bag.algorithms`` is checked against our BagIt profile, the one source of truth for the
manifests a bag of ours has (``archiver.policy.build_algorithms_problem``): the JSON
Schema only says it is a list of names.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.errors import ConfigError, MetadataError
from archiver.metadata.validation import SchemaSet
from archiver.policy import build_algorithms_problem, load_profile
from archiver.timestamp.settings import TimestampSettings


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    """What bag-info and PREMIS need to know about the archive."""

    organization: str
    organization_id: str
    contact_name: str
    contact_email: str
    collection_id: str
    profile_identifier: str  # the BagIt-Profile-Identifier our bags declare (bag.profile)
    algorithms: tuple[str, ...] = ("sha256", "sha512")
    organization_address: str | None = None
    contact_phone: str | None = None
    jurisdiction: str | None = None  # ISO 3166-1 alpha-2, for PREMIS copyrightJurisdiction
    deposit: dict[str, Any] = field(default_factory=dict, compare=False)
    audit: dict[str, Any] = field(default_factory=dict, compare=False)
    timestamp: dict[str, Any] | None = field(default=None, compare=False)  # [timestamp]
    source: Path | None = field(default=None, compare=False)  # the file it was read from


def parse_config(
    data: dict[str, Any], name: str, schemas: SchemaSet | None = None
) -> ArchiveConfig:
    """Validate a parsed archive.toml against its schema and return the settings."""
    try:
        (schemas or SchemaSet()).validate_json(data, "archive-config", name)
    except MetadataError as exc:
        raise ConfigError(str(exc)) from None
    problem = build_algorithms_problem(data["bag"]["algorithms"], load_profile())
    if problem is not None:
        raise ConfigError(f"{name}: #/bag/algorithms: {problem}")
    org, contact, coll, bag = (data[k] for k in ("organization", "contact", "collection", "bag"))
    return ArchiveConfig(
        organization=org["name"],
        organization_id=org["identifier"],
        organization_address=org.get("address"),
        contact_name=contact["name"],
        contact_email=contact["email"],
        contact_phone=contact.get("phone"),
        collection_id=coll["identifier"],
        algorithms=tuple(bag["algorithms"]),
        profile_identifier=bag["profile"],
        jurisdiction=_jurisdiction(data["rights"]["jurisdiction"], name),
        deposit=data.get("deposit", {}),
        audit=data.get("audit", {}),
        timestamp=data.get("timestamp"),
    )


def _jurisdiction(code: str, name: str) -> str:
    import pycountry

    if pycountry.countries.get(alpha_2=code) is None:
        raise ConfigError(
            f"{name}: rights.jurisdiction: '{code}' is not an ISO 3166-1 country code"
        )
    return code


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (the archive's settings are required)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: Path, schemas: SchemaSet | None = None) -> ArchiveConfig:
    """Read and validate archive.toml; ConfigError names the file and the field at fault."""
    config = parse_config(_read_toml(path), str(path), schemas)
    return dataclasses.replace(config, source=path)


def timestamp_settings(
    config: ArchiveConfig, environ: Mapping[str, str] | None = None
) -> TimestampSettings | None:
    """The ``[timestamp]`` settings (``ca`` relative to the config file's folder); None
    when archive.toml has no such table."""
    base = config.source.parent if config.source is not None else Path.cwd()
    return TimestampSettings.from_table(config.timestamp, base, environ)


def load_timestamp_settings(path: Path) -> TimestampSettings | None:
    """The ``[timestamp]`` settings of the archive.toml at ``path``; None when the file or
    its table is absent (a check that has nothing to verify tokens with says so itself)."""
    if not path.is_file():
        return None
    data = _read_toml(path)
    if data.get("timestamp") is None:
        return None
    return timestamp_settings(load_config(path))


def audit_setting(path: Path, key: str) -> Any:
    """One ``[audit]`` setting of archive.toml, or None where it is not set.

    The whole file is validated (as ``load_config`` does) only when the setting is there:
    an audit that uses nothing from the file does not pay for its schema and country
    checks (about 60 ms of a nightly run's start-up), which the commands that use the
    rest of it make.
    """
    data = _read_toml(path)
    section = data.get("audit")
    if section is None or (isinstance(section, dict) and key not in section):
        return None  # a malformed [audit] is validated (and refused) below
    return parse_config(data, str(path)).audit.get(key)
