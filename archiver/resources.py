"""Where archiver's own files live: the schemas/ directory beside the package."""

from __future__ import annotations

from pathlib import Path


def project_root() -> Path:
    """The directory holding archiver/, schemas/ and sources/ (an editable install)."""
    return Path(__file__).resolve().parent.parent


def schema_path(name: str) -> Path:
    """A file in schemas/ (JSON Schemas, the BagIt profile, xsd/...)."""
    return project_root() / "schemas" / name
