"""archiver.bag.render: BagIt 1.0 tag files rendered as bytes."""

from __future__ import annotations

import bagit
import pytest

from archiver.bag.render import (
    bag_size,
    encode_path,
    manifests_for,
    payload_oxum,
    render_bag_info,
    render_declaration,
    render_manifest,
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
