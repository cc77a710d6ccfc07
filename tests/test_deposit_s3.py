"""Tests for archiver.deposit.s3 against a real moto S3 server on loopback (a subprocess)."""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bagit
import boto3
import deposit_helpers
import pytest
from deposit_helpers import NOW

from archiver.deposit import (
    DepositStatus,
    InvalidBagError,
    deposit_bag,
    parse_target,
    verify_deposit,
)
from archiver.deposit import s3 as s3_mod
from archiver.model.errors import ConfigError, DepositError
from archiver.model.findings import Kind

IDENT = "urn:test:s3:1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A real S3-protocol server (moto standalone) on 127.0.0.1, stopped afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):  # readiness poll, not a time limit on the code under test
            if proc.poll() is not None:
                raise RuntimeError("moto server exited at startup")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("moto server did not start listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def environ(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SOURCE_DATE_EPOCH": "1700000000",
    }
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def client(environ: dict[str, str]) -> Any:
    return boto3.client("s3", endpoint_url=environ["AWS_ENDPOINT_URL"], region_name="us-east-1")


@pytest.fixture
def bucket(client: Any) -> str:
    name = f"archive-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name


make_bag = functools.partial(deposit_helpers.make_bag, ident=IDENT)


def test_deposit_uploads_verifies_and_marks_complete(
    tmp_path: Path, environ: dict[str, str], client: Any, bucket: str
) -> None:
    bag = make_bag(tmp_path / "bags")
    target = parse_target(f"s3://{bucket}/deposits/2026")
    result = deposit_bag(bag, target, now=NOW, environ=environ, settings={})
    assert result.status is DepositStatus.DEPOSITED
    assert result.event_type == "transfer"
    key = "deposits/2026/statement-1.tar"
    assert result.location == f"s3://{bucket}/{key}"
    data = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert result.digests["sha256"] == hashlib.sha256(data).hexdigest()
    for alg in ("sha256", "sha512"):
        sidecar = client.get_object(Bucket=bucket, Key=f"{key}.{alg}")["Body"].read()
        assert sidecar == f"{hashlib.new(alg, data).hexdigest()}  statement-1.tar\n".encode()
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256")  # the server computed and checked SHA-256
    assert verify_deposit(bag, target, environ=environ, settings={}).findings == ()


def test_redeposit_unchanged_then_changed(
    tmp_path: Path, environ: dict[str, str], bucket: str
) -> None:
    bag = make_bag(tmp_path / "bags")
    target = parse_target(f"s3://{bucket}")
    deposit_bag(bag, target, now=NOW, environ=environ, settings={})
    again = deposit_bag(bag, target, now=NOW, environ=environ, settings={})
    assert again.status is DepositStatus.UNCHANGED
    (bag / "data" / "more.txt").write_text("more\n")
    bagit.Bag(str(bag)).save(manifests=True)
    third = deposit_bag(bag, target, now=NOW, environ=environ, settings={})
    assert third.status is DepositStatus.UPDATED
    assert verify_deposit(bag, target, environ=environ, settings={}).findings == ()


