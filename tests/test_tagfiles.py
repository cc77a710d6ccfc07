"""Tests for bag.tagfiles: pure parsing of bagit.txt, bag-info.txt, manifests, fetch.txt."""

from __future__ import annotations

import pytest

from archiver.bag.tagfiles import (
    Declaration,
    Manifest,
    TagIssue,
    decode_path,
    decode_tag_file,
    manifest_name,
    parse_bag_info,
    parse_declaration,
    parse_fetch,
    parse_manifest,
    parse_oxum,
    path_problem,
    split_lines,
    tag_values,
)
from archiver.model.findings import Kind, Severity

SHA256_A = "a" * 64
SHA256_B = "b" * 64
MD5_A = "a" * 32


# ------------------------------------------------------------------ bagit.txt


@pytest.mark.parametrize(
    ("data", "version", "encoding"),
    [
        (b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", (1, 0), "UTF-8"),
        (b"BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-8\r\n", (0, 97), "UTF-8"),
        (b"BagIt-Version: 0.95\r\nTag-File-Character-Encoding: UTF-8", (0, 95), "UTF-8"),
        (b"BagIt-Version: 0.97\nTag-File-Character-Encoding: ISO-8859-1\n", (0, 97), "ISO-8859-1"),
    ],
)
def test_declaration_valid(data: bytes, version: tuple[int, int], encoding: str) -> None:
    declaration, issues = parse_declaration(data)
    assert issues == []
    assert declaration == Declaration(version=version, encoding=encoding)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\xef\xbb\xbfBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", "byte-order"),
        (b"BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n", "line 1"),
        (b"BagIt-Version : 1.0\nTag-File-Character-Encoding : UTF-8\n", "line 1"),
        (b"BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n", "line 1"),
        (b"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n", "unsupported"),
        (b"BagIt-Version: 0.97\n", "missing"),
        (b"BagIt-Version: 1.0\nTag-File-Character-Encoding: NOPE-9\n", "unknown encoding"),
        (b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nExtra: 1\n", "3 lines"),
        (b"BagIt-Version: 1.0\xff\nTag-File-Character-Encoding: UTF-8\n", "not valid UTF-8"),
        (b"", "0 lines"),
    ],
)
def test_declaration_invalid(data: bytes, fragment: str) -> None:
    _, issues = parse_declaration(data)
    assert issues, "expected a problem"
    assert all(i.kind is Kind.INVALID_DECLARATION and i.path == "bagit.txt" for i in issues)
    assert any(fragment in i.message for i in issues), [i.message for i in issues]


# ------------------------------------------------------------------ encodings and lines


def test_split_lines_handles_every_line_break_but_no_others() -> None:
    assert split_lines("a\r\nb\rc\nd\x0ce\n") == ["a", "b", "c", "d\x0ce"]


@pytest.mark.parametrize(
    ("data", "encoding", "lines", "warnings"),
    [
        (b"A: 1\nB: 2\n", "UTF-8", ["A: 1", "B: 2"], 0),
        (b"\xef\xbb\xbfA: 1\n", "UTF-8", ["A: 1"], 1),
        ("A: é\n".encode("utf-16"), "UTF-16", ["A: é"], 0),
        ("A: é\n".encode("latin-1"), "ISO-8859-1", ["A: é"], 0),
    ],
)
def test_decode_tag_file(data: bytes, encoding: str, lines: list[str], warnings: int) -> None:
    decoded, issues = decode_tag_file(data, encoding, "bag-info.txt")
    assert decoded == lines
    assert len(issues) == warnings
    assert all(i.severity is Severity.WARNING for i in issues)


def test_decode_tag_file_bad_bytes_is_an_error() -> None:
    _, issues = decode_tag_file(b"A: \xff\n", "UTF-8", "bag-info.txt")
    assert [(i.kind, i.path, i.severity) for i in issues] == [
        (Kind.INVALID_MANIFEST, "bag-info.txt", Severity.ERROR)
    ]


# ------------------------------------------------------------------ bag-info.txt


def test_bag_info_labels_continuations_and_separators() -> None:
    lines = [
        "Source-Organization: Spengler",
        "External-Description: first",
        "   second line",
        "\tthird",
        "Test-Tag : 3",
        "Test-Tag    :   5",
        "Contact-Email: a@b.c",
        "Contact-Email: d@e.f",
    ]
    tags, issues = parse_bag_info(lines)
    assert issues == []
    assert ("External-Description", "first second line third") in tags
    assert tag_values(tags, "test-tag") == ["3", "5"]
    assert tag_values(tags, "Contact-Email") == ["a@b.c", "d@e.f"]


