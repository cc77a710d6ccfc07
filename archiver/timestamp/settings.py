"""The ``[timestamp]`` table of archive.toml: where the TSA is, and the CA that vouches for it.

::

    [timestamp]
    url = "http://tsa.example.org/"   # RFC 3161 TSA (HTTP POST, application/timestamp-query)
    ca = "tsa-ca.pem"                 # PEM certificate(s) that verify the TSA's tokens offline
    timeout = 10                      # seconds for one request (optional)

``ARCHIVER_TSA_URL`` in the environment overrides ``url``; ``ca`` is relative to the
folder of the config file. Without the table nothing is timestamped. The table's shape is
checked by archive.toml's JSON Schema; this module only interprets it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.model.errors import ConfigError
from archiver.model.text import shown

if TYPE_CHECKING:  # cryptography is loaded when a CA is read
    from cryptography import x509

ENV_URL = "ARCHIVER_TSA_URL"
DEFAULT_TIMEOUT = 10.0  # seconds: a TSA answers in well under one
MAX_RESPONSE = 1 << 20  # bytes: a TimeStampResp with its certificates is a few KiB


@dataclass(frozen=True, slots=True)
class TimestampSettings:
    """Where to ask for tokens and what verifies them."""

    url: str | None  # None: verification only (no TSA to ask)
    ca: Path | None  # None: tokens cannot be verified here
    timeout: float = DEFAULT_TIMEOUT
    max_response: int = MAX_RESPONSE

    @classmethod
    def from_table(
        cls,
        table: Mapping[str, Any] | None,
        config_dir: Path,
        environ: Mapping[str, str] | None = None,
    ) -> TimestampSettings | None:
        """The settings of a (schema-checked) ``[timestamp]`` table; None when it is absent.

        ``ARCHIVER_TSA_URL`` (in ``environ``, default ``os.environ``) overrides ``url``;
        ``ca`` is resolved against ``config_dir``.
        """
        if table is None:
            return None
        env = os.environ if environ is None else environ
        url = env.get(ENV_URL) or table.get("url")
        ca = table.get("ca")
        return cls(
            url=str(url) if url else None,
            ca=(config_dir / str(ca)) if ca else None,
            timeout=float(table.get("timeout", DEFAULT_TIMEOUT)),
        )

    def roots(self) -> list[x509.Certificate]:
        """The CA certificates of ``ca`` (ConfigError when it is not set or unreadable)."""
        if self.ca is None:
            raise ConfigError("[timestamp] ca is not set: tokens cannot be verified")
        return load_ca(self.ca)


def load_ca(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM file; ConfigError naming the file when there is none."""
    from cryptography import x509

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the TSA's CA certificates: {exc}") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ConfigError(f"{path}: not PEM certificates ({shown(str(exc))})") from None
    return certificates
