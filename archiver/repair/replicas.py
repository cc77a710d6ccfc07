"""Where ``repair`` reads good bytes from: one class per replica kind, one protocol.

A ``Replica`` is named by the user (``--from``) or by the ledger's deposit events:

- a directory holding the bag (the bag itself, or a directory with ``<bag name>/`` in it,
  which is what ``deposit --to file://`` writes); ``file:///dir`` is the same;
- a serialized bag (``.tar``, ``.tar.gz``, ``.zip``, ...): its ``.sha256``/``.sha512``
  sidecars are checked first, then it is extracted safely into a temporary directory;
- ``ocfl:///root``: the object whose identifier is the bag's, every version (the
  inventory's manifest maps a digest to its content files, so any version whose state
  holds the wanted digest serves);
- ``s3://bucket/prefix``: the serialized bag ``<prefix>/<bag name>.<format>`` that
  ``deposit`` uploaded, downloaded to a temporary file, checked against its sidecars and
  extracted safely.

``Replica.open`` gives a ``ReplicaView`` of one bag (or raises ``Unreachable``); a view
names, for a bag-relative path and the digests wanted, the places that might hold those
bytes. Nothing here ever writes to a replica: files are opened read-only, archives are
extracted into temporary directories, S3 objects are only read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from archiver.archive.unpack import ARCHIVE_SUFFIXES, UnsafeArchiveError, open_serialized
from archiver.model.errors import ArchiverError
from archiver.model.locations import Scheme, parse_location

Opener = Callable[[], BinaryIO]


class Unreachable(ArchiverError):
    """A replica cannot be read at all (gone, refused, or failing its own sidecars)."""


@dataclass(frozen=True, slots=True)
class BagRef:
    """The bag a replica is asked for: its directory name and possible identifiers."""

    name: str
    identifiers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Source:
    """One place that may hold a file: a description for the record, and how to open it."""

    where: str
    open: Opener


class ReplicaView(Protocol):
    """One replica's copy of one bag."""

    @property
    def location(self) -> str: ...

    def sources(self, path: str, want: Mapping[str, str]) -> list[Source]:
        """Places that may hold ``path`` with digests ``want`` (empty: the replica lacks it)."""
        ...


class Replica(Protocol):
    """A replica kind: ``open`` one bag's copy for reading."""

    @property
    def uri(self) -> str: ...

    def open(self, bag: BagRef) -> contextlib.AbstractContextManager[ReplicaView]:
        """A view of the replica's copy of ``bag``; ``Unreachable`` if it cannot be read."""
        ...


def _opener(path: Path) -> Opener:
    def open_file() -> BinaryIO:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        return os.fdopen(fd, "rb", buffering=0)

    return open_file


# ---------------------------------------------------------------- directory / file://


@dataclass(frozen=True, slots=True)
class DirectoryView:
    """A bag directory (a copy, or an extracted archive); ``root`` None: no copy there."""

    location: str
    root: Path | None

    def sources(self, path: str, want: Mapping[str, str]) -> list[Source]:
        if self.root is None:
            return []
        candidate = self.root / path
        if candidate.is_symlink() or not candidate.is_file():
            return []
        return [Source(f"{self.location}/{path}", _opener(candidate))]


def _bag_in(directory: Path, bag: BagRef) -> Path | None:
    """The copy of ``bag`` in ``directory``: the directory itself, or ``<dir>/<name>``."""
    inner = directory / bag.name
    if inner.is_dir() and not inner.is_symlink():
        return inner
    if (directory / "bagit.txt").is_file() or (directory / "data").is_dir():
        return directory
    return None


@dataclass(frozen=True, slots=True)
class DirectoryReplica:
    """A directory holding the bag, or ``file:///dir`` (a ``deposit --to file://`` target)."""

    uri: str
    path: Path

    @contextlib.contextmanager
    def open(self, bag: BagRef) -> Iterator[ReplicaView]:
        if not self.path.is_dir():
            raise Unreachable(f"{self.uri}: no such directory")
        root = _bag_in(self.path, bag)
        yield DirectoryView(str(root if root is not None else self.path), root)


# ---------------------------------------------------------------- serialized bag


