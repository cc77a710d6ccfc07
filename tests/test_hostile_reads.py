"""Every command against a FIFO, a sparse giant file and a device in each place it reads a
file it did not write (a bag's tag files and records, a catalog, the settings): one line,
exit 1 or 2, never a hang, never the file read whole (the child may not map more than
1.6 GiB, the giant file is 2 GiB), never a traceback. The class is closed by one shared
reader (``archiver.storage.fileio.read_bounded``) and the validator's bounded tag reads."""

from __future__ import annotations

import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEED_NAMES

GUARD_SECONDS = 120.0  # a hang guard, not a speed requirement
GIANT = 2 << 30
MEMORY = 1 << 30
BAG = Path(SEED_NAMES[0]).stem


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY + (600 << 20), MEMORY + (600 << 20)))


def plant(path: Path, kind: str) -> None:
    """Replace ``path`` with a FIFO, a sparse 2 GiB file or a character device."""
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "giant":
        with open(path, "wb") as stream:
            stream.truncate(GIANT)
    else:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archiver", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        preexec_fn=_limit_memory,
        env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(cwd / "xdg")},
    )


@pytest.fixture(scope="module")
def collection(built_collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder with archive.toml, sources/ and the built bags."""
    home = tmp_path_factory.mktemp("hostile")
    shutil.copyfile(ROOT / "archive.toml", home / "archive.toml")
    shutil.copytree(ROOT / "sources", home / "sources")
    shutil.copytree(built_collection, home / "bags", symlinks=True)
    assert run(home, "audit", "bags").returncode == 0
    return home


@pytest.fixture
def work(collection: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "w"
    shutil.copytree(collection, copy, symlinks=True)
    return copy


# (command line, the file it reads that is made hostile), relative to the working folder
D = f"bags/{BAG}"
S = "sources"
CASES: dict[str, tuple[tuple[str, ...], str]] = {
    "validate bag-info": (("validate", D), f"{D}/bag-info.txt"),
    "validate manifest": (("validate", D), f"{D}/manifest-sha256.txt"),
    "validate dc.json": (("validate", D), f"{D}/metadata/dc.json"),
    "audit tag manifest": (("audit", "bags"), f"{D}/tagmanifest-sha512.txt"),
    "audit premis.json": (("audit", "bags", "--metadata"), f"{D}/metadata/premis.json"),
    "report dc.json": (("report", "--root", "bags", "--out", "r.html"), f"{D}/metadata/dc.json"),
    "repair tag manifest": (("repair", D, "--dry-run"), f"{D}/tagmanifest-sha512.txt"),
    "show bag-info": (("show", D), f"{D}/bag-info.txt"),
    "show premis.json": (("show", D), f"{D}/metadata/premis.json"),
    "deposit bag-info": (("deposit", D, "--to", "file:deposited"), f"{D}/bag-info.txt"),
    "ledger premis": (("ledger", "premis", D, "--root", "bags"), f"{D}/metadata/premis.json"),
    "build catalog": (("build", "--out", "fresh"), f"{S}/metadata.csv"),
    "build settings": (("build", "--out", "fresh"), "archive.toml"),
    "build source": (("build", "--out", "fresh"), f"{S}/{SEED_NAMES[1]}"),
    "describe file": (("describe", f"{S}/{SEED_NAMES[2]}"), f"{S}/{SEED_NAMES[2]}"),
    "describe catalog": (
        ("describe", "--draft", "--csv", "--catalog", f"{S}/metadata.csv", f"{S}/{SEED_NAMES[0]}"),
        f"{S}/metadata.csv",
    ),
}


# A giant source is a large item, built or described at hashing speed, not hostile input;
# a giant tag file or record is refused by its size before it is read.
SOURCES = {"build source", "describe file"}


@pytest.mark.parametrize(
    ("case", "kind"),
    [
        (case, kind)
        for case in sorted(CASES)
        for kind in ("fifo", "giant", "device")
        if not (kind == "giant" and case in SOURCES)
    ],
)
def test_a_hostile_file_gets_one_clear_answer(work: Path, case: str, kind: str) -> None:
    args, place = CASES[case]
    plant(work / place, kind)
    result = run(work, *args)
    assert result.returncode in (1, 2), (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("archiver: error")]
    assert len(errors) <= 1, result.stderr


def test_the_cases_cover_every_command_that_reads_what_it_did_not_write() -> None:
    from archiver.cli import COMMAND_MODULES

    covered = {args[0] for args, _ in CASES.values()}
    reads_nothing_foreign = {"init", "package", "completion"}  # package validates first
    commands = {m.rpartition(".")[2] for m in COMMAND_MODULES}
    assert commands - reads_nothing_foreign <= covered, commands - covered
