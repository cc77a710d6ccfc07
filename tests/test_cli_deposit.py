"""Tests for `archiver deposit` (archiver.cli.deposit): exit codes, output, ledger, PREMIS."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import bagit
import pytest
from lxml import etree

import archiver.cli
import archiver.workflows.deposit as deposit_run_module
from archiver.cli import main
from archiver.deposit import ocfl_root
from archiver.ledger.store import Ledger, default_ledger_path

PREMIS = "{http://www.loc.gov/premis/v3}"


@pytest.fixture(autouse=True)
def setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    modules = ("archiver.cli.deposit", "archiver.cli.ledger")
    monkeypatch.setattr(archiver.cli, "COMMAND_MODULES", modules)
    monkeypatch.chdir(tmp_path)  # no archive.toml here: deposit settings default to {}


def make_bag(root: Path, name: str = "statement-1") -> Path:
    bag_dir = root / name
    bag_dir.mkdir(parents=True)
    (bag_dir / "text.txt").write_text("a statement\n", encoding="utf-8")
    bagit.make_bag(str(bag_dir), {"External-Identifier": f"urn:test:{name}"}, checksums=["sha512"])
    return bag_dir


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deposit", "--help"]) == 0
    out = capsys.readouterr().out
    assert "ocfl://" in out and "s3://" in out and "file://" in out


def test_ocfl_deposit_unchanged_ledger_and_premis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bags = [make_bag(tmp_path / "bags", n) for n in ("one", "two")]
    uri = f"ocfl://{tmp_path}/ocfl-root"
    assert main(["deposit", *map(str, bags), "--to", uri]) == 0
    out = capsys.readouterr().out
    assert out.count("deposited") >= 2
    assert main(["deposit", *map(str, bags), "--to", uri, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [b["status"] for b in report["bags"]] == ["unchanged", "unchanged"]

    ledger_path = default_ledger_path([tmp_path / "bags"])
    with Ledger.open(ledger_path, create=False) as ledger:
        events = ledger.events()
        assert [e.event.event_type for e in events] == ["replication", "replication"]
        assert {e.event.target for e in events} == {uri}
        assert all(e.event.outcome == "success" for e in events)
        assert ledger.verify() == []

    premis_file = tmp_path / "one.premis.xml"
    argv = [
        "ledger",
        "premis",
        str(bags[0]),
        "--ledger",
        str(ledger_path),
        "--out",
        str(premis_file),
    ]
    assert main(argv) == 0
    doc = etree.parse(str(premis_file))
    types = [e.text for e in doc.iter(f"{PREMIS}eventType")]
    assert types == ["replication"]
    details = " ".join(e.text or "" for e in doc.iter(f"{PREMIS}eventDetail"))
    assert uri in details


def test_invalid_bag_exit_1_with_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = make_bag(tmp_path / "bags")
    (bag / "data" / "text.txt").write_text("a statemenX\n", encoding="utf-8")
    target = tmp_path / "copies"
    assert main(["deposit", str(bag), "--to", target.as_uri()]) == 1
    out = capsys.readouterr().out
    assert "checksum-mismatch" in out and "data/text.txt" in out and "invalid" in out
    assert not target.exists()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ftp://host/x", "unsupported scheme 'ftp'"),
        ("/plain/path", "unsupported scheme '(none)'"),
        ("s3:///prefix", "no bucket"),
        ("ocfl://host/x", "host 'host' not supported"),
        ("file://", "no directory"),
    ],
)
def test_bad_uri_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], uri: str, message: str
) -> None:
    bag = make_bag(tmp_path / "bags")
    assert main(["deposit", str(bag), "--to", uri]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_bag_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deposit", str(tmp_path / "nope"), "--to", (tmp_path / "c").as_uri()]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "no such bag" in err and err.count("\n") == 1


def test_unreachable_endpoint_exit_2_and_failure_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    bag = make_bag(tmp_path / "bags")
    assert main(["deposit", str(bag), "--to", "s3://bucket/p"]) == 2
    err = capsys.readouterr().err
    assert "Could not connect" in err and err.count("\n") == 1
    with Ledger.open(default_ledger_path([tmp_path / "bags"]), create=False) as ledger:
        (event,) = ledger.events()
    assert (event.event.event_type, event.event.outcome) == ("transfer", "failure")


def test_verify_detects_damage_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bag = make_bag(tmp_path / "bags")
    target = (tmp_path / "copies").as_uri()
    assert main(["deposit", str(bag), "--to", target]) == 0
    assert main(["deposit", str(bag), "--to", target, "--verify"]) == 0
    (tmp_path / "copies" / "statement-1" / "data" / "text.txt").write_text("a statemenX\n")
    capsys.readouterr()
    assert main(["deposit", str(bag), "--to", target, "--verify"]) == 1
    assert "checksum-mismatch" in capsys.readouterr().out
    with Ledger.open(default_ledger_path([tmp_path / "bags"]), create=False) as ledger:
        kinds = [(e.event.event_type, e.event.outcome) for e in ledger.events()]
    assert kinds == [
        ("replication", "success"),
        ("fixity check", "success"),
        ("fixity check", "failure"),
    ]


@pytest.mark.parametrize("verify", [False, True], ids=["invalid-bag", "verify-damaged"])
def test_json_with_problems_is_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], verify: bool
) -> None:
    """With --json, stdout holds the JSON document alone: no problem table before it."""
    bag = make_bag(tmp_path / "bags")
    target = (tmp_path / "copies").as_uri()
    if verify:
        assert main(["deposit", str(bag), "--to", target]) == 0
        (tmp_path / "copies" / "statement-1" / "data" / "text.txt").write_text("a statemenX\n")
    else:
        (bag / "data" / "text.txt").write_text("a statemenX\n", encoding="utf-8")
    capsys.readouterr()
    argv = ["deposit", str(bag), "--to", target, "--json"] + (["--verify"] if verify else [])
    assert main(argv) == 1
    document = json.loads(capsys.readouterr().out)
    (row,) = document["bags"]
    assert row["status"] == ("damaged" if verify else "invalid")
    assert "checksum-mismatch" in {p["kind"] for p in row["problems"]}


def test_verify_older_ocfl_version_is_superseded_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = make_bag(tmp_path / "bags")
    old = shutil.copytree(bag, tmp_path / "old" / bag.name)
    uri = f"ocfl://{tmp_path}/root"
    assert main(["deposit", str(bag), "--to", uri]) == 0
    (bag / "data" / "more.txt").write_text("more\n")
    bagit.Bag(str(bag)).save(manifests=True)
    assert main(["deposit", str(bag), "--to", uri]) == 0
    capsys.readouterr()
    assert main(["deposit", str(old), "--to", uri, "--verify", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["bags"]
    assert (row["status"], row["detail"], row["problems"]) == (
        "superseded",
        "held as v1, head is v2",
        [],
    )
    assert main(["deposit", str(old), "--to", uri, "--verify"]) == 0
    out = capsys.readouterr().out
    assert "superseded" in out and "held as v1, head is v2" in out
    assert "checksum-mismatch" not in out


def test_deposit_into_damaged_ocfl_object_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = make_bag(tmp_path / "bags")
    root = tmp_path / "root"
    uri = f"ocfl://{root}"
    assert main(["deposit", str(bag), "--to", uri]) == 0
    obj = ocfl_root.object_dir(root, "urn:test:statement-1")
    (obj / "v1" / "content" / "data" / "text.txt").write_text("a statemenX\n")
    (bag / "data" / "more.txt").write_text("more\n")
    bagit.Bag(str(bag)).save(manifests=True)
    capsys.readouterr()
    assert main(["deposit", str(bag), "--to", uri, "--json"]) == 1
    (row,) = json.loads(capsys.readouterr().out)["bags"]
    assert row["status"] == "damaged"
    assert [(p["kind"], p["path"]) for p in row["problems"]] == [("checksum-mismatch", str(obj))]
    assert not (obj / "v2").exists()
    with Ledger.open(default_ledger_path([tmp_path / "bags"]), create=False) as ledger:
        last = ledger.events()[-1].event
    assert (last.event_type, last.outcome) == ("fixity check", "failure")


def test_config_file_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bag = make_bag(tmp_path / "bags")
    argv = ["deposit", str(bag), "--to", "file:///tmp/x", "--config", str(tmp_path / "a.toml")]
    assert main(argv) == 2
    assert "a.toml" in capsys.readouterr().err


def test_interrupted_batch_records_finished_deposits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bags = [make_bag(tmp_path / "bags", n) for n in ("one", "two")]
    real = deposit_run_module.deposit_bag
    calls: list[Path] = []

    def interrupt_second(bag: Path, *args: object, **kwargs: object) -> object:
        calls.append(bag)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(bag, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deposit_run_module, "deposit_bag", interrupt_second)
    assert main(["deposit", *map(str, bags), "--to", (tmp_path / "c").as_uri()]) == 130
    with Ledger.open(default_ledger_path([tmp_path / "bags"]), create=False) as ledger:
        assert [e.event.bag for e in ledger.events()] == [str(bags[0])]


def test_unusable_ledger_stops_before_any_transfer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = make_bag(tmp_path / "bags")
    target = tmp_path / "copies"
    argv = ["deposit", str(bag), "--to", target.as_uri(), "--ledger", str(tmp_path / "no/l.db")]
    assert main(argv) == 2
    assert "ledger" in capsys.readouterr().err
    assert not target.exists()


# Issue 9, class 5 (deposit half) and class 4.


def _events(ledger_path: Path) -> list[str]:
    with Ledger.open(ledger_path, create=False) as ledger:
        return [e.event.outcome_detail for e in ledger.events()]


@pytest.mark.parametrize("scheme", ["ocfl", "file"])
def test_copy_stored_by_a_killed_run_gets_its_event_on_rerun(
    scheme: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kill -9 after the transfer, before the ledger: the re-run reports the bag unchanged
    and records the missing event, once."""
    from datetime import UTC, datetime

    from archiver.deposit import deposit_bag, parse_target

    bag = make_bag(tmp_path / "bags", "one")
    uri = f"{scheme}://{tmp_path}/target"
    ledger = tmp_path / "ledger.sqlite"
    now = datetime(2026, 1, 2, tzinfo=UTC)
    deposit_bag(bag, parse_target(uri), now=now, environ={}, settings={})  # the killed run
    argv = ["deposit", str(bag), "--to", uri, "--ledger", str(ledger), "--json"]
    assert main(argv) == 0
    assert [b["status"] for b in json.loads(capsys.readouterr().out)["bags"]] == ["unchanged"]
    first = _events(ledger)
    assert len(first) == 1 and "recorded on re-run" in first[0]
    assert main(argv) == 0  # nothing more to record
    assert _events(ledger) == first


