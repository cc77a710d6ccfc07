"""Validate one bag: plan (parse tag files once, list the bag once) → hash → findings.

The work is split so an audit can pool the hashing of many bags:

- ``plan_bag`` lists the bag once (never following links), reads and parses each tag file
  once, checks paths lexically, completeness and Payload-Oxum, and returns a ``BagPlan``
  holding the findings so far and the ``HashJob`` list (one job per file, every
  algorithm of every manifest that lists it, so each file is read once);
- ``hash_jobs`` runs jobs with one reused buffer (in any process);
- ``finish_bag`` compares the ``HashResult`` list with the manifests' digests.

``validate_bag`` does the three in a row (``archiver.archive.verify`` does it for a
serialized bag, extracted safely into a temporary directory). Modes: ``full``
(everything), ``completeness`` (no hashing), ``fast`` (declaration, tag files, paths and
Payload-Oxum only, like bagit-python's fast validation).

This is BagIt alone: no archiver policy is applied unless the caller passes ``checkers``
(``archiver.checks`` composes archiver's profile and metadata checks with this engine).

Decisions the BagIt conformance suite leaves to the implementation:

- ``windows-only`` cases (drive letters, ``%VAR%``, UNC paths, backslashes) are
  invalid here on every platform: see ``archiver.bag.tagfiles.path_problem``.
- Names that differ only in case or Unicode normalization are a warning; a listed name
  absent on disk whose twin (same name up to case/normalization) is present and listed
  with the same digests is covered by that warning; a twin differing only in
  normalization and not listed is hashed in its place, with a warning.
- Special system files (``Thumbs.db``, ``.DS_Store``, ...) are a warning when present; a
  listed one that copy tools dropped is a warning, not a missing file, and a
  Payload-Oxum difference explained by such files alone is a warning too.
- A holey bag (fetch.txt lists files not yet fetched) is not complete: each absent
  file is ``missing-file``, whose message says fetch.txt covers it. Nothing is fetched.
- Links (and other non-regular files) anywhere in the bag are ``unsafe-path``; they are
  never followed, read or hashed.
- Tag files are read whole, so each is read only up to ``max_tag_bytes``
  (``MAX_TAG_BYTES``, 64 MiB, by default: about 400,000 sha512 manifest lines); a
  larger one is ``oversized-tag-file`` and is not read (a sparse 1 GiB bag-info.txt costs
  nothing). Its contents are then unknown: the checks that need it are skipped.
"""

from __future__ import annotations

import mmap
import os
import stat
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, NamedTuple

from archiver.bag.tagfiles import (
    EVERY_MANIFEST_VERSION,
    Declaration,
    FetchEntry,
    Manifest,
    TagIssue,
    decode_tag_file,
    manifest_name,
    parse_bag_info,
    parse_declaration,
    parse_fetch,
    parse_manifest,
    parse_oxum,
    tag_values,
)
from archiver.model.digest import (
    ALGORITHMS,
    BLOCK_SIZE,
    PRESERVATION_ALGORITHMS,
    digest_bytes,
    digest_stream,
    new_buffer,
)
from archiver.model.errors import BagReadError
from archiver.model.findings import BagReport, Finding, Kind, Severity, sort_findings
from archiver.model.text import shown
from archiver.storage.pagecache import hygienic_digest

Mode = Literal["full", "fast", "completeness"]
MODES: tuple[Mode, ...] = ("full", "fast", "completeness")

SYSTEM_FILES: frozenset[str] = frozenset(
    {".DS_Store", "Thumbs.db", "ehthumbs.db", "desktop.ini", "Desktop.ini", ".directory"}
)
WEAK_ALGORITHMS: frozenset[str] = frozenset({"md5", "sha1"})
DEFAULT_DECLARATION = Declaration(version=(1, 0), encoding="UTF-8")
# A full check records each tag manifest's digests with these (the ledger keeps them).
TAG_RECORD_ALGORITHMS = PRESERVATION_ALGORITHMS
MAX_TAG_BYTES = 64 << 20


