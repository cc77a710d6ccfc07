"""archiver.bag.render: BagIt 1.0 tag files rendered as bytes."""

from __future__ import annotations

import bagit
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from archiver.bag.render import (
    bag_size,
    encode_path,
    manifests_for,
    payload_oxum,
    render_bag_info,
    render_declaration,
    render_manifest,
)
from archiver.bag.tagfiles import (
    decode_tag_file,
    parse_bag_info,
    parse_declaration,
    parse_manifest,
    path_problem,
)


def test_declaration_is_bagit_1_0_utf8() -> None:
    assert render_declaration() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


@pytest.mark.parametrize(
    ("path", "encoded"),
    [
        ("data/plain.txt", "data/plain.txt"),
        ("data/100%.txt", "data/100%25.txt"),
        ("data/line\nbreak", "data/line%0Abreak"),
        ("data/carriage\rreturn", "data/carriage%0Dreturn"),
        ("data/%0A-literal", "data/%250A-literal"),
        ("data/space name.txt", "data/space name.txt"),
    ],
)
def test_paths_are_percent_encoded_per_rfc8493(path: str, encoded: str) -> None:
    assert encode_path(path) == encoded


def test_manifest_sorted_two_spaces_lf() -> None:
    data = render_manifest([("data/b", "22"), ("data/a", "11")])
    assert data == b"11  data/a\n22  data/b\n"


def test_manifest_lines_parse_back_with_bagit_python() -> None:
    line = render_manifest([("data/x y%.txt", "ab" * 32)]).decode()
    digest, path = line.rstrip("\n").split(None, 1)
    assert (digest, path) == ("ab" * 32, "data/x y%25.txt")
    assert bagit._decode_filename(path) == "data/x y%25.txt"  # bagit-python leaves %25 alone


def test_bag_info_in_given_order() -> None:
    data = render_bag_info([("Source-Organization", "Org"), ("Bagging-Date", "2026-01-02")])
    assert data == b"Source-Organization: Org\nBagging-Date: 2026-01-02\n"


@pytest.mark.parametrize(
    ("label", "value"),
    [("Bad:Label", "v"), (" Padded", "v"), ("", "v"), ("Multi", "line\nvalue"), ("R", "a\rb")],
)
def test_bag_info_rejects_what_would_corrupt_the_file(label: str, value: str) -> None:
    with pytest.raises(ValueError):
        render_bag_info([(label, value)])


def test_oxum_and_size() -> None:
    assert payload_oxum([10, 20, 3]) == "33.3"
    assert payload_oxum([]) == "0.0"
    assert bag_size(999) == "999 bytes"
    assert bag_size(41_500) == "41.5 KB"
    assert bag_size(3_200_000_000) == "3.2 GB"


def test_manifests_for_every_algorithm() -> None:
    files = {"data/a": {"sha256": "1", "sha512": "2"}}
    assert manifests_for(files, ["sha256", "sha512"], "manifest") == {
        "manifest-sha256.txt": b"1  data/a\n",
        "manifest-sha512.txt": b"2  data/a\n",
    }


# ------------------------------------------------- round trip through archiver.bag.tagfiles

# Any character a file name or a tag value can hold in UTF-8 text (no surrogates, no NUL).
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_SEGMENT = st.text(_CHARS, min_size=1, max_size=12).filter(
    lambda s: "/" not in s and s not in (".", "..")
)


@st.composite
def _payload_paths(draw: st.DrawFn) -> str:
    segments = draw(st.lists(_SEGMENT, min_size=1, max_size=4))
    path = "data/" + "/".join(segments)
    assume(path_problem(path) is None)  # what BagIt calls safe (see tagfiles.path_problem)
    return path


@given(
    st.dictionaries(
        _payload_paths(),
        st.text("0123456789abcdef", min_size=64, max_size=64),
        min_size=1,
        max_size=8,
    )
)
def test_manifests_round_trip_any_path(entries: dict[str, str]) -> None:
    rendered = manifests_for({p: {"sha256": d} for p, d in entries.items()}, ["sha256"], "manifest")
    lines, issues = decode_tag_file(rendered["manifest-sha256.txt"], "UTF-8", "manifest")
    assert issues == []
    manifest, issues = parse_manifest(
        lines, "manifest-sha256.txt", "sha256", tag=False, version=(1, 0)
    )
    assert issues == []
    assert manifest.entries == entries


_LABEL = st.text(_CHARS, min_size=1, max_size=20).filter(
    lambda s: ":" not in s and s == s.strip() and "\n" not in s and "\r" not in s
)
_VALUE = st.text(_CHARS, max_size=40).filter(
    lambda s: s == s.strip() and "\n" not in s and "\r" not in s
)


@given(st.lists(st.tuples(_LABEL, _VALUE), max_size=8))
def test_bag_info_round_trips_any_label_and_value(tags: list[tuple[str, str]]) -> None:
    try:
        rendered = render_bag_info(tags)
    except ValueError:
        assume(False)  # refused: nothing was written that could be misread
        return
    lines, issues = decode_tag_file(rendered, "UTF-8", "bag-info.txt")
    assert issues == []
    parsed, issues = parse_bag_info(lines)
    assert issues == []
    assert parsed == tags


def test_a_label_a_reader_would_take_for_a_byte_order_mark_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid BagIt label"):
        render_bag_info([("\ufeffTitle", "x")])


def test_declaration_round_trips() -> None:
    declaration, issues = parse_declaration(render_declaration())
    assert issues == [] and declaration is not None
    assert (declaration.version, declaration.encoding) == ((1, 0), "UTF-8")
