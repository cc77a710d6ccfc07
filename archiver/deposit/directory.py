"""Deposit to a plain directory (``file:///path``): a verified copy of the bag.

The bag is copied into a staging directory beside the destination, the copy is validated
(full fixity) and compared with the source, and only then renamed to ``<dir>/<bag name>``.
A changed bag replaces the old copy by a rename swap (the old copy is moved into the
staging directory and deleted), so at no moment does an unverified copy sit at the final
path. An unchanged bag (same fingerprint) is left alone once the copy there is verified (full
fixity): a damaged copy stops the deposit with ``DamagedTargetError`` (exit 1), as in an
OCFL root.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from archiver.deposit.records import DamagedTargetError, DepositResult, DepositStatus, Target
from archiver.deposit.source import fingerprint, validate
from archiver.model.errors import ConflictError, DepositError, OutputError
from archiver.model.findings import Finding, Kind
from archiver.storage.fileio import copy_tree, fsync_dir, fsync_tree, staging_dir

EVENT_TYPE = "replication"


def _copy_path(target: Target, bag: Path) -> Path:
    assert target.path is not None
    return target.path / bag.resolve().name


def deposit_directory(bag: Path, target: Target, identifier: str, now: datetime) -> DepositResult:
    """Copy a (validated) bag into the target directory and verify the copy."""
    assert target.path is not None
    dest = _copy_path(target, bag)
    source_print = fingerprint(bag)
    status = DepositStatus.DEPOSITED
    if dest.exists() or dest.is_symlink():
        if dest.is_symlink() or not (dest / "bagit.txt").is_file():
            raise ConflictError(f"{dest}: exists and is not a bag copy, refusing to replace it")
        if fingerprint(dest) == source_print:
            # Same tag manifests, but is the payload still intact? Verify, as OCFL does.
            damage = verify_copy(bag, dest, source_print)
            if damage:
                raise DamagedTargetError(
                    f"{dest}: not deposited, the copy at the target is damaged: "
                    f"{damage[0].path}: {damage[0].message}",
                    tuple(damage),
                )
            return _result(
                bag, target, identifier, now, dest, DepositStatus.UNCHANGED, source_print
            )
        status = DepositStatus.UPDATED
    try:
        target.path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{target.path}: cannot create deposit directory ({exc})") from exc
    with staging_dir(dest) as stage:
        copy = stage / dest.name
        try:
            copy_tree(bag, copy)
        except OSError as exc:
            raise DepositError(f"{dest}: copy failed ({exc})") from exc
        findings = verify_copy(bag, copy, source_print)
        if findings:
            raise DepositError(f"{dest}: copy did not verify: {findings[0].message}")
        try:  # the copy is on disk before it is renamed into place, and the rename too
            fsync_tree(copy)
            fsync_dir(dest.parent)
        except OSError as exc:
            raise DepositError(f"{dest}: cannot flush the copy to disk ({exc})") from exc
        if status is DepositStatus.UPDATED:
            os.rename(dest, stage / f"{dest.name}.old")
        os.rename(copy, dest)
    try:
        fsync_dir(dest.parent)
    except OSError as exc:
        raise DepositError(f"{dest}: cannot flush the rename to disk ({exc})") from exc
    return _result(bag, target, identifier, now, dest, status, source_print)


def verify_copy(bag: Path, copy: Path, source_print: str | None = None) -> list[Finding]:
    """Validate the copy (full fixity) and check it holds the same bag as the source."""
    if not copy.is_dir():
        return [Finding(kind=Kind.MISSING_FILE, bag=bag.name, path=str(copy), message="no copy")]
    report = validate(copy)
    findings = list(report.errors)
    expected = source_print or fingerprint(bag)
    found = fingerprint(copy) if (copy / "bagit.txt").is_file() else ""
    if found != expected:
        findings.append(
            Finding(
                kind=Kind.CHECKSUM_MISMATCH,
                bag=bag.resolve().name,
                path=str(copy),
                message="the copy's tag manifests differ from the source's",
                algorithm="sha256",
                expected=expected,
                found=found,
            )
        )
    return findings


def verify_directory(bag: Path, target: Target) -> list[Finding]:
    """Re-verify the copy of ``bag`` at the target."""
    return verify_copy(bag, _copy_path(target, bag))


def _result(
    bag: Path,
    target: Target,
    identifier: str,
    now: datetime,
    dest: Path,
    status: DepositStatus,
    source_print: str,
) -> DepositResult:
    return DepositResult(
        bag=str(bag),
        identifier=identifier,
        target=target.uri,
        location=dest.resolve().as_uri(),
        status=status,
        event_type=EVENT_TYPE,
        time=now,
        digests={"bag-fingerprint-sha256": source_print},
        detail=f"bag copied to {dest} and validated",
    )
