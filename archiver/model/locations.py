"""Storage locations: where a deposit goes and where a replica is read from.

One parser for every command that names storage (``deposit --to``, ``repair --from``,
``audit --repair --from``, the targets the ledger records): ``ocfl:///root`` (an OCFL
storage root), ``file:///dir`` (a plain directory), ``s3://bucket/prefix``, and, where the
option allows them, plain paths. ``ocfl:`` and ``file:`` also take a relative path without
slashes (``ocfl:deposit/root``). A host other than ``localhost``, an s3 address without a
bucket, and an ``ocfl:``/``file:`` address without a directory are refused, never read as
``/`` or the current directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from archiver.model.errors import ArchiverError


class Scheme(StrEnum):
    """The kinds of storage archiver reads and writes."""

    OCFL = "ocfl"
    S3 = "s3"
    FILE = "file"
    PATH = "path"  # a plain path, where the option accepts one


URI_SCHEMES: tuple[Scheme, ...] = (Scheme.OCFL, Scheme.S3, Scheme.FILE)


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed storage address: ``path`` for ocfl, file and plain paths; ``bucket`` and
    ``prefix`` (without leading or trailing '/') for s3."""

    uri: str
    scheme: Scheme
    path: Path | None = None
    bucket: str | None = None
    prefix: str = ""


def parse_location(
    uri: str,
    *,
    option: str,
    plain_paths: bool = False,
    error: type[ArchiverError] = ArchiverError,
) -> Location:
    """Parse a storage address (pure: nothing is opened).

    ``option`` names the option in messages (``--to``); with ``plain_paths`` an address
    without a scheme (or with a one-letter one, a Windows drive) is a plain path. Raises
    ``error`` naming the option, the address and what is wrong.
    """
    parts = urlsplit(uri)
    name = parts.scheme.lower()
    if plain_paths and len(name) <= 1:
        return Location(uri=uri, scheme=Scheme.PATH, path=Path(uri))
    if name not in URI_SCHEMES:
        accepted = ", ".join(f"{s}://" for s in URI_SCHEMES)
        if plain_paths:
            accepted = f"a path, {accepted}"
        raise error(
            f"{option} {uri!r}: unsupported scheme {parts.scheme or '(none)'!r}, "
            f"use one of {accepted}"
        )
    scheme = Scheme(name)
    if scheme is Scheme.S3:
        if not parts.netloc:
            raise error(f"{option} {uri!r}: no bucket, expected s3://bucket/prefix")
        return Location(
            uri=uri, scheme=scheme, bucket=parts.netloc, prefix=unquote(parts.path).strip("/")
        )
    if parts.netloc not in ("", "localhost"):
        raise error(
            f"{option} {uri!r}: host {parts.netloc!r} not supported, "
            f"write {scheme}:///absolute/path"
        )
    path = unquote(parts.path)
    if path.strip("/") == "":
        raise error(
            f"{option} {uri!r}: no directory, expected {scheme}:///absolute/path "
            f"or {scheme}:relative"
        )
    return Location(uri=uri, scheme=scheme, path=Path(path))