def _sidecar_problem(archive: Path, found: Mapping[str, str]) -> str | None:
    """Why ``archive`` fails its ``.sha256``/``.sha512`` sidecars, or None."""
    from archiver.archive.serialize import SIDECAR_ALGORITHMS, read_sidecar

    for alg in SIDECAR_ALGORITHMS:
        sidecar = archive.with_name(f"{archive.name}.{alg}")
        if not sidecar.is_file():
            continue
        digest, _ = read_sidecar(sidecar)
        if found[alg] != digest:
            return f"the archive's {alg} is {found[alg]}, its sidecar says {digest}"
    return None


def _hash_file(path: Path) -> dict[str, str]:
    from archiver.archive.serialize import SIDECAR_ALGORITHMS
    from archiver.storage.fileio import hash_file

    return hash_file(path, SIDECAR_ALGORITHMS)[0]


@contextlib.contextmanager
def _extracted(archive: Path, label: str, bag: BagRef) -> Iterator[ReplicaView]:
    try:
        with open_serialized(archive) as root:
            found = _bag_in(root, bag) or root
            yield DirectoryView(label, found)
    except UnsafeArchiveError as exc:
        raise Unreachable(f"{label}: refused as unsafe ({exc})") from None


@dataclass(frozen=True, slots=True)
class ArchiveReplica:
    """A serialized bag on disk, checked against its sidecars before it is extracted."""

    uri: str
    path: Path

    @contextlib.contextmanager
    def open(self, bag: BagRef) -> Iterator[ReplicaView]:
        if not self.path.is_file():
            raise Unreachable(f"{self.uri}: no such archive")
        try:
            problem = _sidecar_problem(self.path, _hash_file(self.path))
        except (OSError, ArchiverError) as exc:
            raise Unreachable(f"{self.uri}: cannot be read ({exc})") from None
        if problem is not None:
            raise Unreachable(f"{self.uri}: damaged, {problem}")
        with _extracted(self.path, str(self.path), bag) as view:
            yield view


# ---------------------------------------------------------------- OCFL


@dataclass(frozen=True, slots=True)
class OcflView:
    """An OCFL object: files found by digest in its manifest, or by path in any version."""

    location: str
    object_path: Path | None
    inventory: Any

    def sources(self, path: str, want: Mapping[str, str]) -> list[Source]:
        if self.object_path is None:
            return []
        inv = self.inventory
        content: list[str] = []
        algorithm = str(inv.digest_algorithm)
        if algorithm in want:
            content.extend(inv.content_paths_for_digest(want[algorithm].lower()) or [])
        for vdir in reversed(inv.version_directories):  # newest first
            digest = inv.version(vdir).digest_for_logical_path(path)
            if digest is not None:
                content.extend(inv.content_paths_for_digest(digest) or [])
        unique = list(dict.fromkeys(content))
        return [
            Source(f"{self.location} {c}", _opener(self.object_path / c))
            for c in unique
            if ".." not in c.split("/")
        ]


@dataclass(frozen=True, slots=True)
class OcflReplica:
    """``ocfl:///root``: the object with the bag's identifier (read with ocfl-py, never
    created or written)."""

    uri: str
    path: Path

    @contextlib.contextmanager
    def open(self, bag: BagRef) -> Iterator[ReplicaView]:
        import ocfl

        from archiver.deposit.ocfl_root import quiet_ocfl

        with quiet_ocfl():
            if (
                not (self.path / "0=ocfl_1.1").is_file()
                and not (self.path / "0=ocfl_1.0").is_file()
            ):
                raise Unreachable(f"{self.uri}: not an OCFL storage root (no 0=ocfl_1.x)")
            store = ocfl.StorageRoot(root=str(self.path))
            try:
                store.open_root_fs()
                store.check_root_structure()
            except (ocfl.StorageRootException, OSError) as exc:
                raise Unreachable(f"{self.uri}: not a usable OCFL storage root ({exc})") from None
            for identifier in bag.identifiers:
                try:
                    obj_path = self.path / str(store.object_path(identifier))
                except Exception:  # noqa: BLE001 - a layout that cannot map this identifier
                    continue
                if not (obj_path / "inventory.json").is_file():
                    continue
                try:
                    inventory = ocfl.Object(path=str(obj_path)).parse_inventory()
                except Exception as exc:  # noqa: BLE001 - ocfl-py raises several kinds
                    raise Unreachable(
                        f"{self.uri}: object {identifier}: unreadable inventory ({exc})"
                    ) from None
                yield OcflView(f"{self.uri} object {identifier}", obj_path, inventory)
                return
        yield OcflView(f"{self.uri} (no object {', '.join(bag.identifiers)})", None, None)


