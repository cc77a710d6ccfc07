"""Archiver's checks of a bag: the generic BagIt validator composed with archiver's policy.

``archiver.bag.validator`` knows BagIt and nothing of archiver; ``archiver.policy`` knows
our profile and metadata records. This module puts them together, one level up, for the
commands that check bags: ``validate`` (``archiver.workflows.validate``), ``package``
(validate before packaging), ``deposit`` (``archiver.deposit.source``) and ``audit``
(whose workers build the same checkers with ``archiver_checkers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from archiver.bag.validator import MAX_TAG_BYTES, Checker, Mode, validate_bag
from archiver.model.findings import BagReport
from archiver.policy import default_checkers


def archiver_checkers(*, metadata: bool = True) -> list[Checker]:
    """Our profile check and, unless ``metadata`` is False, the metadata records' schema
    checks; both apply to bags that declare our profile (schemas compiled once)."""
    return default_checkers(metadata=metadata)


def check_bag(
    path: Path | str,
    *,
    mode: Mode = "full",
    checkers: Sequence[Checker] | None = None,
    max_tag_bytes: int = MAX_TAG_BYTES,
) -> BagReport:
    """Validate a bag directory with BagIt and archiver's policy (``archiver_checkers``
    unless ``checkers`` are given); raises ``BagReadError`` if it is not a bag."""
    chosen = archiver_checkers() if checkers is None else checkers
    return validate_bag(path, mode=mode, checkers=chosen, max_tag_bytes=max_tag_bytes)
