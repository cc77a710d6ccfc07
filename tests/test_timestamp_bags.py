"""Timestamped bags: build with a loopback TSA, openssl ts -verify, validate/audit findings."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import bagit
import pytest
from conftest import ROOT, SEED_NAMES, SOURCES
from timestamp_helpers import FaultyServer, RunningTSA, free_port, openssl_verify, timestamp_toml

from archiver.cli import main
from archiver.timestamp.bags import BAG_TOKEN, STAMPED_FILE, TIMESTAMP_PROFILE

STEM = Path(SEED_NAMES[0]).stem


def _config(tmp_path: Path, url: str, ca: Path, timeout: float | None = None) -> Path:
    """archive.toml plus [timestamp], with ``ca`` relative to the config's folder."""
    folder = tmp_path / "conf"
    folder.mkdir(exist_ok=True)
    shutil.copy(ca, folder / "tsa-ca.pem")
    text = (ROOT / "archive.toml").read_text("utf-8")
    path = folder / "archive.toml"
    path.write_text(text + timestamp_toml(url, Path("tsa-ca.pem"), timeout), "utf-8")
    return path


def _one_source(tmp_path: Path) -> Path:
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(SOURCES / SEED_NAMES[0], sources)
    rows = (SOURCES / "metadata.csv").read_text("utf-8").splitlines(keepends=True)
    keep = [rows[0]] + [r for r in rows[1:] if r.startswith(SEED_NAMES[0])]
    (sources / "metadata.csv").write_text("".join(keep), "utf-8")
    return sources


def _build(tmp_path: Path, config: Path, sources: Path, out: str = "bags") -> int:
    return main(
        [
            "build",
            "--catalog",
            str(sources / "metadata.csv"),
            "--config",
            str(config),
            "--out",
            str(tmp_path / out),
        ]
    )


@pytest.fixture
def stamped_bag(tmp_path: Path, tsa: RunningTSA) -> tuple[Path, Path]:
    """One bag built with the loopback TSA, and its config."""
    config = _config(tmp_path, tsa.url, tsa.ca)
    assert _build(tmp_path, config, _one_source(tmp_path)) == 0
    return tmp_path / "bags" / STEM, config


def test_built_bag_carries_a_token_openssl_accepts(stamped_bag: tuple[Path, Path]) -> None:
    bag, config = stamped_bag
    token = bag / BAG_TOKEN
    assert token.is_file()
    result = openssl_verify(Path(BAG_TOKEN), Path(STAMPED_FILE), config.parent / "tsa-ca.pem", bag)
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout
    # a tag file, in both tag manifests; the bag declares the profile that allows it
    for alg in ("sha256", "sha512"):
        assert BAG_TOKEN in (bag / f"tagmanifest-{alg}.txt").read_text("utf-8")
    assert f"BagIt-Profile-Identifier: {TIMESTAMP_PROFILE}" in (bag / "bag-info.txt").read_text()
    bagit.Bag(str(bag)).validate()
    # PREMIS: a digital signature generation event at the token's time, the TSA an agent
    premis = json.loads((bag / "metadata/premis.json").read_text("utf-8"))
    events = [e for e in premis["events"] if e["type"] == "digital signature generation"]
    assert len(events) == 1
    assert events[0]["typeURI"].endswith("/eventType/dig")
    tsa_agents = [a for a in premis["agents"] if a["name"].startswith("CN=Test TSA good")]
    assert len(tsa_agents) == 1
    assert "<premis:eventType" in (bag / "metadata/premis.xml").read_text("utf-8")
    assert "digital signature generation" in (bag / "metadata/mets.xml").read_text("utf-8")


def test_profile_v2_passes_bagit_profile_library(stamped_bag: tuple[Path, Path]) -> None:
    import bagit_profile

    bag, _ = stamped_bag
    profile = json.loads((ROOT / "schemas" / "bagit-profile-v2.json").read_text("utf-8"))
    checker = bagit_profile.Profile(TIMESTAMP_PROFILE, profile=profile)
    assert checker.validate(bagit.Bag(str(bag))), checker.report


