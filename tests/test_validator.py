"""Tests for archiver.bag.validator: faults on a copy of a bag, each with its kind and path."""

from __future__ import annotations

import hashlib
import os
import tarfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

import bagit
import pytest

import archiver.archive.verify as verify
import archiver.bag.validator as validator
from archiver.archive.serialize import DEFAULT_EPOCH, serialize_bag
from archiver.bag.validator import BagPlan, finish_bag, hash_jobs, plan_bag, validate_bag
from archiver.model.digest import new_buffer
from archiver.model.errors import BagReadError
from archiver.model.findings import Finding, Kind, Severity

PAYLOAD = {
    "a.txt": b"The quick brown fox jumps over the lazy dog.\n",
    "sub/b.txt": b"second file\n",
    "big.bin": bytes(range(256)) * 512,
}
METADATA = b'{"title": "A statement"}\n'


def build_fixture_bag(path: Path, payload: dict[str, bytes] | None = None) -> Path:
    """A bag like ours, made with bagit-python: sha256 + sha512, metadata/dc.json as a tag file."""
    path.mkdir(parents=True)
    for name, data in (payload or PAYLOAD).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    bag = bagit.make_bag(str(path), checksums=["sha256", "sha512"])
    (path / "metadata").mkdir()
    (path / "metadata" / "dc.json").write_bytes(METADATA)
    bag.save()  # regenerates the tag manifests, now listing metadata/dc.json
    return path


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    return build_fixture_bag(tmp_path / "bag")


def _edit(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))


def _manifest_line(bag: Path, manifest: str, rel: str) -> bytes:
    for line in (bag / manifest).read_bytes().splitlines(keepends=True):
        if line.rstrip(b"\r\n").endswith(b" " + rel.encode()):
            return line
    raise AssertionError(f"{rel} not in {manifest}")


def flip_bit(bag: Path) -> None:
    target = bag / "data/a.txt"
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))


def truncate(bag: Path) -> None:
    with open(bag / "data/big.bin", "r+b") as fh:
        fh.truncate(1000)


def empty(bag: Path) -> None:
    (bag / "data/a.txt").write_bytes(b"")


def delete(bag: Path) -> None:
    (bag / "data/a.txt").unlink()


def rename(bag: Path) -> None:
    (bag / "data/a.txt").rename(bag / "data/renamed.txt")


def same_length(bag: Path) -> None:
    _edit(bag / "data/a.txt", b"quick", b"QUICK")


def add_unexpected(bag: Path) -> None:
    (bag / "data/extra.txt").write_bytes(b"not in any manifest\n")


def edit_sha256_digest(bag: Path) -> None:
    line = _manifest_line(bag, "manifest-sha256.txt", "data/a.txt")
    _edit(bag / "manifest-sha256.txt", line, b"0" * 64 + line[64:])


def edit_sha512_digest(bag: Path) -> None:
    line = _manifest_line(bag, "manifest-sha512.txt", "data/a.txt")
    _edit(bag / "manifest-sha512.txt", line, b"0" * 128 + line[128:])


def edit_tagmanifest_digest(bag: Path) -> None:
    line = _manifest_line(bag, "tagmanifest-sha256.txt", "bag-info.txt")
    _edit(bag / "tagmanifest-sha256.txt", line, b"0" * 64 + line[64:])


def edit_tagmanifest512_digest(bag: Path) -> None:
    line = _manifest_line(bag, "tagmanifest-sha512.txt", "metadata/dc.json")
    _edit(bag / "tagmanifest-sha512.txt", line, b"f" * 128 + line[128:])


def remove_manifest_line(bag: Path) -> None:
    _edit(
        bag / "manifest-sha256.txt", _manifest_line(bag, "manifest-sha256.txt", "data/a.txt"), b""
    )


def declare_1_0(bag: Path) -> None:
    _edit(bag / "bagit.txt", b"BagIt-Version: 0.97", b"BagIt-Version: 1.0")


def remove_manifest_line_1_0(bag: Path) -> None:
    """In a BagIt 1.0 bag, every payload file must be in every payload manifest."""
    declare_1_0(bag)
    remove_manifest_line(bag)


def delete_manifest(bag: Path) -> None:
    (bag / "manifest-sha512.txt").unlink()


def edit_bag_info(bag: Path) -> None:
    with open(bag / "bag-info.txt", "ab") as fh:
        fh.write(b"Contact-Name: Someone Else\n")


