"""The contents of one bag, computed in memory: bag-info, manifests, tag manifests.

Pure: given what characterization found and the rendered metadata, it returns every tag
file as bytes. The I/O layer (``archiver.build.writer``) only writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from archiver import __version__
from archiver.bag.render import (
    bag_size,
    manifests_for,
    payload_oxum,
    render_bag_info,
    render_declaration,
)
from archiver.model.digest import digest_bytes
from archiver.model.settings import ArchiveConfig

BAG_SOFTWARE_AGENT = f"archiver {__version__}"
MAX_SIZE_ROUNDS = 8  # Bag-Size settles in two rounds; a human-readable size cannot cycle long


@dataclass(frozen=True, slots=True)
class PayloadFile:
    """One payload file: its path inside the bag, size and digests."""

    path: str  # e.g. "data/000_5e17403660513e1c.txt"
    size: int
    digests: Mapping[str, str]


def bag_info_tags(
    config: ArchiveConfig,
    *,
    external_identifier: str,
    description: str,
    source_name: str,
    payload: Sequence[PayloadFile],
    tag_bytes: int,
    bagging_time: datetime,
) -> list[tuple[str, str]]:
    """The bag-info.txt labels and values, in a fixed order.

    Bag-Size here counts the payload and ``tag_bytes``; :func:`plan_tag_files` replaces
    it with the size of the whole bag once every tag file is known.
    """
    payload_bytes = sum(f.size for f in payload)
    tags: list[tuple[str, str]] = [
        ("Source-Organization", config.organization),
    ]
    if config.organization_address:
        tags.append(("Organization-Address", config.organization_address))
    tags += [
        ("Contact-Name", config.contact_name),
        ("Contact-Email", config.contact_email),
    ]
    if config.contact_phone:
        tags.append(("Contact-Phone", config.contact_phone))
    tags += [
        ("External-Identifier", external_identifier),
        ("External-Description", " ".join(description.split())),
        ("Bagging-Date", bagging_time.date().isoformat()),
        ("Bag-Software-Agent", BAG_SOFTWARE_AGENT),
        ("Payload-Oxum", payload_oxum(f.size for f in payload)),
        ("Bag-Size", bag_size(payload_bytes + tag_bytes)),
        ("Bag-Group-Identifier", config.collection_id),
        ("BagIt-Profile-Identifier", config.profile_identifier),
        ("Internal-Sender-Identifier", source_name),
    ]
    return tags


def plan_tag_files(
    *,
    algorithms: Sequence[str],
    payload: Sequence[PayloadFile],
    bag_info: Sequence[tuple[str, str]],
    metadata_files: Mapping[str, bytes],
) -> dict[str, bytes]:
    """Every tag file of the bag, keyed by its path relative to the bag root.

    ``metadata_files`` are extra tag files (``metadata/dc.xml`` ...). Tag manifests cover
    bagit.txt, bag-info.txt, the payload manifests and the metadata files.

    ``Bag-Size``, when ``bag_info`` has it, is computed last: the size of the whole bag,
    payload and every tag file (bag-info.txt and the tag manifests included). Its own
    text changes bag-info.txt's length, so it is rendered until it describes the bag that
    holds it (one or two rounds).
    """
    files: dict[str, bytes] = {"bagit.txt": render_declaration()}
    files.update(manifests_for({f.path: f.digests for f in payload}, algorithms, prefix="manifest"))
    files.update(metadata_files)
    tagged = {path: digest_bytes(data, algorithms) for path, data in files.items()}
    fixed_bytes = sum(f.size for f in payload) + sum(len(data) for data in files.values())
    info = list(bag_info)
    size_index = next((i for i, (label, _) in enumerate(info) if label == "Bag-Size"), None)
    total = fixed_bytes
    for _ in range(MAX_SIZE_ROUNDS):
        if size_index is not None:
            info[size_index] = ("Bag-Size", bag_size(total))
        rendered = render_bag_info(info)
        tagged["bag-info.txt"] = digest_bytes(rendered, algorithms)
        tag_manifests = manifests_for(tagged, algorithms, prefix="tagmanifest")
        total = fixed_bytes + len(rendered) + sum(len(data) for data in tag_manifests.values())
        if size_index is None or info[size_index][1] == bag_size(total):
            break
    files["bag-info.txt"] = rendered
    files.update(tag_manifests)
    return files
