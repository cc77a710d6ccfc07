"""The versions of the software that did a run's work, for reports and the ledger.

Touches CPython's private ``_ssl`` module for ``OPENSSL_VERSION``, which is what ``ssl``
exposes, without ``ssl.py``'s own imports (about 12 ms of every audit's start-up).
Checked with CPython 3.11, 3.12 and 3.13.
"""

from __future__ import annotations

import _ssl
import sys

from archiver import __version__


def versions() -> dict[str, str]:
    """The software that did the work: archiver, Python and the OpenSSL behind hashlib."""
    return {
        "archiver": __version__,
        "python": sys.version.split()[0],  # platform.python_version(), without platform
        "hashlib": _ssl.OPENSSL_VERSION,
    }
