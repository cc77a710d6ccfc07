"""Issue 9: every command driven with fuzzed malformed input (hypothesis).

Tag files, sidecars, catalogs, file names, ledgers and output paths are generated from
fragments that broke earlier versions (5,000-digit numbers, non-ASCII digits, control
characters, byte-order marks, undecodable bytes, '..', blank lines) mixed with random
bytes. Whatever the input, every command must:

- never print a traceback, nor hit the "unexpected" safety net (that would be a bug
  found by input no check foresaw);
- exit 0, 1 or 2 with the right meaning: 1 only when damage was found (an invalid bag),
  0 only when everything checked is good (the JSON report agrees);
- keep every error line one line of reasonable length, with no raw control character.

The examples are derandomized (the same inputs every run) and nothing is stored in a
hypothesis database.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conftest import ROOT, SOURCES
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_validator import build_fixture_bag

import archiver.cli as cli

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FRAGMENTS = [
    "BagIt-Version: ",
    "Tag-File-Character-Encoding: ",
    "UTF-8",
    "1.0",
    "0.97",
    "9" * 5000,
    "\u0661\u0662",
    "\u00b2",
    ".",
    "Payload-Oxum: ",
    "External-Identifier: ",
    ": ",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\x1b]0;pwned\x07\x1b[2J",
    "\x00",
    "\x01",
    "\ufeff",
    "\u2028",
    "data/",
    "data/a.txt",
    "../",
    "/etc/passwd",
    "~/x",
    "C:\\x",
    "%0A",
    "%25",
    "http://example.org/x",
    "-",
    "a" * 64,
    "0" * 128,
    "manifest-sha256.txt",
    "x" * 3000,
]

text_fragments = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)
HUGE = "9" * 5000  # int() raises on 3.11+: listed thrice, so examples often meet it
NUMBERS = ["0", "5", "12", HUGE, HUGE, HUGE, "\u0661\u0662", "\u00b2", "-1", "", "1_0"]
PATHS = ["data/a.txt", "data/x", "../x", "/etc/passwd", "data/\x1b[2J", "bag-info.txt", ""]
numbers = st.sampled_from(NUMBERS)
paths = st.one_of(st.sampled_from(PATHS), text_fragments)
structured_line = st.one_of(
    st.builds("BagIt-Version: {}.{}".format, numbers, numbers),
    st.builds("Tag-File-Character-Encoding: {}".format, st.sampled_from(["UTF-8", "x", ""])),
    st.builds("Payload-Oxum: {}.{}".format, numbers, numbers),
    st.builds("{}: {}".format, st.sampled_from(["Bag-Size", "External-Identifier"]), paths),
    st.builds("{} {}".format, st.sampled_from(["a" * 64, "0" * 128, "zz", ""]), paths),
    st.builds("{} {} {}".format, st.sampled_from(["http://x/y", "x", ""]), numbers, paths),
    text_fragments,
)
structured = st.tuples(
    st.lists(structured_line, max_size=6), st.sampled_from(["\n", "\r\n", "\r", "\n\n"])
).map(lambda p: (p[1].join(p[0]) + p[1]).encode("utf-8", "surrogatepass"))
hostile_bytes = st.one_of(
    structured,
    text_fragments.map(lambda t: t.encode("utf-8")),
    st.binary(max_size=400),
    st.tuples(text_fragments, st.binary(max_size=8)).map(lambda p: p[0].encode() + p[1]),
)


def lines_of(line: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """Tag-file bytes: lines from ``line`` (or any fragments), joined by some line break."""
    return st.tuples(
        st.lists(st.one_of(line, text_fragments), min_size=1, max_size=5),
        st.sampled_from(["\n", "\r\n", "\r", "\n\n"]),
    ).map(lambda p: (p[1].join(p[0]) + p[1]).encode("utf-8", "surrogatepass"))


declaration_lines = st.one_of(
    st.builds("BagIt-Version: {}.{}".format, numbers, numbers),
    st.builds("Tag-File-Character-Encoding: {}".format, st.sampled_from(["UTF-8", "x", ""])),
)
info_lines = st.one_of(
    st.builds("Payload-Oxum: {}.{}".format, numbers, numbers),
    st.builds("{}: {}".format, st.sampled_from(["Bag-Size", "External-Identifier"]), paths),
)
manifest_lines = st.builds("{} {}".format, st.sampled_from(["a" * 64, "0" * 128, "zz"]), paths)
fetch_lines = st.builds("{} {} {}".format, st.sampled_from(["http://x/y", "x"]), numbers, paths)
# The inputs that crashed earlier versions, always tried first (then the generated ones).
KNOWN = [
    ("bag-info.txt", f"Payload-Oxum: {HUGE}.1\n".encode()),
    ("bag-info.txt", "Payload-Oxum: \u0661\u0662.1\n".encode()),
    ("bagit.txt", f"BagIt-Version: {HUGE}.0\nTag-File-Character-Encoding: UTF-8\n".encode()),
    ("fetch.txt", "http://x/y \u0661\u0662 data/a.txt\n".encode()),
    ("fetch.txt", "http://x/y \u00b2 data/a.txt\n".encode()),
    ("manifest-sha256.txt", ("a" * 64 + "  data/\x1b]0;pwned\x07\x1b[2J\n").encode()),
    ("bag-info.txt", b"\xff\xfe\x00 not utf-8\n"),
]


def known_examples(**others: Any) -> Any:
    """Decorate a test taking ``case`` with every KNOWN input as an explicit example (its
    other arguments fixed to ``others``)."""

    def decorate(test: Any) -> Any:
        for case in KNOWN:
            test = example(case=case, **others)(test)
        return test

    return decorate


# (file, the strategy for its content): each tag file gets lines of its own grammar with
# hostile values, or anything at all.
TAG_CASES = [
    ("bagit.txt", lines_of(declaration_lines)),
    ("bag-info.txt", lines_of(info_lines)),
    ("manifest-sha256.txt", lines_of(manifest_lines)),
    ("tagmanifest-sha256.txt", lines_of(manifest_lines)),
    ("fetch.txt", lines_of(fetch_lines)),
]
tag_cases = st.one_of(
    st.sampled_from(TAG_CASES).flatmap(lambda case: st.tuples(st.just(case[0]), case[1])),
    st.tuples(st.sampled_from([name for name, _ in TAG_CASES]), hostile_bytes),
)
file_names = st.one_of(
    st.sampled_from(["a.txt", "\x1b[2J.txt", "x" * 250, "\u00e9t\u00e9.txt", "sp ace.txt"]),
    st.text(
        alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=40,
    ).filter(lambda n: n not in (".", "..") and len(n.encode("utf-8", "surrogatepass")) < 250),
)


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in process; return (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def assert_well_behaved(status: int, out: str, err: str) -> None:
    assert status in (0, 1, 2), (status, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert "unexpected" not in err, err  # the safety net caught a bug
    for line in err.splitlines():
        assert len(line) <= 600, line[:200]
    assert "\x1b" not in err and "\x1b" not in out


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A temporary directory per example (pytest's tmp_path is one per test)."""
    with tempfile.TemporaryDirectory(prefix="archiver-fuzz-") as name:
        yield Path(name)


