"""RFC 3161 trusted timestamps: configuration, requests to a TSA, offline verification.

A token from a Time-Stamp Authority (TSA) proves that a digest existed at the token's
``genTime`` without trusting the archive: the TSA signs (digest, time, nonce) with a key
whose certificate chains to the CA configured as ``[timestamp] ca`` in archive.toml.

- ``settings``: the ``[timestamp]`` table (``TimestampSettings``; ``ARCHIVER_TSA_URL``).
- ``client``: one request over HTTP POST and every check of the answer before it is kept
  (status, nonce, imprint, signature and chain): ``request_token``.
- ``verify``: offline verification of a stored token, a frozen ``Verdict``.

This package imports only the standard library, third-party libraries (``rfc3161-client``,
``cryptography``), ``archiver.model.errors`` and ``archiver.model.text``. Import from the
modules: the package itself loads nothing, so a command that never meets a token never
loads ``rfc3161-client``, ``cryptography`` or ``urllib``.
"""
