"""Validate a serialized bag (tar, tar.gz, zip, ...): its ``.sha256``/``.sha512`` sidecars,
then the bag inside, extracted safely into a temporary directory and validated by the BagIt
engine (``archiver.bag.validator``) under the archive's own path."""

from __future__ import annotations

import mmap
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from archiver.archive.names import is_serialized
from archiver.bag.validator import MAX_TAG_BYTES, Checker, Mode, validate_bag
from archiver.model.errors import BagReadError
from archiver.model.findings import BagReport, Finding, Kind, sort_findings
from archiver.storage.fileio import hash_file


def sidecar_findings(
    bag: str, archive_name: str, sidecars: Mapping[str, tuple[str, str]], found: Mapping[str, str]
) -> list[Finding]:
    """Compare an archive's digests with its sidecars' ``(digest, file name)``; pure.

    A digest that differs is ``checksum-mismatch`` on the archive itself (path ``.``); a
    sidecar naming another file is ``invalid-manifest``.
    """
    findings: list[Finding] = []
    for alg in sorted(sidecars):
        digest, named = sidecars[alg]
        sidecar = f"{archive_name}.{alg}"
        if named != archive_name:
            message = f"{sidecar} names {named!r}, not {archive_name!r}"
            findings.append(Finding(Kind.INVALID_MANIFEST, bag, ".", message))
        if found[alg] != digest:
            findings.append(
                Finding(
                    Kind.CHECKSUM_MISMATCH,
                    bag,
                    ".",
                    f"the archive's {alg} digest differs from {sidecar}",
                    algorithm=alg,
                    expected=digest,
                    found=found[alg],
                )
            )
    return findings


def check_sidecars(archive: Path, bag: str, buffer: mmap.mmap | None = None) -> tuple[Finding, ...]:
    """Verify the ``.sha256``/``.sha512`` sidecars present beside an archive (one read)."""
    from archiver.archive.serialize import SIDECAR_ALGORITHMS, read_sidecar  # archives only

    sidecars: dict[str, tuple[str, str]] = {}
    findings: list[Finding] = []
    for alg in SIDECAR_ALGORITHMS:
        path = archive.with_name(f"{archive.name}.{alg}")
        if not path.is_file():
            continue
        try:
            sidecars[alg] = read_sidecar(path)
        except BagReadError as exc:
            findings.append(Finding(Kind.INVALID_MANIFEST, bag, ".", str(exc)))
    if sidecars:
        try:
            found, _ = hash_file(archive, sorted(sidecars), buffer)
        except OSError as exc:
            raise BagReadError(f"{archive}: cannot be read: {exc.strerror}") from exc
        findings.extend(sidecar_findings(bag, archive.name, sidecars, found))
    return tuple(findings)


def validate_serialized(
    archive: Path | str,
    *,
    mode: Mode = "full",
    name: str | None = None,
    checkers: Sequence[Checker] = (),
    buffer: mmap.mmap | None = None,
    tmp_dir: Path | None = None,
    max_tag_bytes: int = MAX_TAG_BYTES,
) -> BagReport:
    """Validate a serialized bag (tar, tar.gz, zip, ...) reported under the archive's path.

    Its sidecars are verified first (``check_sidecars``); then it is extracted safely into a
    temporary directory (in ``tmp_dir``, default ``$TMPDIR``; removed afterwards) and
    validated like a directory. An archive refused as unsafe gives an invalid report with
    its ``unsafe-path`` findings. Raises ``BagReadError`` when it cannot be read at all.
    """
    from archiver.archive.unpack import UnsafeArchiveError, open_serialized  # tarfile, zipfile

    path = Path(archive)
    bag = name if name is not None else str(archive)
    early = check_sidecars(path, bag, buffer)
    try:
        with open_serialized(path, tmp_dir=tmp_dir) as extracted:
            report = validate_bag(
                extracted,
                mode=mode,
                name=bag,
                checkers=checkers,
                buffer=buffer,
                max_tag_bytes=max_tag_bytes,
            )
    except UnsafeArchiveError as exc:
        unsafe = tuple(replace(f, bag=bag) for f in exc.findings)
        return BagReport(bag=bag, findings=tuple(sort_findings(early + unsafe)))
    if not early:
        return report
    return replace(report, findings=tuple(sort_findings(early + report.findings)))


def validate_path(
    path: Path | str,
    *,
    mode: Mode = "full",
    checkers: Sequence[Checker] = (),
    tmp_dir: Path | None = None,
    max_tag_bytes: int = MAX_TAG_BYTES,
) -> BagReport:
    """Validate a bag directory, or a serialized bag (``is_serialized``), named as given."""
    if is_serialized(Path(path)):
        return validate_serialized(
            path, mode=mode, checkers=checkers, tmp_dir=tmp_dir, max_tag_bytes=max_tag_bytes
        )
    return validate_bag(path, mode=mode, checkers=checkers, max_tag_bytes=max_tag_bytes)