def is_system_file(path: str) -> bool:
    """True for operating-system litter: Thumbs.db, .DS_Store, AppleDouble '._*' files."""
    base = path.rsplit("/", 1)[-1]
    return base in SYSTEM_FILES or base.startswith("._")


def _key(path: str) -> str:
    """Equivalence of names on case-insensitive, Unicode-normalizing file systems."""
    return unicodedata.normalize("NFC", path).casefold()


class Entry(NamedTuple):
    """One non-directory entry found when listing a bag (never followed)."""

    kind: Literal["file", "link", "other"]
    size: int


class HashJob(NamedTuple):
    """Hash one file of one bag with these algorithms (``file`` is where it is on disk).

    ``Entry``, ``HashJob`` and ``HashResult`` are named tuples, not frozen dataclasses:
    an audit makes several a file, and a tuple is made three times faster."""

    bag: str
    root: str
    path: str
    file: str
    size: int
    algorithms: tuple[str, ...]


class HashResult(NamedTuple):
    """What hashing a job found: digests and size, or why the file could not be read."""

    bag: str
    path: str
    digests: Mapping[str, str]
    size: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class BagPlan:
    """A bag parsed and listed, ready to hash: findings so far and the hash jobs left."""

    bag: str
    root: Path
    mode: Mode
    declaration: Declaration | None
    info: tuple[tuple[str, str], ...]
    manifests: tuple[Manifest, ...]
    fetch: tuple[FetchEntry, ...]
    tag_files: tuple[str, ...]
    findings: tuple[Finding, ...]
    jobs: tuple[HashJob, ...]
    expected: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    checks: tuple[str, ...] = ()
    tag_manifests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def job_bytes(self) -> int:
        """Bytes the hash jobs will read."""
        return sum(job.size for job in self.jobs)


Checker = Callable[[BagPlan], Iterable[Finding]]
"""An extra check run on a planned bag (profile conformance, metadata records)."""


def looks_like_bag(names: Iterable[str], has_data_dir: bool) -> bool:
    """A directory is a bag if it has bagit.txt, or data/ and at least one manifest."""
    listed = list(names)
    if "bagit.txt" in listed:
        return True
    return has_data_dir and any((m := manifest_name(n)) is not None and not m.tag for n in listed)


