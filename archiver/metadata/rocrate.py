"""RO-Crate metadata for a bag: ``ro-crate-metadata.json`` at the bag's root.

Where: the RO-Crate specification's BagIt section ("Combining with other packaging
schemes", RO-Crate 1.1 and 1.2) describes a crate whose root is the bag, the payload in
``data/`` and the metadata file beside ``bagit.txt``, or a crate inside ``data/``.
archiver's payload must stay the item byte for byte (``data/`` holds nothing else and
Payload-Oxum counts only it), so the crate's root is the bag: the metadata document is a
tag file at the root, listed in the tag manifests, and each payload file is a data
entity ``data/…`` relative to it. (Under ``metadata/`` the crate's root would be
``metadata/`` and the payload ``../data/…``, outside the crate, which RO-Crate does
not allow for data entities.) The BagIt profile allows the tag file
(``Tag-Files-Allowed``).

Written with ro-crate-py (``rocrate``), with the version of RO-Crate it writes;
deterministic: no wall-clock value (``datePublished`` is the ingest's time) and files in
path order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from rocrate.model.contextentity import ContextEntity  # type: ignore[import-untyped]
from rocrate.rocrate import ROCrate  # type: ignore[import-untyped]

from archiver.metadata.dublin_core import DublinCoreRecord
from archiver.metadata.rights import genre_term, rights_term

ROCRATE_FILE = "ro-crate-metadata.json"


def _file_id(path: str) -> str:
    return quote(path, safe="/")


def rocrate_json(
    dc: DublinCoreRecord,
    files: Sequence[tuple[str, int, Mapping[str, str], str | None]],
    *,
    date_published: str,
    publisher: str,
) -> dict[str, Any]:
    """The RO-Crate metadata document of one bag: the item (the root dataset, described
    from its DC record) and every payload file (``files``: bag path, size, digests, MIME
    type)."""
    crate = ROCrate()
    root = crate.root_dataset
    root["name"] = dc.title
    root["description"] = dc.description or dc.title
    root["datePublished"] = date_published
    root["identifier"] = dc.identifier
    root["dateCreated"] = dc.date
    root["inLanguage"] = list(dc.languages)
    authors = [
        crate.add(
            ContextEntity(
                crate,
                "#" + quote(name, safe=""),
                properties={"@type": "Organization", "name": name},
            )
        )
        for name in dc.creators
    ]
    if authors:
        root["author"] = authors
    root["keywords"] = list(dc.values("dc.subject"))
    root["publisher"] = crate.add(
        ContextEntity(
            crate,
            "#" + quote(publisher, safe=""),
            properties={"@type": "Organization", "name": publisher},
        )
    )
    license_uri = dc.first("dcterms.license") or dc.first("dcterms.rights")
    term = rights_term(license_uri)
    if term is not None:
        entity = crate.add(
            ContextEntity(crate, term.uri, properties={"@type": "CreativeWork", "name": term.label})
        )
        root["license"] = entity
    if dc.first("dcterms.accessRights"):
        root["conditionsOfAccess"] = dc.first("dcterms.accessRights")
    genres = [genre_term(uri) for uri in dc.values("dcterms.type")]
    for genre in genres:
        if genre is not None:
            crate.add(
                ContextEntity(
                    crate, genre.uri, properties={"@type": "DefinedTerm", "name": genre.label}
                )
            )
    if any(genres):
        root["genre"] = [{"@id": g.uri} for g in genres if g is not None]
    for path, size, digests, mime in sorted(files):
        properties: dict[str, Any] = {
            "name": path.rsplit("/", 1)[-1],
            "contentSize": str(size),
            "sha256": digests.get("sha256"),
        }
        if mime:
            properties["encodingFormat"] = mime
        crate.add_file(source=None, dest_path=path, properties=properties, fetch_remote=False)
    data: dict[str, Any] = crate.metadata.generate()
    graph = [_clean(entity) for entity in data["@graph"]]
    data["@graph"] = graph
    return data


def _clean(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if v not in (None, [], "")}


def rocrate_bytes(
    dc: DublinCoreRecord,
    files: Sequence[tuple[str, int, Mapping[str, str], str | None]],
    *,
    date_published: str,
    publisher: str,
) -> bytes:
    """``ro-crate-metadata.json``'s bytes (UTF-8, indented, keys in the library's order)."""
    data = rocrate_json(dc, files, date_published=date_published, publisher=publisher)
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
