"""Tests for archiver.workflows.package: validate before packaging, with archiver's policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.model.errors import OutputError
from archiver.model.findings import Kind
from archiver.workflows.package import package_bags


def test_valid_bags_are_packaged_invalid_ones_refused(bag_copy: Path, tmp_path: Path) -> None:
    other = bag_copy.parent / "other"
    other.mkdir()
    run = package_bags([bag_copy, other], tmp_path / "out", "tar", 0)
    assert [o.status for o in run.outcomes] == ["packaged", "error"]
    first = run.outcomes[0].archive
    assert first is not None and first.archive.is_file()
    (bag_copy / "notes.txt").write_text("not allowed by our profile")
    refused = package_bags([bag_copy], tmp_path / "out2", "tar", 0).outcomes[0]
    assert refused.status == "invalid" and refused.report is not None
    assert Kind.PROFILE_VIOLATION in {f.kind for f in refused.report.errors}  # policy applied
    assert list((tmp_path / "out2").iterdir()) == []  # nothing written for it


def test_unusable_output_directory(bag_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot create output directory"):
        package_bags([bag_copy], tmp_path / "file" / "out", "tar", 0)
