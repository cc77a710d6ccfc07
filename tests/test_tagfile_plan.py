"""archiver.build.tagfile_plan: every tag file of a bag computed in memory."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from conftest import ROOT

from archiver.build.tagfile_plan import PayloadFile, bag_info_tags, plan_tag_files
from archiver.config import load_config

CONFIG = load_config(ROOT / "archive.toml")
PAYLOAD = [PayloadFile("data/a.txt", 3, {"sha256": "a" * 64, "sha512": "b" * 128})]


def tags() -> list[tuple[str, str]]:
    return bag_info_tags(
        CONFIG,
        external_identifier="a",
        description="A  title\twith   spaces",
        source_name="a.txt",
        payload=PAYLOAD,
        tag_bytes=997,
        bagging_time=datetime(2026, 1, 2, 23, 59, tzinfo=UTC),
    )


def test_bag_info_values() -> None:
    info = dict(tags())
    assert info["Payload-Oxum"] == "3.1"
    assert info["Bag-Size"] == "1.0 KB"
    assert info["External-Description"] == "A title with spaces"
    assert info["Bagging-Date"] == "2026-01-02"
    assert info["Bag-Group-Identifier"] == CONFIG.collection_id
    assert info["BagIt-Profile-Identifier"] == CONFIG.profile_identifier


def test_tag_manifests_cover_every_tag_file_but_themselves() -> None:
    files = plan_tag_files(
        algorithms=["sha256", "sha512"],
        payload=PAYLOAD,
        bag_info=tags(),
        metadata_files={"metadata/x.json": b"{}\n"},
    )
    assert set(files) == {
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "metadata/x.json",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
    }
    assert files["manifest-sha256.txt"] == b"a" * 64 + b"  data/a.txt\n"
    lines = files["tagmanifest-sha256.txt"].decode().splitlines()
    listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}
    assert set(listed) == set(files) - {"tagmanifest-sha256.txt", "tagmanifest-sha512.txt"}
    for path, digest in listed.items():
        assert hashlib.sha256(files[path]).hexdigest() == digest
