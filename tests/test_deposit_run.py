"""archiver.workflows.deposit: deposit or re-verify bags and record which events happened."""

from __future__ import annotations

from pathlib import Path

from archiver.deposit import parse_target
from archiver.ledger.store import Ledger
from archiver.model.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE
from archiver.workflows.deposit import deposit as deposit_run


def test_deposit_then_unchanged_then_verify(bag_copy: Path, tmp_path: Path) -> None:
    target = parse_target((tmp_path / "copies").as_uri())
    ledger = tmp_path / "ledger.sqlite"
    first = deposit_run([bag_copy], target, settings={}, ledger_path=ledger)
    assert first.status == EXIT_OK and [r["status"] for r in first.rows] == ["deposited"]
    assert [e.event_type for e in first.events] == ["replication"]
    again = deposit_run([bag_copy], target, settings={}, ledger_path=ledger)
    assert [r["status"] for r in again.rows] == ["unchanged"] and again.events == []
    checked = deposit_run([bag_copy], target, settings={}, ledger_path=ledger, verify=True)
    assert [e.event_type for e in checked.events] == ["fixity check"]
    with Ledger.open(ledger, create=False) as opened:
        assert [e.event.event_type for e in opened.events()] == ["replication", "fixity check"]


def test_invalid_and_unreadable_bags(bag_copy: Path, tmp_path: Path) -> None:
    target = parse_target((tmp_path / "copies").as_uri())
    (bag_copy / "notes.txt").write_text("not allowed by our profile")
    run = deposit_run([bag_copy], target, settings={}, ledger_path=tmp_path / "l.sqlite")
    assert run.status == EXIT_INTEGRITY and run.rows[0]["status"] == "invalid"
    assert run.events == [] and not (tmp_path / "copies").exists()
    missing = tmp_path / "missing"
    run = deposit_run([missing], target, settings={}, ledger_path=tmp_path / "l.sqlite")
    assert run.status == EXIT_UNUSABLE and run.errors and run.rows[0]["status"] == "error"
