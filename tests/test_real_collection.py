"""A real archivist's collection: names in any script, items of several files, two items
of one stem, formats other than text; one valid bag per catalog row, every original name
and byte intact, collisions refused before anything is written."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import unicodedata
from pathlib import Path

import bagit
import pytest
from conftest import ROOT, fixed_clock

from archiver.adapters.bagit_staged import StagedBag
from archiver.build.collection import BuildReport, build_collection
from archiver.cli import main
from archiver.config import load_config
from archiver.model.errors import ConflictError
from archiver.model.identity import bag_directory_name

CONFIG = load_config(ROOT / "archive.toml")
HEADER = [
    "filename", "dc.identifier", "dc.title", "dc.creator", "dc.date", "dc.language", "dc.type"
]  # fmt: skip
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
FOLDERS = frozenset({"Сайт Adil Soz", "site"})
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"

# (file or folder name, identifier, title)
ITEMS = [
    ("Заявление 2022.txt", "Заявление-2022", "Заявление правозащитников"),
    ("Мәлімдеме Жаңаөзен.txt", "kz:мәлімдеме:2011", "Мәлімдеме"),
    ("déclaration finale.txt", "déclaration finale", "Déclaration finale"),
    ("100% report.v1.2.txt", "report-100", "A name with % and dots"),
    ("report.txt", "report-text", "The report, as text"),
    ("report.pdf", "report-pdf", "The report, as PDF"),
    ("Apache-2.0", "Apache-2.0", "No extension, several dots"),
    ("archive.tar.gz", "urn:nbn:kz:archive-1", "A gzip"),
    ("Сайт Adil Soz", "site-adilsoz-2022", "A web page with its images"),
]


def _folder(root: Path) -> dict[str, bytes]:
    files = {
        "index.html": "<html><body><img src='images/logo 1.png'>Заявление</body></html>\n".encode(),
        "images/logo 1.png": PNG,
        "images/фото/кадр №2.png": PNG + b"\x00",
        "css/style.css": b"body { color: black }\n",
        "attachments/перевод – translation.txt": "Перевод\n".encode(),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def make_collection(tmp_path: Path, items: list[tuple[str, str, str]] = ITEMS) -> Path:
    sources = tmp_path / "sources"
    sources.mkdir()
    rows = [HEADER]
    for name, identifier, title in items:
        path = sources / name
        if name in FOLDERS:
            path.mkdir()
            _folder(path)
        elif name.endswith(".pdf"):
            path.write_bytes(PDF)
        elif name.endswith(".gz"):
            path.write_bytes(gzip.compress(b"statement\n", mtime=0))
        else:
            path.write_text(f"{title}\n", encoding="utf-8")
        rows.append([name, identifier, title, "Адиль Соз", "2022-01-06", "ru", "Text"])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (sources / "metadata.csv").write_text(out.getvalue(), encoding="utf-8")
    return sources


def build(sources: Path, out: Path, **kwargs: object) -> BuildReport:
    return build_collection(
        config=CONFIG,
        catalog_path=sources / "metadata.csv",
        out_dir=out,
        clock=fixed_clock,
        **kwargs,  # type: ignore[arg-type]
    )


def tree(path: Path) -> dict[str, bytes]:
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def test_one_valid_bag_per_row_with_every_name_and_byte_intact(tmp_path: Path) -> None:
    sources = make_collection(tmp_path)
    out = tmp_path / "bags"
    report = build(sources, out)
    assert not report.failed, report.failed
    assert report.count("built") == len(ITEMS)
    bags = sorted(p.name for p in out.iterdir())
    assert bags == sorted(bag_directory_name(i) for _, i, _ in ITEMS)
    for name, identifier, _ in ITEMS:
        bag = out / bag_directory_name(identifier)
        if "%" in name:  # bagit-python 1.9 does not decode %25 (its issue #157)
            with pytest.raises(bagit.BagValidationError, match="%25"):
                bagit.Bag(str(bag)).validate()
            StagedBag(str(bag)).validate()  # the same validation, %25 decoded
        else:
            bagit.Bag(str(bag)).validate()  # bagit-python agrees
        source = sources / name
        if source.is_dir():
            assert tree(bag / "data" / name) == tree(source)
        else:
            assert (bag / "data" / name).read_bytes() == source.read_bytes()
        # names are kept byte for byte (no normalization of what the file system gave)
        assert os.fsencode(name) in os.listdir(os.fsencode(bag / "data"))
    assert main(["validate", *(str(p) for p in sorted(out.iterdir()))]) == 0


def test_manifests_percent_encode_percent_and_keep_every_other_character(tmp_path: Path) -> None:
    sources = make_collection(tmp_path)
    out = tmp_path / "bags"
    build(sources, out)
    manifest = (out / "report-100" / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert "data/100%25 report.v1.2.txt" in manifest
    site = (out / "site-adilsoz-2022" / "manifest-sha512.txt").read_text(encoding="utf-8")
    for rel in ("images/фото/кадр №2.png", "attachments/перевод – translation.txt"):
        digest = hashlib.sha512((sources / "Сайт Adil Soz" / rel).read_bytes()).hexdigest()
        assert f"{digest}  data/Сайт Adil Soz/{rel}\n" in site


def test_a_folder_item_gets_a_premis_object_and_a_mets_file_per_file(tmp_path: Path) -> None:
    sources = make_collection(tmp_path)
    out = tmp_path / "bags"
    build(sources, out)
    bag = out / "site-adilsoz-2022"
    premis = (bag / "metadata" / "premis.xml").read_text(encoding="utf-8")
    mets = (bag / "metadata" / "mets.xml").read_text(encoding="utf-8")
    for rel in _folder(tmp_path / "scratch"):
        leaf = rel.rpartition("/")[2]
        assert leaf in premis and leaf in mets


def test_same_stem_items_get_their_own_bags_and_replace_never_takes_another(
    tmp_path: Path,
) -> None:
    items = [i for i in ITEMS if i[0].startswith("report")]
    sources = make_collection(tmp_path, items)
    out = tmp_path / "bags"
    assert build(sources, out).count("built") == 2
    (sources / "report.pdf").write_bytes(PDF + b"% corrected\n")
    report = build(sources, out, replace=True)
    assert {o.source: str(o.status) for o in report.outcomes} == {
        "report.txt": "unchanged",
        "report.pdf": "replaced",
    }
    assert (out / "report-pdf" / "data" / "report.pdf").read_bytes().endswith(b"corrected\n")
    assert (out / "report-text" / "data" / "report.txt").is_file()


@pytest.mark.parametrize("replace", [False, True])
def test_two_rows_sharing_a_bag_are_refused_before_anything_is_written(
    tmp_path: Path, replace: bool
) -> None:
    items = [("a.txt", "Report", "A"), ("b.txt", "report", "B"), ("c.txt", "other", "C")]
    sources = make_collection(tmp_path, items)
    out = tmp_path / "bags"
    with pytest.raises(ConflictError, match=r"rows 2 and 3 would share the bag") as info:
        build(sources, out, replace=replace)
    assert "nothing was built" in str(info.value)
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("replace", [False, True])
def test_a_row_whose_bag_holds_another_item_is_refused(tmp_path: Path, replace: bool) -> None:
    sources = make_collection(tmp_path, [("a.txt", "x-1", "A")])
    out = tmp_path / "bags"
    build(sources, out)
    # another catalog's item with an identifier that encodes to the same directory name
    (out / "x-1" / "bag-info.txt").write_text(
        (out / "x-1" / "bag-info.txt")
        .read_text()
        .replace("External-Identifier: x-1", "External-Identifier: y")
    )
    before = tree(out)
    with pytest.raises(ConflictError, match=r"holds the item 'y', not 'x-1'"):
        build(sources, out, replace=replace)
    assert tree(out) == before


def test_the_cli_never_exits_0_with_fewer_bags_than_rows(tmp_path: Path) -> None:
    items = [("a.txt", "Report", "A"), ("b.txt", "report", "B")]
    sources = make_collection(tmp_path, items)
    out = tmp_path / "bags"
    code = main(
        [
            "build",
            "--catalog",
            str(sources / "metadata.csv"),
            "--out",
            str(out),
            "--config",
            str(ROOT / "archive.toml"),
        ]
    )
    assert code == 2
    (tmp_path / "ok").mkdir()
    ok = make_collection(tmp_path / "ok", ITEMS)
    code = main(
        [
            "build",
            "--catalog",
            str(ok / "metadata.csv"),
            "--out",
            str(tmp_path / "b2"),
            "--config",
            str(ROOT / "archive.toml"),
        ]
    )
    assert code == 0 and len(list((tmp_path / "b2").iterdir())) == len(ITEMS)


def test_an_nfd_catalog_finds_nfc_files(tmp_path: Path) -> None:
    sources = make_collection(tmp_path, [("Мәлімдеме.txt", "m-1", "M")])
    text = (sources / "metadata.csv").read_text(encoding="utf-8")
    (sources / "metadata.csv").write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    out = tmp_path / "bags"
    report = build(sources, out)
    assert not report.failed, report.failed
    assert os.listdir(out / "m-1" / "data") == ["Мәлімдеме.txt"]  # the name as on disk


@pytest.mark.parametrize("problem", ["empty folder", "link", "fifo"])
def test_a_folder_item_that_cannot_be_kept_fails_alone(tmp_path: Path, problem: str) -> None:
    sources = make_collection(tmp_path, [("site", "site-1", "S"), ("a.txt", "a-1", "A")])
    site = sources / "site"
    if problem == "empty folder":
        (site / "empty").mkdir()
    elif problem == "link":
        (site / "link.png").symlink_to(site / "images" / "logo 1.png")
    else:
        os.mkfifo(site / "pipe")
    before = tree(sources)
    out = tmp_path / "bags"
    report = build(sources, out)
    (failed,) = report.failed
    assert failed.source == "site"
    assert {"empty folder": "empty folder", "link": "symbolic link", "fifo": "not a regular file"}[
        problem
    ] in failed.reason
    assert sorted(p.name for p in out.iterdir()) == ["a-1"]
    assert tree(sources) == before  # the source is never modified


def test_a_name_that_is_not_utf8_fails_its_item(tmp_path: Path) -> None:
    sources = make_collection(tmp_path, [("site", "site-1", "S")])
    bad = os.fsencode(sources / "site") + b"/caf\xe9.txt"
    with open(bad, "wb") as stream:
        stream.write(b"latin-1 name\n")
    report = build(sources, tmp_path / "bags")
    (failed,) = report.failed
    assert "not valid UTF-8" in failed.reason
