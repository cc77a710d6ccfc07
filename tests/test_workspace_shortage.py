"""No room here to check a serialized bag is not damage to it: exit 2, one line, no record.

Too little temporary space (a real, full tmpfs as TMPDIR where it can be mounted; the
free-space figure otherwise), a write that fails with ENOSPC, EDQUOT, EMFILE or ENOMEM
while extracting, our own temporary directory refusing us (EACCES): ``validate`` and
``audit`` exit 2 with one line, and the audit records nothing against the intact bag.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import archiver.cli as cli
from archiver.archive import unpack
from archiver.archive.serialize import DEFAULT_EPOCH, serialize_bag
from archiver.ledger.store import Ledger
from archiver.model.errors import WorkspaceError


@pytest.fixture(autouse=True)
def only_our_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("archiver.cli.validate", "archiver.cli.audit"))


@pytest.fixture
def archive(bag_copy: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return serialize_bag(bag_copy, out, "tar.gz", DEFAULT_EPOCH).archive


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "tmp"
    target.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(target))
    return target


def _nothing_recorded(ledger: Path, archive: Path) -> None:
    if ledger.exists():
        with Ledger.open(ledger, readonly=True) as opened:
            assert opened.runs() == [] and opened.history(str(archive)) == []


def _check_exit_2_one_line(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], said: str
) -> None:
    assert cli.main(["validate", str(archive)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert str(archive) in line and said in line, line
    ledger = tmp_path / "ledger.sqlite"
    assert cli.main(["audit", "--workers", "1", str(archive), "--ledger", str(ledger)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert str(archive) in line and said in line, line
    _nothing_recorded(ledger, archive)


def test_the_intact_archive_itself_validates_and_audits(
    archive: Path, tmp_path: Path, private_tmp: Path
) -> None:
    """The control: without a shortage the same archive is valid (exit 0) and recorded."""
    assert cli.main(["validate", str(archive)]) == 0
    ledger = tmp_path / "ledger.sqlite"
    assert cli.main(["audit", "--workers", "1", str(archive), "--ledger", str(ledger)]) == 0
    with Ledger.open(ledger, readonly=True) as opened:
        assert [o.status for o in opened.history(str(archive))] == ["valid"]


def test_too_little_free_space_to_extract(
    archive: Path,
    tmp_path: Path,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(unpack, "_free_space", lambda directory: 10)
    _check_exit_2_one_line(archive, tmp_path, capsys, "only 10 free")
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize(
    "code", [errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENOMEM], ids=errno.errorcode.get
)
def test_running_short_while_extracting(
    archive: Path,
    tmp_path: Path,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
) -> None:
    def short(src: Any, dest: Path, size: int, name: str) -> None:
        dest.write_bytes(b"partial")
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(unpack, "copy_bounded", short)
    _check_exit_2_one_line(archive, tmp_path, capsys, os.strerror(code))
    assert list(private_tmp.iterdir()) == []  # the partial extraction is removed


def test_our_temporary_directory_refusing_a_write(
    archive: Path,
    tmp_path: Path,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def refused(src: Any, dest: Path, size: int, name: str) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dest))

    monkeypatch.setattr(unpack, "copy_bounded", refused)
    _check_exit_2_one_line(archive, tmp_path, capsys, "refuses the temporary copy")


def test_no_temporary_directory_can_be_made(
    archive: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def refused(*args: Any, **kwargs: Any) -> str:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/nowhere")

    monkeypatch.setattr(tempfile, "mkdtemp", refused)
    _check_exit_2_one_line(archive, tmp_path, capsys, "no temporary directory")


def test_extract_safe_raises_workspace_error_not_unsafe_findings(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    monkeypatch.setattr(unpack, "_free_space", lambda directory: 0)
    with pytest.raises(WorkspaceError, match="only 0 free"):
        unpack.extract_safe(archive, target)
    assert list(target.iterdir()) == []


def _can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    with tempfile.TemporaryDirectory() as where:
        probe = subprocess.run(
            ["unshare", "-m", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", where],
            capture_output=True,
        )
    return probe.returncode == 0


# $1: the directory to make a tmpfs with 8 KiB free (TMPDIR), then the command. (A tmpfs
# with no room at all is no test: tempfile skips a TMPDIR it cannot write and uses /tmp.)
_SMALL_TMPFS = (
    'mount -t tmpfs -o size=64k tmpfs "$1" || exit 98; '
    'head -c 57344 /dev/zero >"$1/fill" || exit 98; '
    'export TMPDIR="$1"; shift; exec "$@"'
)


@pytest.mark.skipif(
    not _can_mount_tmpfs(), reason="no unshare/mount privileges to mount a tmpfs here"
)
def test_a_small_tmpfs_as_tmpdir(archive: Path, tmp_path: Path) -> None:
    """The real thing: TMPDIR on a tmpfs too small for the bag, in a process of its own."""
    needed = sum(m.size for m in unpack.list_members(archive))
    assert needed > 8192  # the bag does not fit in what the tmpfs has left
    small = tmp_path / "small"
    small.mkdir()
    ledger = tmp_path / "ledger.sqlite"
    for argv in (
        ["validate", str(archive)],
        ["audit", "--workers", "1", str(archive), "--ledger", str(ledger)],
    ):
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", _SMALL_TMPFS, "sh", str(small)]
            + [sys.executable, "-m", "archiver", *argv],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
        [line] = done.stderr.splitlines()
        assert str(archive) in line and f"in {small}: its members need {needed} bytes" in line
    _nothing_recorded(ledger, archive)
