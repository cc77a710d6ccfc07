"""Where archiver keeps a collection's ledger when nobody names one: the collection's key,
the per-user data directory, the file an earlier version left inside the collection.

``collection_ledger(roots)`` is the default ``archiver.config.resolve_ledger`` falls back
to (and ``archiver.ledger.store.default_ledger_path``): ``<first root>/.audit-ledger.sqlite``
when an earlier version kept one there, else ``ledger_directory()/<collection_key>.sqlite``
(on Linux ``~/.local/share/archiver/ledgers/<name>-<16 hex>.sqlite``), keyed by the
collection's resolved root paths, so a read-only collection can be audited.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from archiver.model.errors import LedgerError

LEDGER_FILENAME = ".audit-ledger.sqlite"  # where earlier versions kept it, in the root
DEFAULT_ROOT = Path("bags")  # the collection when none is named (build's --out default)


def collection_key(roots: Sequence[str | Path]) -> str:
    """A collection's ledger name: ``<name>-<16 hex>``: the hex is the start of the SHA-256
    of its resolved root paths (sorted, unique, joined by newlines, UTF-8), the name the
    last part of the first of them (for people; only the hex identifies)."""
    resolved = sorted({str(Path(r).resolve()) for r in roots})
    digest = hashlib.sha256("\n".join(resolved).encode("utf-8", "surrogateescape")).hexdigest()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(resolved[0]).name)[:40]
    return f"{name.strip('.') or 'root'}-{digest[:16]}"


def ledger_directory() -> Path:
    """The per-user directory of default ledgers (``platformdirs.user_data_dir``)."""
    import platformdirs  # only when no ledger is named

    return Path(platformdirs.user_data_dir("archiver", appauthor=False)) / "ledgers"


def legacy_ledger(roots: Sequence[str | Path]) -> Path | None:
    """``<first root>/.audit-ledger.sqlite`` when an earlier version left one there."""
    if not roots:
        return None
    legacy = Path(roots[0]) / LEDGER_FILENAME
    return legacy if legacy.is_file() else None


def collection_ledger(roots: Sequence[str | Path] = (), *, make_directory: bool = True) -> Path:
    """The default ledger of the collection at ``roots`` (default ``bags``): the legacy
    file when there is one, else ``ledger_directory()/<collection_key(roots)>.sqlite``
    (``make_directory``: the directory is made when missing; LedgerError if it cannot be)."""
    homes = list(roots) or [DEFAULT_ROOT]
    legacy = legacy_ledger(homes)
    if legacy is not None:
        return legacy
    directory = ledger_directory()
    if make_directory:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"{directory}: cannot make the ledger directory ({exc})") from exc
    return directory / f"{collection_key(homes)}.sqlite"
