"""Shared fixtures: the seed collection built once per session, copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.build.collection import build_collection
from archiver.config import load_config

pytest_plugins = ["timestamp_helpers"]  # the loopback TSA fixtures (tsa, faulty_tsa)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "sources"
SEED_NAMES = tuple(sorted(p.name for p in SOURCES.glob("*.txt")))
FIXED_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def user_data_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Default ledgers (platformdirs' per-user data directory) go to a temporary home."""
    home = tmp_path_factory.mktemp("xdg-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def fixed_clock() -> datetime:
    """The clock every reproducible test build uses."""
    return FIXED_TIME


@pytest.fixture(scope="session")
def built_collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five seed statements built once into a session directory (do not modify)."""
    out = tmp_path_factory.mktemp("collection") / "bags"
    report = build_collection(
        config=load_config(ROOT / "archive.toml"),
        catalog_path=SOURCES / "metadata.csv",
        out_dir=out,
        clock=fixed_clock,
    )
    assert not report.failed, report.failed
    return out


@pytest.fixture
def collection_copy(built_collection: Path, tmp_path: Path) -> Path:
    """A private copy of the built collection that a test may damage."""
    copy = tmp_path / "bags"
    shutil.copytree(built_collection, copy, symlinks=True)
    return copy


@pytest.fixture
def bag_copy(collection_copy: Path) -> Path:
    """A private copy of one built bag (the first seed)."""
    return collection_copy / Path(SEED_NAMES[0]).stem


@pytest.fixture
def source_tree(tmp_path: Path) -> Callable[..., Path]:
    """Copy sources/ (statements + catalog) into tmp_path; optionally edit the catalog."""

    def make(catalog_text: str | None = None, catalog_bytes: bytes | None = None) -> Path:
        target = tmp_path / "sources"
        shutil.copytree(SOURCES, target)
        if catalog_text is not None:
            (target / "metadata.csv").write_text(catalog_text, encoding="utf-8")
        if catalog_bytes is not None:
            (target / "metadata.csv").write_bytes(catalog_bytes)
        return target

    return make
