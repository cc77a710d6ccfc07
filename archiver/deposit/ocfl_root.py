"""Deposit to an OCFL 1.1 storage root (``ocfl:///path/to/root``) with ocfl-py.

- The root is created if missing, with the storage layout extension
  ``0003-hash-and-id-n-tuple-storage-layout`` (sha256 of the identifier, 3 tuples of 3
  characters, then an encapsulation directory named after the percent-encoded identifier):
  identifiers of any shape map to safe, evenly spread paths. It is built in a staging
  directory and renamed into place.
- One OCFL object per bag; its identifier is the bag's External-Identifier (the bag
  directory name when bag-info has none). The bag directory's whole content (tag files
  and payload) is the object's content; digest algorithm sha512.
- A changed bag becomes a new version. Versions are never rewritten: the new version
  directory and its inventory are written in a staging directory beside the root, then
  ``vN`` is renamed into the object and the root inventory and its sidecar are replaced
  last. The root inventory is the commit point: until it is replaced the object's head is
  the previous version; a leftover ``vN`` from an interrupted deposit (not referenced by
  the root inventory) is removed on the next deposit.
- An unchanged bag (no difference from the head version's state) is a no-op.
- Before a deposit into an existing object, the object is validated with ocfl-py (digests
  checked): a damaged object is refused with ``DamagedTargetError`` (exit 1) and its
  findings, and nothing is written.
- After every deposit the object is validated with ocfl-py (digests checked) and the head
  version's state is compared with the source bag's sha512 digests.
- Re-verification finds the bag's state in the head version or, failing that, in an older
  one: a bag deposited before a changed bag became a new version is ``superseded``, not
  damaged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ocfl
from ocfl.fsw import fsw_openfs
from ocfl.object_utils import next_version_directory
from ocfl.validator import Validator

from archiver import __version__
from archiver.deposit.records import (
    DamagedTargetError,
    DepositResult,
    DepositStatus,
    Target,
    Verification,
)
from archiver.deposit.source import compare_digests, file_digests
from archiver.model.errors import DepositError, OutputError
from archiver.model.findings import Finding, Kind
from archiver.storage.fileio import remove_tree, staging_dir

LAYOUT = "0003-hash-and-id-n-tuple-storage-layout"
DIGEST_ALGORITHM = "sha512"
EVENT_TYPE = "replication"
_INVENTORY = "inventory.json"


@contextlib.contextmanager
def quiet_ocfl() -> Iterator[None]:
    """Silence ocfl-py's INFO chatter for the duration of a call.

    ocfl-py logs progress on the root logger, and its dependency pairtree calls
    ``logging.basicConfig(level=INFO)`` when imported, so without this every deposit
    would print "INFO:root:..." lines on stderr.
    """
    root = logging.getLogger()
    previous = root.level
    root.setLevel(max(previous, logging.WARNING))
    try:
        yield
    finally:
        root.setLevel(previous)


def open_root(root: Path) -> ocfl.StorageRoot:
    """Open the OCFL storage root at ``root``, creating it (atomically) if missing."""
    if not root.exists():
        try:
            root.parent.mkdir(parents=True, exist_ok=True)
            with staging_dir(root) as stage:
                fresh = stage / root.name
                ocfl.StorageRoot(root=str(fresh), layout_name=LAYOUT).initialize()
                os.rename(fresh, root)
        except (OSError, ocfl.StorageRootException) as exc:
            raise OutputError(f"{root}: cannot create OCFL storage root ({exc})") from exc
    store = ocfl.StorageRoot(root=str(root))
    try:
        store.open_root_fs()
        store.check_root_structure()
    except (ocfl.StorageRootException, FileNotFoundError) as exc:
        raise DepositError(f"{root}: not a usable OCFL storage root ({exc})") from exc
    if store.layout is None:
        raise DepositError(f"{root}: OCFL storage root declares no storage layout")
    return store


@quiet_ocfl()
def object_dir(root: Path, identifier: str) -> Path:
    """Where the object for ``identifier`` lives under the root, per its layout."""
    store = open_root(root)
    return root / str(store.object_path(identifier))


def _metadata(now: datetime, bag: Path, status: str) -> ocfl.VersionMetadata:
    created = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ocfl.VersionMetadata(
        created=created,
        message=f"archiver {__version__} deposit ({status}) of bag {bag.resolve().name}",
        name="archiver",
        address="https://archiver.example.org/",
    )


def _head(obj_path: Path) -> str:
    data: dict[str, Any] = json.loads((obj_path / _INVENTORY).read_text(encoding="utf-8"))
    return str(data["head"])


def _remove_uncommitted(obj_path: Path) -> None:
    """Delete a version directory newer than the root inventory's head (a crash leftover).

    The name of the version after the head (``v3`` after ``v2``, ``v0010`` after
    ``v0009``) is ocfl-py's own public ``next_version_directory``.
    """
    leftover = obj_path / next_version_directory(_head(obj_path))
    if leftover.is_dir():
        remove_tree(leftover)


@quiet_ocfl()
def deposit_ocfl(bag: Path, target: Target, identifier: str, now: datetime) -> DepositResult:
    """Add the bag as an OCFL object (first version) or a new version of its object."""
    assert target.path is not None
    root = target.path
    obj_path = object_dir(root, identifier)
    if (obj_path / _INVENTORY).is_file():
        with contextlib.suppress(OSError, ValueError, KeyError, ocfl.ObjectException):
            _remove_uncommitted(obj_path)  # a crash leftover is not part of the object
        damage = _object_damage(bag.resolve().name, obj_path)
        if damage:  # never add a version to (or call unchanged) a damaged object
            raise DamagedTargetError(
                f"{obj_path}: not deposited, the OCFL object is damaged: {damage[0].message}",
                tuple(damage),
            )
    try:
        if not (obj_path / _INVENTORY).is_file():
            status, version = _create(bag, root, obj_path, identifier, now)
        else:
            status, version = _add_version(bag, root, obj_path, identifier, now)
    except (ocfl.ObjectException, ocfl.NewVersionException, OSError) as exc:
        raise DepositError(f"{obj_path}: OCFL deposit of {identifier} failed ({exc})") from exc
    except RecursionError:  # ocfl-py (os.makedirs) recurses once per missing directory level
        raise DepositError(
            f"{obj_path}: OCFL deposit of {identifier} failed: the payload is nested too "
            "deeply for ocfl-py (nothing committed; file:// and s3:// handle any depth)"
        ) from None
    findings = [] if status is DepositStatus.UNCHANGED else verify_object(bag, obj_path, identifier)
    if findings:
        raise DepositError(f"{obj_path}: deposit did not verify: {findings[0].message}")
    return DepositResult(
        bag=str(bag),
        identifier=identifier,
        target=target.uri,
        location=f"{obj_path.resolve().as_uri()}#{version}",
        status=status,
        event_type=EVENT_TYPE,
        time=now,
        version=version,
        digests={},
        detail=f"OCFL object {identifier} {version} in storage root {root}",
    )


def _create(
    bag: Path, root: Path, obj_path: Path, identifier: str, now: datetime
) -> tuple[DepositStatus, str]:
    if obj_path.exists():  # objects appear by rename, complete: this is not one of ours
        raise DepositError(f"{obj_path}: exists but holds no OCFL inventory, refusing")
    with staging_dir(root) as stage:
        built = stage / "object"
        obj = ocfl.Object(identifier=identifier, digest_algorithm=DIGEST_ALGORITHM)
        obj.create(srcdir=str(bag), metadata=_metadata(now, bag, "first"), objdir=str(built))
        obj_path.parent.mkdir(parents=True, exist_ok=True)
        os.rename(built, obj_path)
    return DepositStatus.DEPOSITED, "v1"


def _add_version(
    bag: Path, root: Path, obj_path: Path, identifier: str, now: datetime
) -> tuple[DepositStatus, str]:
    _remove_uncommitted(obj_path)
    obj = ocfl.Object(identifier=identifier)
    new = obj.start_new_version(
        objdir=str(obj_path),
        srcdir=str(bag),
        metadata=_metadata(now, bag, "changed"),
        carry_content_forward=False,
    )
    if new.inventory.id != identifier:
        raise DepositError(f"{obj_path}: holds object {new.inventory.id!r}, not {identifier!r}")
    new.add_from_srcdir()
    if not new.diff_with_previous():
        return DepositStatus.UNCHANGED, _head(obj_path)
    inventory = new.inventory
    head = str(inventory.head)
    with staging_dir(root) as stage:
        staged = ocfl.Object(
            identifier=identifier,
            digest_algorithm=inventory.digest_algorithm,
            obj_fs=fsw_openfs(str(stage)),
        )
        for src, dst in sorted(new.files_to_copy.items()):
            staged.copy_into_object(new.src_fs, src, dst, create_dirs=True)
        staged.write_inventory_and_sidecar(inventory, head)
        staged.write_inventory_and_sidecar(inventory)
        sidecar = f"{_INVENTORY}.{inventory.digest_algorithm}"
        os.rename(stage / head, obj_path / head)
        os.replace(stage / _INVENTORY, obj_path / _INVENTORY)  # commit point
        os.replace(stage / sidecar, obj_path / sidecar)
    return DepositStatus.NEW_VERSION, head


def _object_damage(name: str, obj_path: Path) -> list[Finding]:
    """Validate the object with ocfl-py (digests checked); one finding if it is invalid."""
    validator = Validator(check_digests=True, log_warnings=False)
    if validator.validate_object(str(obj_path)):
        return []
    first = " ".join(validator.status_str().strip().splitlines()[0].split())
    return [
        Finding(
            kind=Kind.CHECKSUM_MISMATCH,
            bag=name,
            path=str(obj_path),
            message=f"OCFL object invalid: {first}",
        )
    ]


def _state(inventory: Any, vdir: str) -> dict[str, str]:
    """A version's state as logical path → digest."""
    state: dict[str, list[str]] = inventory.version(vdir).state
    return {path: digest for digest, paths in state.items() for path in paths}


