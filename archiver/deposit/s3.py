"""Deposit to an S3-compatible store (``s3://bucket/prefix``) with boto3.

Settings come as AWS tools take them: credentials from the environment or the AWS config
files (boto3's usual chain); the endpoint from ``AWS_ENDPOINT_URL_S3`` /
``AWS_ENDPOINT_URL``, else ``endpoint_url`` in archive.toml ``[deposit.s3]``; the region
from ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else ``region`` there. ``[deposit.s3]`` may
also set ``format`` (tar, tar.gz, zip; default tar), ``multipart_threshold`` and
``multipart_chunksize`` (bytes).

The bag is serialized reproducibly (``archiver.archive.serialize``) and uploaded to
``<prefix>/<bag>.<format>`` with ``ChecksumAlgorithm=SHA256`` so the server verifies every
part, multipart above the threshold. The archive is then read back and its sha256 and
sha512 compared with the local archive's; only after that are the ``.sha256`` and
``.sha512`` sidecars uploaded. The sidecars are the completion mark: an interrupted or
failed deposit leaves none (old ones are deleted before a changed bag is uploaded).
The object's metadata records the bag fingerprint, so an unchanged bag is a no-op.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from archiver.archive.serialize import FORMATS, SIDECAR_ALGORITHMS, parse_sidecar, serialize_bag
from archiver.deposit.records import DepositResult, DepositStatus, Target
from archiver.deposit.source import fingerprint
from archiver.model.errors import ConfigError, DepositError
from archiver.model.findings import Finding, Kind

EVENT_TYPE = "transfer"
DEFAULT_THRESHOLD = 64 << 20
DEFAULT_CHUNKSIZE = 16 << 20
_READ_BLOCK = 1 << 20
_FINGERPRINT_KEY = "bag-fingerprint-sha256"


@dataclass(frozen=True, slots=True)
class S3Settings:
    """Where and how to talk to the S3 store."""

    endpoint_url: str | None = None
    region: str | None = None
    format: str = "tar"
    multipart_threshold: int = DEFAULT_THRESHOLD
    multipart_chunksize: int = DEFAULT_CHUNKSIZE


def s3_settings(environ: Mapping[str, str], section: Mapping[str, Any]) -> S3Settings:
    """Settings from the environment, then archive.toml ``[deposit.s3]`` (pure)."""
    known = {"endpoint_url", "region", "format", "multipart_threshold", "multipart_chunksize"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"archive.toml: deposit.s3: unknown setting {unknown[0]!r}")
    fmt = str(section.get("format", "tar"))
    if fmt not in FORMATS:
        raise ConfigError(f"archive.toml: deposit.s3.format: {fmt!r} not one of {FORMATS}")
    sizes = {}
    for name, default in (
        ("multipart_threshold", DEFAULT_THRESHOLD),
        ("multipart_chunksize", DEFAULT_CHUNKSIZE),
    ):
        value = section.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 5 << 20:
            raise ConfigError(f"archive.toml: deposit.s3.{name}: must be an integer >= 5 MiB")
        sizes[name] = value
    endpoint = (
        environ.get("AWS_ENDPOINT_URL_S3")
        or environ.get("AWS_ENDPOINT_URL")
        or section.get("endpoint_url")
    )
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or section.get("region")
    return S3Settings(
        endpoint_url=str(endpoint) if endpoint else None,
        region=str(region) if region else None,
        format=fmt,
        **sizes,
    )


def make_client(settings: S3Settings) -> Any:
    """A boto3 S3 client for the settings (few retries: an unreachable endpoint fails fast)."""
    config = Config(
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        request_checksum_calculation="when_supported",
    )
    return boto3.client(
        "s3", endpoint_url=settings.endpoint_url, region_name=settings.region, config=config
    )


def archive_key(target: Target, bag: Path, fmt: str) -> str:
    """The object key of the bag's archive under the target prefix."""
    name = f"{bag.resolve().name}.{fmt}"
    return f"{target.prefix}/{name}" if target.prefix else name


def _fail(target: Target, key: str, exc: Exception) -> DepositError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DepositError(f"s3://{target.bucket}/{key}: {reason}")


