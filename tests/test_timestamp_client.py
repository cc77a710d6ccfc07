"""archiver.timestamp: tokens from a real TSA on loopback, and every way a TSA can fail."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from timestamp_helpers import FaultyServer, RunningTSA, free_port, openssl_verify

from archiver.model.errors import ConfigError, TimestampError
from archiver.timestamp.client import request_token
from archiver.timestamp.settings import TimestampSettings
from archiver.timestamp.verify import digest_bytes, digest_file, verify_token


def _settings(url: str, ca: Path, timeout: float = 10.0) -> TimestampSettings:
    return TimestampSettings(url=url, ca=ca, timeout=timeout)


def test_token_verifies_here_and_with_openssl(tsa: RunningTSA, tmp_path: Path) -> None:
    data = b"manifest line\n"
    token = request_token(data, _settings(tsa.url, tsa.ca))
    assert token.tsa.startswith("CN=Test TSA good")
    assert abs(token.gen_time - datetime.now(UTC)) < timedelta(hours=1)
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "t.tsr").write_bytes(token.response)
    result = openssl_verify(tmp_path / "t.tsr", tmp_path / "data", tsa.ca)
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout
    verdict = verify_token(
        token.response,
        lambda alg: digest_file(tmp_path / "data", alg),
        [],
        now=datetime.now(UTC),
    )
    assert not verdict.valid and "no CA" in verdict.reason


def test_request_is_sha512_with_nonce_and_cert_req(tsa: RunningTSA, tmp_path: Path) -> None:
    from rfc3161_client import decode_timestamp_response

    token = request_token(b"x", _settings(tsa.url, tsa.ca))
    info = decode_timestamp_response(token.response).tst_info
    assert info.message_imprint.hash_algorithm.dotted_string == "2.16.840.1.101.3.4.2.3"
    assert info.message_imprint.message == hashlib.sha512(b"x").digest()
    assert info.nonce  # the TSA echoed our nonce (checked against the request's)
    assert decode_timestamp_response(token.response).signed_data.certificates  # certReq


def _verify(token: bytes, data: bytes, ca: Path, now: datetime | None = None) -> object:
    from archiver.timestamp.settings import load_ca

    return verify_token(token, digest_bytes(data), load_ca(ca), now=now or datetime.now(UTC))


def test_altered_data_or_token_is_invalid(tsa: RunningTSA, tmp_path: Path) -> None:
    token = request_token(b"original", _settings(tsa.url, tsa.ca)).response
    assert _verify(token, b"original", tsa.ca).valid  # type: ignore[attr-defined]
    changed = _verify(token, b"changed", tsa.ca)
    assert not changed.valid and "imprint" in changed.reason  # type: ignore[attr-defined]
    # one byte of the signature flipped: the signature no longer verifies
    flipped = bytearray(token)
    flipped[-5] ^= 0xFF
    bad = _verify(bytes(flipped), b"original", tsa.ca)
    assert not bad.valid, bad  # type: ignore[attr-defined]
    (tmp_path / "d").write_bytes(b"original")
    (tmp_path / "t.tsr").write_bytes(bytes(flipped))
    assert openssl_verify(tmp_path / "t.tsr", tmp_path / "d", tsa.ca).returncode != 0
    garbage = _verify(b"\x30\x03\x02\x01\x00", b"original", tsa.ca)
    assert not garbage.valid  # type: ignore[attr-defined]


def test_token_dated_after_the_check_is_invalid(tsa: RunningTSA) -> None:
    token = request_token(b"t", _settings(tsa.url, tsa.ca)).response
    past = datetime.now(UTC) - timedelta(days=1)
    verdict = _verify(token, b"t", tsa.ca, now=past)
    assert not verdict.valid and "after the check" in verdict.reason  # type: ignore[attr-defined]


def test_token_of_another_ca_is_invalid(tsa: RunningTSA, rogue_pki: object, tmp_path: Path) -> None:
    token = rogue_pki.timestamp  # type: ignore[attr-defined]
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    request = TimestampRequestBuilder().data(b"r").hash_algorithm(HashAlgorithm.SHA512).build()
    answer = token(request.as_bytes())
    verdict = _verify(answer, b"r", tsa.ca)
    assert not verdict.valid and "chain" in verdict.reason  # type: ignore[attr-defined]
    (tmp_path / "d").write_bytes(b"r")
    (tmp_path / "t.tsr").write_bytes(answer)
    assert openssl_verify(tmp_path / "t.tsr", tmp_path / "d", tsa.ca).returncode != 0


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("error-status", "HTTP 503"),
        ("rejection", "did not grant"),
        ("wrong-nonce", "nonce"),
        ("wrong-imprint", "imprint"),
        ("other-ca", "chain"),
        ("garbage", "not an RFC 3161"),
    ],
)
def test_faulty_tsa_never_yields_a_token(
    faulty_tsa: Callable[[str], FaultyServer], tsa: RunningTSA, fault: str, words: str
) -> None:
    server = faulty_tsa(fault)
    with pytest.raises(TimestampError) as caught:
        request_token(b"data", _settings(server.url, tsa.ca))
    message = str(caught.value)
    assert words in message, message
    assert server.url in message and "\n" not in message


def test_slow_tsa_times_out(faulty_tsa: Callable[[str], FaultyServer], tsa: RunningTSA) -> None:
    server = faulty_tsa("slow")
    with pytest.raises(TimestampError, match="did not answer within 0.5 s"):
        request_token(b"data", _settings(server.url, tsa.ca, timeout=0.5))


def test_down_tsa(tsa: RunningTSA) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(TimestampError, match="cannot reach the TSA"):
        request_token(b"data", _settings(url, tsa.ca))


def test_oversized_answer_refused(tsa: RunningTSA) -> None:
    settings = TimestampSettings(url=tsa.url, ca=tsa.ca, max_response=100)
    with pytest.raises(TimestampError, match="exceeds 100 bytes"):
        request_token(b"data", settings)


@pytest.mark.parametrize("url", [None, "file:///etc/passwd", "ftp://x/"])
def test_no_or_unusable_url(tsa: RunningTSA, url: str | None) -> None:
    with pytest.raises(TimestampError):
        request_token(b"d", TimestampSettings(url=url, ca=tsa.ca))


def test_missing_or_bad_ca(tsa: RunningTSA, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not set"):
        request_token(b"d", TimestampSettings(url=tsa.url, ca=None))
    with pytest.raises(ConfigError, match="cannot read"):
        request_token(b"d", _settings(tsa.url, tmp_path / "absent.pem"))
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(ConfigError, match="not PEM"):
        request_token(b"d", _settings(tsa.url, tmp_path / "bad.pem"))


def test_settings_from_table(tmp_path: Path) -> None:
    assert TimestampSettings.from_table(None, tmp_path, {}) is None
    table = {"url": "http://a/", "ca": "ca.pem", "timeout": 3}
    settings = TimestampSettings.from_table(table, tmp_path, {})
    assert settings == TimestampSettings("http://a/", tmp_path / "ca.pem", 3.0)
    overridden = TimestampSettings.from_table(table, tmp_path, {"ARCHIVER_TSA_URL": "http://b/"})
    assert overridden is not None and overridden.url == "http://b/"
