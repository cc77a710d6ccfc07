"""The contents of one bag, computed in memory: bag-info, manifests, tag manifests.

Pure: given what characterization found and the rendered metadata, it returns every tag
file as bytes. The I/O layer (``archiver.build.writer``) only writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from archiver import __version__
from archiver.bag.digest import digest_bytes
from archiver.bag.render import (
    bag_size,
    manifests_for,
    payload_oxum,
    render_bag_info,
    render_declaration,
)
from archiver.config import ArchiveConfig

BAG_SOFTWARE_AGENT = f"archiver {__version__}"


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
    """The bag-info.txt labels and values, in a fixed order."""
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
        ("BagIt-Profile-Identifier", config.profile),
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
    """
    files: dict[str, bytes] = {
        "bagit.txt": render_declaration(),
        "bag-info.txt": render_bag_info(bag_info),
    }
    files.update(manifests_for({f.path: f.digests for f in payload}, algorithms, prefix="manifest"))
    files.update(metadata_files)
    tagged = {path: digest_bytes(data, algorithms) for path, data in files.items()}
    files.update(manifests_for(tagged, algorithms, prefix="tagmanifest"))
    return files