def edit_oxum(bag: Path) -> None:
    data = (bag / "bag-info.txt").read_bytes()
    start = data.index(b"Payload-Oxum: ") + len(b"Payload-Oxum: ")
    end = data.index(b"\n", start)
    (bag / "bag-info.txt").write_bytes(data[:start] + b"1.1" + data[end:])


def edit_metadata(bag: Path) -> None:
    _edit(bag / "metadata/dc.json", b"A statement", b"A forgery!!")


def delete_bagit_txt(bag: Path) -> None:
    (bag / "bagit.txt").unlink()


def corrupt_version(bag: Path) -> None:
    _edit(bag / "bagit.txt", b"BagIt-Version: 0.97", b"BagIt-Version: 9.x")


def dotdot_entry(bag: Path) -> None:
    with open(bag / "manifest-sha256.txt", "ab") as fh:
        fh.write(b"0" * 64 + b"  data/../../outside.txt\n")


def absolute_entry(bag: Path) -> None:
    with open(bag / "manifest-sha256.txt", "ab") as fh:
        fh.write(b"0" * 64 + b"  /etc/passwd\n")


def link_outside(bag: Path) -> None:
    outside = bag.parent / "outside-a.txt"
    outside.write_bytes((bag / "data/a.txt").read_bytes())
    (bag / "data/a.txt").unlink()
    os.symlink(outside, bag / "data/a.txt")


FAULTS: list[tuple[Callable[[Path], None], Kind, str]] = [
    (flip_bit, Kind.CHECKSUM_MISMATCH, "data/a.txt"),
    (truncate, Kind.CHECKSUM_MISMATCH, "data/big.bin"),
    (truncate, Kind.OXUM_MISMATCH, "bag-info.txt"),
    (empty, Kind.CHECKSUM_MISMATCH, "data/a.txt"),
    (delete, Kind.MISSING_FILE, "data/a.txt"),
    (rename, Kind.MISSING_FILE, "data/a.txt"),
    (rename, Kind.UNEXPECTED_FILE, "data/renamed.txt"),
    (same_length, Kind.CHECKSUM_MISMATCH, "data/a.txt"),
    (add_unexpected, Kind.UNEXPECTED_FILE, "data/extra.txt"),
    (edit_sha256_digest, Kind.CHECKSUM_MISMATCH, "data/a.txt"),
    (edit_sha256_digest, Kind.CHECKSUM_MISMATCH, "manifest-sha256.txt"),
    (edit_sha512_digest, Kind.CHECKSUM_MISMATCH, "data/a.txt"),
    (edit_tagmanifest_digest, Kind.CHECKSUM_MISMATCH, "bag-info.txt"),
    (edit_tagmanifest512_digest, Kind.CHECKSUM_MISMATCH, "metadata/dc.json"),
    (remove_manifest_line_1_0, Kind.INVALID_MANIFEST, "data/a.txt"),
    (remove_manifest_line, Kind.CHECKSUM_MISMATCH, "manifest-sha256.txt"),
    (delete_manifest, Kind.MISSING_FILE, "manifest-sha512.txt"),
    (edit_bag_info, Kind.CHECKSUM_MISMATCH, "bag-info.txt"),
    (edit_oxum, Kind.OXUM_MISMATCH, "bag-info.txt"),
    (edit_metadata, Kind.CHECKSUM_MISMATCH, "metadata/dc.json"),
    (delete_bagit_txt, Kind.INVALID_DECLARATION, "bagit.txt"),
    (corrupt_version, Kind.INVALID_DECLARATION, "bagit.txt"),
    (dotdot_entry, Kind.UNSAFE_PATH, "data/../../outside.txt"),
    (absolute_entry, Kind.UNSAFE_PATH, "/etc/passwd"),
    (link_outside, Kind.UNSAFE_PATH, "data/a.txt"),
]


def test_clean_bag_has_no_findings(bag: Path) -> None:
    report = validate_bag(bag)
    assert report.findings == ()
    assert report.valid
    assert (report.files, report.bytes) == (3, sum(len(d) for d in PAYLOAD.values()))


@pytest.mark.parametrize(
    ("fault", "kind", "path"), FAULTS, ids=[f"{f.__name__}-{k}-{p}" for f, k, p in FAULTS]
)
def test_fault_is_reported(bag: Path, fault: Callable[[Path], None], kind: Kind, path: str) -> None:
    fault(bag)
    report = validate_bag(bag)
    assert not report.valid
    assert (kind, path) in {(f.kind, f.path) for f in report.errors}, report.errors
    assert all(f.bag == str(bag) for f in report.findings)