@pytest.mark.parametrize(
    ("lines", "severity", "fragment"),
    [
        (["  orphan continuation"], Severity.ERROR, "continues no label"),
        (["no separator here"], Severity.ERROR, "not 'Label: value'"),
        ([": no label"], Severity.ERROR, "not 'Label: value'"),
        (["A: 1", "", "B: 2"], Severity.WARNING, "blank"),
    ],
)
def test_bag_info_problems(lines: list[str], severity: Severity, fragment: str) -> None:
    _, issues = parse_bag_info(lines)
    assert len(issues) == 1
    assert issues[0].severity is severity
    assert issues[0].kind is Kind.INVALID_MANIFEST
    assert fragment in issues[0].message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("58.2", (58, 2)), (" 0.0 ", (0, 0)), ("58", None), ("a.b", None), ("1.2.3", None)],
)
def test_parse_oxum(value: str, expected: tuple[int, int] | None) -> None:
    assert parse_oxum(value) == expected


# ------------------------------------------------------------------ paths


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("data/a%0Ab", "data/a\nb"),
        ("data/a%0db", "data/a\rb"),
        ("data/100%25", "data/100%"),
        ("data/%7Etest1.txt", "data/%7Etest1.txt"),
        ("data/%test2.txt", "data/%test2.txt"),
        ("data/%2525", "data/%25"),
    ],
)
def test_decode_path(raw: str, decoded: str) -> None:
    assert decode_path(raw) == decoded


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/etc/passwd", "absolute"),
        ("../../../README.md", "'..'"),
        ("data/../../x", "'..'"),
        ("~/foo", "'~'"),
        ("~root/foo", "'~'"),
        ("C:\\Windows\\System32\\setx.exe", "backslash"),
        ("C:/Windows/setx.exe", "drive letter"),
        ("\\\\?\\UNC\\server\\x", "backslash"),
        ("%HomeDrive%/Windows", "%VARIABLE%"),
        ("data/a\x00b", "NUL"),
        ("", "empty"),
    ],
)
def test_path_problem_unsafe(path: str, fragment: str) -> None:
    reason = path_problem(path)
    assert reason is not None and fragment in reason


@pytest.mark.parametrize(
    "path", ["data/a.txt", "data/dir1/~test3.txt", "data/%7Edir2/x", "data/..a", "data/a b"]
)
def test_path_problem_safe(path: str) -> None:
    assert path_problem(path) is None


# ------------------------------------------------------------------ manifests


@pytest.mark.parametrize(
    ("name", "algorithm", "tag"),
    [
        ("manifest-sha256.txt", "sha256", False),
        ("tagmanifest-sha512.txt", "sha512", True),
        ("manifest-SHA256.txt", "sha256", False),
        ("manifest-sha3-256.txt", "sha3-256", False),
    ],
)
def test_manifest_name(name: str, algorithm: str, tag: bool) -> None:
    described = manifest_name(name)
    assert described is not None
    assert (described.algorithm, described.tag) == (algorithm, tag)


@pytest.mark.parametrize("name", ["bag-info.txt", "manifest-.txt", "manifest-sha256.txt.bak"])
def test_manifest_name_rejects(name: str) -> None:
    assert manifest_name(name) is None


def _manifest(
    lines: list[str], *, tag: bool = False, version: tuple[int, int] = (1, 0)
) -> tuple[Manifest, list[TagIssue]]:
    name = "tagmanifest-sha256.txt" if tag else "manifest-sha256.txt"
    return parse_manifest(lines, name, "sha256", tag=tag, version=version)


def test_manifest_valid_entries() -> None:
    manifest, issues = _manifest(
        [
            f"{SHA256_A.upper()}  data/a.txt",
            f"{SHA256_B} data/with space.txt",
            f"{SHA256_A}\tdata/b",
        ]
    )
    assert issues == []
    assert manifest.entries == {
        "data/a.txt": SHA256_A,
        "data/with space.txt": SHA256_B,
        "data/b": SHA256_A,
    }


