"""The ``archiver package`` workflow: validate each bag, then serialize it.

A bag is fully validated first (BagIt and archiver's policy, ``archiver.checks``); an
invalid bag is refused and nothing is written for it, since fresh sidecars would vouch
for the damage. Temporary archives that a killed run left in the output directory
(``.<archive>.<pid>.….tmp`` whose process is gone) are removed first and reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archiver.archive.serialize import SerializedBag, serialize_bag
from archiver.checks import archiver_checkers, check_bag
from archiver.model.errors import ArchiverError, OutputError
from archiver.model.findings import BagReport
from archiver.model.reports import ProgressCallback
from archiver.storage.fileio import check_output_path, remove_stale


@dataclass(frozen=True, slots=True)
class PackageOutcome:
    """One bag: the archive written, or the report that refused it, or the error."""

    bag: Path
    archive: SerializedBag | None = None
    report: BagReport | None = None
    error: Exception | None = None  # ArchiverError, or what input no check foresaw raised

    @property
    def status(self) -> str:
        """'packaged', 'invalid' (refused: its report has the findings) or 'error'."""
        if self.archive is not None:
            return "packaged"
        return "error" if self.error is not None else "invalid"


@dataclass(frozen=True, slots=True)
class PackageRun:
    """The outcomes of one packaging run, in the order the bags were given."""

    outcomes: tuple[PackageOutcome, ...]
    stale_removed: tuple[Path, ...] = ()


def package_bags(
    bags: Sequence[Path],
    out_dir: Path,
    fmt: str,
    mtime: int,
    *,
    progress: ProgressCallback | None = None,
) -> PackageRun:
    """Validate and serialize each bag into ``out_dir`` (created if missing); ``progress``
    hears (bags done, bags) after each bag.

    Raises OutputError, before anything is written, when ``out_dir`` is inside a bag (one
    of ``bags`` or any directory holding a bagit.txt) or cannot be created; a bag that
    cannot be read or written, or whose input raised an exception no check foresaw, is an
    ``error`` outcome and the others are still packaged.
    """
    check_output_path(out_dir, bags, what="package", directory=True)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create output directory ({exc.strerror})") from exc
    stale = tuple(remove_stale(out_dir, "tmp"))
    checkers = archiver_checkers()  # schemas compiled once for all the bags
    outcomes: list[PackageOutcome] = []
    if progress is not None:
        progress(0, len(bags))
    for bag in bags:
        try:
            report = check_bag(bag, mode="full", checkers=checkers)
            if not report.valid:
                outcomes.append(PackageOutcome(bag, report=report))
                continue
            outcomes.append(PackageOutcome(bag, archive=serialize_bag(bag, out_dir, fmt, mtime)))
        except ArchiverError as exc:
            outcomes.append(PackageOutcome(bag, error=exc))
        except Exception as exc:  # input no check foresaw: this bag fails, the others go on
            outcomes.append(PackageOutcome(bag, error=exc))
        finally:
            if progress is not None:
                progress(len(outcomes), len(bags))
    return PackageRun(tuple(outcomes), stale)
