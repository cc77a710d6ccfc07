"""Adapters around other projects' private APIs: one module per foreign private thing.

Everything archiver needs from another project's internals goes through exactly one of
these modules, whose docstring names what it touches and the versions it was checked
with; ``tests/test_<module>.py`` checks that the private thing still has the expected
shape, so an upgrade that changes it fails a test instead of changing results quietly.

- :mod:`~archiver.adapters.bagit_staged`: bagit-python's ``Bag._path_is_dangerous``.
- :mod:`~archiver.adapters.fido_signatures`: FIDO's signature tables and matchers.
- :mod:`~archiver.adapters.regex_parser`: CPython's regex parser (``re._parser``).
- :mod:`~archiver.adapters.runtime`: CPython's ``_ssl.OPENSSL_VERSION``.
"""
