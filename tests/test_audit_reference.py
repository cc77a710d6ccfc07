"""Tests for archiver.ledger.reference: tag manifests against the last good audit (pure)."""

from __future__ import annotations

from archiver.ledger.reference import check_report, check_reports, tag_record_findings
from archiver.model.findings import BagReport, Kind
from archiver.model.records import TagManifestRecord

A, B = "a" * 64, "b" * 64
RECORD = TagManifestRecord(
    seq=3,
    run_id="r3",
    checked="2026-01-03T00:00:00+00:00",
    digests={"tagmanifest-sha256.txt": {"sha256": A}, "tagmanifest-sha512.txt": {"sha256": B}},
)


def _report(tags: dict[str, dict[str, str]], checks: tuple[str, ...] = ("checksums",)) -> BagReport:
    return BagReport(bag="/c/a", files=1, bytes=1, checks=checks, tag_manifests=tags)


def test_same_tag_manifests_find_nothing() -> None:
    assert tag_record_findings("/c/a", RECORD.digests, RECORD) == []


def test_changed_missing_and_new_tag_manifests_are_findings() -> None:
    current = {"tagmanifest-sha256.txt": {"sha256": B}, "tagmanifest-md5.txt": {"sha256": A}}
    findings = tag_record_findings("/c/a", current, RECORD)
    assert {(f.kind, f.path) for f in findings} == {
        (Kind.TAG_MANIFEST_CHANGED, "tagmanifest-sha256.txt"),
        (Kind.TAG_MANIFEST_CHANGED, "tagmanifest-sha512.txt"),
        (Kind.TAG_MANIFEST_CHANGED, "tagmanifest-md5.txt"),
    }
    changed = next(f for f in findings if f.path == "tagmanifest-sha256.txt")
    assert (changed.algorithm, changed.expected, changed.found) == ("sha256", A, B)
    assert "r3" in changed.message


def test_only_full_checks_are_compared_and_accepted_bags_are_not() -> None:
    changed = _report({"tagmanifest-sha256.txt": {"sha256": B}})
    assert not check_report(changed, RECORD).valid
    assert check_report(changed, None).valid  # never recorded: nothing to compare
    fast = _report({}, checks=("declaration", "oxum"))
    assert check_report(fast, RECORD).valid
    (kept,) = check_reports((changed,), {"/c/a": RECORD}, accept={"/c/a"})
    assert kept.valid
