"""ro-crate-metadata.json: written with ro-crate-py, checked by roc-validator (offline)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import responses
from metadata_items import TIME, Item, build_item, folder_item

from archiver.metadata.rocrate import ROCRATE_FILE, rocrate_bytes

CONTEXTS = Path("/work/shared/ro-crate")  # offline copies of the RO-Crate JSON-LD contexts


def crate_bytes(item: Item) -> bytes:
    files = [(f.path, f.size, f.digests, f.format.mime_type) for f in item.ingest.files]
    return rocrate_bytes(item.ingest.dc, files, date_published=TIME, publisher="Archive")


def write_crate(item: Item, root: Path) -> Path:
    for path, data in item.contents.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / ROCRATE_FILE).write_bytes(crate_bytes(item))
    return root


@pytest.mark.parametrize("item", [build_item("s t%.txt"), folder_item()], ids=["one", "folder"])
def test_crate_describes_every_payload_file(item: Item) -> None:
    data = json.loads(crate_bytes(item))
    graph = {e["@id"]: e for e in data["@graph"]}
    root = graph["./"]
    parts = [p["@id"] for p in root["hasPart"]]
    from urllib.parse import unquote

    assert sorted(unquote(p) for p in parts) == sorted(item.contents)
    assert root["license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}
    assert crate_bytes(item) == crate_bytes(item)  # deterministic


@pytest.mark.skipif(not CONTEXTS.is_dir(), reason="no offline RO-Crate contexts")
# pyshacl (under roc-validator) still builds an rdflib ConjunctiveGraph
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("item", [build_item("s t%.txt"), folder_item()], ids=["one", "folder"])
def test_roc_validator_required_level(item: Item, tmp_path: Path) -> None:
    from rocrate_validator import models, services

    crate = write_crate(item, tmp_path / "bag")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for context in CONTEXTS.glob("context-*.jsonld"):
            version = re.search(r"context-(.*)\.jsonld", context.name).group(1)  # type: ignore[union-attr]
            for url in (f"https://w3id.org/ro/crate/{version}/context",):
                mock.add(
                    responses.GET,
                    url,
                    body=context.read_bytes(),
                    content_type="application/ld+json",
                )
        settings = services.ValidationSettings(
            rocrate_uri=str(crate),
            profile_identifier="ro-crate-1.3",
            requirement_severity=models.Severity.REQUIRED,
        )
        result = services.validate(settings)
    issues = [f"{i.check.identifier}: {i.message}" for i in result.get_issues()]
    assert not result.has_issues(), issues
