"""Shared by the deposit tests: a fixed time and small bags to deposit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import bagit

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_bag(
    root: Path,
    name: str = "statement-1",
    ident: str | None = "urn:test:1",
    payload: bytes = b"a statement\n",
) -> Path:
    """A bag ``root/name`` holding ``data/text.txt``, sha256 + sha512 manifests.

    ``ident`` is its External-Identifier (None: no bag-info identifier).
    """
    bag_dir = root / name
    bag_dir.mkdir(parents=True)
    (bag_dir / "text.txt").write_bytes(payload)
    info = {"External-Identifier": ident} if ident else {}
    bagit.make_bag(str(bag_dir), info, checksums=["sha256", "sha512"])
    return bag_dir


def change_bag(bag: Path) -> None:
    """Add a payload file to ``bag`` and rewrite its manifests."""
    (bag / "data" / "more.txt").write_text("more\n", encoding="utf-8")
    bagit.Bag(str(bag)).save(manifests=True)
