"""Which item a bag holds: its bag-info ``External-Identifier`` (archiver writes the item's
``dc.identifier`` there), else its directory name."""

from __future__ import annotations

from pathlib import Path

from archiver.bag.tagfiles import decode_tag_file, parse_bag_info, tag_values
from archiver.bag.validator import MAX_TAG_BYTES
from archiver.model.errors import BagReadError
from archiver.model.findings import Severity
from archiver.storage.fileio import read_bounded


def bag_identifier(bag: Path) -> tuple[str, bool]:
    """The bag's External-Identifier, or its directory name; the flag says which it is.

    bag-info.txt is parsed as the validator parses it (``archiver.bag.tagfiles``: labels
    compared case-insensitively, continuation lines joined), read through
    ``read_bounded`` (a FIFO or a giant file is a ``BagReadError``, never a hang).
    """
    path = bag / "bag-info.txt"
    try:
        data = read_bounded(path, MAX_TAG_BYTES)
    except FileNotFoundError:
        return bag.resolve().name, False
    except OSError as exc:
        raise BagReadError(f"{path}: cannot read ({exc.strerror})") from exc
    lines, issues = decode_tag_file(data, "UTF-8", "bag-info.txt")
    errors = [issue for issue in issues if issue.severity is Severity.ERROR]
    if errors:
        raise BagReadError(f"{path}: cannot read ({errors[0].message})")
    info, _ = parse_bag_info(lines)
    values = tag_values(info, "External-Identifier")
    if values and values[0]:
        return values[0], True
    return bag.resolve().name, False
