"""Deterministic benchmark corpora: many small sources with a catalog, and one large bag.

Every byte comes from a seeded ``random.Random``, so two runs with the same seed and sizes
produce identical corpora (and a corpus on disk can be reused when its stamp matches).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
from pathlib import Path

SEED = 20111216
WORDS = (
    "statement appeal human rights organization protest strike investigation police "
    "freedom assembly expression journalist detention release commission oblast city "
    "workers oil field december january government international community open letter "
    "independent thorough objective violence peaceful citizens internet blockade trial"
).split()
CATALOG_HEADER = (
    "filename",
    "dc.identifier",
    "dc.title",
    "dc.creator",
    "dc.creator",
    "dc.date",
    "dc.description",
    "dc.subject",
    "dc.subject",
    "dc.language",
    "dc.type",
    "dcterms.spatial",
    "premis.copyrightStatus",
)
STAMP = ".corpus.json"


def text_block(rng: random.Random, size: int) -> bytes:
    """About ``size`` bytes of UTF-8 prose made of lines of words (LF endings)."""
    out = io.StringIO()
    written = 0
    while written < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()
        line += ".\n"
        out.write(line)
        written += len(line)
    return out.getvalue().encode("utf-8")


def source_name(index: int) -> str:
    """The file name of the ``index``-th small source."""
    return f"s{index:06d}.txt"


def catalog_row(rng: random.Random, index: int) -> list[str]:
    """One catalog row describing source ``index``."""
    name = source_name(index)
    year = rng.choice((2011, 2022))
    month = 12 if year == 2011 else 1
    return [
        name,
        name.removesuffix(".txt"),
        f"Statement {index} on the events of {year}",
        f"Organization {rng.randint(1, 500)}",
        f"Committee {rng.randint(1, 500)}",
        f"{year}-{month:02d}-{rng.randint(1, 28):02d}",
        "A generated statement for the benchmark corpus; "
        + " ".join(rng.choice(WORDS) for _ in range(20)),
        rng.choice(("Human rights", "Protests", "Strikes")),
        rng.choice(("Police", "Freedom of assembly", "Investigations")),
        "en",
        "Text",
        "Kazakhstan",
        "unknown",
    ]


def _stamp_matches(directory: Path, spec: dict[str, object]) -> bool:
    try:
        return bool(json.loads((directory / STAMP).read_text()) == spec)
    except (OSError, ValueError):
        return False


def _write_stamp(directory: Path, spec: dict[str, object]) -> None:
    (directory / STAMP).write_text(json.dumps(spec))


def make_small_sources(directory: Path, count: int, size: int = 4096, seed: int = SEED) -> Path:
    """``count`` texts of ~``size`` bytes and their ``metadata.csv``; returns the catalog.

    Reuses ``directory`` if it already holds the same corpus (same count, size and seed).
    """
    spec: dict[str, object] = {"kind": "small", "count": count, "size": size, "seed": seed}
    catalog = directory / "metadata.csv"
    if _stamp_matches(directory, spec):
        return catalog
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    rng = random.Random(seed)
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(CATALOG_HEADER)
    for index in range(count):
        (directory / source_name(index)).write_bytes(text_block(rng, size))
        writer.writerow(catalog_row(rng, index))
    catalog.write_text(rows.getvalue(), encoding="utf-8")
    _write_stamp(directory, spec)
    return catalog


def make_large_files(directory: Path, count: int, size: int, seed: int = SEED) -> list[Path]:
    """``count`` files of exactly ``size`` bytes of seeded random data in ``directory``.

    Each file is made of one 1 MiB seeded random block per file, repeated with a per-block
    counter so the content is not trivially compressible or deduplicated.
    """
    spec: dict[str, object] = {"kind": "large", "count": count, "size": size, "seed": seed}
    paths = [directory / f"large-{i:02d}.bin" for i in range(count)]
    if _stamp_matches(directory, spec) and all(p.is_file() for p in paths):
        return paths
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    block = 1 << 20
    for i, path in enumerate(paths):
        rng = random.Random(seed + i)
        base = bytearray(rng.randbytes(block))
        with open(path, "wb") as out:
            left = size
            counter = 0
            while left > 0:
                base[:8] = counter.to_bytes(8, "little")
                n = min(block, left)
                out.write(base[:n] if n < block else base)
                left -= n
                counter += 1
        os.utime(path, (0, 0))
    _write_stamp(directory, spec)
    return paths


def make_large_bag(root: Path, count: int, size: int, processes: int = 1, seed: int = SEED) -> Path:
    """A bagit-python bag (sha256+sha512) holding ``count`` seeded files of ``size`` bytes.

    Made in ``root/bag`` and reused while ``root``'s stamp matches.
    """
    spec: dict[str, object] = {"kind": "large-bag", "count": count, "size": size, "seed": seed}
    bag = root / "bag"
    if _stamp_matches(root, spec) and (bag / "bagit.txt").is_file():
        return bag
    if root.exists():
        shutil.rmtree(root)
    make_large_files(bag, count, size, seed)
    (bag / STAMP).unlink()
    import bagit

    bagit.make_bag(
        str(bag), {"Source-Organization": "archiver bench"}, processes, ["sha256", "sha512"]
    )
    _write_stamp(root, spec)
    return bag


def make_large_item(directory: Path, size: int, seed: int = SEED) -> Path:
    """One seeded random file of ``size`` bytes and a one-row ``metadata.csv`` describing
    it (the build of one large item); returns the catalog. Reused while unchanged."""
    catalog = directory / "metadata.csv"
    spec: dict[str, object] = {"kind": "item", "size": size, "seed": seed}
    if _stamp_matches(directory, spec) and catalog.is_file():
        return catalog
    if directory.exists():
        shutil.rmtree(directory)
    (payload,) = make_large_files(directory, 1, size, seed)
    row = catalog_row(random.Random(seed), 0)
    row[0], row[1], row[10] = payload.name, payload.stem, "Dataset"
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(CATALOG_HEADER)
    writer.writerow(row)
    catalog.write_text(rows.getvalue(), encoding="utf-8")
    _write_stamp(directory, spec)
    return catalog
