"""pyproject's dependency bounds: the ones set so that a fresh install resolves fast stay
in step with the versions constraints.txt tests."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _requirement(requirements: list[str], name: str) -> Requirement:
    (found,) = [r for r in map(Requirement, requirements) if canonicalize_name(r.name) == name]
    return found


def _upper(requirement: Requirement) -> Version:
    (bound,) = [Version(s.version) for s in requirement.specifier if s.operator == "<"]
    return bound


def test_the_boto3_cap_is_the_botocore_pin_of_the_tested_aiobotocore() -> None:
    """boto3 N needs botocore >= N; s3fs's aiobotocore caps botocore: archiver caps boto3
    at that same version (so pip does not backtrack through newer boto3 releases), and the
    cap moves with the aiobotocore of constraints.txt."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    boto3 = _requirement(project["dependencies"], "boto3")
    pinned = {
        canonicalize_name(name): Version(version)
        for name, _, version in (
            line.partition("==")
            for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
            if "==" in line and not line.startswith("#")
        )
    }
    assert metadata.version("aiobotocore") == str(pinned["aiobotocore"])  # the tested one
    botocore = _requirement(metadata.requires("aiobotocore") or [], "botocore")
    assert _upper(boto3) == _upper(botocore)
    assert pinned["boto3"] in boto3.specifier and pinned["botocore"] in botocore.specifier
