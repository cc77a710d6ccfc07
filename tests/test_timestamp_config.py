"""The [timestamp] table of archive.toml: schema, ca relative to the file, env override."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from archiver.config import load_config, load_timestamp_settings, timestamp_settings
from archiver.model.errors import ConfigError


def _write(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "archive.toml"
    path.write_text((ROOT / "archive.toml").read_text("utf-8") + table, "utf-8")
    return path


def test_without_table_nothing_is_configured(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    assert load_timestamp_settings(path) is None
    assert timestamp_settings(load_config(path)) is None
    assert load_timestamp_settings(tmp_path / "absent.toml") is None


def test_ca_is_relative_to_the_config_and_env_overrides_url(tmp_path: Path) -> None:
    path = _write(tmp_path, '\n[timestamp]\nurl = "http://tsa.example.org/"\nca = "ca.pem"\n')
    settings = load_timestamp_settings(path)
    assert settings is not None
    assert settings.ca == tmp_path / "ca.pem" and settings.url == "http://tsa.example.org/"
    env = {"ARCHIVER_TSA_URL": "http://other.example.org/"}
    overridden = timestamp_settings(load_config(path), env)
    assert overridden is not None and overridden.url == "http://other.example.org/"


@pytest.mark.parametrize(
    "table",
    [
        '\n[timestamp]\nurl = "http://tsa.example.org/"\n',  # no ca
        '\n[timestamp]\nurl = "ftp://tsa.example.org/"\nca = "c.pem"\n',
        '\n[timestamp]\nca = "c.pem"\ntimeout = 0\n',
        '\n[timestamp]\nca = "c.pem"\nunknown = 1\n',
    ],
)
def test_bad_tables_are_refused(tmp_path: Path, table: str) -> None:
    with pytest.raises(ConfigError, match="timestamp"):
        load_config(_write(tmp_path, table))
