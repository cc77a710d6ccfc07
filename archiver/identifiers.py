"""Identifiers derived from content: the same parts always give the same UUID (version 5).

The one way archiver makes a UUID that must come out the same on every run: the PREMIS
records of a bag (``archiver.metadata.ingest``), ledger events (``archiver.ledger.chain``)
and their PREMIS export (``archiver.ledger.premis_export``). Each of these keeps its own
namespace and parts, so identifiers already written never change.
"""

from __future__ import annotations

import uuid

# A fixed namespace for archiver's content-derived UUIDs (uuid5 of "urn:archiver" in the
# URL namespace); never change it, or rebuilt packages get new identifiers.
ARCHIVER_UUID_NAMESPACE = uuid.UUID("c784d2e7-66f8-56f4-b24c-6fe23a43d733")
SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in the parts' text


def derive_uuid(*parts: str, namespace: uuid.UUID = ARCHIVER_UUID_NAMESPACE) -> str:
    """The UUID 5 of ``parts`` (joined by the unit separator) in ``namespace``."""
    return str(uuid.uuid5(namespace, SEPARATOR.join(parts)))