def _check(bag: Path, obj_path: Path, identifier: str, *, older: bool) -> Verification:
    """Validate the object, then find the bag's state in the head version, or (``older``)
    in an earlier one."""
    name = bag.resolve().name
    if not (obj_path / _INVENTORY).is_file():
        missing = Finding(
            kind=Kind.MISSING_FILE,
            bag=name,
            path=str(obj_path),
            message=f"no OCFL object for {identifier}",
        )
        return Verification(findings=(missing,))
    damage = _object_damage(name, obj_path)
    if damage:
        return Verification(findings=tuple(damage))
    inventory = ocfl.Object(path=str(obj_path)).parse_inventory()
    algorithm = str(inventory.digest_algorithm)
    source = file_digests(bag, algorithm)
    head = str(inventory.head)
    where = f"OCFL object {identifier}"
    findings = compare_digests(name, source, _state(inventory, head), algorithm, where)
    if not findings or not older:
        return Verification(findings=tuple(findings))
    for vdir in reversed(inventory.version_directories):
        if vdir != head and not compare_digests(
            name, source, _state(inventory, vdir), algorithm, where
        ):
            return Verification(superseded=f"held as {vdir}, head is {head}")
    return Verification(findings=tuple(findings))


@quiet_ocfl()
def verify_object(bag: Path, obj_path: Path, identifier: str) -> list[Finding]:
    """Validate the object with ocfl-py and compare its head state with the bag's files."""
    return list(_check(bag, obj_path, identifier, older=False).findings)


@quiet_ocfl()
def verify_ocfl(bag: Path, target: Target, identifier: str) -> Verification:
    """Re-verify the object holding ``bag`` in the storage root.

    A bag whose state is an older version of an intact object (a changed bag was deposited
    since) is ``superseded``, not damaged; a state found in no version is a mismatch.
    """
    assert target.path is not None
    return _check(bag, object_dir(target.path, identifier), identifier, older=True)


@quiet_ocfl()
def validate_root(root: Path) -> tuple[bool, list[str]]:
    """Validate the whole storage root with ocfl-py (digests checked): (valid, messages)."""
    store = ocfl.StorageRoot(root=str(root))
    valid = bool(store.validate(validate_objects=True, check_digests=True, log_warnings=False))
    messages = [f"{path}: {msg}" for path, msg in store.errors]
    return valid and store.good_objects == store.num_objects, messages