def test_checksum_finding_names_algorithm_expected_and_found(bag: Path) -> None:
    flip_bit(bag)
    report = validate_bag(bag)
    mismatches = sorted(
        (f for f in report.errors if f.kind is Kind.CHECKSUM_MISMATCH),
        key=lambda f: f.algorithm or "",
    )
    assert [f.algorithm for f in mismatches] == ["sha256", "sha512"]
    for finding in mismatches:
        line = _manifest_line(bag, f"manifest-{finding.algorithm}.txt", "data/a.txt")
        assert finding.expected == line.split()[0].decode()
        assert finding.found is not None and finding.found != finding.expected
        assert len(finding.found) == len(finding.expected)


def test_all_findings_are_collected(bag: Path) -> None:
    flip_bit(bag)
    add_unexpected(bag)
    delete_bagit_txt(bag)
    (bag / "data/sub/b.txt").unlink()
    kinds = {(f.kind, f.path) for f in validate_bag(bag).errors}
    assert {
        (Kind.CHECKSUM_MISMATCH, "data/a.txt"),
        (Kind.UNEXPECTED_FILE, "data/extra.txt"),
        (Kind.INVALID_DECLARATION, "bagit.txt"),
        (Kind.MISSING_FILE, "data/sub/b.txt"),
    } <= kinds


def test_link_is_never_read(bag: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    link_outside(bag)
    opened: list[Path] = []
    real = validator.hash_path

    def spy(path: str, *args: object, **kwargs: object) -> object:
        opened.append(Path(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(validator, "hash_path", spy)
    validate_bag(bag)
    assert bag / "data/a.txt" not in opened
    assert opened  # the other files were hashed


def test_link_inside_the_bag_is_unsafe_too(bag: Path) -> None:
    (bag / "data/a.txt").unlink()
    os.symlink("sub/b.txt", bag / "data/a.txt")
    report = validate_bag(bag)
    assert (Kind.UNSAFE_PATH, "data/a.txt") in {(f.kind, f.path) for f in report.errors}


@pytest.mark.parametrize(
    ("mode", "fault", "caught"),
    [
        ("fast", flip_bit, False),
        ("fast", truncate, True),
        ("fast", delete_bagit_txt, True),
        ("completeness", flip_bit, False),
        ("completeness", delete, True),
        ("completeness", add_unexpected, True),
        ("full", flip_bit, True),
    ],
)
def test_modes(
    bag: Path, mode: validator.Mode, fault: Callable[[Path], None], caught: bool
) -> None:
    fault(bag)
    report = validate_bag(bag, mode=mode)
    assert report.valid is not caught
    assert ("checksums" in report.checks) is (mode == "full")


def test_file_in_two_manifests_is_one_job_with_both_algorithms(bag: Path) -> None:
    plan = plan_bag(bag)
    paths = [job.path for job in plan.jobs]
    assert len(paths) == len(set(paths))
    job = next(j for j in plan.jobs if j.path == "data/a.txt")
    assert job.algorithms == ("sha256", "sha512")
    # tag files already read for parsing are verified from memory, not hashed again
    assert "bag-info.txt" not in paths and "manifest-sha256.txt" not in paths
    assert "metadata/dc.json" in paths


def test_file_vanishing_before_hashing_is_missing(bag: Path) -> None:
    plan = plan_bag(bag)
    (bag / "data/a.txt").unlink()
    report = finish_bag(plan, hash_jobs(plan.jobs))
    finding = next(f for f in report.errors if f.path == "data/a.txt")
    assert finding.kind is Kind.MISSING_FILE
    assert "cannot be read" in finding.message


@pytest.mark.parametrize(("version", "severity"), [("0.97", "warning"), ("1.0", "error")])
def test_missing_from_one_manifest_only(bag: Path, version: str, severity: str) -> None:
    """RFC 8493 §3 (1.0): every payload file MUST be listed in every payload manifest;
    0.97 (draft-kunze-bagit-09 §3) asked for at least one manifest only."""
    if version == "1.0":
        declare_1_0(bag)
    line = _manifest_line(bag, "manifest-sha512.txt", "data/sub/b.txt")
    _edit(bag / "manifest-sha512.txt", line, b"")
    report = validate_bag(bag)
    finding = next(
        f for f in report.findings if f.kind is Kind.INVALID_MANIFEST and f.path == "data/sub/b.txt"
    )
    assert finding.severity == severity
    assert "manifest-sha512.txt" in finding.message


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_text("x"), "not a directory"),
        (lambda p: p.mkdir(), "not a bag"),
    ],
)
def test_not_a_bag(tmp_path: Path, setup: Callable[[Path], object], message: str) -> None:
    target = tmp_path / "thing"
    setup(target)
    with pytest.raises(BagReadError, match=message):
        validate_bag(target)