def _scan(root: Path) -> tuple[dict[str, Entry], list[tuple[str, str]], bool]:
    """List every non-directory entry under root once, without following links.

    Returns the entries, (directory, problem) pairs for subdirectories that cannot be
    listed, and whether data/ exists.
    """
    entries: dict[str, Entry] = {}
    problems: list[tuple[str, str]] = []
    has_data = False
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as it:
                for item in it:
                    rel = prefix + item.name
                    if item.is_file(follow_symlinks=False):  # most entries: one test
                        entries[rel] = Entry("file", item.stat(follow_symlinks=False).st_size)
                    elif item.is_dir(follow_symlinks=False):
                        if rel == "data":
                            has_data = True
                        stack.append((item.path, rel + "/"))
                    elif item.is_symlink():
                        entries[rel] = Entry("link", 0)
                    else:
                        entries[rel] = Entry("other", 0)
        except OSError as exc:
            if not prefix:
                raise BagReadError(f"{root}: cannot list the bag: {exc.strerror}") from exc
            problems.append((prefix.rstrip("/"), f"cannot be listed: {exc.strerror}"))
    return entries, problems, has_data


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _read_tag(root: str, rel: str, size: int = -1, limit: int = MAX_TAG_BYTES) -> bytes:
    """Read a tag file whole, refusing to follow a link swapped in after listing and to
    read more than ``limit`` bytes (``_TooLarge``: checked on the listed size, then bounded
    while reading, so a file growing meanwhile is caught too).

    ``size`` is the size the listing saw: one read of ``size + 1`` bytes that returns
    exactly ``size`` is the whole file (open, read, close); otherwise it reads on, to the
    end or past ``limit``.
    """
    if size > limit:
        raise _TooLarge(size)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    fd = os.open(os.path.join(root, rel), flags)
    try:
        data = os.read(fd, max(size, 0) + 1)
        if len(data) == size:
            return data
        chunks = [data]
        total = len(data)
        while data and total <= limit:
            data = os.read(fd, min(1 << 16, limit + 1 - total))
            chunks.append(data)
            total += len(data)
        if total > limit:
            raise _TooLarge(total)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_tag_file(bag: Path, rel: str, limit: int = MAX_TAG_BYTES) -> bytes | None:
    """A tag file of ``bag`` (``rel``: a '/'-separated path inside it) read whole, at most
    ``limit`` bytes, never through a link (neither the file nor a folder on its way);
    None when it is absent. BagReadError when it is a link, not a regular file, larger
    than ``limit`` or unreadable."""
    where = bag / rel
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise BagReadError(f"{where}: not a path inside the bag")
    try:
        for depth in range(1, len(parts)):
            folder = os.lstat(os.path.join(bag, *parts[:depth]))
            if not stat.S_ISDIR(folder.st_mode):
                raise BagReadError(f"{where}: {'/'.join(parts[:depth])} is not a folder")
        info = os.lstat(where)
        if not stat.S_ISREG(info.st_mode):
            raise BagReadError(f"{where}: not a regular file (links are not followed)")
        return _read_tag(str(bag), rel, info.st_size, limit)
    except FileNotFoundError:
        return None
    except _TooLarge as exc:
        raise BagReadError(f"{where}: {exc.size} bytes, more than a tag file may hold") from None
    except OSError as exc:
        raise BagReadError(f"{where}: cannot read ({exc.strerror})") from exc


def _open_nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC)


class HashingStopped(Exception):
    """The audit is being stopped: a hashing thread gives up at its next block."""


def _stop_check(stop: threading.Event | None) -> tuple[Callable[[memoryview], None], ...]:
    """A sink that raises ``HashingStopped`` once ``stop`` is set (none without one)."""
    if stop is None:
        return ()
    is_set = stop.is_set

    def check(_block: memoryview) -> None:
        if is_set():
            raise HashingStopped

    return (check,)


def hash_path(
    path: str,
    algorithms: Sequence[str],
    buffer: mmap.mmap | None = None,
    hygiene: bool = False,
    size: int = -1,
    stop: threading.Event | None = None,
) -> tuple[dict[str, str], int]:
    """Digest a file in a bag with every algorithm from one read; returns (digests, size).

    Like ``fileio.hash_file``, but a link (swapped in after the bag was listed) is refused
    (``OSError``), never followed, and the path is a plain string (no ``Path`` per file).
    With ``hygiene``, large files are read with read-ahead hints and the pages the read
    brought into the page cache are dropped afterwards (``archiver.storage.pagecache``). A file the
    listing saw smaller than ``BLOCK_SIZE`` (``size``) is read straight into the buffer
    with ``os.readv`` (``_digest_small``: open, read, close; no file object). Once
    ``stop`` is set, a larger file's read ends at its next block (``HashingStopped``).
    """
    if 0 <= size < BLOCK_SIZE:
        fd = _open_nofollow(path, os.O_RDONLY)
        try:
            return _digest_small(fd, algorithms, buffer, size)
        finally:
            os.close(fd)
    sinks = _stop_check(stop)
    with open(path, "rb", buffering=0, opener=_open_nofollow) as stream:
        if hygiene:
            return hygienic_digest(stream, algorithms, buffer, sinks)
        return digest_stream(stream, algorithms, buffer, sinks)