def test_validate_and_audit_accept_a_good_token(
    stamped_bag: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag, config = stamped_bag
    assert main(["validate", str(bag), "--config", str(config)]) == 0
    ledger = tmp_path / "l.sqlite"
    assert main(["audit", str(bag.parent), "--ledger", str(ledger), "--config", str(config)]) == 0


def _problems(capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    out = json.loads(capsys.readouterr().out)
    return [p for r in out["bags"] for p in r["problems"]] if "bags" in out else out


def _validate_json(bag: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["validate", str(bag), "--config", str(config), "--json"])
    return status, capsys.readouterr().out


def _rewrite_manifest(bag: Path) -> None:
    """An attacker who edits the payload manifest and recomputes the tag manifests."""
    import hashlib

    manifest = bag / STAMPED_FILE
    manifest.write_bytes(manifest.read_bytes().replace(b"  data/", b" data/", 1))
    for alg in ("sha256", "sha512"):
        tm = bag / f"tagmanifest-{alg}.txt"
        lines = []
        for line in tm.read_text("utf-8").splitlines():
            digest, path = line.split(" ", 1)
            path = path.strip()
            if path == STAMPED_FILE:
                digest = hashlib.new(alg, manifest.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path}")
        tm.write_text("\n".join(lines) + "\n", "utf-8")


@pytest.mark.parametrize("damage", ["manifest", "token", "token-removed-ca"])
def test_altered_manifest_or_token_is_timestamp_invalid(
    stamped_bag: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: str,
) -> None:
    bag, config = stamped_bag
    if damage == "manifest":
        _rewrite_manifest(bag)
        ca = config.parent / "tsa-ca.pem"
        assert openssl_verify(Path(BAG_TOKEN), Path(STAMPED_FILE), ca, bag).returncode != 0
    elif damage == "token":
        token = bag / BAG_TOKEN
        data = bytearray(token.read_bytes())
        data[-5] ^= 0xFF
        token.write_bytes(bytes(data))
    else:
        config.write_text(config.read_text("utf-8").split("\n[timestamp]")[0], "utf-8")
    status, out = _validate_json(bag, config, capsys)
    assert status == 1, out
    assert "timestamp-invalid" in out, out
    ledger = tmp_path / "l.sqlite"
    capsys.readouterr()
    args = ["audit", str(bag.parent), "--ledger", str(ledger), "--config", str(config)]
    assert main([*args, "--json", "-"]) == 1
    assert "timestamp-invalid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("error-status", "HTTP 503"),
        ("wrong-nonce", "nonce"),
        ("wrong-imprint", "imprint"),
        ("other-ca", "chain"),
        ("slow", "did not answer"),
        ("down", "cannot reach"),
    ],
)
def test_faulty_tsa_fails_the_item_and_leaves_no_bag(
    tmp_path: Path,
    tsa: RunningTSA,
    faulty_tsa: Callable[[str], FaultyServer],
    capsys: pytest.CaptureFixture[str],
    fault: str,
    words: str,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/" if fault == "down" else faulty_tsa(fault).url
    config = _config(tmp_path, url, tsa.ca, timeout=0.5 if fault == "slow" else None)
    capsys.readouterr()
    assert _build(tmp_path, config, _one_source(tmp_path)) == 2
    captured = capsys.readouterr()
    assert words in captured.out + captured.err
    bags = tmp_path / "bags"
    assert (
        not any(p for p in bags.iterdir() if not p.name.startswith(".")) if bags.exists() else True
    )
    assert not list(bags.glob(".archiver-staging-*")) if bags.exists() else True


def test_env_overrides_url(
    tmp_path: Path, tsa: RunningTSA, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, f"http://127.0.0.1:{free_port()}/", tsa.ca)
    monkeypatch.setenv("ARCHIVER_TSA_URL", tsa.url)
    assert _build(tmp_path, config, _one_source(tmp_path)) == 0
    assert (tmp_path / "bags" / STEM / BAG_TOKEN).is_file()


def test_stamped_build_is_reproducible_but_for_token_and_event(
    tmp_path: Path, tsa: RunningTSA, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    config = _config(tmp_path, tsa.url, tsa.ca)
    sources = _one_source(tmp_path)
    assert _build(tmp_path, config, sources, "a") == 0
    assert _build(tmp_path, config, sources, "b") == 0
    a, b = tmp_path / "a" / STEM, tmp_path / "b" / STEM
    differ = sorted(
        str(p.relative_to(a))
        for p in a.rglob("*")
        if p.is_file() and p.read_bytes() != (b / p.relative_to(a)).read_bytes()
    )
    # the token, the records that carry its event, and the files that digest those
    allowed = {
        BAG_TOKEN,
        "metadata/premis.json",
        "metadata/premis.xml",
        "metadata/mets.xml",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
        "bag-info.txt",  # Bag-Size, should the token's length differ
    }
    assert BAG_TOKEN in differ and set(differ) <= allowed, differ
    assert (a / "data").exists() and (a / STAMPED_FILE).read_bytes() == (
        b / STAMPED_FILE
    ).read_bytes()
