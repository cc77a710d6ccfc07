"""Archiver's use of RFC 3161 timestamps: the bag's token, its check, the ledger's stamper.

``archiver.timestamp`` talks to TSAs and verifies tokens and knows nothing of bags; this
module applies it to bags (one level up, like ``archiver.checks``):

- a bag built with ``[timestamp]`` configured carries ``BAG_TOKEN``, a DER
  ``TimeStampResp`` whose imprint is the SHA-512 of ``STAMPED_FILE`` (the payload
  manifest), and declares ``TIMESTAMP_PROFILE``, the version of our BagIt profile that
  allows it; from the bag's root ``openssl ts -verify -in BAG_TOKEN -data STAMPED_FILE
  -CAfile CA`` verifies it;
- ``token_findings`` checks every token of a bag (``metadata/timestamps/NAME.tsr`` stamps
  the file ``NAME`` at the bag's root) and reports each failure as ``timestamp-invalid``
  with the reason. A token with no CA to check it against is ``timestamp-invalid`` too
  ("cannot be verified"): a check that cannot vouch for a token never reports it good.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import stat
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.model.findings import BagReport, Finding, Kind
from archiver.timestamp.settings import TimestampSettings, load_ca
from archiver.timestamp.verify import digest_file, verify_token

if TYPE_CHECKING:
    from cryptography import x509

    from archiver.timestamp.client import Token

TOKEN_DIR = "metadata/timestamps"
STAMPED_FILE = "manifest-sha512.txt"
BAG_TOKEN = f"{TOKEN_DIR}/{STAMPED_FILE}.tsr"
PLAIN_PROFILE = "https://archiver.example.org/profiles/archiver-bagit-profile-v1.json"
TIMESTAMP_PROFILE = "https://archiver.example.org/profiles/archiver-bagit-profile-v2.json"
NO_CA = "cannot be verified: no [timestamp] ca is configured (archive.toml, --config)"


def bag_tokens(bag: Path) -> list[str]:
    """The tokens of a bag directory (``metadata/timestamps/*.tsr``), sorted."""
    folder = os.path.join(bag, TOKEN_DIR)
    try:  # one lstat for the common bag with no token; a link is not followed
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return []
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(f"{TOKEN_DIR}/{name}" for name in names if name.endswith(".tsr"))


def token_findings(
    bag: Path, label: str, settings: TimestampSettings | None, now: datetime
) -> list[Finding]:
    """``timestamp-invalid`` for each token of ``bag`` that does not verify (none when it
    has no token). ``label``: the bag as reports name it."""
    tokens = bag_tokens(bag)
    if not tokens:
        return []
    roots = _cached_roots(settings.ca) if settings is not None and settings.ca is not None else None
    found: list[Finding] = []
    for rel in tokens:
        stamped = rel[len(TOKEN_DIR) + 1 : -len(".tsr")]
        if roots is None:
            found.append(Finding(Kind.TIMESTAMP_INVALID, label, rel, f"token {NO_CA}"))
            continue
        try:
            data = (bag / rel).read_bytes()
        except OSError as exc:
            message = f"token cannot be read: {exc.strerror}"
            found.append(Finding(Kind.TIMESTAMP_INVALID, label, rel, message))
            continue
        target = bag / stamped
        verdict = verify_token(data, functools.partial(digest_file, target), roots, now=now)
        if not verdict.valid:
            message = f"token over {stamped}: {verdict.reason}"
            found.append(Finding(Kind.TIMESTAMP_INVALID, label, rel, message))
    return found


@functools.lru_cache(maxsize=8)
def _cached_roots(path: Path) -> tuple[x509.Certificate, ...]:
    return tuple(load_ca(path))


def with_token_findings(
    reports: Sequence[BagReport], settings: TimestampSettings | None, now: datetime
) -> tuple[BagReport, ...]:
    """The reports of bag directories with their tokens' findings added (a serialized
    bag's tokens are checked when it is validated unpacked)."""
    out: list[BagReport] = []
    for report in reports:
        extra = token_findings(Path(report.bag), report.bag, settings, now)
        out.append(
            dataclasses.replace(report, findings=(*report.findings, *extra)) if extra else report
        )
    return tuple(out)


def stamper(settings: TimestampSettings | None) -> Callable[[bytes], Token] | None:
    """A function that obtains a checked token over some bytes from the configured TSA;
    None when no TSA is configured (no ``[timestamp]`` url)."""
    if settings is None or not settings.url:
        return None
    return functools.partial(_request, settings=settings)


def _request(message: bytes, *, settings: TimestampSettings) -> Token:
    from archiver.timestamp.client import request_token  # urllib: only to stamp

    return request_token(message, settings)