@pytest.mark.parametrize(
    ("lines", "kind", "severity", "path", "fragment", "version"),
    [
        ([f"{SHA256_A}"], Kind.INVALID_MANIFEST, Severity.ERROR, "manifest-sha256.txt",
         "not 'DIGEST PATH'", (1, 0)),
        ([f"{'z' * 64}  data/a"], Kind.INVALID_MANIFEST, Severity.ERROR, "data/a",
         "not hexadecimal", (1, 0)),
        ([f"{MD5_A}  data/a"], Kind.INVALID_MANIFEST, Severity.ERROR, "data/a",
         "32 hex digits, expected 64", (1, 0)),
        ([f"{SHA256_A}  other/a"], Kind.INVALID_MANIFEST, Severity.ERROR, "other/a",
         "outside data/", (1, 0)),
        ([f"{SHA256_A}  data//a"], Kind.INVALID_MANIFEST, Severity.ERROR, "data//a",
         "empty or '.'", (1, 0)),
        ([f"{SHA256_A}  ./data/a"], Kind.INVALID_MANIFEST, Severity.WARNING, "data/a",
         "starts with './'", (1, 0)),
        ([f"{SHA256_A} *data/a"], Kind.INVALID_MANIFEST, Severity.WARNING,
         "manifest-sha256.txt", "binary marker", (1, 0)),
        ([f"{SHA256_A}  ../x"], Kind.UNSAFE_PATH, Severity.ERROR, "../x", "'..'", (1, 0)),
        ([f"{SHA256_A}  /tmp/foo"], Kind.UNSAFE_PATH, Severity.ERROR, "/tmp/foo", "absolute",
         (1, 0)),
        ([f"{SHA256_A}  data/a", f"{SHA256_B}  data/a"], Kind.INVALID_MANIFEST, Severity.ERROR,
         "data/a", "different digest", (0, 97)),
        ([f"{SHA256_A}  data/a", f"{SHA256_A}  data/a"], Kind.INVALID_MANIFEST,
         Severity.WARNING, "data/a", "same digest", (0, 97)),
        ([f"{SHA256_A}  data/a", f"{SHA256_A}  data/a"], Kind.INVALID_MANIFEST, Severity.ERROR,
         "data/a", "forbids duplicates", (1, 0)),
        ([f"{SHA256_A}  data/a", ""], Kind.INVALID_MANIFEST, Severity.WARNING,
         "manifest-sha256.txt", "blank", (1, 0)),
    ],
)  # fmt: skip
def test_manifest_problems(
    lines: list[str],
    kind: Kind,
    severity: Severity,
    path: str,
    fragment: str,
    version: tuple[int, int],
) -> None:
    _, issues = _manifest(lines, version=version)
    assert len(issues) == 1, issues
    issue = issues[0]
    assert (issue.kind, issue.severity, issue.path) == (kind, severity, path)
    assert fragment in issue.message


def test_manifest_unsafe_paths_are_kept_apart() -> None:
    manifest, _ = _manifest([f"{SHA256_A}  data/a", f"{SHA256_A}  ~/foo"])
    assert manifest.entries == {"data/a": SHA256_A}
    assert manifest.unsafe == ("~/foo",)


def test_tag_manifest_must_not_list_payload() -> None:
    manifest, issues = _manifest([f"{SHA256_A}  bag-info.txt", f"{SHA256_A}  data/a"], tag=True)
    assert manifest.entries == {"bag-info.txt": SHA256_A}
    assert [(i.path, "payload file" in i.message) for i in issues] == [("data/a", True)]


def test_manifest_escaped_newline_in_name() -> None:
    manifest, issues = _manifest([f"{SHA256_A}  data/line%0Abreak"])
    assert issues == []
    assert list(manifest.entries) == ["data/line\nbreak"]


# ------------------------------------------------------------------ fetch.txt


def test_fetch_valid() -> None:
    entries, issues = parse_fetch(
        [
            "http://example.org/a.txt - data/a.txt",
            "https://example.org/b%20c 12 data/b c.txt",
        ]
    )
    assert issues == []
    assert [(e.url, e.length, e.path) for e in entries] == [
        ("http://example.org/a.txt", None, "data/a.txt"),
        ("https://example.org/b%20c", 12, "data/b c.txt"),
    ]


@pytest.mark.parametrize(
    ("line", "kind", "path", "fragment"),
    [
        ("http://x/a - ../../../README.md", Kind.UNSAFE_PATH, "../../../README.md", "'..'"),
        ("https://en.wikipedia.org - /tmp/test.txt", Kind.UNSAFE_PATH, "/tmp/test.txt",
         "absolute"),
        ("https://x - ~root/foo", Kind.UNSAFE_PATH, "~root/foo", "'~'"),
        ("https://x - C:\\Windows\\setx.exe", Kind.UNSAFE_PATH, "C:\\Windows\\setx.exe",
         "backslash"),
        ("not-a-url - data/a", Kind.INVALID_MANIFEST, "data/a", "not an absolute URL"),
        ("http://x/a ten data/a", Kind.INVALID_MANIFEST, "data/a", "not a number"),
        ("http://x/a - bag-info.txt", Kind.INVALID_MANIFEST, "bag-info.txt", "outside data/"),
        ("http://x/a data/a", Kind.INVALID_MANIFEST, "fetch.txt", "not 'URL LENGTH PATH'"),
    ],
)  # fmt: skip
def test_fetch_problems(line: str, kind: Kind, path: str, fragment: str) -> None:
    entries, issues = parse_fetch([line])
    assert entries == []
    assert len(issues) == 1
    assert (issues[0].kind, issues[0].path) == (kind, path)
    assert fragment in issues[0].message


