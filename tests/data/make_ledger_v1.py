"""Regenerate ledger-v1.sqlite: a format 1 ledger as archiver wrote it up to commit e0ae38f.

Run with that commit's package on the path (``git archive e0ae38f archiver | tar -x -C D``,
then ``PYTHONPATH=D python tests/data/make_ledger_v1.py tests/data/ledger-v1.sqlite``).
Four audit runs of two bags (seq 1-4, r0..r3) and one deposit run of two events (seq 5, d0),
the same history as the ``ledger_path`` fixture of tests/test_store.py.
"""

import sys

from archiver.model.reports import AuditReport, AuditTotals
from archiver.model.findings import BagReport, Finding, Kind
from archiver.ledger.store import Ledger, LedgerEvent

MISSING = Finding(Kind.MISSING_FILE, "/c/b", "data/gone.txt", "listed in manifest-sha256.txt")
MISMATCH = Finding(
    Kind.CHECKSUM_MISMATCH, "/c/b", "data/x.txt", "sha256 differs",
    algorithm="sha256", expected="a" * 64, found="b" * 64,
)


def report(run_id, day, bags):
    return AuditReport(
        run_id=run_id,
        started=f"2026-01-{day:02d}T01:00:00+00:00",
        ended=f"2026-01-{day:02d}T01:00:04+00:00",
        mode="full",
        roots=("/c",),
        versions={"archiver": "0.1.0", "python": "3.11.7"},
        bags=tuple(bags),
        totals=AuditTotals(
            bags=len(bags), intact=sum(b.valid for b in bags),
            failed=sum(not b.valid for b in bags), files=sum(b.files for b in bags),
            bytes=sum(b.bytes for b in bags), seconds=4.0,
        ),
    )


with Ledger.open(sys.argv[1]) as ledger:
    for i in range(4):
        ledger.record_run(report(f"r{i}", i + 1, [
            BagReport(bag="/c/a", files=2, bytes=100),
            BagReport(bag="/c/b", files=3, bytes=300, findings=(MISSING, MISMATCH)),
        ]))
    ledger.record_events(
        [
            LedgerEvent("replication", "/c/a", "2026-01-09T00:00:00+00:00", "success", "ocfl"),
            LedgerEvent("transfer", "/c/b", "2026-01-09T00:00:01+00:00", "failure", "s3"),
        ],
        run_id="d0",
        started="2026-01-09T00:00:00+00:00",
        ended="2026-01-09T00:00:02+00:00",
        versions={"archiver": "0.1.0"},
        target="ocfl:///srv/ocfl",
    )