def _digest_small(
    fd: int, algorithms: Iterable[str], buffer: mmap.mmap | None, size: int
) -> tuple[dict[str, str], int]:
    """Digest an open file listed at ``size`` bytes: a short read that ends at ``size`` is
    the end of the file; otherwise it reads on until a read returns nothing."""
    hashes = [(name, ALGORITHMS[name]()) for name in algorithms]
    view = memoryview(buffer if buffer is not None else new_buffer())
    total = 0
    try:
        while True:
            n = os.readv(fd, [view])
            if not n:
                break
            total += n
            with view[:n] as chunk:
                for _, h in hashes:
                    h.update(chunk)
            if n < len(view) and total == size:
                break
    finally:
        view.release()
    return {name: h.hexdigest() for name, h in hashes}, total


class _Planner:
    """The state of planning one bag; used once by ``plan_bag``."""

    def __init__(self, root: Path, bag: str, mode: Mode, max_tag_bytes: int) -> None:
        self.max_tag_bytes = max_tag_bytes
        self.root = root
        self.root_text = str(root)
        self.bag = bag
        self.mode = mode
        self.findings: list[Finding] = []
        self.tag_data: dict[str, bytes] = {}
        self.checks: list[str] = []
        self.version = DEFAULT_DECLARATION.version

    def add(
        self,
        kind: Kind,
        path: str,
        message: str,
        severity: Severity = Severity.ERROR,
        **extra: str,
    ) -> None:
        self.findings.append(Finding(kind, self.bag, path, message, severity, **extra))

    def add_issues(self, issues: Iterable[TagIssue]) -> None:
        for issue in issues:
            self.add(issue.kind, issue.path, issue.message, issue.severity)

    def read(self, entries: Mapping[str, Entry], rel: str) -> bytes | None:
        entry = entries.get(rel)
        if entry is None or entry.kind != "file":
            return None
        try:
            data = _read_tag(self.root_text, rel, entry.size, self.max_tag_bytes)
        except _TooLarge as exc:
            self.add(
                Kind.OVERSIZED_TAG_FILE,
                rel,
                f"{exc.size} bytes, over the {self.max_tag_bytes}-byte limit for tag files; "
                "not read",
            )
            return None
        except OSError as exc:
            self.add(Kind.MISSING_FILE, rel, f"cannot be read: {exc.strerror}")
            return None
        self.tag_data[rel] = data
        return data