def test_new_version_stored_by_a_killed_run_gets_its_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from archiver.deposit import deposit_bag, parse_target

    bag = make_bag(tmp_path / "bags", "one")
    uri = f"ocfl://{tmp_path}/target"
    ledger = tmp_path / "ledger.sqlite"
    assert main(["deposit", str(bag), "--to", uri, "--ledger", str(ledger)]) == 0
    (bag / "data" / "more.txt").write_text("more\n", encoding="utf-8")
    bagit.Bag(str(bag)).save(manifests=True)
    now = datetime(2026, 1, 3, tzinfo=UTC)
    deposit_bag(bag, parse_target(uri), now=now, environ={}, settings={})  # v2, killed
    assert main(["deposit", str(bag), "--to", uri, "--ledger", str(ledger)]) == 0
    capsys.readouterr()
    details = _events(ledger)
    assert len(details) == 2
    assert "#v1" in details[0] and "#v2" in details[1] and "recorded on re-run" in details[1]


def test_damaged_directory_copy_is_not_reported_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file:// copy whose payload was damaged: exit 1, as an OCFL root refuses."""
    bag = make_bag(tmp_path / "bags", "one")
    uri = (tmp_path / "copies").as_uri()
    ledger = tmp_path / "ledger.sqlite"
    assert main(["deposit", str(bag), "--to", uri, "--ledger", str(ledger)]) == 0
    (tmp_path / "copies" / "one" / "data" / "text.txt").write_text("a statemenX\n")
    capsys.readouterr()
    assert main(["deposit", str(bag), "--to", uri, "--ledger", str(ledger), "--json"]) == 1
    row = json.loads(capsys.readouterr().out)["bags"][0]
    assert row["status"] == "damaged"
    assert {p["kind"] for p in row["problems"]} >= {"checksum-mismatch"}
    assert (tmp_path / "copies" / "one" / "data" / "text.txt").read_text() == "a statemenX\n"


