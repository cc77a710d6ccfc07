"""Deposit bags to a target and verify them there: OCFL root, S3 store, plain directory.

``deposit_bag`` validates the bag first (an invalid bag is refused with its findings),
dispatches on the target's scheme, and returns a verified ``DepositResult``;
``verify_deposit`` re-checks what a target holds for a bag. Backends, one per module:
``ocfl_root`` (``ocfl://``), ``s3`` (``s3://``), ``directory`` (``file://``). The ledger
events of a deposit: ``archiver.deposit.events``; a run over several bags, recorded in the
ledger: ``archiver.workflows.deposit``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver.archive.serialize import archive_mtime
from archiver.bag.identity import bag_identifier
from archiver.deposit.records import (
    DamagedTargetError,
    DepositResult,
    DepositStatus,
    Target,
    Verification,
    VerifyStatus,
    parse_target,
)
from archiver.deposit.source import InvalidBagError, require_bag, require_valid
from archiver.storage.fileio import bag_lock

__all__ = [
    "DamagedTargetError",
    "DepositResult",
    "DepositStatus",
    "InvalidBagError",
    "Target",
    "Verification",
    "VerifyStatus",
    "deposit_bag",
    "parse_target",
    "verify_deposit",
]


def deposit_bag(
    bag: Path,
    target: Target,
    *,
    now: datetime,
    environ: Mapping[str, str],
    settings: Mapping[str, Any],
) -> DepositResult:
    """Validate ``bag``, deposit it at ``target`` and verify it there.

    ``settings`` is archive.toml's ``[deposit]`` table; ``environ`` supplies AWS_* and
    SOURCE_DATE_EPOCH. Raises InvalidBagError (exit 1) for an invalid bag,
    DamagedTargetError (exit 1) when the copy already at the target is damaged,
    DepositError when the target is unusable or the transfer does not verify.
    """
    require_bag(bag)
    with bag_lock(bag, "depositing it"):
        return _deposit_locked(bag, target, now=now, environ=environ, settings=settings)


def _deposit_locked(
    bag: Path,
    target: Target,
    *,
    now: datetime,
    environ: Mapping[str, str],
    settings: Mapping[str, Any],
) -> DepositResult:
    require_valid(bag)
    identifier, from_info = bag_identifier(bag)
    # Backends are imported on use: boto3 and ocfl-py are slow to import and only one is needed.
    if target.scheme == "ocfl":
        from archiver.deposit.ocfl_root import deposit_ocfl

        result = deposit_ocfl(bag, target, identifier, now)
    elif target.scheme == "s3":
        from archiver.deposit.s3 import deposit_s3, s3_settings

        config = s3_settings(environ, settings.get("s3", {}))
        result = deposit_s3(bag, target, identifier, now, config, archive_mtime(environ))
    else:
        from archiver.deposit.directory import deposit_directory

        result = deposit_directory(bag, target, identifier, now)
    return dataclasses.replace(result, identifier_from_bag_info=from_info)


def verify_deposit(
    bag: Path, target: Target, *, environ: Mapping[str, str], settings: Mapping[str, Any]
) -> Verification:
    """Re-verify what ``target`` holds for ``bag``: its findings (none: intact), or, in an
    OCFL root, that the bag is an older version of an intact object (``superseded``)."""
    require_bag(bag)
    identifier, _ = bag_identifier(bag)
    if target.scheme == "ocfl":
        from archiver.deposit.ocfl_root import verify_ocfl

        return verify_ocfl(bag, target, identifier)
    if target.scheme == "s3":
        from archiver.deposit.s3 import s3_settings, verify_s3

        config = s3_settings(environ, settings.get("s3", {}))
        return Verification(findings=tuple(verify_s3(bag, target, config)))
    from archiver.deposit.directory import verify_directory

    return Verification(findings=tuple(verify_directory(bag, target)))
