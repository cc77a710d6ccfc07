"""archiver.checks: the generic BagIt validator composed with archiver's policy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from archiver.bag.validator import validate_bag
from archiver.checks import archiver_checkers, check_bag
from archiver.model.findings import Kind
from archiver.workflows.validate import validate_paths


def _edit(path: Path, old: bytes, new: bytes) -> None:
    path.write_bytes(path.read_bytes().replace(old, new))


def test_a_built_bag_passes(bag_copy: Path) -> None:
    assert check_bag(bag_copy).findings == ()


def test_policy_is_applied(bag_copy: Path) -> None:
    _edit(bag_copy / "metadata/dc.json", b'"dc.title"', b'"dc.titel"')
    (bag_copy / "notes.txt").write_text("x")
    found = {(f.kind, f.path) for f in check_bag(bag_copy).errors}
    assert (Kind.INVALID_METADATA, "metadata/dc.json") in found
    assert (Kind.PROFILE_VIOLATION, "notes.txt") in found
    # the engine alone sees only what BagIt forbids
    assert {f.kind for f in validate_bag(bag_copy).errors} == {Kind.CHECKSUM_MISMATCH}


def test_metadata_checks_can_be_left_out(bag_copy: Path) -> None:
    _edit(bag_copy / "metadata/dc.json", b'"dc.title"', b'"dc.titel"')
    report = check_bag(bag_copy, checkers=archiver_checkers(metadata=False))
    assert Kind.INVALID_METADATA not in {f.kind for f in report.findings}


def test_validate_paths_goes_on_after_a_path_that_is_not_a_bag(
    bag_copy: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    run = validate_paths([tmp_path / "empty", bag_copy])
    assert [r.path for r in run.results] == [tmp_path / "empty", bag_copy]
    assert run.unusable[0].error is not None and "not a bag" in str(run.unusable[0].error)
    assert [r.valid for r in run.reports] == [True]
    assert run.status == "error"
    (bag_copy / "notes.txt").write_text("x")
    assert validate_paths([bag_copy]).status == "invalid"


def test_no_import_cycle_between_the_engine_and_the_policy() -> None:
    code = (
        "import sys, archiver.bag.validator; "
        "assert 'archiver.policy' not in sys.modules, 'the engine imports the policy'; "
        "import archiver.policy, archiver.checks"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