@pytest.mark.parametrize("scheme", ["ocfl", "file"])
def test_target_inside_the_bag_is_refused_before_anything_is_written(
    scheme: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = make_bag(tmp_path / "bags", "one")
    before = sorted(str(p) for p in bag.rglob("*"))
    uri = f"{scheme}://{bag}/data/root"
    assert main(["deposit", str(bag), "--to", uri, "--ledger", str(tmp_path / "l.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "inside the bag" in err
    assert sorted(str(p) for p in bag.rglob("*")) == before
    assert not (tmp_path / "l.sqlite").exists()


@pytest.mark.parametrize("scheme", ["file", "ocfl"])
def test_a_deposit_removes_the_staging_a_killed_deposit_left(
    scheme: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_fileio import dead_pid

    from archiver.storage.fileio import STAGING_PREFIX

    bag = make_bag(tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    planted = target / f"{STAGING_PREFIX}{dead_pid()}-00ff"  # kill -9 mid-copy left it
    (planted / "statement-1" / "data").mkdir(parents=True)
    live = target / f"{STAGING_PREFIX}{os.getpid()}-00ff"  # a running deposit's: left alone
    live.mkdir()
    uri = f"{scheme}://{target / 'root'}" if scheme == "ocfl" else f"file://{target}"
    code = main(["deposit", str(bag), "--to", uri, "--ledger", str(tmp_path / "l.sqlite")])
    assert code == 0, capsys.readouterr()
    assert not planted.exists() and live.is_dir()
    assert f"removed {planted}" in capsys.readouterr().err
