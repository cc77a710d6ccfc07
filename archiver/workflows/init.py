"""A new collection (``archiver init [DIR]``): the settings and the catalog a first
``archiver build`` run from DIR needs, laid out as the build's defaults expect them::

    DIR/archive.toml          the archive's settings, commented; placeholders to edit
    DIR/sources/              the originals go here (created when missing)
    DIR/sources/metadata.csv  the catalog: its header row, one row per item to add

``bags/`` is not made: ``archiver build`` writes it. Nothing is overwritten: when either
file exists, nothing at all is written (OutputError). The settings are checked against
archive.toml's schema before they are written (the placeholders validate, and say they
are placeholders).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from archiver.config import DEFAULT_CONFIG, parse_config
from archiver.model.errors import OutputError
from archiver.storage.fileio import write_bytes_atomic

SOURCES = Path("sources")
CATALOG = SOURCES / "metadata.csv"
CATALOG_COLUMNS = (
    "filename",
    "dc.identifier",
    "dc.title",
    "dc.creator",
    "dc.date",
    "dc.description",
    "dc.language",
    "dc.type",
    "premis.copyrightStatus",
)

ARCHIVE_TOML = """\
# The archive's settings, read by every archiver command run from this folder (or given
# with --config). Checked against schemas/archive-config.schema.json: a missing or
# malformed setting is refused, naming it. Replace every "Example" value below.

[organization]
# Who keeps the collection (bag-info.txt Source-Organization, the PREMIS agent).
name = "Example Archive"
# A short, stable identifier: letters, digits, '.', '_', ':', '-'.
identifier = "example-archive"
# address = "Street, City, Country"

[contact]
# Who answers questions about the bags (bag-info.txt Contact-Name, Contact-Email).
name = "Example Archivist"
email = "archivist@example.org"
# phone = "+1 555 0100"

[collection]
# The collection's identifier (bag-info.txt Bag-Group-Identifier).
identifier = "example-collection"
# description = "What the collection holds, in one line"

[rights]
# ISO 3166-1 alpha-2 code of the country whose copyright law applies (PREMIS
# copyrightJurisdiction), unless a catalog row's premis.copyrightJurisdiction says otherwise.
jurisdiction = "US"

[bag]
# The manifests every bag has, as our BagIt profile requires them: keep both.
algorithms = ["sha256", "sha512"]
# The BagIt profile the bags declare (BagIt-Profile-Identifier).
profile = "https://archiver.example.org/profiles/archiver-bagit-profile-v1.json"

# Where the audit ledger is kept (audit, report, ledger, show, deposit, repair, build
# --replace), relative to this file's folder. Without it: one file per collection in your
# per-user data directory (e.g. ~/.local/share/archiver/ledgers/).
# [ledger]
# path = "ledger/audit-ledger.sqlite"
"""


@dataclass(frozen=True, slots=True)
class InitRun:
    """A collection laid out: its folder, the files written, the folders made."""

    directory: Path
    config: Path
    catalog: Path
    made: tuple[Path, ...]  # directories created (DIR, sources/), when they were missing


def catalog_header() -> bytes:
    """The catalog's header row (UTF-8, CRLF as the csv module writes it)."""
    return (",".join(CATALOG_COLUMNS) + "\r\n").encode("utf-8")


def init_collection(directory: Path) -> InitRun:
    """Write ``archive.toml`` and ``sources/metadata.csv`` in ``directory``, making it
    and ``sources/`` when missing.

    OutputError, before anything is written, when either file exists (nothing is
    overwritten) or ``directory`` is not a directory.
    """
    config = directory / DEFAULT_CONFIG
    catalog = directory / CATALOG
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"{directory}: not a directory")
    for path in (config, catalog):
        if path.exists() or path.is_symlink():
            raise OutputError(f"{path}: already exists (init writes nothing over it)")
    parse_config(tomllib.loads(ARCHIVE_TOML), str(config))  # the template stays valid
    made: list[Path] = []
    for folder in (directory, directory / SOURCES):
        if not folder.is_dir():
            try:
                folder.mkdir(parents=True)
            except OSError as exc:
                raise OutputError(f"{folder}: cannot create ({exc.strerror})") from exc
            made.append(folder)
    write_bytes_atomic(config, ARCHIVE_TOML.encode("utf-8"))
    write_bytes_atomic(catalog, catalog_header())
    return InitRun(directory, config, catalog, tuple(made))
