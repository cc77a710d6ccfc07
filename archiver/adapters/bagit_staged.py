"""bagit-python's ``Bag`` for a staging bag archiver just wrote: a lexical path check.

Overrides ``bagit.Bag._path_is_dangerous(self, path: str) -> bool``, a private method
that ``Bag.validate`` calls (through ``_validate_entries``/``payload_entries`` and the
fetch-file check) for every manifest and ``fetch.txt`` entry, with the entry already
``os.path.normpath``-ed. Also replaces the public ``manifest_files`` and
``tagmanifest_files``, which must yield the same paths in the order of
``bagit.CHECKSUM_ALGOS``; and the private ``_validate_entries(self, processes)``, the
step of ``validate`` that re-hashes every manifest entry (``bagit._calc_hashes`` for each,
then a ``ChecksumMismatch`` in a ``BagValidationError`` for each digest that differs).
Checked with bagit-python 1.9.0; ``tests/test_bagit_staged.py`` checks that the private
methods still exist with those signatures and are still what ``validate`` calls.

Also extends ``Bag._load_manifests`` (private, 1.9.0): bagit-python decodes only ``%0D``
and ``%0A`` in manifest paths, not the ``%25`` RFC 8493 section 2.1.3 requires for ``%``
(LibraryOfCongress/bagit-python issue #157, open), so a conforming bag with a ``%`` in a
file name fails its validation. After bagit-python has loaded the manifests, the entries'
``%25`` are decoded too, so the staged check validates what RFC 8493 says the bag holds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import bagit

# Files at least this large are re-hashed one thread per algorithm (see _validate_entries).
PARALLEL_MIN_SIZE = 4 << 20


class StagedBag(bagit.Bag):  # type: ignore[misc]
    """bagit-python's Bag with a lexical path-safety check for a staging bag we just wrote.

    bagit-python resolves every manifest entry and the bag itself with ``realpath`` (about
    two thirds of its time on a small bag). A staging bag holds no links (the payload is
    copied byte by byte, the tag files are written by us), so rejecting absolute paths,
    ``~`` and any ``..`` that leaves the bag decides the same; everything else (manifests,
    Oxum, completeness, every digest) is still bagit-python's own validation.

    bagit-python (and the profile check) also look for its manifests by testing
    ``manifest-<alg>.txt`` for each of 14 algorithms, several times per bag; here the bag
    root, which does not change while it is checked, is listed once and the same files
    are reported in the same order.

    The payload is still re-read and re-hashed from the staging bag, which is what makes
    the check independent of the copy (it sees the bytes that were written, not the
    buffers they were hashed from), but a large file's algorithms are computed in
    parallel: one thread per (file, algorithm), each reading the file itself with
    ``hashlib.file_digest`` (the file was just written, so it is read from the page cache;
    hashlib releases the GIL). On two cores sha256 and sha512 of a large file then cost
    the time of sha512 alone instead of both in one thread. Small files are hashed by
    bagit-python's own ``_calc_hashes``, as before.
    """

    _root_files: frozenset[str] | None = None
    entries: dict[str, dict[str, str]]  # bagit-python's: manifest path -> {algorithm: digest}

    def __init__(
        self, path: str, *, verified: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        """``verified``: payload files (manifest path -> {algorithm: digest}) whose written
        bytes were already read back and hashed while they were copied
        (``archiver.model.digest.ReadBack``); an entry whose manifest digests are exactly
        those is not read a second time. Every other entry is re-hashed."""
        self._verified = dict(verified or {})
        super().__init__(path)

    def _files_named(self, prefix: str) -> Iterator[str]:
        if self._root_files is None:
            with os.scandir(self.path) as entries:
                self._root_files = frozenset(e.name for e in entries if e.is_file())
        for alg in bagit.CHECKSUM_ALGOS:
            name = f"{prefix}-{alg}.txt"
            if name in self._root_files:
                yield os.path.join(self.path, name)

    def manifest_files(self) -> Iterator[str]:
        return self._files_named("manifest")

    def tagmanifest_files(self) -> Iterator[str]:
        return self._files_named("tagmanifest")

    def _load_manifests(self) -> None:
        super()._load_manifests()
        if any("%25" in path for path in self.entries):
            self.entries = {path.replace("%25", "%"): d for path, d in self.entries.items()}

    def _path_is_dangerous(self, path: str) -> bool:
        # Absolute, or '~' (which bagit-python would expand): dangerous. bagit-python has
        # already normalized the path, so only a leading '..' can leave the bag.
        if path.startswith(("/", "~")):
            return True
        normal = os.path.normpath(path)
        return normal == ".." or normal.startswith("../")

    def _validate_entries(self, processes: int) -> None:
        """bagit-python's ``_validate_entries`` (the same findings, in manifest order),
        with large files hashed one thread per algorithm."""
        large: dict[str, dict[str, str]] = {}
        results: list[tuple[str, Mapping[str, str], Mapping[str, str]]] = []
        for rel_path, hashes in self.entries.items():
            name = self.normalized_filesystem_names.get(rel_path, rel_path)
            wanted = {alg: hashes[alg].lower() for alg in hashes if alg in self.algorithms}
            if wanted and self._verified.get(rel_path) == wanted:
                results.append((rel_path, wanted, hashes))  # read back during the copy
                continue
            try:
                big = os.stat(os.path.join(self.path, name)).st_size >= PARALLEL_MIN_SIZE
            except OSError:
                big = False  # bagit-python reports it
            if big:
                pending = dict.fromkeys(wanted, "")
                large[rel_path] = pending
                results.append((rel_path, pending, hashes))
            else:
                results.append(bagit._calc_hashes((self.path, name, hashes, self.algorithms)))
        if large:
            self._hash_in_threads(large)
        errors = [
            bagit.ChecksumMismatch(rel_path, alg, hashes[alg].lower(), computed)
            for rel_path, computed_hashes, hashes in results
            for alg, computed in computed_hashes.items()
            if hashes[alg].lower() != computed
        ]
        if errors:
            raise bagit.BagValidationError("Bag validation failed", errors)

    def _hash_in_threads(self, files: dict[str, dict[str, str]]) -> None:
        """Fill each ``{algorithm: ""}`` of ``files`` with the file's hex digest (or
        bagit-python's message if it cannot be read), one thread per digest."""

        def digest(rel_path: str, alg: str) -> str:
            path = os.path.join(self.path, self.normalized_filesystem_names.get(rel_path, rel_path))
            try:
                with open(path, "rb") as stream:
                    return hashlib.file_digest(stream, alg).hexdigest()
            except OSError as exc:
                return f"Could not read {path}: {exc}"

        tasks = [(rel_path, alg) for rel_path, algs in files.items() for alg in algs]
        with ThreadPoolExecutor(max_workers=min(len(tasks), os.cpu_count() or 1)) as pool:
            for (rel_path, alg), hexdigest in zip(
                tasks, pool.map(lambda task: digest(*task), tasks), strict=True
            ):
                files[rel_path][alg] = hexdigest
