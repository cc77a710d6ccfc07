"""Archivematica's transfer metadata beside archiver's records: ``metadata/metadata.csv``.

Archivematica reads a transfer's ``metadata/metadata.csv`` (first column ``filename``,
``objects/…`` paths, ``dc.*``/``dcterms.*`` columns repeated per value) into the AIP's
dmdSecs. archiver keeps its own ``metadata/dc.json`` (its record, the BagIt profile's
required tag file, read by the policy, the ledger and rebuilds), which Archivematica
would also copy as its SIP-level ``dc.json`` (``create_sip_from_transfer_objects.py``,
``load_dublin_core.py``: flat single-valued keys such as ``title``) and find no field
in; the DC reaches Archivematica through this file instead, with the bag's ``data/``
as the transfer's ``objects/``. Bags of the current profile stay valid: ``metadata/*``
is an allowed tag file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from archiver.metadata.dublin_core import DublinCoreRecord

METADATA_CSV = "metadata/metadata.csv"


def metadata_csv_bytes(dc: DublinCoreRecord, source_name: str) -> bytes:
    """One row for the item (``objects/<file>`` or ``objects/<folder>``), UTF-8."""
    header = ["filename"]
    row = [f"objects/{source_name}"]
    for term, values in dc.terms:
        for value in values:
            header.append(term)
            row.append(value)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow(row)
    return out.getvalue().encode("utf-8")


def extra_metadata_files(dc: DublinCoreRecord, source_name: str) -> Mapping[str, bytes]:
    """Tag files to add to a bag's ``metadata/`` beside archiver's records."""
    return {METADATA_CSV: metadata_csv_bytes(dc, source_name)}