def damaged_bag(root: Path, name: str, content: bytes) -> Path:
    bag = build_fixture_bag(root / "bags" / "fuzzed")
    (bag / name).write_bytes(content)
    return bag


@known_examples()
@settings(FUZZ, max_examples=80)
@given(case=tag_cases)
def test_validate_never_crashes(case: tuple[str, bytes]) -> None:
    name, content = case
    with scratch() as root:
        bag = damaged_bag(root, name, content)
        status, out, err = run(["validate", str(bag)])
        assert_well_behaved(status, out, err)
        status_json, out, err = run(["validate", "--json", str(bag)])
        assert_well_behaved(status_json, out, err)
        assert status_json == status
        document = json.loads(out)
        assert document["status"] == {0: "valid", 1: "invalid", 2: "error"}[status]


@known_examples()
@settings(FUZZ, max_examples=40)
@given(case=tag_cases)
def test_audit_reports_the_good_bags_whatever_one_bag_holds(case: tuple[str, bytes]) -> None:
    name, content = case
    with scratch() as root:
        damaged_bag(root, name, content)
        good = build_fixture_bag(root / "bags" / "good")
        argv = ["audit", str(root / "bags"), "--ledger", str(root / "l.sqlite"), "--json", "-"]
        status, out, err = run([*argv, "--workers", "1"])
        assert_well_behaved(status, out, err)
        assert status in (0, 1)
        report = json.loads(out)
        bags = {b["bag"]: b for b in report["bags"]}
        assert bags[str(good)]["status"] == "valid"
        assert status == (0 if all(b["status"] == "valid" for b in bags.values()) else 1)


@known_examples(sidecar=b"\xff\xfe not utf-8\n")
@FUZZ
@given(case=tag_cases, sidecar=hostile_bytes)
def test_serialized_bag_and_sidecar_never_crash(case: tuple[str, bytes], sidecar: bytes) -> None:
    name, content = case
    with scratch() as root:
        bag = damaged_bag(root, name, content)
        archive = root / "fuzzed.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(bag, arcname="fuzzed")
        (root / "fuzzed.tar.sha256").write_bytes(sidecar)
        status, out, err = run(["validate", str(archive)])
        assert_well_behaved(status, out, err)


