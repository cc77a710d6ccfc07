"""bagit-python's ``Bag`` for a staging bag archiver just wrote: a lexical path check.

Overrides ``bagit.Bag._path_is_dangerous(self, path: str) -> bool``, a private method
that ``Bag.validate`` calls (through ``_validate_entries``/``payload_entries`` and the
fetch-file check) for every manifest and ``fetch.txt`` entry, with the entry already
``os.path.normpath``-ed. Also replaces the public ``manifest_files`` and
``tagmanifest_files``, which must yield the same paths in the order of
``bagit.CHECKSUM_ALGOS``. Checked with bagit-python 1.9.0;
``tests/test_bagit_staged.py`` checks that the private method still exists with that
signature and is still what ``validate`` calls on an unsafe manifest entry.

Also extends ``Bag._load_manifests`` (private, 1.9.0): bagit-python decodes only ``%0D``
and ``%0A`` in manifest paths, not the ``%25`` RFC 8493 section 2.1.3 requires for ``%``
(LibraryOfCongress/bagit-python issue #157, open), so a conforming bag with a ``%`` in a
file name fails its validation. After bagit-python has loaded the manifests, the entries'
``%25`` are decoded too, so the staged check validates what RFC 8493 says the bag holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import bagit


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
    """

    _root_files: frozenset[str] | None = None
    entries: dict[str, dict[str, str]]  # bagit-python's: manifest path -> {algorithm: digest}

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
