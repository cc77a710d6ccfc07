"""Pure parsing of BagIt tag files: bagit.txt, bag-info.txt, manifests and fetch.txt.

Every function here works on bytes or lines already read; nothing touches the disk. Parse
problems are returned as ``TagIssue`` records (never raised) so a validator can collect
all of them; the validator adds the bag's name when it turns them into findings.

Path policy (``path_problem``), checked lexically before any file-system access:

- absolute paths, ``..`` components and ``~`` / ``~user`` prefixes escape the bag;
- backslashes, drive letters (``C:``), UNC prefixes (``\\\\server``) and ``%VAR%``
  expansions are treated as escaping the bag on every platform, not only on Windows:
  a bag must validate the same wherever it is checked, and such a path would leave
  the bag when the bag is read on Windows. This is how archiver decides the
  conformance suite's ``windows-only`` cases: they are invalid (``unsafe-path``).
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

from archiver.model.digest import HEX_LENGTHS
from archiver.model.findings import Kind, Severity
from archiver.model.text import clip, parse_natural, shown

SUPPORTED_VERSIONS: frozenset[tuple[int, int]] = frozenset(
    {(0, 93), (0, 94), (0, 95), (0, 96), (0, 97), (1, 0)}
)

UTF8_BOM = codecs.BOM_UTF8
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_VERSION_LINE = re.compile(r"BagIt-Version: ([0-9]+)\.([0-9]+)")
_ENCODING_LINE = re.compile(r"Tag-File-Character-Encoding: (\S+)")
_MANIFEST_NAME = re.compile(r"(tag)?manifest-([A-Za-z0-9-]+)\.txt")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_ESCAPES = re.compile(r"%(0[AaDd]|25)")
_ESCAPED = {"0a": "\n", "0d": "\r", "25": "%"}
_DRIVE = re.compile(r"[A-Za-z]:")
_ENV_VAR = re.compile(r"%[A-Za-z_][A-Za-z0-9_]*%")
_OXUM = re.compile(r"([0-9]+)\.([0-9]+)")
# A manifest line nothing can be wrong with but its digest's length, its place (data/ or
# not) and a repeat: plain characters, no '.' or empty component ('/.', '//', a trailing
# '/'; a leading '.' or '/' is not matched), no escape, no whitespace in the path.
_PLAIN_LINE = re.compile(r"([0-9A-Fa-f]+) +([A-Za-z0-9_-][A-Za-z0-9_./-]*)")
MAX_VERSION_DIGITS = 4
STRICT_SCOPE_VERSION = (0, 97)  # manifests keep to their side of data/ from here on
EVERY_MANIFEST_VERSION = (1, 0)  # every payload file in every payload manifest from here on


@dataclass(frozen=True, slots=True)
class TagIssue:
    """A problem found while parsing a tag file; ``path`` is the file or entry at fault."""

    kind: Kind
    path: str
    message: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True, slots=True)
class Declaration:
    """The parsed bag declaration (bagit.txt)."""

    version: tuple[int, int]
    encoding: str

    @property
    def version_text(self) -> str:
        """The version as written, e.g. '1.0' or '0.97'."""
        return f"{self.version[0]}.{self.version[1]}"


class ManifestName(NamedTuple):
    """What a manifest's file name says: payload or tag manifest, and its algorithm."""

    name: str
    algorithm: str
    tag: bool


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed manifest: entries map a bag-relative path to its lower-case hex digest."""

    name: str
    algorithm: str
    tag: bool
    entries: dict[str, str] = field(default_factory=dict)
    unsafe: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchEntry:
    """One fetch.txt line: where a payload file can be fetched from (never fetched here)."""

    url: str
    length: int | None
    path: str


def manifest_name(name: str) -> ManifestName | None:
    """Parse ``manifest-ALG.txt`` / ``tagmanifest-ALG.txt``; None for any other name."""
    if "manifest-" not in name:  # most names: no regular expression
        return None
    return _manifest_name(name)


@functools.lru_cache(maxsize=256)  # every bag has the same few manifest names
def _manifest_name(name: str) -> ManifestName | None:
    match = _MANIFEST_NAME.fullmatch(name)
    if match is None:
        return None
    return ManifestName(name=name, algorithm=match.group(2).lower(), tag=bool(match.group(1)))


def split_lines(text: str) -> list[str]:
    """Split on CRLF, CR or LF (not on the other breaks str.splitlines knows); no final ''."""
    lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def decode_tag_file(data: bytes, encoding: str, name: str) -> tuple[list[str], list[TagIssue]]:
    """Decode a tag file in the declared encoding and split it into lines.

    A UTF-8 byte-order mark is dropped with a warning; undecodable bytes are an error.
    """
    issues: list[TagIssue] = []
    codec = _codec_name(encoding)
    if codec is None:
        issues.append(
            TagIssue(Kind.INVALID_DECLARATION, "bagit.txt", f"unknown encoding {shown(encoding)}")
        )
        codec = "utf-8"
    if codec == "utf-8" and data.startswith(UTF8_BOM):
        issues.append(
            TagIssue(Kind.INVALID_MANIFEST, name, "starts with a byte-order mark", Severity.WARNING)
        )
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        issues.append(
            TagIssue(Kind.INVALID_MANIFEST, name, f"not valid {encoding} at byte {exc.start}")
        )
        text = data.decode(codec, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return split_lines(text), issues


def _codec_name(encoding: str) -> str | None:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def parse_declaration(data: bytes) -> tuple[Declaration | None, list[TagIssue]]:
    """Parse bagit.txt: exactly 'BagIt-Version: M.N' and 'Tag-File-Character-Encoding: E'.

    UTF-8 without a byte-order mark; no stray whitespace; a known version; a known encoding.
    """
    name = "bagit.txt"
    issues: list[TagIssue] = []

    def bad(message: str) -> None:
        issues.append(TagIssue(Kind.INVALID_DECLARATION, name, message))

    if data.startswith(UTF8_BOM):
        bad("starts with a byte-order mark (BagIt forbids one)")
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad(f"not valid UTF-8 at byte {exc.start}")
        return None, issues
    lines = split_lines(text)
    if len(lines) != 2:
        bad(f"has {len(lines)} lines, expected exactly 2")
    version: tuple[int, int] | None = None
    encoding: str | None = None
    if lines:
        match = _VERSION_LINE.fullmatch(lines[0])
        if match is None:
            bad(f"line 1 {shown(lines[0])} is not 'BagIt-Version: M.N'")
        else:
            major = parse_natural(match.group(1), MAX_VERSION_DIGITS)
            minor = parse_natural(match.group(2), MAX_VERSION_DIGITS)
            version = None if major is None or minor is None else (major, minor)
            if version not in SUPPORTED_VERSIONS:
                written = clip(f"{match.group(1)}.{match.group(2)}")
                bad(f"line 1: unsupported BagIt version {written}")
                version = None
    if len(lines) >= 2:
        match = _ENCODING_LINE.fullmatch(lines[1])
        if match is None:
            bad(f"line 2 {shown(lines[1])} is not 'Tag-File-Character-Encoding: ENCODING'")
        elif _codec_name(match.group(1)) is None:
            bad(f"line 2: unknown encoding {shown(match.group(1))}")
        else:
            encoding = match.group(1)
    else:
        bad("line 2 'Tag-File-Character-Encoding' is missing")
    if version is None or encoding is None:
        return None, issues
    return Declaration(version=version, encoding=encoding), issues


def parse_bag_info(
    lines: Sequence[str], name: str = "bag-info.txt"
) -> tuple[list[tuple[str, str]], list[TagIssue]]:
    """Parse 'Label: value' lines with continuation lines (leading space or tab).

    Whitespace around the label and the value is dropped; labels may repeat. Returns the
    (label, value) pairs in file order and the problems found.
    """
    tags: list[tuple[str, str]] = []
    issues: list[TagIssue] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            issues.append(
                TagIssue(Kind.INVALID_MANIFEST, name, f"line {number} is blank", Severity.WARNING)
            )
            continue
        if line[0] in " \t":
            if not tags:
                issues.append(
                    TagIssue(Kind.INVALID_MANIFEST, name, f"line {number} continues no label")
                )
                continue
            label, value = tags[-1]
            tags[-1] = (label, f"{value} {line.strip()}")
            continue
        label, sep, value = line.partition(":")
        if not sep or not label.strip():
            issues.append(
                TagIssue(Kind.INVALID_MANIFEST, name, f"line {number} is not 'Label: value'")
            )
            continue
        tags.append((label.strip(), value.strip()))
    return tags, issues


def tag_values(tags: Iterable[tuple[str, str]], label: str) -> list[str]:
    """Every value of ``label`` (compared case-insensitively), in file order."""
    wanted = label.lower()
    if wanted.isascii():  # only an ASCII key of the same length lowers to it
        size = len(wanted)
        return [value for key, value in tags if len(key) == size and key.lower() == wanted]
    return [value for key, value in tags if key.lower() == wanted]


def parse_oxum(value: str) -> tuple[int, int] | None:
    """Payload-Oxum 'OCTETS.COUNT' as (octets, count); None when malformed or absurd
    (non-ASCII digits, or more digits than ``archiver.model.text.parse_natural`` takes)."""
    match = _OXUM.fullmatch(value.strip())
    if match is None:
        return None
    octets, count = parse_natural(match.group(1)), parse_natural(match.group(2))
    if octets is None or count is None:
        return None
    return octets, count


def decode_path(raw: str) -> str:
    """Undo the manifest/fetch escapes %0A, %0D and %25 (any case); nothing else."""
    if "%" not in raw:
        return raw
    return _ESCAPES.sub(lambda m: _ESCAPED[m.group(1).lower()], raw)


def path_problem(path: str) -> str | None:
    """Why a bag-relative path is unsafe, checked lexically; None when it is safe."""
    if not path:
        return "is empty"
    if "\x00" in path:
        return "contains a NUL byte"
    if path[0] == "/":
        return "is absolute"
    if "\\" in path:
        return "contains a backslash (a Windows path separator)"
    if _DRIVE.match(path):
        return "starts with a drive letter"
    if path[0] == "~":
        return "starts with '~' (a home directory)"
    if "%" in path and _ENV_VAR.search(path):
        return "contains a %VARIABLE% expansion"
    if ".." in path and ".." in path.split("/"):
        return "has a '..' component"
    return None


def _normalize_relative(path: str) -> tuple[str, bool, str | None]:
    """Strip leading './'; return (path, stripped, reason it is malformed or None)."""
    stripped = False
    while path.startswith("./"):
        path = path[2:]
        stripped = True
    if (
        path not in ("", ".")
        and "/." not in path
        and "//" not in path
        and path[0] != "/" != path[-1]
    ):
        return path, stripped, None  # no '.' or empty component possible (the common case)
    parts = path.split("/")
    if any(part in ("", ".") for part in parts):
        return path, stripped, "has an empty or '.' component"
    return path, stripped, None


def parse_manifest(
    lines: Sequence[str], name: str, algorithm: str, *, tag: bool, version: tuple[int, int]
) -> tuple[Manifest, list[TagIssue]]:
    """Parse manifest lines 'DIGEST PATH'.

    Checks hex syntax and length for the algorithm, escapes, a leading './' (warning),
    md5sum's '*' binary marker (warning), unsafe paths (kept apart in ``unsafe``, never
    entries), payload paths outside data/ and tag paths inside it, and duplicates: the
    same path twice with different digests is an error; with the same digest a warning
    before BagIt 1.0 and an error from 1.0 on. Rules new in a version apply by the bag's
    declared version: a payload manifest listing a tag file, or a tag manifest listing a
    payload file, is an error from 0.97 on (RFC 8493 §2.1.3, §2.2.1) and a warning before
    (the line is then skipped).
    """
    issues: list[TagIssue] = []
    entries: dict[str, str] = {}
    unsafe: list[str] = []
    expected_length = HEX_LENGTHS.get(algorithm)

    def issue(path: str, message: str, severity: Severity = Severity.ERROR) -> None:
        issues.append(TagIssue(Kind.INVALID_MANIFEST, path, f"{name}: {message}", severity))

    plain = _PLAIN_LINE.fullmatch
    for number, line in enumerate(lines, start=1):
        match = plain(line)
        if match is not None:  # the common line: the checks below would all pass but these
            digest, path = match.groups()
            if (
                len(digest) == expected_length
                and "/." not in path
                and "//" not in path
                and path[-1] != "/"
                and path.startswith("data/") is not tag
                and path not in entries
            ):
                entries[path] = digest.lower()
                continue
        if not line.strip():
            issue(name, f"line {number} is blank", Severity.WARNING)
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not parts[1].strip():
            issue(name, f"line {number} is not 'DIGEST PATH'")
            continue
        digest, raw_path = parts[0], parts[1]
        if raw_path.startswith("*"):
            issue(name, f"line {number} has md5sum's '*' binary marker", Severity.WARNING)
            raw_path = raw_path[1:]
        path = decode_path(raw_path)
        if _HEX.fullmatch(digest) is None:
            issue(path, f"line {number}: digest {shown(digest)} is not hexadecimal")
            continue
        if expected_length is not None and len(digest) != expected_length:
            issue(
                path,
                f"line {number}: {algorithm} digest has {len(digest)} hex digits, "
                f"expected {expected_length}",
            )
            continue
        unsafe_reason = path_problem(path)
        if unsafe_reason is not None:
            issues.append(
                TagIssue(Kind.UNSAFE_PATH, path, f"{name} line {number}: path {unsafe_reason}")
            )
            unsafe.append(path)
            continue
        path, stripped, malformed = _normalize_relative(path)
        if stripped:
            issue(path, f"line {number}: path starts with './'", Severity.WARNING)
        if malformed is not None:
            issue(path, f"line {number}: path {malformed}")
            continue
        in_payload = path.startswith("data/")
        scope = Severity.ERROR if version >= STRICT_SCOPE_VERSION else Severity.WARNING
        if not tag and not in_payload:
            issue(path, f"line {number}: payload manifest lists a path outside data/", scope)
            continue
        if tag and in_payload:
            issue(path, f"line {number}: tag manifest lists a payload file", scope)
            continue
        digest = digest.lower()
        previous = entries.get(path)
        if previous is not None:
            if previous != digest:
                issue(path, f"line {number}: listed again with a different digest")
            elif version >= (1, 0):
                issue(path, f"line {number}: listed twice (BagIt 1.0 forbids duplicates)")
            else:
                issue(path, f"line {number}: listed twice with the same digest", Severity.WARNING)
            continue
        entries[path] = digest
    manifest = Manifest(
        name=name, algorithm=algorithm, tag=tag, entries=entries, unsafe=tuple(unsafe)
    )
    return manifest, issues


def parse_fetch(
    lines: Sequence[str], name: str = "fetch.txt"
) -> tuple[list[FetchEntry], list[TagIssue]]:
    """Parse fetch.txt lines 'URL LENGTH PATH' (LENGTH a number or '-'); never fetches.

    Every line must be 'URL LENGTH PATH' (RFC 8493 §2.2.3): a blank line is an error.
    URLs need a scheme and a location; paths must be safe and inside data/.
    """
    entries: list[FetchEntry] = []
    issues: list[TagIssue] = []

    def issue(path: str, message: str, kind: Kind = Kind.INVALID_MANIFEST) -> None:
        issues.append(TagIssue(kind, path, f"{name}: {message}"))

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            issue(name, f"line {number} is blank (every line must be 'URL LENGTH PATH')")
            continue
        parts = line.split(None, 2)
        if len(parts) != 3:
            issue(name, f"line {number} is not 'URL LENGTH PATH'")
            continue
        url, length_text, raw_path = parts
        path = decode_path(raw_path.rstrip(" \t"))
        split = urlsplit(url)
        if not split.scheme or not (split.netloc or split.path):
            issue(path, f"line {number}: {shown(url)} is not an absolute URL")
            continue
        length: int | None = None
        if length_text != "-":
            length = parse_natural(length_text)
            if length is None:
                issue(path, f"line {number}: length {shown(length_text)} is not a number or '-'")
                continue
        reason = path_problem(path)
        if reason is not None:
            issue(path, f"line {number}: path {reason}", Kind.UNSAFE_PATH)
            continue
        path, _, malformed = _normalize_relative(path)
        if malformed is not None:
            issue(path, f"line {number}: path {malformed}")
            continue
        if not path.startswith("data/"):
            issue(path, f"line {number}: fetch.txt lists a path outside data/")
            continue
        entries.append(FetchEntry(url=url, length=length, path=path))
    return entries, issues
