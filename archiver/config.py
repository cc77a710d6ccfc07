"""The archive's settings, read from archive.toml and checked against its JSON Schema.

``bag.algorithms`` is checked against our BagIt profile, the one source of truth for the
manifests a bag of ours has (``archiver.policy.build_algorithms_problem``): the JSON
Schema only says it is a list of names.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from archiver.metadata.validation import SchemaSet
from archiver.model.errors import ConfigError, LedgerError, MetadataError
from archiver.model.settings import ArchiveConfig
from archiver.policy import build_algorithms_problem, load_profile
from archiver.storage.datadir import DEFAULT_ROOT, collection_ledger, legacy_ledger
from archiver.storage.fileio import read_bounded
from archiver.timestamp.settings import TimestampSettings

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
        return tomllib.loads(read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8"))
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


def deposit_settings(path: Path | None) -> dict[str, Any]:
    """archive.toml's ``[deposit]`` table (S3 settings): from ``path``, else from
    ``DEFAULT_CONFIG`` when it is there, else nothing."""
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return {}
        path = DEFAULT_CONFIG
    return dict(load_config(path).deposit)


def timestamp_settings_for(config: Path | None) -> TimestampSettings | None:
    """The [timestamp] settings of ``config`` (which must exist), else of ``DEFAULT_CONFIG``
    in the working directory when there is one (every command that stamps or checks)."""
    if config is None and not DEFAULT_CONFIG.is_file():
        return None
    path = config if config is not None else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"{path}: no such file (--config)")
    return load_timestamp_settings(path)


# ---------------------------------------------------------------- which ledger


class LedgerSource(StrEnum):
    """How a command's ledger was chosen (``resolve_ledger``), in order of precedence."""

    OPTION = "--ledger"
    CONFIG = "archive.toml [ledger] path"
    LEGACY = "the collection's .audit-ledger.sqlite (an earlier version's)"
    COLLECTION = "the collection's default"


@dataclass(frozen=True, slots=True)
class LedgerLocation:
    """The ledger a command reads or writes, how it was chosen, and for what: the config
    file (``CONFIG``) or the collection's resolved roots (``LEGACY``, ``COLLECTION``)."""

    path: Path
    source: LedgerSource
    origin: tuple[str, ...] = ()

    def reason(self) -> str:
        """Why this ledger: '' for --ledger, else e.g. 'the default for the collection X'."""
        if self.source is LedgerSource.OPTION:
            return ""
        if self.source is LedgerSource.CONFIG:
            return f"[ledger] path in {self.origin[0]}"
        where = ", ".join(self.origin)
        if self.source is LedgerSource.LEGACY:
            return f"kept inside the collection {where} by an earlier version"
        return f"the default for the collection {where}"

    def describe(self) -> str:
        """``ledger PATH (why this one)``, for a line on stderr or in a summary."""
        reason = self.reason()
        return f"ledger {self.path} ({reason})" if reason else f"ledger {self.path}"

    def missing(self) -> LedgerError:
        """The error for a command that reads a ledger that is not there."""
        message = f"{self.path}: no ledger here (no such file)"
        if self.source is not LedgerSource.OPTION:
            message += (
                f"; {self.reason()}: 'archiver audit' makes it, or name another with "
                "--ledger F, --root DIR or --config F"
            )
        return LedgerError(message)


def ledger_setting(config: Path | None) -> Path | None:
    """archive.toml's ``[ledger] path`` (relative to the file's folder, ``~`` expanded) of
    ``config``, else of ``DEFAULT_CONFIG`` when it is in the working directory; None when
    there is no such file or setting.

    Like ``audit_setting``, the whole file is validated only when it has a ``[ledger]``
    table (ConfigError names the field at fault); ``config`` given and absent is an error.
    """
    if config is None:
        if not DEFAULT_CONFIG.is_file():
            return None
        config = DEFAULT_CONFIG
    elif not config.is_file():
        raise ConfigError(f"{config}: no such file (--config)")
    data = _read_toml(config)
    if "ledger" not in data:
        return None
    parse_config(data, str(config))
    given = Path(str(data["ledger"]["path"])).expanduser()
    return Path(os.path.abspath(config.parent / given))


def resolve_ledger(
    option: Path | None,
    *,
    config: Path | None = None,
    roots: Sequence[str | Path] | None = None,
    create: bool = True,
) -> LedgerLocation:
    """The ledger every command that reads or writes one uses: ``option`` (``--ledger``);
    else archive.toml's ``[ledger] path`` (``ledger_setting(config)``); else the
    collection's default (``archiver.storage.datadir.collection_ledger``): the
    ``.audit-ledger.sqlite`` an earlier version left in the first root, else the per-user
    file keyed by the resolved ``roots``.

    ``roots`` None: the command names no collection; ``bags`` when it is a directory here,
    else LedgerError (nothing to key the default by). ``create``: make the per-user
    directory when missing (a command that only reads passes False).
    """
    if option is not None:
        return LedgerLocation(option, LedgerSource.OPTION)
    configured = ledger_setting(config)
    if configured is not None:
        return LedgerLocation(configured, LedgerSource.CONFIG, (str(config or DEFAULT_CONFIG),))
    if roots is None:
        if not DEFAULT_ROOT.is_dir():
            raise LedgerError(
                f"which ledger? no collection named and no {DEFAULT_ROOT}/ here: pass "
                "--root DIR (the folder 'archiver audit' checks), --ledger F, or --config F "
                "with a [ledger] path"
            )
        roots = [DEFAULT_ROOT]
    homes = list(roots) or [DEFAULT_ROOT]
    resolved = tuple(os.path.abspath(r) for r in homes)
    legacy = legacy_ledger(homes)
    if legacy is not None:
        return LedgerLocation(legacy, LedgerSource.LEGACY, resolved)
    path = collection_ledger(homes, make_directory=create)
    return LedgerLocation(path, LedgerSource.COLLECTION, resolved)
