"""archiver.config: archive.toml validated against its JSON Schema, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from archiver.config import load_config
from archiver.model.errors import ConfigError

GOOD = (ROOT / "archive.toml").read_text(encoding="utf-8")


def test_the_archive_settings_load() -> None:
    config = load_config(ROOT / "archive.toml")
    assert config.algorithms == ("sha256", "sha512")
    assert config.profile_identifier.startswith("https://")
    assert config.collection_id
    assert config.jurisdiction == "KZ"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace('email = "archivist@example.org"', 'email = "nobody"'),
            "contact/email",
        ),
        (
            lambda t: t.replace('"sha256", "sha512"', '"sha512"'),
            "bag/algorithms: sha256 missing (the BagIt profile requires it)",
        ),
        (
            lambda t: t.replace('"sha256", "sha512"', '"sha256", "crc32"'),
            "bag/algorithms: crc32 not supported (the BagIt profile allows sha256, sha512)",
        ),
        (
            lambda t: t.replace('"sha256", "sha512"', '"sha256", "sha384"'),
            "bag/algorithms: sha384 not supported (the BagIt profile allows sha256, sha512)",
        ),
        (lambda t: t.replace('"sha256", "sha512"', '"sha256", 5'), "bag/algorithms/1"),
        (lambda t: t.replace("[collection]", "[collection]\ncolour = 'red'"), "colour"),
        (
            lambda t: t.replace('identifier = "kz-human', 'identifier = "../kz-human'),
            "collection/identifier",
        ),
        (lambda t: t.replace("https://archiver.example.org", "ftp://x"), "bag/profile"),
        (lambda t: t.split("[bag]")[0], "bag"),
        (lambda t: t + "\n[[broken", "not valid TOML"),
        (lambda t: t.replace('jurisdiction = "KZ"', 'jurisdiction = "kz"'), "rights/jurisdiction"),
        (lambda t: t.replace('jurisdiction = "KZ"', 'jurisdiction = "XX"'), "'XX' is not an ISO"),
        (lambda t: t.replace("[rights]", "[rightz]"), "'rights' is a required property"),
    ],
    ids=[
        "email",
        "no sha256",
        "unknown algorithm",
        "sha384 passed the schema once, then every build failed",
        "not a name",
        "unknown key",
        "bad identifier",
        "profile scheme",
        "missing table",
        "toml syntax",
        "jurisdiction lowercase",
        "jurisdiction unknown",
        "no rights table",
    ],
)
def test_invalid_settings_name_the_field(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "archive.toml"
    path.write_text(edit(GOOD), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "archive.toml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "archive.toml"
    path.write_bytes(GOOD.encode("utf-8") + b"\n# \xff\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)