def _head(client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        response: dict[str, Any] = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return response


def deposit_s3(
    bag: Path,
    target: Target,
    identifier: str,
    now: datetime,
    settings: S3Settings,
    mtime: int,
    client: Any | None = None,
) -> DepositResult:
    """Serialize, upload with server-side SHA-256 checks, read back, verify, mark complete."""
    assert target.bucket is not None
    bucket = target.bucket
    key = archive_key(target, bag, settings.format)
    sidecar_keys = {alg: f"{key}.{alg}" for alg in SIDECAR_ALGORITHMS}
    s3 = client if client is not None else make_client(settings)
    bag_print = fingerprint(bag)
    try:
        existing = _head(s3, bucket, key)
        status = DepositStatus.DEPOSITED
        if existing is not None:
            if existing.get("Metadata", {}).get(_FINGERPRINT_KEY) == bag_print and all(
                _head(s3, bucket, k) is not None for k in sidecar_keys.values()
            ):
                return _result(bag, target, identifier, now, key, DepositStatus.UNCHANGED, {})
            status = DepositStatus.UPDATED
        for sidecar_key in sidecar_keys.values():  # never let old sidecars vouch for new bytes
            s3.delete_object(Bucket=bucket, Key=sidecar_key)
        with tempfile.TemporaryDirectory(prefix="archiver-s3-") as tmp:
            archive = serialize_bag(bag, Path(tmp), settings.format, mtime)
            s3.upload_file(
                str(archive.archive),
                bucket,
                key,
                ExtraArgs={
                    "ChecksumAlgorithm": "SHA256",
                    "Metadata": {
                        _FINGERPRINT_KEY: bag_print,
                        "identifier": quote(identifier, safe=""),
                        "source-date-epoch": str(mtime),
                    },
                },
                Config=TransferConfig(
                    multipart_threshold=settings.multipart_threshold,
                    multipart_chunksize=settings.multipart_chunksize,
                ),
            )
            found = read_digests(s3, bucket, key)
            for alg in SIDECAR_ALGORITHMS:
                if found[alg] != archive.digests[alg]:
                    raise DepositError(
                        f"s3://{bucket}/{key}: read back {alg} {found[alg]} "
                        f"differs from the uploaded archive's {archive.digests[alg]}"
                    )
            name = key.rsplit("/", 1)[-1]
            for alg, sidecar_key in sidecar_keys.items():
                s3.put_object(
                    Bucket=bucket,
                    Key=sidecar_key,
                    Body=f"{archive.digests[alg]}  {name}\n".encode("ascii"),
                    ChecksumAlgorithm="SHA256",
                )
            digests = dict(archive.digests)
    except (ClientError, BotoCoreError) as exc:
        raise _fail(target, key, exc) from exc
    return _result(bag, target, identifier, now, key, status, digests)


def read_digests(client: Any, bucket: str, key: str) -> dict[str, str]:
    """Stream the object back and return its sha256 and sha512."""
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    hashes = {alg: hashlib.new(alg) for alg in SIDECAR_ALGORITHMS}
    with contextlib.closing(body):
        while block := body.read(_READ_BLOCK):
            for h in hashes.values():
                h.update(block)
    return {alg: h.hexdigest() for alg, h in hashes.items()}


def verify_s3(
    bag: Path, target: Target, settings: S3Settings, client: Any | None = None
) -> list[Finding]:
    """Re-read the deposited archive and check it against its sidecars and the local bag."""
    assert target.bucket is not None
    bucket = target.bucket
    key = archive_key(target, bag, settings.format)
    name = bag.resolve().name
    s3 = client if client is not None else make_client(settings)
    uri = f"s3://{bucket}/{key}"
    findings: list[Finding] = []
    try:
        head = _head(s3, bucket, key)
        if head is None:
            return [Finding(kind=Kind.MISSING_FILE, bag=name, path=uri, message="not deposited")]
        expected: dict[str, str] = {}
        for alg in SIDECAR_ALGORITHMS:
            sidecar = f"{key}.{alg}"
            if _head(s3, bucket, sidecar) is None:
                findings.append(
                    Finding(
                        kind=Kind.MISSING_FILE,
                        bag=name,
                        path=f"s3://{bucket}/{sidecar}",
                        message="sidecar missing: the deposit never completed",
                    )
                )
                continue
            text = s3.get_object(Bucket=bucket, Key=sidecar)["Body"].read().decode("ascii")
            expected[alg] = parse_sidecar(text, f"s3://{bucket}/{sidecar}")[0]
        found = read_digests(s3, bucket, key)
    except (ClientError, BotoCoreError) as exc:
        raise _fail(target, key, exc) from exc
    for alg, want in expected.items():
        if found[alg] != want:
            findings.append(
                Finding(
                    kind=Kind.CHECKSUM_MISMATCH,
                    bag=name,
                    path=uri,
                    message="the stored archive differs from its recorded digest",
                    algorithm=alg,
                    expected=want,
                    found=found[alg],
                )
            )
    recorded = head.get("Metadata", {}).get(_FINGERPRINT_KEY)
    local = fingerprint(bag)
    if recorded != local:
        findings.append(
            Finding(
                kind=Kind.CHECKSUM_MISMATCH,
                bag=name,
                path=uri,
                message="the deposited bag is not the local bag (tag manifests differ)",
                algorithm="sha256",
                expected=local,
                found=recorded,
            )
        )
    return findings


def _result(
    bag: Path,
    target: Target,
    identifier: str,
    now: datetime,
    key: str,
    status: DepositStatus,
    digests: Mapping[str, str],
) -> DepositResult:
    return DepositResult(
        bag=str(bag),
        identifier=identifier,
        target=target.uri,
        location=f"s3://{target.bucket}/{key}",
        status=status,
        event_type=EVENT_TYPE,
        time=now,
        digests=dict(digests),
        detail=f"serialized bag uploaded to s3://{target.bucket}/{key}, read back and verified",
    )
