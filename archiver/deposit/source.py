"""Facts about the local bag being deposited: identifier, fingerprint, validity, digests.

The fingerprint is the SHA-256 of the bag's tag manifests (names and bytes, sorted). In a
valid bag the tag manifests fix every other file (the manifests fix the payload, the tag
manifests fix the manifests and bag-info.txt), so equal fingerprints mean an unchanged bag
without re-hashing the payload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from archiver.bag.validator import MAX_TAG_BYTES
from archiver.checks import check_bag
from archiver.model.errors import BagReadError, IntegrityError
from archiver.model.findings import BagReport, Finding, Kind
from archiver.storage.fileio import hash_file, read_bounded, walk_tree


class InvalidBagError(IntegrityError):
    """The bag failed validation, so it was not deposited; ``report`` has the findings."""

    def __init__(self, report: BagReport) -> None:
        first = report.errors[0] if report.errors else None
        where = f": {first.path}: {first.message}" if first else ""
        super().__init__(
            f"{report.bag}: not deposited, {len(report.errors)} validation error(s){where}"
        )
        self.report = report


def require_bag(bag: Path) -> None:
    """Raise BagReadError unless ``bag`` is a directory holding bagit.txt."""
    if not bag.is_dir():
        raise BagReadError(f"{bag}: no such bag directory")
    if not (bag / "bagit.txt").is_file():
        raise BagReadError(f"{bag}: no bagit.txt, not a bag")


def fingerprint(bag: Path) -> str:
    """SHA-256 over the bag's tag manifests (names and bytes, sorted by name)."""
    manifests = sorted(bag.glob("tagmanifest-*.txt")) or sorted(bag.glob("manifest-*.txt"))
    if not manifests:
        raise BagReadError(f"{bag}: no manifest or tag manifest to fingerprint")
    h = hashlib.sha256()
    for path in manifests:
        try:
            data = read_bounded(path, MAX_TAG_BYTES)
        except OSError as exc:
            raise BagReadError(f"{path}: cannot read ({exc.strerror})") from exc
        h.update(f"{path.name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def file_digests(bag: Path, algorithm: str = "sha512") -> dict[str, str]:
    """Every file in the bag, '/'-separated relative path → hex digest."""
    result: dict[str, str] = {}
    for rel, entry in walk_tree(bag):
        if entry.is_file(follow_symlinks=False):
            digests, _ = hash_file(Path(entry.path), [algorithm])
            result[rel] = digests[algorithm]
    return dict(sorted(result.items()))


def validate(bag: Path) -> BagReport:
    """Validate the bag fully (every checksum, our profile and metadata records)."""
    require_bag(bag)
    return check_bag(bag, mode="full")


def require_valid(bag: Path) -> BagReport:
    """Validate the bag; raise InvalidBagError (exit 1) with the findings if it is invalid."""
    report = validate(bag)
    if not report.valid:
        raise InvalidBagError(report)
    return report


def compare_digests(
    bag: str, expected: Mapping[str, str], found: Mapping[str, str], algorithm: str, where: str
) -> list[Finding]:
    """Findings for files whose digest at the target differs from the source, or is absent."""
    findings: list[Finding] = []
    for path in sorted(expected.keys() | found.keys()):
        want, got = expected.get(path), found.get(path)
        if want == got:
            continue
        if got is None:
            findings.append(
                Finding(kind=Kind.MISSING_FILE, bag=bag, path=path, message=f"absent in {where}")
            )
        elif want is None:
            findings.append(
                Finding(kind=Kind.UNEXPECTED_FILE, bag=bag, path=path, message=f"extra in {where}")
            )
        else:
            findings.append(
                Finding(
                    kind=Kind.CHECKSUM_MISMATCH,
                    bag=bag,
                    path=path,
                    message=f"{where} differs from the source",
                    algorithm=algorithm,
                    expected=want,
                    found=got,
                )
            )
    return findings