def test_bag_without_bagit_txt_is_still_a_damaged_bag(bag: Path) -> None:
    delete_bagit_txt(bag)
    report = validate_bag(bag)
    assert [f.kind for f in report.errors] == [Kind.INVALID_DECLARATION, Kind.MISSING_FILE]


def test_unicode_normalization_twin_is_hashed_with_warning(tmp_path: Path) -> None:
    nfc = unicodedata.normalize("NFC", "Núñez.txt")
    nfd = unicodedata.normalize("NFD", "Núñez.txt")
    bag = build_fixture_bag(tmp_path / "bag", {nfc: b"content\n"})
    manifest = bag / "manifest-sha256.txt"
    manifest.write_bytes(manifest.read_bytes().replace(nfc.encode(), nfd.encode()))
    for name in ("manifest-sha512.txt",):
        path = bag / name
        path.write_bytes(path.read_bytes().replace(nfc.encode(), nfd.encode()))
    report = validate_bag(bag)
    assert report.errors == tuple(
        f for f in report.errors if f.kind is Kind.CHECKSUM_MISMATCH and "manifest" in f.path
    )
    assert any("normalization" in f.message for f in report.warnings)


def test_case_twin_not_listed_is_missing_and_unexpected(bag: Path) -> None:
    (bag / "data/a.txt").rename(bag / "data/A.txt")
    kinds = {(f.kind, f.path) for f in validate_bag(bag).errors}
    assert {(Kind.MISSING_FILE, "data/a.txt"), (Kind.UNEXPECTED_FILE, "data/A.txt")} <= kinds


def test_holey_bag_missing_fetched_file_is_missing(bag: Path) -> None:
    (bag / "fetch.txt").write_bytes(b"https://example.org/a.txt - data/a.txt\n")
    delete(bag)
    finding = next(f for f in validate_bag(bag).errors if f.path == "data/a.txt")
    assert finding.kind is Kind.MISSING_FILE
    assert "fetch.txt" in finding.message


def test_system_file_present_is_a_warning(tmp_path: Path) -> None:
    bag = build_fixture_bag(tmp_path / "bag", {"a.txt": b"a\n", "Thumbs.db": b""})
    report = validate_bag(bag)
    assert report.valid
    assert [(f.kind, f.path) for f in report.warnings] == [(Kind.UNEXPECTED_FILE, "data/Thumbs.db")]


def test_checkers_run_on_the_plan(bag: Path) -> None:
    seen: list[BagPlan] = []

    def checker(plan: BagPlan) -> list[Finding]:
        seen.append(plan)
        return [Finding(Kind.PROFILE_VIOLATION, plan.bag, "bag-info.txt", "test checker")]

    report = validate_bag(bag, checkers=[checker])
    assert len(seen) == 1 and seen[0].info
    assert [(f.kind, f.severity) for f in report.findings] == [
        (Kind.PROFILE_VIOLATION, Severity.ERROR)
    ]


def test_unknown_mode_is_refused(bag: Path) -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        plan_bag(bag, mode="quick")  # type: ignore[arg-type]


# ------------------------------------------------------------------ built bags (our profile)


def _payload(bag: Path) -> str:
    (name,) = [p.name for p in (bag / "data").iterdir()]
    return f"data/{name}"


def _built_flip_bit(bag: Path) -> str:
    target = bag / _payload(bag)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x80
    target.write_bytes(bytes(data))
    return _payload(bag)


def _built_truncate(bag: Path) -> str:
    with open(bag / _payload(bag), "r+b") as fh:
        fh.truncate(10)
    return _payload(bag)


def _built_empty(bag: Path) -> str:
    (bag / _payload(bag)).write_bytes(b"")
    return _payload(bag)


