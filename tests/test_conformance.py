"""The LoC BagIt conformance suite: every case classified as its directory says.

``valid`` → no errors; ``warning`` → no errors and at least one warning; ``invalid`` and
``linux-only`` → at least one error. ``windows-only`` cases (drive letters, UNC paths,
``%VAR%``, backslashes) are invalid here on every platform, by decision: see
``archiver.bag.tagfiles`` (a bag must validate the same wherever it is checked).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archiver.bag.validator import validate_bag
from archiver.model.findings import Kind

SUITE = Path(__file__).parent / "data" / "bagit-conformance-suite"
CASES = sorted(p for p in SUITE.glob("v*/*/*") if p.is_dir())


def test_suite_is_present() -> None:
    assert len(CASES) == 60


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(SUITE)) for c in CASES])
def test_case(case: Path, tmp_path: Path) -> None:
    bag = tmp_path / case.name
    shutil.copytree(case, bag, symlinks=True)
    expectation = case.parent.name
    report = validate_bag(bag)
    if expectation == "valid":
        assert report.valid, report.errors
    elif expectation == "warning":
        assert report.valid, report.errors
        assert report.warnings
    else:
        assert expectation in ("invalid", "linux-only", "windows-only")
        assert not report.valid


@pytest.mark.parametrize(
    ("case", "kind", "path"),
    [
        ("v0.97/invalid/bom-in-bagit.txt", Kind.INVALID_DECLARATION, "bagit.txt"),
        ("v0.97/invalid/missing-bagit.txt", Kind.INVALID_DECLARATION, "bagit.txt"),
        ("v0.97/invalid/missing-baginfo", Kind.MISSING_FILE, "bag-info.txt"),
        ("v0.97/invalid/corrupt-data-file", Kind.CHECKSUM_MISMATCH, "data/bare-filename"),
        ("v0.97/invalid/corrupt-data-file", Kind.OXUM_MISMATCH, "bag-info.txt"),
        ("v0.97/invalid/corrupt-tag-file", Kind.CHECKSUM_MISMATCH, "bag-info.txt"),
        ("v0.97/invalid/extra-file-in-bag", Kind.UNEXPECTED_FILE, "data/bar"),
        ("v0.97/invalid/out-of-scope-file-paths-using-dot-notation", Kind.UNSAFE_PATH,
         "../../../README.md"),
        ("v0.97/linux-only/out-of-scope-file-paths-using-shortcut-for-fetch", Kind.UNSAFE_PATH,
         "~/test.txt"),
        ("v0.97/windows-only/out-of-scope-file-paths-using-unc", Kind.UNSAFE_PATH,
         "\\\\?\\UNC\\server\\Windows\\System32\\setx.exe"),
        ("v1.0/invalid/notAllManifestsListAllFiles", Kind.UNEXPECTED_FILE,
         "data/missingFromManifest.txt"),
        ("v1.0/invalid/same-filename-listed-twice-with-the-same-hash", Kind.INVALID_MANIFEST,
         "data/README"),
    ],
)  # fmt: skip
def test_case_reports_kind_and_path(case: str, kind: Kind, path: str, tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    shutil.copytree(SUITE / case, bag)
    report = validate_bag(bag)
    assert (kind, path) in {(f.kind, f.path) for f in report.errors}, report.errors