def plan_bag(
    root: Path,
    *,
    mode: Mode = "full",
    name: str | None = None,
    checkers: Sequence[Checker] = (),
    max_tag_bytes: int = MAX_TAG_BYTES,
) -> BagPlan:
    """List and parse a bag once; return its findings so far and the files left to hash.

    Tag files larger than ``max_tag_bytes`` are ``oversized-tag-file`` and not read.
    Raises ``BagReadError`` when ``root`` is not a directory or does not look like a bag.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    bag = name if name is not None else str(root)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        raise BagReadError(f"{root}: {what}")
    entries, unlisted, has_data = _scan(root)
    top = [rel for rel in entries if "/" not in rel]
    if not looks_like_bag(top, has_data):
        raise BagReadError(f"{root}: not a bag (no bagit.txt, and no data/ with a manifest)")
    p = _Planner(root, bag, mode, max_tag_bytes)
    for directory, problem in unlisted:
        p.add(Kind.MISSING_FILE, directory, problem)

    for rel, entry in entries.items():
        if entry.kind == "link":
            p.add(Kind.UNSAFE_PATH, rel, "is a symbolic link; not followed or read")
        elif entry.kind == "other":
            p.add(Kind.UNSAFE_PATH, rel, "is not a regular file; not read")

    # Declaration.
    p.checks.append("declaration")
    declaration: Declaration | None = None
    raw = p.read(entries, "bagit.txt")
    if raw is None:
        if "bagit.txt" not in entries:
            p.add(Kind.INVALID_DECLARATION, "bagit.txt", "is missing")
    else:
        declaration, issues = parse_declaration(raw)
        p.add_issues(issues)
    decl = declaration or DEFAULT_DECLARATION
    p.version = decl.version

    # Bag metadata (package-info.txt before 0.96).
    p.checks.append("bag-info")
    info: list[tuple[str, str]] = []
    info_name = "bag-info.txt"
    if "bag-info.txt" not in entries and "package-info.txt" in entries:
        info_name = "package-info.txt"
    raw = p.read(entries, info_name)
    if raw is not None:
        lines, issues = decode_tag_file(raw, decl.encoding, info_name)
        p.add_issues(issues)
        info, issues = parse_bag_info(lines, info_name)
        p.add_issues(issues)

    # Manifests: the directory was listed once; no probing per algorithm.
    p.checks.append("manifests")
    manifests: list[Manifest] = []
    for rel in sorted(top):
        described = manifest_name(rel)
        if described is None:
            continue
        if described.algorithm not in ALGORITHMS:
            p.add(
                Kind.INVALID_MANIFEST,
                rel,
                f"algorithm {described.algorithm!r} is not supported; not verified",
                Severity.WARNING,
            )
            continue
        raw = p.read(entries, rel)
        if raw is None:
            continue
        lines, issues = decode_tag_file(raw, decl.encoding, rel)
        p.add_issues(issues)
        manifest, issues = parse_manifest(
            lines, rel, described.algorithm, tag=described.tag, version=decl.version
        )
        p.add_issues(issues)
        manifests.append(manifest)
    payload_manifests = [m for m in manifests if not m.tag]
    tag_manifests = [m for m in manifests if m.tag]
    if not payload_manifests:
        p.add(Kind.MISSING_FILE, "manifest-*.txt", "the bag has no usable payload manifest")
    elif all(m.algorithm in WEAK_ALGORITHMS for m in payload_manifests):
        algs = ", ".join(m.algorithm for m in payload_manifests)
        p.add(
            Kind.INVALID_MANIFEST,
            payload_manifests[0].name,
            f"payload is protected only by weak algorithms ({algs})",
            Severity.WARNING,
        )
    if decl.version >= EVERY_MANIFEST_VERSION:
        # RFC 8493 §2.2.1: each tag manifest MUST list every payload manifest.
        for tag_manifest in tag_manifests:
            for payload_manifest in payload_manifests:
                if payload_manifest.name not in tag_manifest.entries:
                    p.add(
                        Kind.INVALID_MANIFEST,
                        payload_manifest.name,
                        f"not listed in {tag_manifest.name} (BagIt 1.0: every tag manifest "
                        "lists every payload manifest)",
                    )
    if tag_manifests:
        payload_algs = {m.algorithm for m in payload_manifests}
        tag_algs = {m.algorithm for m in tag_manifests}
        if payload_algs != tag_algs:
            p.add(
                Kind.INVALID_MANIFEST,
                tag_manifests[0].name,
                "tag manifests use algorithms "
                f"{sorted(tag_algs)} but payload manifests use {sorted(payload_algs)}",
                Severity.WARNING,
            )

    # fetch.txt: parsed and checked, never fetched.
    fetch: list[FetchEntry] = []
    raw = p.read(entries, "fetch.txt")
    if raw is not None:
        p.checks.append("fetch")
        lines, issues = decode_tag_file(raw, decl.encoding, "fetch.txt")
        p.add_issues(issues)
        fetch, issues = parse_fetch(lines)
        p.add_issues(issues)
        _check_fetch_listed(p, fetch, payload_manifests, decl.version)

    payload = {rel: e for rel, e in entries.items() if rel.startswith("data/")}
    for rel in payload:
        if is_system_file(rel):
            p.add(Kind.UNEXPECTED_FILE, rel, "is a special system file", Severity.WARNING)

    jobs: list[HashJob] = []
    expected: dict[str, dict[str, str]] = {}
    missing_system = 0
    if mode != "fast":
        p.checks.append("completeness")
        missing_system, payload_jobs = _check_payload(
            p, payload, payload_manifests, {f.path for f in fetch}, expected
        )
        _check_tags(p, entries, tag_manifests)
        if mode == "full":
            p.checks.append("checksums")
            jobs.extend(payload_jobs)
            jobs.extend(_tag_jobs(p, entries, tag_manifests, expected))

    p.checks.append("oxum")
    _check_oxum(p, info, info_name, payload, missing_system)

    files = sum(1 for e in payload.values() if e.kind == "file")
    size = sum(e.size for e in payload.values() if e.kind == "file")
    plan = BagPlan(
        bag=bag,
        root=root,
        mode=mode,
        declaration=declaration,
        info=tuple(info),
        manifests=tuple(manifests),
        fetch=tuple(fetch),
        tag_files=tuple(sorted(rel for rel in entries if not rel.startswith("data/"))),
        findings=tuple(p.findings),
        jobs=tuple(jobs),
        expected=expected,
        files=files,
        bytes=size,
        checks=tuple(p.checks),
        tag_manifests={
            m.name: digest_bytes(p.tag_data[m.name], TAG_RECORD_ALGORITHMS)
            for m in tag_manifests
            if m.name in p.tag_data
        }
        if mode == "full"
        else {},
    )
    extra: list[Finding] = []
    for checker in checkers:
        extra.extend(checker(plan))
    if extra:
        plan = replace(plan, findings=plan.findings + tuple(extra))
    return plan


def _check_fetch_listed(
    p: _Planner,
    fetch: Sequence[FetchEntry],
    manifests: Sequence[Manifest],
    version: tuple[int, int],
) -> None:
    """RFC 8493 §2.2.3: every file in fetch.txt MUST be listed in every payload manifest
    (before BagIt 1.0: in at least one)."""
    for entry in fetch:
        listed = [m for m in manifests if entry.path in m.entries]
        if version >= EVERY_MANIFEST_VERSION:
            for manifest in manifests:
                if manifest not in listed:
                    p.add(
                        Kind.INVALID_MANIFEST,
                        entry.path,
                        f"listed in fetch.txt but not in {manifest.name}",
                    )
        elif manifests and not listed:
            p.add(Kind.INVALID_MANIFEST, entry.path, "listed in fetch.txt but in no manifest")


def _check_payload(
    p: _Planner,
    payload: Mapping[str, Entry],
    manifests: Sequence[Manifest],
    fetched: set[str],
    expected: dict[str, dict[str, str]],
) -> tuple[int, list[HashJob]]:
    """Missing and unexpected payload files, and files absent from some manifests."""
    listed: dict[str, dict[str, str]] = {}
    for manifest in manifests:
        for path, digest in manifest.entries.items():
            listed.setdefault(path, {})[manifest.algorithm] = digest
    unsafe_listed = {path for m in manifests for path in m.unsafe}
    on_disk_by_key: dict[str, list[str]] = {}
    for rel in payload:
        on_disk_by_key.setdefault(_key(rel), []).append(rel)
    listed_by_key: dict[str, list[str]] = {}
    for path in listed:
        listed_by_key.setdefault(_key(path), []).append(path)
    for group in listed_by_key.values():
        if len(group) > 1:
            names = ", ".join(sorted(group))
            p.add(
                Kind.INVALID_MANIFEST,
                sorted(group)[0],
                f"names differ only in case or Unicode normalization: {names}",
                Severity.WARNING,
            )

    jobs: list[HashJob] = []
    matched: set[str] = set()
    missing_system = 0
    root = p.root_text
    for path in sorted(listed):
        digests = listed[path]
        entry = payload.get(path)
        disk_path = path
        if entry is None:
            twins = [q for q in on_disk_by_key.get(_key(path), []) if q != path]
            twin_listed = [q for q in twins if q in listed]
            twin_free = [
                q
                for q in twins
                if q not in listed
                and unicodedata.normalize("NFC", q) == unicodedata.normalize("NFC", path)
            ]
            if any(_same_digests(listed[q], digests) for q in twin_listed):
                continue
            if twin_free:
                disk_path = twin_free[0]
                entry = payload[disk_path]
                p.add(
                    Kind.INVALID_MANIFEST,
                    path,
                    f"found as {disk_path!r} (different Unicode normalization)",
                    Severity.WARNING,
                )
            elif is_system_file(path):
                missing_system += 1
                p.add(
                    Kind.MISSING_FILE,
                    path,
                    "special system file listed in the manifest is absent",
                    Severity.WARNING,
                )
                continue
            else:
                note = " (listed in fetch.txt, not fetched)" if path in fetched else ""
                p.add(Kind.MISSING_FILE, path, f"listed in a payload manifest but absent{note}")
                continue
        matched.add(disk_path)
        for manifest in manifests:
            if path not in manifest.entries:
                # RFC 8493 §3: every payload file in every payload manifest (new in 1.0;
                # before, one manifest is enough and the others may be partial).
                p.add(
                    Kind.INVALID_MANIFEST,
                    path,
                    f"not listed in {manifest.name}",
                    Severity.ERROR if p.version >= EVERY_MANIFEST_VERSION else Severity.WARNING,
                )
        if entry.kind != "file":
            continue  # a link or device: reported as unsafe-path, never read
        expected[path] = digests
        jobs.append(HashJob(p.bag, root, path, disk_path, entry.size, tuple(sorted(digests))))
    for rel in sorted(payload):
        if rel not in matched and rel not in listed and rel not in unsafe_listed:
            if payload[rel].kind == "file":
                p.add(Kind.UNEXPECTED_FILE, rel, "is in data/ but in no payload manifest")
    return missing_system, jobs


def _same_digests(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    common = a.keys() & b.keys()
    return bool(common) and all(a[alg] == b[alg] for alg in common)


def _check_tags(
    p: _Planner,
    entries: Mapping[str, Entry],
    manifests: Sequence[Manifest],
) -> None:
    """Tag files listed in tag manifests must be present."""
    reported: set[str] = set()
    for manifest in manifests:
        for path in manifest.entries:
            if path not in entries and path not in reported:
                reported.add(path)
                p.add(Kind.MISSING_FILE, path, f"listed in {manifest.name} but absent")


def _tag_jobs(
    p: _Planner,
    entries: Mapping[str, Entry],
    manifests: Sequence[Manifest],
    expected: dict[str, dict[str, str]],
) -> list[HashJob]:
    """Verify tag files already read in memory; return jobs for the others."""
    wanted: dict[str, dict[str, str]] = {}
    for manifest in manifests:
        for path, digest in manifest.entries.items():
            entry = entries.get(path)
            if entry is not None and entry.kind == "file":
                wanted.setdefault(path, {})[manifest.algorithm] = digest
    jobs: list[HashJob] = []
    for path in sorted(wanted):
        digests = wanted[path]
        data = p.tag_data.get(path)
        if data is None:
            expected[path] = digests
            jobs.append(
                HashJob(p.bag, p.root_text, path, path, entries[path].size, tuple(sorted(digests)))
            )
            continue
        found = digest_bytes(data, digests)
        p.findings.extend(_compare(p.bag, path, digests, found))
    return jobs


def _compare(
    bag: str, path: str, expected: Mapping[str, str], found: Mapping[str, str]
) -> list[Finding]:
    return [
        Finding(
            Kind.CHECKSUM_MISMATCH,
            bag,
            path,
            f"{alg} digest differs from the manifest",
            algorithm=alg,
            expected=expected[alg],
            found=found[alg],
        )
        for alg in sorted(expected)
        if found.get(alg) != expected[alg]
    ]


def _check_oxum(
    p: _Planner,
    info: Sequence[tuple[str, str]],
    info_name: str,
    payload: Mapping[str, Entry],
    missing_system: int,
) -> None:
    """Compare Payload-Oxum with the payload as listed (links make it meaningless)."""
    values = tag_values(info, "Payload-Oxum")
    if not values:
        if p.mode == "fast":
            p.add(
                Kind.OXUM_MISMATCH,
                info_name,
                "no Payload-Oxum: a fast check cannot verify the payload",
                Severity.WARNING,
            )
        return
    if len(values) > 1:
        p.add(Kind.INVALID_MANIFEST, info_name, "Payload-Oxum is given more than once")
        return
    oxum = parse_oxum(values[0])
    if oxum is None:
        message = f"Payload-Oxum {shown(values[0])} is not OCTETS.COUNT"
        p.add(Kind.INVALID_MANIFEST, info_name, message)
        return
    if any(e.kind != "file" for e in payload.values()):
        return  # links or devices in data/ are already unsafe-path findings
    found_bytes = sum(e.size for e in payload.values())
    found = (found_bytes, len(payload))
    if found == oxum:
        return
    explained = missing_system > 0 and found[1] + missing_system == oxum[1] and found[0] <= oxum[0]
    p.add(
        Kind.OXUM_MISMATCH,
        info_name,
        f"Payload-Oxum says {oxum[1]} files, {oxum[0]} bytes; data/ has {found[1]} files, "
        f"{found[0]} bytes" + (" (absent system files only)" if explained else ""),
        Severity.WARNING if explained else Severity.ERROR,
        expected=f"{oxum[0]}.{oxum[1]}",
        found=f"{found[0]}.{found[1]}",
    )


def hash_jobs(
    jobs: Iterable[HashJob],
    buffer: mmap.mmap | None = None,
    hygiene: bool = False,
    stop: threading.Event | None = None,
) -> list[HashResult]:
    """Hash each job's file once with all its algorithms, reusing one buffer (``hygiene``
    and ``stop``: see ``hash_path``; once ``stop`` is set no further file is begun)."""
    buf = buffer if buffer is not None else new_buffer()
    results: list[HashResult] = []
    for job in jobs:
        if stop is not None and stop.is_set():
            raise HashingStopped
        try:
            path = os.path.join(job.root, job.file)
            digests, size = hash_path(path, job.algorithms, buf, hygiene, job.size, stop)
        except OSError as exc:
            results.append(HashResult(job.bag, job.path, {}, 0, exc.strerror or str(exc)))
            continue
        results.append(HashResult(job.bag, job.path, digests, size))
    return results


def finish_bag(plan: BagPlan, results: Iterable[HashResult]) -> BagReport:
    """Compare hash results with the manifests and return the bag's report.

    The report's ``files`` and ``bytes`` count the payload (data/) as listed, in every mode.
    """
    findings = list(plan.findings)
    for result in results:
        if result.error is not None:
            message = f"cannot be read: {result.error}"
            findings.append(Finding(Kind.MISSING_FILE, plan.bag, result.path, message))
            continue
        findings.extend(_compare(plan.bag, result.path, plan.expected[result.path], result.digests))
    return BagReport(
        bag=plan.bag,
        findings=tuple(sort_findings(findings)),
        files=plan.files,
        bytes=plan.bytes,
        checks=plan.checks,
        tag_manifests=plan.tag_manifests,
    )


def validate_bag(
    path: Path | str,
    *,
    mode: Mode = "full",
    name: str | None = None,
    checkers: Sequence[Checker] = (),
    buffer: mmap.mmap | None = None,
    max_tag_bytes: int = MAX_TAG_BYTES,
) -> BagReport:
    """Validate one bag and return every finding (raises ``BagReadError`` if not a bag).

    BagIt alone unless ``checkers`` add checks (``archiver.checks`` adds archiver's
    profile and metadata records).
    """
    plan = plan_bag(
        Path(path), mode=mode, name=name, checkers=checkers, max_tag_bytes=max_tag_bytes
    )
    return finish_bag(plan, hash_jobs(plan.jobs, buffer))