# ---------------------------------------------------------------- S3


@dataclass(frozen=True, slots=True)
class S3Replica:
    """``s3://bucket/prefix``: the bag's archive and sidecars as ``deposit`` uploaded them."""

    uri: str
    bucket: str
    prefix: str
    settings: Mapping[str, Any]
    environ: Mapping[str, str]

    @contextlib.contextmanager
    def open(self, bag: BagRef) -> Iterator[ReplicaView]:
        from botocore.exceptions import BotoCoreError, ClientError

        from archiver.archive.serialize import FORMATS, SIDECAR_ALGORITHMS, parse_sidecar
        from archiver.deposit.s3 import make_client, s3_settings

        client = make_client(s3_settings(self.environ, self.settings))
        with tempfile.TemporaryDirectory(prefix="archiver-s3-") as tmp:
            try:
                key = None
                for fmt in FORMATS:
                    candidate = f"{bag.name}.{fmt}"
                    candidate = f"{self.prefix}/{candidate}" if self.prefix else candidate
                    if _s3_exists(client, self.bucket, candidate):
                        key = candidate
                        break
                if key is None:
                    yield DirectoryView(f"s3://{self.bucket}/{self.prefix} (no archive)", None)
                    return
                local = Path(tmp) / Path(key).name
                hashes = {alg: hashlib.new(alg) for alg in SIDECAR_ALGORITHMS}
                body = client.get_object(Bucket=self.bucket, Key=key)["Body"]
                with contextlib.closing(body), open(local, "wb") as out:
                    while block := body.read(1 << 20):
                        out.write(block)
                        for h in hashes.values():
                            h.update(block)
                found = {alg: h.hexdigest() for alg, h in hashes.items()}
                for alg in SIDECAR_ALGORITHMS:
                    sidecar = f"{key}.{alg}"
                    if not _s3_exists(client, self.bucket, sidecar):
                        raise Unreachable(f"s3://{self.bucket}/{key}: sidecar .{alg} missing")
                    text = client.get_object(Bucket=self.bucket, Key=sidecar)["Body"].read()
                    digest = parse_sidecar(text.decode("ascii"), f"s3://{self.bucket}/{sidecar}")[0]
                    if digest != found[alg]:
                        raise Unreachable(
                            f"s3://{self.bucket}/{key}: damaged, its {alg} is {found[alg]}, "
                            f"its sidecar says {digest}"
                        )
            except (BotoCoreError, ClientError, UnicodeDecodeError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise Unreachable(f"{self.uri}: {reason}") from None
            with _extracted(local, f"s3://{self.bucket}/{key}", bag) as view:
                yield view


def _s3_exists(client: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


# ---------------------------------------------------------------- parsing


def parse_replica(
    spec: str,
    *,
    settings: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Replica:
    """The replica ``spec`` names: ``ocfl://``, ``s3://``, ``file://``, an archive or a
    directory (pure: nothing is opened; the address is read by ``parse_location``)."""
    location = parse_location(spec, option="--from", plain_paths=True)
    if location.scheme is Scheme.S3:
        assert location.bucket is not None
        return S3Replica(
            spec,
            location.bucket,
            location.prefix,
            dict((settings or {}).get("s3", {})),
            dict(os.environ if environ is None else environ),
        )
    assert location.path is not None
    if location.scheme is Scheme.OCFL:
        return OcflReplica(spec, location.path)
    return _by_suffix(spec, location.path)


def _by_suffix(spec: str, path: Path) -> Replica:
    """An archive replica for a name with an archive suffix, else a directory replica."""
    if path.name.lower().endswith(ARCHIVE_SUFFIXES) and not path.is_dir():
        return ArchiveReplica(spec, path)
    return DirectoryReplica(spec, path)


def replica_uris(events: Sequence[tuple[str, str]]) -> list[str]:
    """The deposit targets of successful deposit events ``(target, outcome)``, newest first,
    each once (pure)."""
    seen: list[str] = []
    for target, outcome in reversed(events):
        if outcome == "success" and target and target not in seen:
            seen.append(target)
    return seen
