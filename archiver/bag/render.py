"""Rendering BagIt 1.0 tag files (RFC 8493) as bytes: pure, no disk, no clock.

bagit-python (1.9) is the reference *reader* and validator here, but its writer cannot be
used for our bags: ``make_bag`` declares BagIt 0.97, changes the process's working
directory, stamps today's date, and does not percent-encode ``%`` in manifest paths as
RFC 8493 section 2.1.3 requires. So the tag files are rendered here, and every bag is then
checked by bagit-python's validator before it is moved into place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

BAGIT_VERSION = "1.0"
TAG_ENCODING = "UTF-8"


def encode_path(path: str) -> str:
    """Percent-encode a manifest path as RFC 8493 2.1.3 requires (%, CR, LF)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_declaration() -> bytes:
    """bagit.txt for a BagIt 1.0 bag with UTF-8 tag files."""
    return f"BagIt-Version: {BAGIT_VERSION}\nTag-File-Character-Encoding: {TAG_ENCODING}\n".encode()


def render_bag_info(tags: Sequence[tuple[str, str]]) -> bytes:
    """bag-info.txt from (label, value) pairs, in the order given.

    Labels and values must be single lines; a ValueError names the offending label.
    """
    lines = []
    for label, value in tags:
        if (
            not label
            or ":" in label
            or label != label.strip()
            or "\n" in label
            or "\r" in label
            or label.startswith("\ufeff")  # a reader drops it as a byte-order mark
        ):
            raise ValueError(f"bag-info label {label!r} is not a valid BagIt label")
        if "\n" in value or "\r" in value:
            raise ValueError(f"bag-info {label}: value spans several lines")
        lines.append(f"{label}: {value}\n")
    return "".join(lines).encode("utf-8")


def render_manifest(entries: Iterable[tuple[str, str]]) -> bytes:
    """A manifest from (path relative to the bag, hex digest) pairs, sorted by path."""
    return "".join(f"{digest}  {encode_path(path)}\n" for path, digest in sorted(entries)).encode(
        "utf-8"
    )


def payload_oxum(sizes: Iterable[int]) -> str:
    """Payload-Oxum: total octets, a dot, and the number of payload files."""
    total = count = 0
    for size in sizes:
        total += size
        count += 1
    return f"{total}.{count}"


def bag_size(total_bytes: int) -> str:
    """A human-readable Bag-Size, as BagIt suggests (e.g. '12.3 KB')."""
    size = float(total_bytes)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def manifests_for(
    files: Mapping[str, Mapping[str, str]], algorithms: Sequence[str], prefix: str
) -> dict[str, bytes]:
    """Render ``<prefix>-<alg>.txt`` for each algorithm from {path: {alg: digest}}."""
    return {
        f"{prefix}-{alg}.txt": render_manifest((path, d[alg]) for path, d in files.items())
        for alg in algorithms
    }
