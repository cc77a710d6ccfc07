"""The errors archiver raises.

Every error the library raises on purpose is an :class:`ArchiverError`; the CLI catches
that one class at its boundary and maps it to an exit status (see ``exit_status``)::

    ArchiverError                 could not do the work (exit 2)
    ├── ConfigError               archive.toml missing, unreadable or invalid
    ├── CatalogError              sources/metadata.csv: bad encoding, row, column or value
    ├── MetadataError             a DC or PREMIS record failed its JSON Schema or XSD
    ├── SourceError               a source file missing or unreadable
    ├── OutputError               the output location is unusable (unwritable, not a dir)
    ├── ConflictError             a bag exists for a changed source (use --replace)
    ├── BagReadError              a path is not a bag archiver can open at all
    ├── LedgerError               the audit ledger cannot be opened or written
    ├── DepositError              a deposit target is unusable or a transfer failed
    ├── WorkspaceError            this machine ran short (temporary space, quota, descriptors,
    │                             memory) or refused our own temporary directory: says
    │                             nothing about the bag, so it is never a finding against it
    ├── ClusterError              a Dask scheduler/worker unusable or lost (audit --scheduler)
    └── TimestampError            a TSA unreachable, or its token refused ([timestamp])
    IntegrityError                a check found damage (exit 1); carries the findings

Messages are one line and name the file, row, column or field at fault.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTEGRITY = 1
EXIT_UNUSABLE = 2


class ArchiverError(Exception):
    """Base class: archiver could not do the work asked of it."""

    exit_status = EXIT_UNUSABLE


class ConfigError(ArchiverError):
    """The archive configuration (archive.toml) is missing or invalid."""


class CatalogError(ArchiverError):
    """The catalog (metadata.csv) cannot be read, or a row in it is invalid."""


class MetadataError(ArchiverError):
    """A metadata record failed validation against its JSON Schema or XSD."""


class SourceError(ArchiverError):
    """A source file is missing or unreadable."""


class OutputError(ArchiverError):
    """The output location cannot be written."""


class ConflictError(ArchiverError):
    """A bag already exists for a source whose content has changed."""


class BagReadError(ArchiverError):
    """A path is not something archiver can open as a bag."""


class LedgerError(ArchiverError):
    """The audit ledger cannot be opened, read or written."""


class DepositError(ArchiverError):
    """A deposit target is unusable, or a transfer failed or did not verify."""


class WorkspaceError(ArchiverError):
    """The work could not be done here (no temporary space, quota, descriptors or memory; our
    own temporary directory refused): not damage, never recorded against a bag."""


class IntegrityError(ArchiverError):
    """A check found damage; the findings say where."""

    exit_status = EXIT_INTEGRITY


class ClusterError(ArchiverError):
    """A Dask scheduler or worker cannot be used, or was lost during an audit."""


class TimestampError(ArchiverError):
    """A Time-Stamp Authority cannot be reached, or its answer fails a check."""
