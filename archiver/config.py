"""The archive's settings, read from archive.toml and checked against its JSON Schema.

``bag.algorithms`` is checked against our BagIt profile, the one source of truth for the
manifests a bag of ours has (``archiver.policy.build_algorithms_problem``): the JSON
Schema only says it is a list of names.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from archiver.metadata.validation import SchemaSet
from archiver.model.errors import ConfigError, MetadataError
from archiver.model.settings import ArchiveConfig
from archiver.policy import build_algorithms_problem, load_profile
from archiver.storage.fileio import read_bounded

# The settings file every command reads when --config is not given and the file is there.
DEFAULT_CONFIG = Path("archive.toml")


MAX_CONFIG_BYTES = 1 << 20  # archive.toml is a page of settings


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
        rights_statement=data["rights"].get("statement"),
        rights_license=data["rights"].get("license"),
        access_rights=data["rights"].get("access"),
        deposit=data.get("deposit", {}),
        audit=data.get("audit", {}),
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
        return tomllib.loads(read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (the archive's settings are required)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: Path, schemas: SchemaSet | None = None) -> ArchiveConfig:
    """Read and validate archive.toml; ConfigError names the file and the field at fault."""
    return parse_config(_read_toml(path), str(path), schemas)


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


def deposit_settings(path: Path | None) -> dict[str, Any]:
    """archive.toml's ``[deposit]`` table (S3 settings): from ``path``, else from
    ``DEFAULT_CONFIG`` when it is there, else nothing."""
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return {}
        path = DEFAULT_CONFIG
    return dict(load_config(path).deposit)
