"""Tests for archiver.model.identity: a bag's directory name from its identifier."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.model.identity import (
    MAX_NAME_BYTES,
    IdentityError,
    bag_directory_name,
    collision_key,
    identifier_of,
)


@pytest.mark.parametrize(
    ("identifier", "name"),
    [
        ("000_5e17403660513e1c", "000_5e17403660513e1c"),
        ("Заявление 2022", "Заявление%202022"),
        ("Мәлімдеме-2011", "Мәлімдеме-2011"),
        ("déclaration", "déclaration"),
        ("urn:nbn:kz:1", "urn%3Anbn%3Akz%3A1"),
        ("10.5281/zenodo.1", "10.5281%2Fzenodo.1"),
        ("100%", "100%25"),
        ("Apache-2.0", "Apache-2.0"),
        ("report.pdf", "report.pdf"),
        (".hidden", "%2Ehidden"),
        ("ends.", "ends%2E"),
        ("CON", "%43ON"),
        ("nul.txt", "%6Eul.txt"),
        ("a\\b", "a%5Cb"),
        ('a:b*c?"<>|', "a%3Ab%2Ac%3F%22%3C%3E%7C"),
    ],
)
def test_names(identifier: str, name: str) -> None:
    assert bag_directory_name(identifier) == name
    assert identifier_of(name) == unicodedata.normalize("NFC", identifier)


def test_nfd_and_nfc_identifiers_name_the_same_bag() -> None:
    nfc = unicodedata.normalize("NFC", "Қазақстан é")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert bag_directory_name(nfc) == bag_directory_name(nfd)


@pytest.mark.parametrize("identifier", ["", "   ", "x" * (MAX_NAME_BYTES + 1), "/" * 70])
def test_refused(identifier: str) -> None:
    with pytest.raises(IdentityError):
        bag_directory_name(identifier)


def test_collision_key_folds_case_and_normalization() -> None:
    assert collision_key("Report") == collision_key("report")
    assert collision_key(unicodedata.normalize("NFD", "é")) == collision_key("É")
    assert collision_key("report") != collision_key("report.pdf")


@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip()))
def test_reversible_and_portable(identifier: str) -> None:
    try:
        name = bag_directory_name(identifier)
    except IdentityError:
        return
    assert identifier_of(name) == unicodedata.normalize("NFC", identifier.strip())
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".", "..") and not name.startswith(".") and not name.endswith(".")
    assert all(unicodedata.category(c)[0] != "C" for c in name)
