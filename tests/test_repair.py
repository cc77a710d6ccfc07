"""Tests for `archiver repair` and `audit --repair`: every fault × every replica kind,
damaged and unreachable replicas, the trust model, quarantine, locking, kill -9, ledger."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import bagit
import boto3
import pytest
from conftest import SEED_NAMES
from deposit_helpers import NOW
from test_deposit_s3 import moto_endpoint  # noqa: F401  (module-scoped moto server fixture)

import archiver
from archiver.archive.serialize import serialize_bag
from archiver.cli import main
from archiver.deposit import deposit_bag, parse_target
from archiver.ledger.store import Ledger, LedgerEvent
from archiver.model.errors import ConflictError
from archiver.model.findings import Kind
from archiver.repair.apply import QUARANTINE_DIR, stale_temporaries
from archiver.storage.fileio import bag_lock

NAME = Path(SEED_NAMES[0]).stem
KINDS = ("directory", "archive", "ocfl", "s3", "file")


# ---------------------------------------------------------------- faults


def _payload(bag: Path) -> Path:
    return next(p for p in (bag / "data").iterdir() if p.is_file())


def _corrupt(bag: Path) -> None:
    path = _payload(bag)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(bag: Path) -> None:
    path = _payload(bag)
    path.write_bytes(path.read_bytes()[:100])


def _empty(bag: Path) -> None:
    _payload(bag).write_bytes(b"")


def _delete(bag: Path) -> None:
    _payload(bag).unlink()


def _rename(bag: Path) -> None:
    path = _payload(bag)
    path.rename(path.with_name("renamed.txt"))


def _unexpected(bag: Path) -> None:
    (bag / "data" / "sub").mkdir()
    (bag / "data" / "sub" / "stray.bin").write_bytes(b"not listed\n")


def _edit_manifest(bag: Path) -> None:
    path = bag / "manifest-sha256.txt"
    path.write_text(path.read_text().replace("a", "b", 1))


def _delete_manifest(bag: Path) -> None:
    (bag / "manifest-sha512.txt").unlink()


def _edit_tag_file(bag: Path) -> None:
    path = bag / "bag-info.txt"
    path.write_bytes(path.read_bytes() + b"Added-Label: tampered\n")


def _delete_tag_file(bag: Path) -> None:
    (bag / "metadata" / "dc.json").unlink()


def _damage_declaration(bag: Path) -> None:
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 9.9\n")


def _edit_tag_manifest(bag: Path) -> None:
    path = bag / "tagmanifest-sha256.txt"
    path.write_text(path.read_text().replace("a", "c", 1))


FAULTS: dict[str, Callable[[Path], None]] = {
    "payload-corrupted": _corrupt,
    "payload-truncated": _truncate,
    "payload-emptied": _empty,
    "payload-deleted": _delete,
    "payload-renamed": _rename,
    "unexpected-file": _unexpected,
    "manifest-edited": _edit_manifest,
    "manifest-deleted": _delete_manifest,
    "tag-file-edited": _edit_tag_file,
    "tag-file-deleted": _delete_tag_file,
    "bagit-txt-damaged": _damage_declaration,
    "tag-manifest-edited": _edit_tag_manifest,
}


# ---------------------------------------------------------------- fixtures


def _snapshot(bag: Path) -> dict[str, bytes]:
    return {
        p.relative_to(bag).as_posix(): p.read_bytes() for p in sorted(bag.rglob("*")) if p.is_file()
    }


def _pack(bag: Path, out: Path, fmt: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return serialize_bag(bag, out, fmt, 1700000000).archive


@pytest.fixture(scope="module")
def s3_env(moto_endpoint: str) -> Iterator[dict[str, str]]:  # noqa: F811
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SOURCE_DATE_EPOCH": "1700000000",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_SESSION_TOKEN"):
            mp.delenv(name, raising=False)
        for name, value in env.items():
            mp.setenv(name, value)
        yield env


@pytest.fixture(scope="module")
def replicas(
    built_collection: Path, tmp_path_factory: pytest.TempPathFactory, s3_env: dict[str, str]
) -> dict[str, str]:
    """One replica of the pristine bag of each kind, built once; never written by a test."""
    pristine = built_collection / NAME
    root = tmp_path_factory.mktemp("replicas")
    directory = root / "dir"
    shutil.copytree(pristine, directory / NAME)
    archive = _pack(pristine, root / "packages", "tar")
    bucket = f"replicas-{uuid.uuid4().hex[:10]}"
    boto3.client(
        "s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"], region_name="us-east-1"
    ).create_bucket(Bucket=bucket)
    specs = {
        "directory": str(directory),
        "archive": str(archive),
        "ocfl": f"ocfl://{root / 'ocfl-root'}",
        "s3": f"s3://{bucket}/copies",
        "file": f"file://{root / 'file-target'}",
    }
    for kind in ("ocfl", "s3", "file"):
        deposit_bag(pristine, parse_target(specs[kind]), now=NOW, environ=s3_env, settings={})
    return specs


@pytest.fixture
def audited(collection_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the collection with one good audit recorded: (bag, ledger)."""
    ledger = tmp_path / "ledger.sqlite"
    bag = collection_copy / NAME
    assert main(["audit", str(bag), "--ledger", str(ledger), "--workers", "1"]) == 0
    return bag, ledger