def _built_delete(bag: Path) -> str:
    rel = _payload(bag)
    (bag / rel).unlink()
    return rel


def _built_same_length(bag: Path) -> str:
    target = bag / _payload(bag)
    data = target.read_bytes()
    target.write_bytes(data[::-1])
    return _payload(bag)


def _built_link_outside(bag: Path) -> str:
    rel = _payload(bag)
    outside = bag.parent.parent / "outside-copy.txt"
    outside.write_bytes((bag / rel).read_bytes())
    (bag / rel).unlink()
    os.symlink(outside, bag / rel)
    return rel


def _built_edit_metadata(bag: Path) -> str:
    _edit(bag / "metadata/dc.json", b'"dc.title"', b'"dc.titel"')
    return "metadata/dc.json"


def _built_bad_version(bag: Path) -> str:
    _edit(bag / "bagit.txt", b"BagIt-Version: 1.0", b"BagIt-Version: 1.O")
    return "bagit.txt"


BUILT_FAULTS: list[tuple[Callable[[Path], str], Kind]] = [
    (_built_flip_bit, Kind.CHECKSUM_MISMATCH),
    (_built_truncate, Kind.CHECKSUM_MISMATCH),
    (_built_empty, Kind.CHECKSUM_MISMATCH),
    (_built_delete, Kind.MISSING_FILE),
    (_built_same_length, Kind.CHECKSUM_MISMATCH),
    (_built_link_outside, Kind.UNSAFE_PATH),
    (_built_edit_metadata, Kind.CHECKSUM_MISMATCH),
    (_built_bad_version, Kind.INVALID_DECLARATION),
]


def test_built_bag_is_clean(bag_copy: Path) -> None:
    report = validate_bag(bag_copy)
    assert report.findings == ()
    assert "declaration" in report.checks


@pytest.mark.parametrize(
    ("fault", "kind"), BUILT_FAULTS, ids=[f"{f.__name__}-{k}" for f, k in BUILT_FAULTS]
)
def test_fault_on_built_bag(bag_copy: Path, fault: Callable[[Path], str], kind: Kind) -> None:
    path = fault(bag_copy)
    report = validate_bag(bag_copy)
    assert (kind, path) in {(f.kind, f.path) for f in report.errors}, report.errors


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def test_no_archiver_policy_unless_checkers_are_given(bag_copy: Path) -> None:
    (bag_copy / "notes.txt").write_text("x")  # a tag file our profile does not allow
    (bag_copy / "metadata" / "dc.json").write_text("{}")  # and a record no schema accepts
    kinds = {f.kind for f in validate_bag(bag_copy).findings}
    assert kinds == {Kind.CHECKSUM_MISMATCH}  # BagIt alone: only the tag manifest objects


def _drop_payload_manifests(bag: Path) -> None:
    (bag / "manifest-sha256.txt").unlink()
    (bag / "manifest-sha512.txt").unlink()


@pytest.mark.parametrize(
    ("damage", "kind", "severity", "path"),
    [
        (_drop_payload_manifests, Kind.MISSING_FILE, Severity.ERROR, "manifest-*.txt"),
        (lambda b: (b / "manifest-crc32.txt").write_text("0  data/a.txt\n"),
         Kind.INVALID_MANIFEST, Severity.WARNING, "manifest-crc32.txt"),
        (lambda b: _append(b / "bag-info.txt", b"Payload-Oxum: 1.1\n"),
         Kind.INVALID_MANIFEST, Severity.ERROR, "bag-info.txt"),
        (lambda b: _append(b / "bag-info.txt", b"  orphan\n\n"),
         Kind.INVALID_MANIFEST, Severity.WARNING, "bag-info.txt"),
        (lambda b: (b / "fetch.txt").write_text("nonsense\n"),
         Kind.INVALID_MANIFEST, Severity.ERROR, "fetch.txt"),
        (lambda b: os.mkfifo(b / "data" / "pipe"), Kind.UNSAFE_PATH, Severity.ERROR,
         "data/pipe"),
        (lambda b: _append(b / "bagit.txt", b"Extra: line\n"), Kind.INVALID_DECLARATION,
         Severity.ERROR, "bagit.txt"),
    ],
)  # fmt: skip
def test_structure_problems(
    bag: Path, damage: Callable[[Path], object], kind: Kind, severity: Severity, path: str
) -> None:
    damage(bag)
    report = validate_bag(bag, checkers=())
    assert (kind, severity, path) in {(f.kind, f.severity, f.path) for f in report.findings}