def test_corruption_on_server_detected(
    tmp_path: Path, environ: dict[str, str], client: Any, bucket: str
) -> None:
    bag = make_bag(tmp_path / "bags")
    target = parse_target(f"s3://{bucket}/p")
    deposit_bag(bag, target, now=NOW, environ=environ, settings={})
    key = "p/statement-1.tar"
    data = bytearray(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    data[1000] ^= 0xFF
    client.put_object(Bucket=bucket, Key=key, Body=bytes(data))
    findings = verify_deposit(bag, target, environ=environ, settings={}).findings
    mismatches = {(f.kind, f.algorithm) for f in findings if f.path == f"s3://{bucket}/{key}"}
    assert (Kind.CHECKSUM_MISMATCH, "sha256") in mismatches
    assert (Kind.CHECKSUM_MISMATCH, "sha512") in mismatches


def test_multipart_upload_for_large_files(
    tmp_path: Path, environ: dict[str, str], client: Any, bucket: str
) -> None:
    bag = make_bag(tmp_path / "bags", payload=os.urandom(6 << 20))
    target = parse_target(f"s3://{bucket}")
    settings = {"s3": {"multipart_threshold": 5 << 20, "multipart_chunksize": 5 << 20}}
    result = deposit_bag(bag, target, now=NOW, environ=environ, settings=settings)
    assert result.status is DepositStatus.DEPOSITED
    head = client.head_object(Bucket=bucket, Key="statement-1.tar")
    assert head["ETag"].strip('"').endswith("-2")  # two parts
    assert verify_deposit(bag, target, environ=environ, settings=settings).findings == ()


def test_readback_mismatch_leaves_no_sidecars(
    tmp_path: Path,
    environ: dict[str, str],
    client: Any,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bag = make_bag(tmp_path / "bags")
    target = parse_target(f"s3://{bucket}")
    monkeypatch.setattr(
        s3_mod, "read_digests", lambda *a: {"sha256": "0" * 64, "sha512": "0" * 128}
    )
    with pytest.raises(DepositError, match="read back sha256"):
        deposit_bag(bag, target, now=NOW, environ=environ, settings={})
    monkeypatch.undo()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["statement-1.tar"]  # no sidecars: the deposit does not look complete
    findings = verify_deposit(bag, target, environ=environ, settings={}).findings
    assert {f.kind for f in findings} == {Kind.MISSING_FILE}


def test_invalid_bag_refused_before_upload(
    tmp_path: Path, environ: dict[str, str], client: Any, bucket: str
) -> None:
    bag = make_bag(tmp_path / "bags")
    (bag / "data" / "text.txt").write_text("a statemenX\n")
    with pytest.raises(InvalidBagError):
        deposit_bag(bag, parse_target(f"s3://{bucket}"), now=NOW, environ=environ, settings={})
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_missing_bucket(tmp_path: Path, environ: dict[str, str]) -> None:
    bag = make_bag(tmp_path / "bags")
    with pytest.raises(DepositError, match="s3://no-such-bucket-x/statement-1.tar") as info:
        deposit_bag(
            bag, parse_target("s3://no-such-bucket-x"), now=NOW, environ=environ, settings={}
        )
    assert "\n" not in str(info.value)


def test_unreachable_endpoint(tmp_path: Path, environ: dict[str, str]) -> None:
    bag = make_bag(tmp_path / "bags")
    env = {**environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}"}
    with pytest.raises(DepositError, match="Could not connect") as info:
        deposit_bag(bag, parse_target("s3://bucket"), now=NOW, environ=env, settings={})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("environ", "section", "expected"),
    [
        ({}, {}, s3_mod.S3Settings()),
        (
            {},
            {"endpoint_url": "http://toml", "region": "eu-west-1", "format": "zip"},
            s3_mod.S3Settings("http://toml", "eu-west-1", "zip"),
        ),
        (
            {"AWS_ENDPOINT_URL": "http://env", "AWS_REGION": "eu-north-1"},
            {"endpoint_url": "http://toml", "region": "eu-west-1"},
            s3_mod.S3Settings("http://env", "eu-north-1"),
        ),
        (
            {"AWS_ENDPOINT_URL_S3": "http://s3only", "AWS_ENDPOINT_URL": "http://env"},
            {},
            s3_mod.S3Settings("http://s3only"),
        ),
    ],
)
def test_settings_precedence(
    environ: dict[str, str], section: dict[str, Any], expected: s3_mod.S3Settings
) -> None:
    assert s3_mod.s3_settings(environ, section) == expected


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"bucket": "x"}, "unknown setting 'bucket'"),
        ({"format": "rar"}, "deposit.s3.format"),
        ({"multipart_threshold": 1024}, "multipart_threshold"),
        ({"multipart_chunksize": "big"}, "multipart_chunksize"),
    ],
)
def test_settings_rejected(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        s3_mod.s3_settings({}, section)