A256 = "ab" * 32


@pytest.mark.parametrize(
    ("line", "tag", "kind"),
    [
        (f"{A256}  data/a/", False, Kind.INVALID_MANIFEST),  # empty last component
        (f"{A256}  data//a", False, Kind.INVALID_MANIFEST),
        (f"{A256}  data/./a", False, Kind.INVALID_MANIFEST),
        (f"{A256}  data/../../a", False, Kind.UNSAFE_PATH),
        (f"{A256[:-2]}  data/a", False, Kind.INVALID_MANIFEST),  # too short for sha256
        (f"{A256}  data/a", True, Kind.INVALID_MANIFEST),  # tag manifest lists payload
        (f"{A256}  bag-info.txt", False, Kind.INVALID_MANIFEST),  # payload outside data/
    ],
)
def test_plain_looking_lines_still_get_every_check(line: str, tag: bool, kind: Kind) -> None:
    manifest, issues = parse_manifest([line], "m.txt", "sha256", tag=tag, version=(1, 0))
    assert manifest.entries == {}
    assert [i.kind for i in issues] == [kind]


def test_plain_lines_parse_like_any_other() -> None:
    lines = [f"{A256.upper()}  data/a.txt", f"{A256} data/b-c_d.1.txt", f"{A256}  data/a.txt"]
    manifest, issues = parse_manifest(lines, "m.txt", "sha256", tag=False, version=(1, 0))
    assert manifest.entries == {"data/a.txt": A256, "data/b-c_d.1.txt": A256}
    assert [(i.path, i.message) for i in issues] == [
        ("data/a.txt", "m.txt: line 3: listed twice (BagIt 1.0 forbids duplicates)")
    ]


# ------------------------------------------------------------------ issue 9: hostile values


def test_huge_bagit_version_is_a_finding_not_a_crash() -> None:
    """A 5,000-digit version: int() would raise (3.11+ digit limit); one clipped finding."""
    data = b"BagIt-Version: " + b"1" * 5000 + b".0\nTag-File-Character-Encoding: UTF-8\n"
    declaration, issues = parse_declaration(data)
    assert declaration is None
    assert [i.kind for i in issues] == [Kind.INVALID_DECLARATION]
    assert "unsupported BagIt version" in issues[0].message
    assert len(issues[0].message) < 200


@pytest.mark.parametrize(
    "value", ["9" * 5000 + ".1", "1." + "9" * 5000, "\u0661\u0662.1", "12.\u00b2", "-1.1"]
)
def test_absurd_payload_oxum_is_malformed(value: str) -> None:
    assert parse_oxum(value) is None


@pytest.mark.parametrize("length", ["\u0661\u0662", "\u00b2", "9" * 5000, "+5", "1_0"])
def test_fetch_length_must_be_ascii_digits(length: str) -> None:
    entries, issues = parse_fetch([f"http://x/a {length} data/a"])
    assert entries == []
    assert [(i.kind, i.path) for i in issues] == [(Kind.INVALID_MANIFEST, "data/a")]
    assert "not a number" in issues[0].message
    assert len(issues[0].message) < 200


def test_fetch_blank_line_is_an_error() -> None:
    """RFC 8493 §2.2.3: each line of fetch.txt MUST be 'url length filepath'."""
    entries, issues = parse_fetch(["http://x/a - data/a", "", "http://x/b - data/b"])
    assert [e.path for e in entries] == ["data/a", "data/b"]
    assert [(i.kind, i.severity, "line 2 is blank" in i.message) for i in issues] == [
        (Kind.INVALID_MANIFEST, Severity.ERROR, True)
    ]


@pytest.mark.parametrize(
    ("version", "severity"),
    [((0, 96), Severity.WARNING), ((0, 97), Severity.ERROR), ((1, 0), Severity.ERROR)],
)
def test_manifest_scope_rules_apply_by_declared_version(
    version: tuple[int, int], severity: Severity
) -> None:
    """RFC 8493 §2.1.3 / §2.2.1 (and 0.97): payload manifests list payload files only, tag
    manifests tag files only; bags declaring an older version get a warning."""
    lines = [f"{SHA256_A}  data/a", f"{SHA256_A}  bag-info.txt"]
    manifest, issues = parse_manifest(
        lines, "manifest-sha256.txt", "sha256", tag=False, version=version
    )
    assert manifest.entries == {"data/a": SHA256_A}
    assert [(i.path, i.severity) for i in issues] == [("bag-info.txt", severity)]
    lines = [f"{SHA256_A}  bagit.txt", f"{SHA256_A}  data/a"]
    manifest, issues = parse_manifest(
        lines, "tagmanifest-sha256.txt", "sha256", tag=True, version=version
    )
    assert [(i.path, i.severity) for i in issues] == [("data/a", severity)]
