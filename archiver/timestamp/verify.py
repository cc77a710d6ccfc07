"""Offline verification of a stored RFC 3161 token: a frozen ``Verdict``, never an exception.

A token is valid when it is a granted ``TimeStampResp`` whose signature and certificate
chain verify against the configured CA certificates (at the token's own time: a TSA
certificate that has expired since does not void tokens made while it was valid), whose
signing certificate is a TSA's (critical extended key usage ``timeStamping``), whose
message imprint equals the digest, by the token's own algorithm, of what it claims to
stamp, and whose time is not after the check. The signature, chain and certificate checks
are rfc3161-client's (``Verifier``); nothing is parsed by hand.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.model.text import clip

if TYPE_CHECKING:  # rfc3161-client and cryptography are loaded when a token is checked
    from cryptography import x509
    from rfc3161_client import TimeStampResponse

# message-imprint algorithms a token may use, by OID, with their hashlib names
HASH_OIDS: dict[str, str] = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
_BLOCK = 1 << 20


class TokenStatus(enum.Enum):
    """The outcome of verifying one token."""

    VALID = "valid"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a token proves, or why it proves nothing (``reason``)."""

    status: TokenStatus
    reason: str = ""
    gen_time: datetime | None = None  # the TSA's time, timezone-aware (UTC)
    tsa: str | None = None  # the signing certificate's subject (RFC 4514)
    serial: int | None = None  # the token's serial number at its TSA
    algorithm: str | None = None  # the message imprint's algorithm (hashlib name)

    @property
    def valid(self) -> bool:
        """True for a token that verified."""
        return self.status is TokenStatus.VALID


Digester = Callable[[str], bytes]  # algorithm name (hashlib) -> digest of the stamped data


def digest_file(path: Path, algorithm: str) -> bytes:
    """The ``algorithm`` digest of a file, read in 1 MiB blocks (OSError propagates)."""
    hasher = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            hasher.update(block)
    return hasher.digest()


def digest_bytes(data: bytes) -> Digester:
    """A ``Digester`` of bytes in memory (e.g. a ledger run's hash)."""
    return lambda algorithm: hashlib.new(algorithm, data).digest()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def signer_subject(response: TimeStampResponse) -> str | None:
    """The subject of the embedded certificate that signed the token, if embedded."""
    from cryptography import x509

    infos = list(response.signed_data.signer_infos)
    if len(infos) != 1:
        return None
    for der in response.signed_data.certificates:
        cert = x509.load_der_x509_certificate(der)
        if cert.issuer == infos[0].issuer and cert.serial_number == infos[0].serial_number:
            return cert.subject.rfc4514_string()
    return None


def _reason(message: str) -> str:
    if message == "Mismatch between messages":
        return "its message imprint differs from the digest of the file it names"
    if message == "Nonce mismatch":
        return "its nonce is not the request's (a token made for another request)"
    if message.startswith("Error while verifying certificates"):
        return f"its signature or certificate chain does not verify against the CA ({message})"
    return message


def verify_token(
    data: bytes,
    digest: Digester,
    roots: Sequence[x509.Certificate],
    *,
    now: datetime,
    nonce: int | None = None,
) -> Verdict:
    """Verify a DER ``TimeStampResp`` (``data``) over what ``digest`` hashes, offline.

    ``roots``: the trusted CA certificates (``[timestamp] ca``); ``now``: the time of the
    check (a token dated after it is invalid); ``nonce``: the request's, when checking a
    fresh answer. Invalid tokens carry a one-line ``reason``.
    """
    from rfc3161_client import (
        PKIStatus,
        VerificationError,
        VerifierBuilder,
        decode_timestamp_response,
    )

    try:
        response = decode_timestamp_response(data)
    except ValueError as exc:
        return Verdict(TokenStatus.INVALID, f"not an RFC 3161 TimeStampResp ({clip(str(exc))})")
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        return Verdict(TokenStatus.INVALID, f"the TSA did not grant it (status {response.status})")
    try:
        info = response.tst_info
        oid = info.message_imprint.hash_algorithm.dotted_string
        gen_time = _utc(info.gen_time)
        serial = int(info.serial_number)
        tsa = signer_subject(response)
    except (ValueError, TypeError) as exc:  # a granted status with no usable token
        return Verdict(TokenStatus.INVALID, f"no readable token ({clip(str(exc))})")
    algorithm = HASH_OIDS.get(oid)

    def verdict(reason: str = "") -> Verdict:
        status = TokenStatus.INVALID if reason else TokenStatus.VALID
        return Verdict(status, reason, gen_time, tsa, serial, algorithm)

    if algorithm is None:
        return verdict(f"unsupported imprint algorithm {oid}")
    if not roots:
        return verdict("no CA certificate to verify it against")
    builder = VerifierBuilder(roots=list(roots))
    if nonce is not None:
        builder = builder.nonce(nonce)
    try:
        expected = digest(algorithm)
        builder.build().verify(response, expected)
    except VerificationError as exc:
        return verdict(_reason(str(exc)))
    except OSError as exc:
        return verdict(f"the file it names cannot be read ({clip(str(exc))})")
    if gen_time > _utc(now):
        return verdict(
            f"its time {gen_time.isoformat()} is after the check ({_utc(now).isoformat()})"
        )
    return verdict()
