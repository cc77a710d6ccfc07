"""archiver.audit.run: select the bags, audit them, record the run in the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.audit.run import audit_run, ledger_home
from archiver.errors import BagReadError
from archiver.ledger.store import Ledger


def test_audits_and_records_in_the_root(collection_copy: Path) -> None:
    run = audit_run([str(collection_copy)], workers=1)
    assert run.ledger == collection_copy / ".audit-ledger.sqlite"
    assert run.report.valid and run.report.totals.bags == 5
    with Ledger.open(run.ledger, create=False) as ledger:
        assert [r.run_id for r in ledger.runs()] == [run.report.run_id]


def test_oldest_selects_from_the_ledger(collection_copy: Path) -> None:
    audit_run([str(collection_copy)], workers=1)
    again = audit_run([str(collection_copy)], workers=1, oldest=2)
    assert again.report.totals.bags == 2


def test_a_bag_as_root_keeps_its_ledger_beside_it(bag_copy: Path) -> None:
    assert ledger_home(str(bag_copy), [bag_copy]) == bag_copy.parent
    assert audit_run([str(bag_copy)], workers=1).ledger.parent == bag_copy.parent


def test_no_bags_is_an_error_and_no_ledger(tmp_path: Path) -> None:
    with pytest.raises(BagReadError, match="no bags found"):
        audit_run([str(tmp_path)])
    assert list(tmp_path.iterdir()) == []
