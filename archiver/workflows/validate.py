"""Validating bags (``archiver validate``): each path given, checked with BagIt and
archiver's policy (``archiver.checks``), one result per path, the run going on after a
path that is not a bag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archiver.archive.verify import validate_path
from archiver.bag.validator import MAX_TAG_BYTES, Mode
from archiver.checks import archiver_checkers
from archiver.config import timestamp_settings_for
from archiver.model.errors import BagReadError
from archiver.model.findings import BagReport
from archiver.timestamp.bags import with_token_findings


@dataclass(frozen=True, slots=True)
class PathResult:
    """One path given to ``validate_paths``: its report, or why it is not a bag
    (``BagReadError``), or the unexpected exception input no check foresaw raised."""

    path: Path
    report: BagReport | None = None
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class ValidationRun:
    """What ``archiver validate`` found, path by path, in the order given."""

    mode: Mode
    results: tuple[PathResult, ...]

    @property
    def reports(self) -> tuple[BagReport, ...]:
        """The reports of the paths that could be read as bags."""
        return tuple(r.report for r in self.results if r.report is not None)

    @property
    def unusable(self) -> tuple[PathResult, ...]:
        """The paths that could not be read as bags."""
        return tuple(r for r in self.results if r.error is not None)

    @property
    def valid(self) -> bool:
        """True when every bag read is valid."""
        return all(r.valid for r in self.reports)

    @property
    def status(self) -> str:
        """'error' if a path is not a bag, else 'valid' or 'invalid'."""
        return "error" if self.unusable else "valid" if self.valid else "invalid"


def validate_paths(
    paths: Sequence[Path],
    mode: Mode = "full",
    *,
    max_tag_bytes: int = MAX_TAG_BYTES,
    config: Path | None = None,
    now: datetime | None = None,
) -> ValidationRun:
    """Validate each bag directory or serialized bag with BagIt and archiver's policy.

    A path that cannot be read as a bag is recorded with its error, and so is one whose
    input raised an exception no check foresaw (that bag fails, the others go on); the
    others are still validated. The checkers (and their schemas) are made once for all
    the paths. Tag files over ``max_tag_bytes`` are ``oversized-tag-file``, not read.
    Every RFC 3161 token of a bag directory is verified against the ``[timestamp] ca`` of
    ``config`` (default: archive.toml here, if present) at ``now`` (default: the system
    clock), ``timestamp-invalid`` when it fails or when there is no CA to verify it with
    (``archiver.timestamp.bags``). A ``config`` that cannot be read raises ``ConfigError``
    before any bag is read.
    """
    timestamps = timestamp_settings_for(config)
    checked_at = now if now is not None else datetime.now(UTC)
    checkers = archiver_checkers()
    results: list[PathResult] = []
    for path in paths:
        try:
            report = validate_path(path, mode=mode, checkers=checkers, max_tag_bytes=max_tag_bytes)
        except BagReadError as exc:
            results.append(PathResult(path, error=exc))
            continue
        except Exception as exc:  # input no check foresaw: this bag fails, the others go on
            results.append(PathResult(path, error=exc))
            continue
        (report,) = with_token_findings([report], timestamps, checked_at)
        results.append(PathResult(path, report=report))
    return ValidationRun(mode, tuple(results))
