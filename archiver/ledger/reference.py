"""Compare a bag's tag manifests with those recorded at its last good audit (pure).

Replacing a payload file and regenerating the manifests, Payload-Oxum and tag manifests
makes a bag that passes every BagIt check. The ledger remembers the tag manifests' digests
from the bag's last good full audit; a difference is ``tag-manifest-changed``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping

from archiver.model.findings import BagReport, Finding, Kind, sort_findings
from archiver.model.records import TagManifestRecord

# What to do about a legitimate change: a catalog fix rebuilt with ``build --replace`` is
# recorded as the new reference by the build itself; any other rewrite is accepted by name.
ACCEPT_HINT = (
    "if the change was made on purpose, rebuild it with 'archiver build --replace' or "
    "accept it with 'archiver audit --accept BAG'"
)


def tag_record_findings(
    bag: str, current: Mapping[str, Mapping[str, str]], record: TagManifestRecord
) -> list[Finding]:
    """A ``tag-manifest-changed`` finding for each tag manifest that differs from the record."""
    since = f"the last good audit (run {record.run_id}, {record.checked})"
    findings: list[Finding] = []
    for name in sorted(record.digests.keys() | current.keys()):
        want, got = record.digests.get(name), current.get(name)
        if want is None:
            message = f"not present at {since}: the bag was rewritten since; {ACCEPT_HINT}"
            findings.append(Finding(Kind.TAG_MANIFEST_CHANGED, bag, name, message))
        elif got is None:
            message = f"recorded at {since} but absent now; {ACCEPT_HINT}"
            findings.append(Finding(Kind.TAG_MANIFEST_CHANGED, bag, name, message))
        else:
            for alg in sorted(want):
                if got.get(alg) != want[alg]:
                    findings.append(
                        Finding(
                            Kind.TAG_MANIFEST_CHANGED,
                            bag,
                            name,
                            f"differs from {since}: the bag was rewritten since (a payload "
                            f"replaced with regenerated manifests?); {ACCEPT_HINT}",
                            algorithm=alg,
                            expected=want[alg],
                            found=got.get(alg),
                        )
                    )
                    break
    return findings


def check_report(report: BagReport, record: TagManifestRecord | None) -> BagReport:
    """``report`` with the tag-manifest comparison added (only for full checks)."""
    if record is None or "checksums" not in report.checks:
        return report
    extra = tag_record_findings(report.bag, report.tag_manifests, record)
    if not extra:
        return report
    return dataclasses.replace(report, findings=tuple(sort_findings((*report.findings, *extra))))


def check_reports(
    reports: tuple[BagReport, ...],
    records: Mapping[str, TagManifestRecord],
    accept: Collection[str] = (),
) -> tuple[BagReport, ...]:
    """Every report checked against its record; bags in ``accept`` are taken as they are."""
    return tuple(r if r.bag in accept else check_report(r, records.get(r.bag)) for r in reports)
