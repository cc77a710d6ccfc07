"""Ask a TSA for a token (RFC 3161 over HTTP, RFC 3161 section 3.4) and check the answer.

The request carries the SHA-512 imprint of the data, a random nonce and ``certReq`` (the
TSA embeds its certificate, so the token verifies with only the CA). The answer is kept
only when every check passes: HTTP 200, at most ``max_response`` bytes within
``timeout`` seconds in all, a granted status, the request's nonce and imprint, a signature
and chain that verify against ``ca`` and a time not in the future. Anything else raises
``TimestampError`` with one line naming the TSA and what was wrong: a caller never holds a
token it has not checked.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

from archiver.model.errors import TimestampError
from archiver.model.text import clip, one_line
from archiver.timestamp.settings import TimestampSettings
from archiver.timestamp.verify import digest_bytes, verify_token

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
_READ = 1 << 16


@dataclass(frozen=True, slots=True)
class Token:
    """A checked token: the DER ``TimeStampResp`` and what it says."""

    response: bytes
    gen_time: datetime
    tsa: str
    serial: int
    url: str


def _post(url: str, body: bytes, timeout: float, limit: int) -> bytes:
    """POST ``body``; the answer's bytes, within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            chunks: list[bytes] = []
            size = 0
            while chunk := answer.read(_READ):
                size += len(chunk)
                if size > limit:
                    raise TimestampError(f"{url}: the TSA's answer exceeds {limit} bytes")
                if time.monotonic() > deadline:
                    raise TimestampError(f"{url}: the TSA did not answer within {timeout:g} s")
                chunks.append(chunk)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        exc.close()  # an HTTPError holds the open response
        raise TimestampError(f"{url}: the TSA answered HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise TimestampError(f"{url}: the TSA did not answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise TimestampError(f"{url}: the TSA did not answer within {timeout:g} s") from None
        raise TimestampError(f"{url}: cannot reach the TSA ({clip(str(reason))})") from None
    except OSError as exc:
        raise TimestampError(f"{url}: cannot reach the TSA ({clip(str(exc))})") from None


def request_token(
    message: bytes, settings: TimestampSettings, *, now: datetime | None = None
) -> Token:
    """A checked token over the SHA-512 of ``message`` from the TSA of ``settings``.

    ``now``: the time the answer is checked against (default: the system clock).
    TimestampError when there is no TSA, it cannot be reached in time, or its answer fails
    any check; ConfigError when ``ca`` is missing or unreadable.
    """
    url = settings.url
    if not url:
        raise TimestampError("no TSA configured ([timestamp] url or ARCHIVER_TSA_URL)")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise TimestampError(f"{clip(url)}: a TSA is reached over http:// or https:// only")
    roots = settings.roots()
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA512)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    body = _post(url, request.as_bytes(), settings.timeout, settings.max_response)
    checked = now if now is not None else datetime.now(UTC)
    verdict = verify_token(body, digest_bytes(message), roots, now=checked, nonce=request.nonce)
    if not verdict.valid or verdict.gen_time is None:
        raise TimestampError(one_line(f"{url}: the TSA's token is refused: {verdict.reason}"))
    return Token(
        response=body,
        gen_time=verdict.gen_time,
        tsa=verdict.tsa or url,
        serial=verdict.serial or 0,
        url=url,
    )
