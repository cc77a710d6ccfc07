"""archiver.build.collection: the bags, their independent checks, reproducibility, idempotence and
every bad-input case (one clear message, other sources still built, nothing half-written)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import multiprocessing
import multiprocessing.context
import os
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import bagit
import bagit_profile
import pytest
from conftest import ROOT, SEED_NAMES, SOURCES, fixed_clock
from xmlschema_validator import validate_xml_xmlschema

from archiver.build.collection import BuildReport, build_collection
from archiver.config import load_config
from archiver.metadata.validation import SchemaSet
from archiver.model.clock import FixedClock
from archiver.model.errors import CatalogError, ConfigError, OutputError

CONFIG = load_config(ROOT / "archive.toml")
STEMS = [Path(n).stem for n in SEED_NAMES]


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 of every file below ``path`` (relative path -> digest)."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def build(sources_dir: Path, out: Path, **kwargs: object) -> BuildReport:
    return build_collection(
        config=kwargs.pop("config", CONFIG),  # type: ignore[arg-type]
        catalog_path=sources_dir / "metadata.csv",
        out_dir=out,
        clock=fixed_clock,
        **kwargs,  # type: ignore[arg-type]
    )


def edit_catalog(edit: Callable[[list[list[str]]], None]) -> str:
    """The seed catalog with ``edit`` applied to its rows (header is rows[0])."""
    rows = list(csv.reader(io.StringIO((SOURCES / "metadata.csv").read_text("utf-8"))))
    edit(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def set_cell(row: int, column: str, value: str) -> Callable[[list[list[str]]], None]:
    """Set every cell of ``column`` in data row ``row`` (1-based) to '' except the first."""

    def edit(rows: list[list[str]]) -> None:
        indexes = [i for i, c in enumerate(rows[0]) if c == column]
        for n, i in enumerate(indexes):
            rows[row][i] = value if n == 0 else ""

    return edit


# -- the bags --------------------------------------------------------------------------


def test_every_seed_becomes_one_bag(built_collection: Path) -> None:
    assert sorted(p.name for p in built_collection.iterdir()) == STEMS


@pytest.mark.parametrize("stem", STEMS)
def test_bag_layout_is_exactly_the_design(built_collection: Path, stem: str) -> None:
    files = sorted(tree_digest(built_collection / stem))
    assert files == sorted(
        [
            "bagit.txt",
            "bag-info.txt",
            "manifest-sha256.txt",
            "manifest-sha512.txt",
            "tagmanifest-sha256.txt",
            "tagmanifest-sha512.txt",
            f"data/{stem}.txt",
            "metadata/dc.json",
            "metadata/dc.xml",
            "metadata/metadata.csv",
            "metadata/mets.xml",
            "metadata/premis.json",
            "metadata/premis.xml",
            "ro-crate-metadata.json",
        ]
    )
    assert (built_collection / stem / "bagit.txt").read_bytes() == (
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    )


@pytest.mark.parametrize("stem", STEMS)
def test_payload_is_byte_identical_to_source(built_collection: Path, stem: str) -> None:
    payload = built_collection / stem / "data" / f"{stem}.txt"
    assert payload.read_bytes() == (SOURCES / f"{stem}.txt").read_bytes()


@pytest.mark.parametrize("stem", STEMS)
def test_bag_passes_bagit_python_and_profile(built_collection: Path, stem: str) -> None:
    bag = bagit.Bag(str(built_collection / stem))
    bag.validate()  # raises on any problem
    assert bag.version_info == (1, 0)
    assert sorted(bag.algorithms) == ["sha256", "sha512"]
    profile_json = json.loads((ROOT / "schemas" / "bagit-profile.json").read_text("utf-8"))
    profile = bagit_profile.Profile(CONFIG.profile_identifier, profile=profile_json)
    logging.disable(logging.CRITICAL)
    try:
        assert profile.validate(bag), [str(e) for e in profile.report.errors]
        assert profile.validate_serialization(str(built_collection / stem))
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize("stem", STEMS)
def test_metadata_valid_with_both_xsd_validators(built_collection: Path, stem: str) -> None:
    schemas = SchemaSet()
    meta = built_collection / stem / "metadata"
    for which, name in (("dc", "dc.xml"), ("premis", "premis.xml")):
        data = (meta / name).read_bytes()
        schemas.validate_xml(data, which, name)  # type: ignore[arg-type]
        validate_xml_xmlschema(data, which, name, schemas=schemas)  # type: ignore[arg-type]
    schemas.validate_json(json.loads((meta / "dc.json").read_text()), "dublin-core", "dc")
    schemas.validate_json(json.loads((meta / "premis.json").read_text()), "premis", "premis")


def test_premis_describes_the_ingest(built_collection: Path) -> None:
    stem = STEMS[0]
    premis = json.loads((built_collection / stem / "metadata" / "premis.json").read_text())
    source = (SOURCES / f"{stem}.txt").read_bytes()
    (file_record,) = premis["files"]
    fixity = {f["algorithm"]: f["digest"] for f in file_record["fixity"]}
    assert fixity == {
        "sha256": hashlib.sha256(source).hexdigest(),
        "sha512": hashlib.sha512(source).hexdigest(),
    }
    assert file_record["size"] == len(source)
    assert file_record["originalName"] == f"data/{stem}.txt"  # the path in the bag
    assert file_record["format"]["registryKey"] == "x-fmt/111"
    assert file_record["encoding"] == "UTF-8"
    types = [
        e["type"]["label"] if isinstance(e["type"], dict) else e["type"] for e in premis["events"]
    ]
    assert set(types) >= {
        "ingestion",
        "message digest calculation",
        "format identification",
        "validation",
        "information package creation",
    }
    xml = (built_collection / stem / "metadata" / "premis.xml").read_text()
    assert 'valueURI="http://id.loc.gov/vocabulary/preservation/eventType/ing"' in xml
    assert "2026-01-02T03:04:05+00:00" in xml
    agent_names = {a["name"] for a in premis["agents"]}
    assert {"archiver", CONFIG.organization} <= agent_names
    rights = {r["basis"]: r for r in premis["rights"]}
    assert rights["copyright"]["copyrightStatus"] in {"unknown", "copyrighted", "public domain"}
    assert rights["copyright"]["jurisdiction"] == "KZ"
    assert [g["act"] for g in rights["institutional policy"]["granted"]] == [
        "replication",
        "migration",
    ]
    assert premis["intellectualEntity"]["identifier"]["value"] == stem  # = dc.identifier


def test_bag_info_carries_the_archive_settings(built_collection: Path) -> None:
    stem = STEMS[1]
    info = dict(
        line.split(": ", 1)
        for line in (built_collection / stem / "bag-info.txt").read_text().splitlines()
    )
    size = (SOURCES / f"{stem}.txt").stat().st_size
    assert info["Payload-Oxum"] == f"{size}.1"
    assert info["Bag-Group-Identifier"] == CONFIG.collection_id
    assert info["BagIt-Profile-Identifier"] == CONFIG.profile_identifier
    assert info["Internal-Sender-Identifier"] == f"{stem}.txt"
    assert info["Bagging-Date"] == "2026-01-02"
    assert info["Source-Organization"] == CONFIG.organization


# -- reproducibility and idempotence ----------------------------------------------------


def test_two_builds_with_fixed_clock_are_byte_identical(
    built_collection: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    report = build(SOURCES, again)
    assert report.count("built") == len(STEMS)
    for stem in STEMS:
        assert tree_digest(again / stem) == tree_digest(built_collection / stem)


def test_unchanged_source_rewrites_nothing(collection_copy: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in collection_copy.rglob("*")}
    inodes = {p: p.stat().st_ino for p in collection_copy.iterdir()}
    report = build(SOURCES, collection_copy)
    assert [o.status for o in report.outcomes] == ["unchanged"] * len(STEMS)
    assert {p: p.stat().st_mtime_ns for p in collection_copy.rglob("*")} == before
    assert {p: p.stat().st_ino for p in collection_copy.iterdir()} == inodes


def test_changed_source_is_refused_then_replaced(
    collection_copy: Path, source_tree: Callable[..., Path]
) -> None:
    sources = source_tree()
    stem = STEMS[2]
    changed = sources / f"{stem}.txt"
    changed.write_bytes(changed.read_bytes() + b"\nappended\n")
    old = tree_digest(collection_copy / stem)

    report = build(sources, collection_copy)
    outcome = {o.source: o for o in report.outcomes}[f"{stem}.txt"]
    assert outcome.status == "failed"
    assert "payload differs" in outcome.reason and "--replace" in outcome.reason
    assert tree_digest(collection_copy / stem) == old  # untouched

    report = build(sources, collection_copy, replace=True)
    statuses = {o.source: o.status for o in report.outcomes}
    assert statuses[f"{stem}.txt"] == "replaced"
    assert (collection_copy / stem / "data" / f"{stem}.txt").read_bytes() == changed.read_bytes()
    bagit.Bag(str(collection_copy / stem)).validate()
    assert not [p for p in collection_copy.iterdir() if p.name.startswith(".")]


def test_changed_rights_column_is_a_change(
    collection_copy: Path, source_tree: Callable[..., Path]
) -> None:
    sources = source_tree(edit_catalog(set_cell(1, "premis.copyrightStatus", "public domain")))
    report = build(sources, collection_copy)
    reasons = {o.source: o.reason for o in report.outcomes if o.status == "failed"}
    assert list(reasons) == [SEED_NAMES[0]]
    assert "PREMIS rights or capture differ" in reasons[SEED_NAMES[0]]
    report = build(sources, collection_copy, replace=True)
    premis = json.loads((collection_copy / STEMS[0] / "metadata" / "premis.json").read_text())
    statuses = {r["basis"]: r["copyrightStatus"] for r in premis["rights"]}
    assert statuses["copyright"] == "public domain"


def test_changed_description_is_a_change(
    collection_copy: Path, source_tree: Callable[..., Path]
) -> None:
    sources = source_tree(edit_catalog(set_cell(1, "dc.title", "A corrected title")))
    report = build(sources, collection_copy)
    reasons = {o.source: o.reason for o in report.outcomes if o.status == "failed"}
    assert list(reasons) == [SEED_NAMES[0]]
    assert "Dublin Core record differs" in reasons[SEED_NAMES[0]]


# -- bad input: one clear message, the rest still built, nothing half-written ----------


def no_debris(out: Path) -> bool:
    return not out.exists() or not [p for p in out.iterdir() if p.name.startswith(".")]


BAD_ROWS = [
    ("missing title", set_cell(1, "dc.title", ""), ["row 2", "dc.title"]),
    ("missing date", set_cell(2, "dc.date", ""), ["row 3", "dc.date"]),
    ("missing creator", set_cell(3, "dc.creator", ""), ["row 4", "dc.creator"]),
    ("missing language", set_cell(4, "dc.language", ""), ["row 5", "dc.language"]),
    (
        "date not ISO 8601",
        set_cell(1, "dc.date", "20.12.2011"),
        ["row 2", "dc.date", "20.12.2011", "YYYY-MM-DD"],
    ),
    ("unknown language", set_cell(2, "dc.language", "xx"), ["row 3", "dc.language", "xx"]),
]


@pytest.mark.parametrize(("case", "edit", "expected"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_bad_row_fails_alone(
    source_tree: Callable[..., Path],
    tmp_path: Path,
    case: str,
    edit: Callable[[list[list[str]]], None],
    expected: list[str],
) -> None:
    sources = source_tree(edit_catalog(edit))
    before = tree_digest(sources)
    out = tmp_path / "out"
    report = build(sources, out)
    assert len(report.failed) == 1, report.outcomes
    reason = report.failed[0].reason
    assert "\n" not in reason
    for fragment in expected:
        assert fragment in reason
    assert report.count("built") == len(STEMS) - 1
    failed_stem = Path(report.failed[0].source).stem
    assert not (out / failed_stem).exists()
    assert no_debris(out)
    assert tree_digest(sources) == before


def test_the_planned_count_is_heard_before_any_outcome(
    source_tree: Callable[..., Path], tmp_path: Path
) -> None:
    """``on_planned`` hears the number of sources once, before the first outcome (the
    progress bar's total, without reading the catalog a second time)."""
    heard: list[object] = []
    report = build(
        source_tree(), tmp_path / "out", on_planned=heard.append, on_outcome=heard.append
    )
    assert heard[0] == len(STEMS) == len(report.outcomes)
    assert heard[1:] == list(report.outcomes)


def test_source_without_catalog_row(source_tree: Callable[..., Path], tmp_path: Path) -> None:
    sources = source_tree()
    (sources / "999_extra.txt").write_text("an uncatalogued statement\n")
    report = build(sources, tmp_path / "out")
    (failed,) = report.failed
    assert failed.source == "999_extra.txt"
    assert "no row for this file in the catalog" in failed.reason
    assert report.count("built") == len(STEMS)


def test_catalog_row_naming_a_missing_file(
    source_tree: Callable[..., Path], tmp_path: Path
) -> None:
    sources = source_tree()
    (sources / SEED_NAMES[3]).unlink()
    report = build(sources, tmp_path / "out")
    (failed,) = report.failed
    assert failed.source == SEED_NAMES[3]
    assert "row 5" in failed.reason and "does not exist" in failed.reason
    assert no_debris(tmp_path / "out")


def test_unreadable_source(
    source_tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = source_tree()
    victim = sources / SEED_NAMES[0]
    if os.geteuid() == 0:  # root reads anything: make opening this one file fail
        real_open = os.open

        def refusing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
            if Path(os.fsdecode(path)) == victim:  # type: ignore[arg-type]
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", refusing_open)
    else:
        victim.chmod(0)
    report = build(sources, tmp_path / "out")
    (failed,) = report.failed
    assert str(victim) in failed.reason and "Permission denied" in failed.reason
    assert not (tmp_path / "out" / Path(SEED_NAMES[0]).stem).exists()
    assert no_debris(tmp_path / "out")


def test_catalog_not_utf8(source_tree: Callable[..., Path], tmp_path: Path) -> None:
    text = (SOURCES / "metadata.csv").read_text("utf-8")
    sources = source_tree(catalog_bytes=text.encode("utf-8").replace("“".encode(), b"\x93"))
    with pytest.raises(CatalogError, match=r"metadata.csv: not valid UTF-8 \(byte 0x93"):
        build(sources, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_duplicate_identifier(source_tree: Callable[..., Path], tmp_path: Path) -> None:
    sources = source_tree(edit_catalog(set_cell(2, "dc.identifier", STEMS[0])))
    with pytest.raises(CatalogError, match="dc.identifier") as info:
        build(sources, tmp_path / "out")
    assert "rows 2 and 3" in str(info.value)


def test_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OutputError, match="cannot create output directory"):
        build(SOURCES, blocker / "bags")


def test_invalid_archive_toml(tmp_path: Path) -> None:
    bad = tmp_path / "archive.toml"
    text = (ROOT / "archive.toml").read_text().replace('"sha256", "sha512"', '"sha256", "crc32"')
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"archive.toml: #/bag/algorithms: crc32 not supported"):
        load_config(bad)


@pytest.mark.parametrize("name", ["../escape.txt", "a/b.txt", "/abs.txt", "x" * 252 + ".txt"])
def test_hostile_catalog_names_fail_their_row(
    name: str, source_tree: Callable[..., Path], tmp_path: Path
) -> None:
    sources = source_tree(edit_catalog(lambda rows: rows[1].__setitem__(0, name)))
    report = build(sources, tmp_path / "out")
    failed = {o.source: o.reason for o in report.failed}
    assert "row 2, column filename" in failed[name]
    assert not (tmp_path / "out" / STEMS[0]).exists()


def test_build_of_requested_sources_only(tmp_path: Path) -> None:
    report = build(SOURCES, tmp_path / "out", sources=[SOURCES / SEED_NAMES[4]])
    assert [o.status for o in report.outcomes] == ["built"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == [STEMS[4]]


def test_event_times_follow_the_clock(tmp_path: Path) -> None:
    later = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    build_collection(
        config=CONFIG,
        catalog_path=SOURCES / "metadata.csv",
        out_dir=tmp_path / "out",
        sources=[SOURCES / SEED_NAMES[0]],
        clock=lambda: later,
    )
    premis = (tmp_path / "out" / STEMS[0] / "metadata" / "premis.xml").read_text()
    assert "2030-05-06T07:08:09+00:00" in premis


def test_symlinked_source_is_refused(source_tree: Callable[..., Path], tmp_path: Path) -> None:
    sources = source_tree()
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the sources\n")
    link = sources / SEED_NAMES[1]
    link.unlink()
    link.symlink_to(secret)
    report = build(sources, tmp_path / "out")
    (failed,) = report.failed
    assert "symbolic link" in failed.reason and "row 3" in failed.reason
    assert not (tmp_path / "out" / STEMS[1]).exists()


def test_an_empty_folder_named_as_source_fails(
    source_tree: Callable[..., Path], tmp_path: Path
) -> None:
    sources = source_tree()
    (sources / SEED_NAMES[1]).unlink()
    (sources / SEED_NAMES[1]).mkdir()
    report = build(sources, tmp_path / "out", sources=[sources / SEED_NAMES[1]])
    (failed,) = report.failed
    assert "holds no file" in failed.reason


def test_damaged_existing_manifest_is_a_clear_failure(collection_copy: Path) -> None:
    manifest = collection_copy / STEMS[1] / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text() + "deadbeef\n")
    report = build(SOURCES, collection_copy)
    (failed,) = report.failed
    assert "manifest-sha256.txt is damaged" in failed.reason
    assert report.count("unchanged") == len(STEMS) - 1


def test_bags_follow_the_umask_not_0700(built_collection: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    for stem in STEMS:
        mode = (built_collection / stem).stat().st_mode & 0o777
        assert mode == 0o777 & ~umask


def test_catalog_problem_names_its_place_once(
    source_tree: Callable[..., Path], tmp_path: Path
) -> None:
    sources = source_tree(edit_catalog(set_cell(1, "filename", "../evil.txt")))
    report = build(sources, tmp_path / "out")
    reasons = [o.reason for o in report.failed if "evil" in o.reason]
    assert len(reasons) == 1
    assert reasons[0].count("metadata.csv") == 1


@pytest.mark.parametrize(("same", "status"), [(True, "unchanged"), (False, "failed")])
def test_a_concurrent_build_that_won_the_race(
    built_collection: Path,
    source_tree: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    same: bool,
    status: str,
) -> None:
    import shutil

    from archiver.build.writer import BagExistsError

    def racing_install(staging: Path, destination: Path, *, replace: bool) -> None:
        shutil.copytree(built_collection / destination.name, destination)
        if not same:
            payload = destination / "data" / f"{destination.name}.txt"
            payload.write_bytes(b"another build's different source\n")
            (destination / "manifest-sha256.txt").write_text(
                hashlib.sha256(payload.read_bytes()).hexdigest() + f"  data/{payload.name}\n"
            )
        raise BagExistsError(f"{destination}: a bag appeared there meanwhile")

    monkeypatch.setattr("archiver.build.collection.move_into_place", racing_install)
    report = build(SOURCES, tmp_path / "out", sources=[SOURCES / SEED_NAMES[0]])
    (outcome,) = report.outcomes
    assert outcome.status == status
    if not same:
        assert "another build installed a different bag" in outcome.reason


# -- JSON rendering ---------------------------------------------------------------------

JSON_RECORDS = [
    {},
    {"a": []},
    {"title": 'Ünïcødé — “quotes” \\ " \n\t\u0001 \u2028', "n": 0, "big": 2**62, "neg": -7},
    {"flags": [True, False, None], "nested": {"x": [{"y": {}}, [], [[1, 2], "s"]]}},
    {"tuple": (1, "two"), "empty": {"inner": []}},
]


@pytest.mark.parametrize("record", JSON_RECORDS)
def test_json_rendering_matches_json_dumps(record: dict[str, object]) -> None:
    from archiver.build.collection import _json_bytes

    expected = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    assert _json_bytes(record) == expected.encode()


# -- the parallel path ------------------------------------------------------------------


def many_sources(tmp_path: Path, names: list[str]) -> Path:
    """A source tree whose files (seed texts, each made unique) and rows are ``names``."""
    rows = list(csv.reader(io.StringIO((SOURCES / "metadata.csv").read_text("utf-8"))))
    header, seeds = rows[0], rows[1:]
    ident = header.index("dc.identifier")
    target = tmp_path / "many"
    target.mkdir()
    out_rows = [header]
    for i, name in enumerate(names):
        row = list(seeds[i % len(seeds)])
        text = (SOURCES / row[0]).read_bytes() + f"\n{i}\n".encode()
        row[0], row[ident] = name, f"many-{i:03d}"
        (target / name).write_bytes(text)
        out_rows.append(row)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(out_rows)
    (target / "metadata.csv").write_text(out.getvalue(), encoding="utf-8")
    return target


def spy_on_pool(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the sources handed to BuildPool.build_all (the parallel path)."""
    from archiver.build import collection as build_module

    handed: list[int] = []
    real = build_module.BuildPool.build_all

    def build_all(self, planned):  # type: ignore[no-untyped-def]
        handed.append(len(planned))
        return real(self, planned)

    monkeypatch.setattr(build_module.BuildPool, "build_all", build_all)
    return handed


def test_parallel_build_matches_sequential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"s{i:03d}.txt" for i in range(70)]
    sources = many_sources(tmp_path, names)
    (sources / "s033.txt").unlink()  # a failure in the middle keeps its place
    handed = spy_on_pool(monkeypatch)
    one = build(sources, tmp_path / "one", workers=1)
    assert handed == []
    two = build(sources, tmp_path / "two", workers=2)
    assert handed == [70]
    assert [(o.source, o.status, o.reason) for o in one.outcomes] == [
        (o.source, o.status, o.reason) for o in two.outcomes
    ]
    assert [o.source for o in two.outcomes] == names
    assert two.count("built") == 69 and two.outcomes[33].status == "failed"
    assert tree_digest(tmp_path / "one") == tree_digest(tmp_path / "two")
    assert len(tree_digest(tmp_path / "two")) == 69 * 14  # 13 tag files and the payload
    assert no_debris(tmp_path / "two")


def test_sources_sharing_a_stem_get_bags_of_their_own_in_parallel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"s{i:03d}.txt" for i in range(65)] + ["s000.md"]  # one stem, two identifiers
    sources = many_sources(tmp_path, names)
    handed = spy_on_pool(monkeypatch)
    report = build(sources, tmp_path / "out", workers=2)
    assert handed == [66]
    assert [o.source for o in report.outcomes] == sorted(names)
    assert report.count("built") == 66
    assert len(list((tmp_path / "out").iterdir())) == 66


def spy_on_install(monkeypatch: pytest.MonkeyPatch, out: Path) -> list[str]:
    """Record the build's flushes and renames, in order (and still do them)."""
    from archiver.build import collection as build_module

    calls: list[str] = []
    real_durable, real_move = build_module.make_durable, build_module.move_into_place
    real_flush = build_module.flush_renames

    def durable(stagings: Sequence[Path], parent: Path, flush: Callable[[], bool]) -> None:
        assert parent == out and all(s.parent == out for s in stagings)
        calls.append(f"flush {len(stagings)} staged")
        real_durable(stagings, parent, flush)

    def move(staging: Path, destination: Path, *, replace: bool) -> None:
        calls.append(f"rename {destination.name}")
        real_move(staging, destination, replace=replace)

    def flush(parent: Path) -> None:
        calls.append("flush renames")
        real_flush(parent)

    monkeypatch.setattr(build_module, "make_durable", durable)
    monkeypatch.setattr(build_module, "move_into_place", move)
    monkeypatch.setattr(build_module, "flush_renames", flush)
    return calls


def test_a_batch_is_flushed_once_before_its_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: one flush puts a batch's staged bags on disk before any of them is
    renamed into place, one flush puts the renames on disk; a failing source in the
    batch fails alone."""
    from archiver.build import collection as build_module

    names = [f"s{i:03d}.txt" for i in range(build_module.BATCH + 2)]
    sources = many_sources(tmp_path, names)
    (sources / "s001.txt").unlink()
    out = tmp_path / "out"
    calls = spy_on_install(monkeypatch, out)
    report = build(sources, out, workers=1)
    assert [o.status for o in report.outcomes][:3] == ["built", "failed", "built"]
    assert report.count("built") == len(names) - 1
    first = build_module.BATCH - 1  # the batch holding the failed source
    assert calls == [
        f"flush {first} staged",
        *(f"rename many-{i:03d}" for i in range(build_module.BATCH) if i != 1),
        "flush renames",
        "flush 2 staged",
        *(f"rename many-{i:03d}" for i in range(build_module.BATCH, len(names))),
        "flush renames",
    ]
    assert no_debris(out)


def test_a_refused_flush_fails_its_batch_and_installs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.build import collection as build_module

    sources = many_sources(tmp_path, ["a.txt", "b.txt", "c.txt"])
    out = tmp_path / "out"

    def refuse(stagings: Sequence[Path], parent: Path, flush: Callable[[], bool]) -> None:
        assert len(stagings) == 3 and all(s.is_dir() for s in stagings)
        raise OutputError(f"{parent}: cannot flush the bag to disk: Input/output error")

    monkeypatch.setattr(build_module, "make_durable", refuse)
    report = build(sources, out, workers=1)
    assert [o.status for o in report.outcomes] == ["failed"] * 3
    assert all("cannot flush the bag to disk" in o.reason for o in report.outcomes)
    assert list(out.iterdir()) == []  # no bag, no staging directory


def test_a_refused_rename_flush_fails_the_bags_it_would_have_made_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.build import collection as build_module

    sources = many_sources(tmp_path, ["a.txt", "b.txt"])

    def refuse(parent: Path) -> None:
        raise OutputError(f"{parent}: cannot flush the rename to disk: Input/output error")

    monkeypatch.setattr(build_module, "flush_renames", refuse)
    report = build(sources, tmp_path / "out", workers=1)
    assert [o.status for o in report.outcomes] == ["failed", "failed"]
    for outcome in report.outcomes:
        assert (
            "cannot flush the rename" in outcome.reason and "the bag is in place" in outcome.reason
        )
        assert outcome.bag is not None and Path(outcome.bag).is_dir()


def test_sources_of_one_stem_share_a_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = many_sources(tmp_path, ["a.md", "a.txt", "b.txt"])
    out = tmp_path / "out"
    calls = spy_on_install(monkeypatch, out)
    report = build(sources, out, workers=1)
    assert [o.status for o in report.outcomes] == ["built", "built", "built"]
    assert calls == [
        "flush 3 staged",
        "rename many-000",
        "rename many-001",
        "rename many-002",
        "flush renames",
    ]


def test_large_sources_are_flushed_before_the_batch_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged copies wait for their batch's flush: past BATCH_BYTES of payload the batch
    is flushed early, so big sources do not pile up 16 copies on the output disk."""
    from archiver.build import collection as build_module

    sources = many_sources(tmp_path, ["a.txt", "b.txt", "c.txt"])
    two = (sources / "a.txt").stat().st_size + (sources / "b.txt").stat().st_size
    monkeypatch.setattr(build_module, "BATCH_BYTES", two)
    out = tmp_path / "out"
    calls = spy_on_install(monkeypatch, out)
    report = build(sources, out, workers=1)
    assert report.count("built") == 3
    assert calls == ["flush 2 staged", "rename many-000", "rename many-001", "flush renames"] + [
        "flush 1 staged",
        "rename many-002",
        "flush renames",
    ]


def test_a_failed_sources_copy_is_removed_before_the_batch_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.build import collection as build_module
    from archiver.build.writer import BagVerificationError, BagVerifier

    sources = many_sources(tmp_path, ["a.txt", "b.txt", "c.txt"])
    out = tmp_path / "out"
    real_verify = BagVerifier.verify

    def verify(self: BagVerifier, bag: Path, label: str, tags: object, **kwargs: object) -> None:
        if label.endswith("/many-001"):  # b.txt's bag
            raise BagVerificationError(f"{label}: made to fail")
        real_verify(self, bag, label, tags, **kwargs)  # type: ignore[arg-type]

    seen: list[int] = []
    real_durable = build_module.make_durable

    def durable(stagings: Sequence[Path], parent: Path, flush: Callable[[], bool]) -> None:
        seen.append(len([p for p in out.iterdir() if p.name.startswith(".")]))
        real_durable(stagings, parent, flush)

    monkeypatch.setattr(BagVerifier, "verify", verify)
    monkeypatch.setattr(build_module, "make_durable", durable)
    report = build(sources, out, workers=1)
    assert [o.status for o in report.outcomes] == ["built", "failed", "built"]
    assert seen == [2]  # b's staging copy was gone before the batch was flushed
    assert no_debris(out)


def test_a_stop_between_sources_leaves_no_staging_and_installs_nothing(
    tmp_path: Path,
) -> None:
    """A build worker checks for SIGTERM between sources (a library may have swallowed
    the SystemExit its handler raised): the batch unwinds, its staged bags removed."""
    from archiver.build.collection import Builder, plan_sources
    from archiver.metadata.catalog import load_catalog

    sources = many_sources(tmp_path, ["a.txt", "b.txt", "c.txt"])
    planned = plan_sources(load_catalog(sources / "metadata.csv"), sources, ())
    out = tmp_path / "out"
    out.mkdir()
    looks: list[int] = []

    def checkpoint() -> None:
        looks.append(1)
        if len(looks) == 3:  # after two sources are staged
            raise SystemExit(143)

    builder = Builder(CONFIG, out, fixed_clock, checkpoint=checkpoint)
    with pytest.raises(SystemExit):
        builder.build_batch(planned)
    assert list(out.iterdir()) == []


def _raise_bug(*args: object) -> None:
    raise RuntimeError("a bug")


def _die(*args: object) -> None:
    os._exit(3)


@pytest.mark.parametrize(
    ("fault", "message"),
    [(_raise_bug, r"RuntimeError: a bug"), (_die, r"exited with status 3")],
)
def test_a_broken_worker_stops_the_build(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: Callable[..., None],
    message: str,
) -> None:
    from archiver.build import collection as build_module

    sources = many_sources(tmp_path, [f"s{i:03d}.txt" for i in range(64)])
    monkeypatch.setattr(build_module.Builder, "build_batch", fault)  # inherited by the fork
    fork = multiprocessing.get_context("fork")  # even if an earlier test left a thread
    monkeypatch.setattr(build_module, "worker_context", lambda preload=(): fork)
    with pytest.raises(build_module.WorkerError, match=message):
        build(sources, tmp_path / "out", workers=2)


def test_plan_sources_pairs_each_file_with_its_catalog_row(
    source_tree: Callable[..., Path],
) -> None:
    from archiver.build.collection import plan_sources
    from archiver.metadata.catalog import load_catalog

    sources = source_tree()
    (sources / "stray.txt").write_text("no row\n")
    (sources / SEED_NAMES[1]).unlink()  # a row without a file
    catalog = load_catalog(sources / "metadata.csv")
    planned = plan_sources(catalog, sources, [])
    assert [name for name, _, _ in planned] == sorted([*SEED_NAMES, "stray.txt"])
    for name, path, row in planned:
        assert path == sources / name and row is catalog.row_for(name)
    requested = [sources / SEED_NAMES[2], sources / "stray.txt"]
    assert [(n, r) for n, _, r in plan_sources(catalog, sources, requested)] == [
        (SEED_NAMES[2], catalog.row_for(SEED_NAMES[2])),
        ("stray.txt", None),
    ]


def test_parallel_build_while_another_thread_runs_uses_a_fork_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the progress bar's thread runs: the workers must not be forked then."""
    from archiver.build import collection as build_module

    methods: list[str] = []
    real = build_module.worker_context

    def spy(preload: Sequence[str] = ()) -> multiprocessing.context.BaseContext:
        context = real(preload)
        methods.append(context.get_start_method())
        return context

    monkeypatch.setattr(build_module, "worker_context", spy)
    sources = many_sources(tmp_path, [f"s{i:03d}.txt" for i in range(64)])
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        clock = FixedClock(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))  # picklable, as it must be
        report = build_collection(
            config=CONFIG,
            catalog_path=sources / "metadata.csv",
            out_dir=tmp_path / "out",
            clock=clock,
            workers=2,
        )
    finally:
        stop.set()
        thread.join()
    assert methods == ["forkserver"]
    assert report.count("built") == 64
    assert no_debris(tmp_path / "out")