def _repair(bag: Path, ledger: Path, *specs: str, extra: tuple[str, ...] = ()) -> int:
    argv = ["repair", str(bag), "--ledger", str(ledger), *extra]
    for spec in specs:
        argv += ["--from", spec]
    return main(argv)


def _json_repair(
    capsys: pytest.CaptureFixture[str], bag: Path, ledger: Path, *specs: str, dry: bool = False
) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    status = _repair(bag, ledger, *specs, extra=("--json", *(("--dry-run",) if dry else ())))
    return status, json.loads(capsys.readouterr().out)


def _assert_healed(bag: Path, pristine: Path) -> None:
    assert main(["validate", str(bag)]) == 0
    bagit.Bag(str(bag)).validate()
    assert _snapshot(bag) == _snapshot(pristine)
    assert stale_temporaries(bag) == []


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_fault_is_healed_from_every_replica_kind(
    fault: str,
    kind: str,
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    built_collection: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    FAULTS[fault](bag)
    damaged = _snapshot(bag)
    assert main(["validate", str(bag)]) == 1
    status, report = _json_repair(capsys, bag, ledger, replicas[kind])
    assert status == 0, report
    (result,) = report["bags"]
    assert result["status"] == "repaired"
    _assert_healed(bag, built_collection / NAME)
    replaced = {r["path"] for r in result["restored"]} & damaged.keys()
    assert {k["path"] for k in result["kept"]} == replaced
    for kept in result["kept"]:  # the damaged bytes are kept aside, outside the bag
        assert Path(kept["moved_to"]).read_bytes() == damaged[kept["path"]]
    with Ledger.open(ledger, create=False) as book:
        assert book.verify() == []
        runs = book.runs()
        assert runs[-1].kind == "repair"
        events = [e.event for e in book.events(str(bag)) if e.run_id == runs[-1].run_id]
    types = [e.event_type for e in events]
    assert types[0] == "fixity check" and events[0].outcome == "failure"
    if result["restored"]:
        recovery = [e for e in events if e.event_type == "recovery"]
        assert recovery and all(e.target == replicas[kind] for e in recovery)
    if fault in ("unexpected-file", "payload-renamed"):
        assert "quarantine" in types
        (moved,) = result["quarantined"]
        assert Path(moved["moved_to"]).is_file()
        assert QUARANTINE_DIR in moved["moved_to"] and str(bag) + "/" not in moved["moved_to"]


# ---------------------------------------------------------------- replicas that fail


def test_second_replica_heals_what_the_first_holds_damaged(
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    built_collection: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    bad = tmp_path / "bad-replica"
    shutil.copytree(built_collection / NAME, bad / NAME)
    _corrupt(bad / NAME)
    _delete(bag)
    status, report = _json_repair(capsys, bag, ledger, str(bad), replicas["ocfl"])
    assert status == 0
    (restored,) = report["bags"][0]["restored"]
    assert restored["replica"] == replicas["ocfl"]
    _assert_healed(bag, built_collection / NAME)


def test_no_good_replica_names_each_file_replica_and_what_it_held(
    audited: tuple[Path, Path],
    built_collection: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    corrupt = tmp_path / "corrupt"
    shutil.copytree(built_collection / NAME, corrupt / NAME)
    _corrupt(corrupt / NAME)
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = tmp_path / "gone"
    _truncate(bag)
    before = _snapshot(bag)
    status, report = _json_repair(capsys, bag, ledger, str(corrupt), str(empty), str(missing))
    assert status == 1
    result = report["bags"][0]
    assert result["status"] == "failed"
    (unhealed,) = result["unhealed"]
    assert unhealed["path"] == f"data/{_payload(bag).name}"
    held = {a["replica"]: a["status"] for a in unhealed["attempts"]}
    assert held == {
        str(corrupt): "wrong digest",
        str(empty): "missing",
        str(missing): "unreachable",
    }
    assert _snapshot(bag) == before  # not made worse
    # the human report names them too
    assert _repair(bag, ledger, str(corrupt), str(missing)) == 1
    out = capsys.readouterr().out
    assert "wrong digest" in out and "unreachable" in out and str(missing) in out


def test_unreachable_replica_is_named_and_the_next_one_heals(
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    built_collection: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    _corrupt(bag)
    dead = f"ocfl://{tmp_path / 'no-root'}"
    status, report = _json_repair(capsys, bag, ledger, dead, replicas["s3"])
    assert status == 0
    result = report["bags"][0]
    assert [a["replica"] for a in result["unreachable"]] == [dead]
    assert result["restored"][0]["replica"] == replicas["s3"]
    _assert_healed(bag, built_collection / NAME)


def test_unreachable_s3_endpoint_is_reported(
    audited: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bag, ledger = audited
    _corrupt(bag)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    status, report = _json_repair(capsys, bag, ledger, "s3://nowhere/x")
    assert status == 1
    (attempt,) = report["bags"][0]["unhealed"][0]["attempts"]
    assert attempt["status"] == "unreachable"


def test_damaged_archive_replica_fails_its_sidecar_first(
    audited: tuple[Path, Path],
    built_collection: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    archive = _pack(built_collection / NAME, tmp_path / "pk", "zip")
    data = bytearray(archive.read_bytes())
    data[-30] ^= 0xFF
    archive.write_bytes(bytes(data))
    _corrupt(bag)
    status, report = _json_repair(capsys, bag, ledger, str(archive))
    assert status == 1
    (attempt,) = report["bags"][0]["unhealed"][0]["attempts"]
    assert attempt["status"] == "unreachable" and "sidecar" in attempt["detail"]


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_other_archive_formats_heal(
    fmt: str, audited: tuple[Path, Path], built_collection: Path, tmp_path: Path
) -> None:
    bag, ledger = audited
    archive = _pack(built_collection / NAME, tmp_path / "pk", fmt)
    _delete(bag)
    assert _repair(bag, ledger, str(archive)) == 0
    _assert_healed(bag, built_collection / NAME)


# ---------------------------------------------------------------- the trust model


def test_damaged_tag_manifest_without_a_ledger_record_is_refused(
    collection_copy: Path,
    replicas: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag = collection_copy / NAME
    ledger = tmp_path / "fresh.sqlite"  # never audited: no record
    _edit_tag_manifest(bag)
    before = _snapshot(bag)
    status, report = _json_repair(capsys, bag, ledger, replicas["directory"])
    assert status == 1
    result = report["bags"][0]
    assert result["status"] == "refused"
    assert "no record" in result["reason"] and "tagmanifest-sha256.txt" in result["reason"]
    assert _snapshot(bag) == before
    assert _repair(bag, ledger, replicas["directory"]) == 1
    assert "refused" in capsys.readouterr().out


def test_damaged_tag_file_without_a_record_is_refused(
    collection_copy: Path, replicas: dict[str, str], tmp_path: Path
) -> None:
    bag = collection_copy / NAME
    _edit_tag_file(bag)
    before = _snapshot(bag)
    assert _repair(bag, tmp_path / "fresh.sqlite", replicas["directory"]) == 1
    assert _snapshot(bag) == before


def test_payload_damage_without_a_record_uses_the_verified_own_manifests(
    collection_copy: Path, replicas: dict[str, str], built_collection: Path, tmp_path: Path
) -> None:
    bag = collection_copy / NAME
    _corrupt(bag)
    assert _repair(bag, tmp_path / "fresh.sqlite", replicas["directory"]) == 0
    _assert_healed(bag, built_collection / NAME)


def test_replica_whose_tag_manifest_differs_from_the_record_is_not_used(
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    built_collection: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(built_collection / NAME, rebuilt / NAME)
    _payload(rebuilt / NAME).write_bytes(b"another text\n")
    bagit.Bag(str(rebuilt / NAME)).save(manifests=True)  # valid, but not the recorded bag
    _edit_tag_manifest(bag)
    _corrupt(bag)
    status, report = _json_repair(capsys, bag, ledger, str(rebuilt))
    assert status == 1
    (unhealed,) = report["bags"][0]["unhealed"]
    assert unhealed["path"] == "tagmanifest-sha256.txt"
    assert unhealed["attempts"][0]["status"] == "wrong digest"
    assert _repair(bag, ledger, str(rebuilt), replicas["directory"]) == 0
    _assert_healed(bag, built_collection / NAME)


def test_substituted_payload_is_found_by_audit_and_healed(
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    built_collection: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    _payload(bag).write_bytes(b"a forged statement\n")
    bagit.Bag(str(bag)).save(manifests=True)  # manifests, Oxum and tag manifests regenerated
    bagit.Bag(str(bag)).validate()
    capsys.readouterr()
    assert main(["audit", str(bag.parent), "--ledger", str(ledger), "--json", "-"]) == 1
    report = json.loads(capsys.readouterr().out)
    (bad,) = [b for b in report["bags"] if b["status"] == "invalid"]
    kinds = {p["kind"] for p in bad["problems"]}
    assert {str(Kind.TAG_MANIFEST_CHANGED), str(Kind.FIXITY_RECORD_MISMATCH)} <= kinds
    assert _repair(bag, ledger, replicas["ocfl"]) == 0
    _assert_healed(bag, built_collection / NAME)
    (forged,) = (bag.parent / QUARANTINE_DIR).rglob(f"replaced/data/{_payload(bag).name}")
    assert forged.read_bytes() == b"a forged statement\n"  # the evidence is kept
    assert main(["audit", str(bag.parent), "--ledger", str(ledger)]) == 0


def test_audit_accept_takes_a_deliberate_rebuild_as_the_new_reference(
    audited: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bag, ledger = audited
    record = bag / "metadata" / "dc.json"
    record.write_bytes(record.read_bytes() + b"\n")  # rebuilt on purpose: same record
    bagit.Bag(str(bag)).save()
    assert main(["audit", str(bag.parent), "--ledger", str(ledger)]) == 1
    assert "tag-manifest-changed" in capsys.readouterr().out
    argv = ["audit", str(bag.parent), "--ledger", str(ledger), "--accept", str(bag)]
    assert main(argv) == 0
    assert main(["audit", str(bag.parent), "--ledger", str(ledger)]) == 0


# ---------------------------------------------------------------- modes, defaults, locks


def test_dry_run_says_what_and_changes_nothing(
    audited: tuple[Path, Path], replicas: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    bag, ledger = audited
    _corrupt(bag)
    _unexpected(bag)
    before = _snapshot(bag)
    with Ledger.open(ledger, create=False) as book:
        runs = len(book.runs())
    status, report = _json_repair(capsys, bag, ledger, replicas["archive"], dry=True)
    assert status == 0
    result = report["bags"][0]
    assert result["status"] == "would-repair"
    assert [r["path"] for r in result["restored"]] == [f"data/{_payload(bag).name}"]
    assert [q["path"] for q in result["quarantined"]] == ["data/sub/stray.bin"]
    assert _snapshot(bag) == before
    assert not (bag.parent / QUARANTINE_DIR).exists()
    assert _repair(bag, ledger, replicas["archive"], extra=("--dry-run",)) == 0
    table = capsys.readouterr().out
    assert "would restore" in table and "would quarantine" in table  # the human table
    assert _snapshot(bag) == before
    with Ledger.open(ledger, create=False) as book:
        assert len(book.runs()) == runs


def test_without_from_the_recorded_deposits_are_the_replicas(
    audited: tuple[Path, Path], built_collection: Path, tmp_path: Path
) -> None:
    bag, ledger = audited
    root = f"ocfl://{tmp_path / 'deposits'}"
    assert main(["deposit", str(bag), "--to", root, "--ledger", str(ledger)]) == 0
    _delete_tag_file(bag)
    _corrupt(bag)
    assert _repair(bag, ledger) == 0
    _assert_healed(bag, built_collection / NAME)


def test_no_replica_at_all_fails_and_says_so(
    audited: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bag, ledger = audited
    _corrupt(bag)
    assert _repair(bag, ledger) == 1
    assert "no replica" in capsys.readouterr().out


def test_intact_bag_needs_nothing(
    audited: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bag, ledger = audited
    status, report = _json_repair(capsys, bag, ledger)
    assert status == 0 and report["bags"][0]["status"] == "intact"


def test_a_locked_bag_is_not_repaired_built_over_or_deposited(
    audited: tuple[Path, Path], replicas: dict[str, str], tmp_path: Path
) -> None:
    bag, ledger = audited
    _corrupt(bag)
    with bag_lock(bag, "testing"):
        assert _repair(bag, ledger, replicas["directory"]) == 2
        with pytest.raises(ConflictError, match="busy"):
            deposit_bag(
                bag,
                parse_target(f"file://{tmp_path / 'out'}"),
                now=NOW,
                environ={},
                settings={},
            )
    assert _repair(bag, ledger, replicas["directory"]) == 0


def test_a_locked_bag_is_not_replaced_by_a_build(tmp_path: Path) -> None:
    from archiver.build.writer import install_bag

    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "new").write_text("new")
    destination = tmp_path / "bag"
    destination.mkdir()
    (destination / "old").write_text("old")
    with bag_lock(destination, "testing"), pytest.raises(ConflictError, match="busy"):
        install_bag(staging, destination, replace=True)
    assert (destination / "old").is_file()
    install_bag(staging, destination, replace=True)
    assert (destination / "new").is_file() and not (destination / "old").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag"]  # no lock file left


def test_repair_of_a_missing_bag_is_exit_2(tmp_path: Path) -> None:
    assert _repair(tmp_path / "nothing", tmp_path / "l.sqlite", str(tmp_path)) == 2


def test_unknown_replica_scheme_is_exit_2(audited: tuple[Path, Path]) -> None:
    bag, ledger = audited
    _corrupt(bag)
    assert _repair(bag, ledger, "ftp://host/x") == 2


def test_audit_repair_heals_and_records_one_run(
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    built_collection: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    _corrupt(bag)
    _delete_tag_file(bag)
    with Ledger.open(ledger, create=False) as book:
        runs = len(book.runs())
    argv = ["audit", str(bag.parent), "--ledger", str(ledger), "--repair", "--from"]
    assert main([*argv, replicas["file"], "--json", "-"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "intact"
    (repair,) = document["repairs"]
    assert repair["status"] == "repaired" and repair["before"]["status"] == "invalid"
    _assert_healed(bag, built_collection / NAME)
    with Ledger.open(ledger, create=False) as book:
        all_runs = book.runs()
        assert len(all_runs) == runs + 1
        last = all_runs[-1]
        assert last.kind == "audit" and last.failed == 0
        events = [e.event.event_type for e in book.events(str(bag)) if e.run_id == last.run_id]
        assert events[0] == "fixity check" and events.count("recovery") == 2
        assert book.history(str(bag))[-1].status == "valid"
        assert book.verify() == []


def test_ledger_show_and_premis_export_of_a_repair(
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    _corrupt(bag)
    _unexpected(bag)
    assert _repair(bag, ledger, replicas["ocfl"]) == 0
    capsys.readouterr()
    assert main(["ledger", "show", str(bag), "--ledger", str(ledger)]) == 0
    shown = capsys.readouterr().out
    assert "recovery" in shown and "quarantine" in shown and "restored" in shown
    assert main(["ledger", "show", str(bag), "--ledger", str(ledger), "--json"]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    recovery = [e for e in events if e["event_type"] == "recovery"]
    assert [e["target"] for e in recovery] == [replicas["ocfl"]]
    assert "sha512" in recovery[0]["outcome_detail"]
    out = tmp_path / "events.xml"
    assert main(["ledger", "premis", str(bag), "--ledger", str(ledger), "--out", str(out)]) == 0
    xml = out.read_text()
    vocabulary = "http://id.loc.gov/vocabulary/preservation"
    for code in ("fix", "rec", "qua"):
        assert f'valueURI="{vocabulary}/eventType/{code}"' in xml
    assert f"<premis:linkingObjectIdentifierValue>{replicas['ocfl']}<" in xml
    assert f'valueURI="{vocabulary}/eventRelatedObjectRole/out"' in xml
    assert "<premis:eventOutcome" in xml and ">fail<" in xml and ">success<" in xml


# ---------------------------------------------------------------- kill -9


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from archiver.cli import main

    target, when = int(sys.argv[1]), sys.argv[2]
    calls = [0]

    def wrap(real):
        def patched(*args, **kwargs):
            calls[0] += 1
            if calls[0] == target and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = real(*args, **kwargs)
            if calls[0] == target and when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return patched

    os.replace = wrap(os.replace)
    os.rename = wrap(os.rename)
    sys.exit(main(["repair", *sys.argv[3:]]))
    """
)


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("call", [1, 2, 3, 4, 5])
def test_kill_9_mid_repair_leaves_old_or_new_bytes_and_a_rerun_finishes(
    call: int,
    when: str,
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    built_collection: Path,
) -> None:
    bag, ledger = audited
    pristine = _snapshot(built_collection / NAME)
    _corrupt(bag)
    _edit_manifest(bag)
    _delete_tag_file(bag)
    _unexpected(bag)
    damaged = _snapshot(bag)
    argv = [str(call), when, str(bag), "--ledger", str(ledger), "--from", replicas["directory"]]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *argv],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(Path(archiver.__file__).parent.parent)},
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    now = _snapshot(bag)
    for path in pristine.keys() | damaged.keys():
        assert now.get(path) in (pristine.get(path), damaged.get(path)), path
    assert _repair(bag, ledger, replicas["directory"]) == 0
    _assert_healed(bag, built_collection / NAME)
    moved = list((bag.parent / QUARANTINE_DIR).rglob("stray.bin"))
    assert len(moved) == 1  # quarantined once, never lost
    with Ledger.open(ledger, create=False) as book:
        assert book.verify() == []


def test_ocfl_replica_serves_a_file_from_an_older_version(
    audited: tuple[Path, Path],
    built_collection: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from archiver.deposit.ocfl_root import deposit_ocfl

    bag, ledger = audited
    root = tmp_path / "versions"
    target = parse_target(f"ocfl://{root}")
    changed = tmp_path / "changed" / NAME
    shutil.copytree(built_collection / NAME, changed)
    identifier = "urn:test:repair:versions"
    deposit_ocfl(built_collection / NAME, target, identifier, NOW)  # v1: the bag as it was
    _payload(changed).write_bytes(b"the text as changed later\n")
    bagit.Bag(str(changed)).save(manifests=True)
    deposit_ocfl(changed, target, identifier, NOW)  # v2: head holds other bytes
    info = bag / "bag-info.txt"
    text = info.read_text()
    assert "External-Identifier" in text
    _delete(bag)
    status, report = _json_repair(capsys, bag, ledger, f"ocfl://{root}")
    assert status == 1  # the bag's own identifier is not this object's
    (unhealed,) = report["bags"][0]["unhealed"]
    assert unhealed["attempts"][0]["status"] == "missing"
    with Ledger.open(ledger) as book:  # a deposit the ledger knows names the object
        book.record_event(
            LedgerEvent(
                event_type="replication",
                bag=str(bag),
                date_time=NOW.isoformat(),
                outcome="success",
                detail=f"deposit of {identifier}: copied",
                target=f"ocfl://{root}",
            ),
            run_id="deposit-run",
            versions={"archiver": "test"},
        )
    status, report = _json_repair(capsys, bag, ledger)
    assert status == 0
    (restored,) = report["bags"][0]["restored"]
    assert "v1/content" in restored["where"]
    _assert_healed(bag, built_collection / NAME)


def test_damaged_s3_archive_is_named_and_not_used(
    audited: tuple[Path, Path],
    replicas: dict[str, str],
    s3_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag, ledger = audited
    client = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"], region_name="us-east-1")
    source_bucket, prefix = replicas["s3"][5:].split("/", 1)
    bucket = f"damaged-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    for item in client.list_objects_v2(Bucket=source_bucket, Prefix=prefix)["Contents"]:
        body = client.get_object(Bucket=source_bucket, Key=item["Key"])["Body"].read()
        if item["Key"].endswith(".tar"):
            body = body[:-700] + bytes(b ^ 0x01 for b in body[-700:])
        client.put_object(Bucket=bucket, Key=item["Key"], Body=body)
    _corrupt(bag)
    status, report = _json_repair(capsys, bag, ledger, f"s3://{bucket}/{prefix}")
    assert status == 1
    (attempt,) = report["bags"][0]["unhealed"][0]["attempts"]
    assert attempt["status"] == "unreachable" and "sidecar" in attempt["detail"]


def test_audit_repair_that_cannot_heal_exits_1_and_records_the_failure(
    audited: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag, ledger = audited
    _delete(bag)
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["audit", str(bag.parent), "--ledger", str(ledger), "--repair", "--from", str(empty)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "failed" in out and "missing" in out and str(empty) in out
    with Ledger.open(ledger, create=False) as book:
        last = book.runs()[-1]
        assert last.kind == "audit" and last.failed == 1
        events = [e.event for e in book.events(str(bag)) if e.run_id == last.run_id]
        assert [(e.event_type, e.outcome) for e in events] == [
            ("fixity check", "failure"),
            ("recovery", "failure"),
        ]
        assert str(empty) in events[1].outcome_detail
        assert book.history(str(bag))[-1].status == "invalid"


def test_dry_run_without_a_ledger_creates_none(
    collection_copy: Path,
    replicas: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bag = collection_copy / NAME
    _corrupt(bag)
    ledger = tmp_path / "none.sqlite"
    status, report = _json_repair(capsys, bag, ledger, replicas["directory"], dry=True)
    assert status == 0 and report["bags"][0]["status"] == "would-repair"
    assert not ledger.exists()