# ------------------------------------------------------------------ serialized bags

_D = {"sha256": "a" * 64, "sha512": "b" * 128}


@pytest.mark.parametrize(
    ("sidecars", "found", "expected"),
    [
        ({"sha256": (_D["sha256"], "x.tar")}, _D, set()),
        ({"sha256": (_D["sha256"], "x.tar"), "sha512": (_D["sha512"], "x.tar")}, _D, set()),
        ({"sha256": ("c" * 64, "x.tar")}, _D, {(Kind.CHECKSUM_MISMATCH, "sha256")}),
        ({"sha512": ("c" * 128, "x.tar")}, _D, {(Kind.CHECKSUM_MISMATCH, "sha512")}),
        ({"sha256": (_D["sha256"], "y.tar")}, _D, {(Kind.INVALID_MANIFEST, None)}),
    ],
)
def test_sidecar_findings(
    sidecars: dict[str, tuple[str, str]],
    found: dict[str, str],
    expected: set[tuple[Kind, str | None]],
) -> None:
    findings = verify.sidecar_findings("/a/x.tar", "x.tar", sidecars, found)
    assert {(f.kind, f.algorithm) for f in findings} == expected
    assert all((f.bag, f.path) == ("/a/x.tar", ".") for f in findings)


def test_validate_serialized_uses_tmp_dir_and_names_the_archive(bag: Path, tmp_path: Path) -> None:
    flip_bit(bag)
    out = tmp_path / "out"
    out.mkdir()
    archive = serialize_bag(bag, out, "zip", DEFAULT_EPOCH).archive
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    report = verify.validate_serialized(archive, checkers=(), tmp_dir=scratch)
    assert report.bag == str(archive)
    assert (Kind.CHECKSUM_MISMATCH, "data/a.txt") in {(f.kind, f.path) for f in report.errors}
    assert list(scratch.iterdir()) == []