@known_examples(payload_name="\x1b]0;pwned\x07\x1b[2J.txt")
@FUZZ
@given(case=tag_cases, payload_name=file_names)
def test_package_and_deposit_never_crash(case: tuple[str, bytes], payload_name: str) -> None:
    name, content = case
    with scratch() as root:
        bag = damaged_bag(root, name, content)
        with contextlib.suppress(OSError):
            (bag / "data" / payload_name).write_bytes(b"extra\n")
        valid, out, err = run(["validate", str(bag)])
        assert_well_behaved(valid, out, err)
        argv = ["package", str(bag), "--format", "tar", "--out", str(root / "packages")]
        status, out, err = run(argv)
        assert_well_behaved(status, out, err)
        if valid == 1:
            assert status == 1  # an invalid bag is refused as damaged, never packaged
        target = (root / "copies").as_uri()
        argv = ["deposit", str(bag), "--to", target, "--ledger", str(root / "l.sqlite")]
        status, out, err = run(argv)
        assert_well_behaved(status, out, err)
        if valid == 1:
            assert status == 1


@settings(FUZZ, max_examples=8)
@given(content=hostile_bytes, name=file_names)
def test_describe_never_crashes(content: bytes, name: str) -> None:
    with scratch() as root:
        path = root / name
        try:
            path.write_bytes(content)
        except OSError:
            return  # a name this file system refuses
        for extra in ([], ["--json"]):
            status, out, err = run(["describe", str(path), *extra])
            assert_well_behaved(status, out, err)
            assert status == 0


@settings(FUZZ, max_examples=10)
@given(cell=text_fragments, header=st.sampled_from(["dc.title", "dc.date", "dc.creator"]))
def test_build_with_a_hostile_catalog_cell_never_crashes(cell: str, header: str) -> None:
    with scratch() as root:
        sources = root / "sources"
        shutil.copytree(SOURCES, sources)
        catalog = sources / "metadata.csv"
        lines = catalog.read_text(encoding="utf-8").splitlines()
        columns = lines[0].split(",")
        quoted = '"' + cell.replace('"', '""') + '"'
        if header in columns:
            first = lines[1].split(",")  # the seed catalog's first row has no quoted commas
            if first[columns.index(header)].startswith('"'):
                return
            first[columns.index(header)] = quoted
            lines[1] = ",".join(first)
        catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")
        argv = ["build", "--catalog", str(catalog), "--out", str(root / "bags")]
        status, out, err = run([*argv, "--config", str(ROOT / "archive.toml")])
        assert_well_behaved(status, out, err)
        assert status in (0, 2)


@settings(FUZZ, max_examples=15)
@given(content=hostile_bytes)
def test_build_with_a_hostile_catalog_file_never_crashes(content: bytes) -> None:
    with scratch() as root:
        sources = root / "sources"
        shutil.copytree(SOURCES, sources)
        (sources / "metadata.csv").write_bytes(content)
        argv = ["build", "--catalog", str(sources / "metadata.csv"), "--out", str(root / "b")]
        status, out, err = run([*argv, "--config", str(ROOT / "archive.toml")])
        assert_well_behaved(status, out, err)
        assert status == 2


@FUZZ
@given(content=hostile_bytes)
def test_ledger_commands_on_a_hostile_file_never_crash(content: bytes) -> None:
    with scratch() as root:
        ledger = root / "l.sqlite"
        ledger.write_bytes(content)
        for argv in (["show"], ["verify"], ["premis", "some-bag"]):
            status, out, err = run(["ledger", *argv, "--ledger", str(ledger)])
            assert_well_behaved(status, out, err)


@FUZZ
@given(
    where=st.sampled_from(["inside-bag", "inside-data", "missing-dir", "is-dir", "ok"]),
    name=file_names,
)
def test_output_paths_never_crash_nor_write_into_the_bag(where: str, name: str) -> None:
    with scratch() as root:
        bag = build_fixture_bag(root / "bags" / "b")
        before = sorted(str(p) for p in bag.rglob("*"))
        ledger = root / "l.sqlite"
        assert run(["audit", str(bag), "--ledger", str(ledger)])[0] == 0  # for ledger premis
        base = {
            "inside-bag": bag,
            "inside-data": bag / "data",
            "missing-dir": root / "missing",
            "is-dir": root,
            "ok": root,
        }[where]
        out = root if where == "is-dir" else base / name
        for argv in (
            ["audit", str(bag), "--ledger", str(root / "l.sqlite"), "--json", str(out)],
            ["package", str(bag), "--format", "tar", "--out", str(out)],
            ["deposit", str(bag), "--to", f"ocfl://{out}", "--ledger", str(root / "l.sqlite")],
            ["ledger", "premis", str(bag), "--ledger", str(root / "l.sqlite"), "--out", str(out)],
        ):
            status, stdout, err = run(argv)
            assert_well_behaved(status, stdout, err)
            if where.startswith("inside"):
                assert status == 2 and "inside the bag" in err
        assert sorted(str(p) for p in bag.rglob("*")) == before


def test_fuzz_fixture_bag_is_valid() -> None:
    """The base of every example is valid, so what the examples find is the fuzz's doing."""
    with scratch() as root:
        bag = build_fixture_bag(root / "b")
        assert run(["validate", str(bag)])[0] == 0