def test_validate_serialized_unsafe_archive(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        link = tarfile.TarInfo("bag/data/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    report = verify.validate_serialized(archive, name="named", tmp_dir=scratch)
    assert not report.valid
    assert {(f.kind, f.bag, f.path) for f in report.findings} == {
        (Kind.UNSAFE_PATH, "named", "bag/data/link")
    }
    assert list(scratch.iterdir()) == []


def test_a_file_swapped_for_a_link_after_planning_is_not_followed(bag: Path) -> None:
    plan = validator.plan_bag(bag)
    (bag / "data/a.txt").unlink()
    os.symlink(bag / "bagit.txt", bag / "data/a.txt")  # after the listing: must not be read
    report = validator.finish_bag(plan, validator.hash_jobs(plan.jobs))
    assert (Kind.MISSING_FILE, "data/a.txt") in {(f.kind, f.path) for f in report.errors}
    assert Kind.CHECKSUM_MISMATCH not in {f.kind for f in report.errors}


def test_hash_path_matches_hashlib(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    data = bytes(range(256)) * 5000  # more than one buffer
    target.write_bytes(data)
    digests, size = validator.hash_path(str(target), ["sha256", "sha512"], new_buffer(4096))
    assert size == len(data)
    assert digests == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
    }


@pytest.mark.parametrize("listed", [0, 1, 4095, 4096, 4097, 9999, 10000, 10001, 20000])
def test_small_file_read_is_whole_whatever_size_was_listed(tmp_path: Path, listed: int) -> None:
    """The listed size only shortens the read when it is right; a file that grew or shrank
    after the listing is still read to its end (buffer smaller and larger than the file)."""
    target = tmp_path / "f.bin"
    data = bytes(range(256)) * 39 + b"xyz"  # 9987 bytes
    target.write_bytes(data)
    expected = {"sha256": hashlib.sha256(data).hexdigest()}
    for buffer in (new_buffer(4096), new_buffer(1 << 16)):
        digests, size = validator.hash_path(str(target), ["sha256"], buffer, size=listed)
        assert (digests, size) == (expected, len(data))
    assert validator._read_tag(str(tmp_path), "f.bin", listed) == data


def test_small_file_read_refuses_a_link(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_bytes(b"secret")
    os.symlink(tmp_path / "real.txt", tmp_path / "link.txt")
    with pytest.raises(OSError):
        validator.hash_path(str(tmp_path / "link.txt"), ["sha256"], new_buffer(4096), size=6)
    with pytest.raises(OSError):
        validator._read_tag(str(tmp_path), "link.txt", 6)


# ------------------------------------------------------------------ issue 9


def test_sparse_1_gib_bag_info_is_a_finding_not_a_read(bag: Path) -> None:
    """Class 3: tag files are read up to a limit; beyond it oversized-tag-file, not read."""
    with open(bag / "bag-info.txt", "r+b") as fh:
        fh.truncate(1 << 30)  # sparse: costs no disk
    report = validate_bag(bag)
    oversized = [f for f in report.errors if f.kind is Kind.OVERSIZED_TAG_FILE]
    assert [(f.path, f.severity) for f in oversized] == [("bag-info.txt", Severity.ERROR)]
    assert str(1 << 30) in oversized[0].message


def test_tag_file_limit_is_configurable(bag: Path) -> None:
    size = (bag / "manifest-sha512.txt").stat().st_size
    report = validate_bag(bag, max_tag_bytes=size - 1)
    assert ("manifest-sha512.txt", Kind.OVERSIZED_TAG_FILE) in {
        (f.path, f.kind) for f in report.errors
    }
    assert validate_bag(bag, max_tag_bytes=size + 4096).valid


def _add_fetch(bag: Path, text: str) -> None:
    (bag / "fetch.txt").write_text(text)


def test_fetch_file_must_be_in_every_payload_manifest_1_0(bag: Path) -> None:
    """RFC 8493 §2.2.3: every file listed in fetch.txt MUST be listed in every payload
    manifest."""
    declare_1_0(bag)
    digest = hashlib.sha256(b"later\n").hexdigest()
    with open(bag / "manifest-sha256.txt", "a") as fh:
        fh.write(f"{digest}  data/later.txt\n")
    _add_fetch(bag, "http://example.org/later.txt 6 data/later.txt\n")
    report = validate_bag(bag)
    problems = {(f.kind, f.path, f.message) for f in report.errors}
    assert (
        Kind.INVALID_MANIFEST,
        "data/later.txt",
        "listed in fetch.txt but not in manifest-sha512.txt",
    ) in problems


def test_fetch_file_in_no_manifest_before_1_0(bag: Path) -> None:
    """draft-kunze-bagit-09 (0.97) §2.2.3: a fetched file must be in the manifests."""
    _add_fetch(bag, "http://example.org/later.txt 6 data/later.txt\n")
    report = validate_bag(bag)
    assert (Kind.INVALID_MANIFEST, "data/later.txt") in {(f.kind, f.path) for f in report.errors}


def test_every_tag_manifest_lists_every_payload_manifest_1_0(bag: Path) -> None:
    """RFC 8493 §2.2.1: each tag manifest MUST list every payload manifest (BagIt 1.0)."""
    declare_1_0(bag)
    line = _manifest_line(bag, "tagmanifest-sha256.txt", "manifest-sha512.txt")
    _edit(bag / "tagmanifest-sha256.txt", line, b"")
    report = validate_bag(bag)
    assert (
        Kind.INVALID_MANIFEST,
        "manifest-sha512.txt",
    ) in {(f.kind, f.path) for f in report.errors}


def test_tag_manifest_may_omit_a_payload_manifest_before_1_0(bag: Path) -> None:
    """The rule is new in 1.0: a 0.97 bag is only checked for what its manifests list."""
    line = _manifest_line(bag, "tagmanifest-sha256.txt", "manifest-sha512.txt")
    _edit(bag / "tagmanifest-sha256.txt", line, b"")
    report = validate_bag(bag)
    assert "manifest-sha512.txt" not in {f.path for f in report.errors}


def test_200k_line_manifest_validates(tmp_path: Path) -> None:
    """Class 3: a large manifest is parsed once and checked completely (no wall-clock limit
    here; the time and memory are measured in the commit message)."""
    root = tmp_path / "big"
    (root / "data").mkdir(parents=True)
    (root / "data" / "x").write_bytes(b"")
    (root / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    empty = hashlib.sha256(b"").hexdigest()
    lines = [f"{empty}  data/x"] + [f"{empty}  data/missing-{i}" for i in range(200_000)]
    (root / "manifest-sha256.txt").write_text("\n".join(lines) + "\n")
    report = validate_bag(root, checkers=())
    missing = [f for f in report.errors if f.kind is Kind.MISSING_FILE]
    assert len(missing) == 200_000
