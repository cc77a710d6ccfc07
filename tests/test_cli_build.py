"""`archiver build` in process: output lines, exit statuses, SOURCE_DATE_EPOCH, no traceback."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, SEED_NAMES, SOURCES

from archiver.cli import main

STEMS = [Path(n).stem for n in SEED_NAMES]


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run_build(tmp_path: Path, *extra: str, sources: Path = SOURCES) -> list[str]:
    return [
        "build",
        "--catalog",
        str(sources / "metadata.csv"),
        "--config",
        str(ROOT / "archive.toml"),
        "--out",
        str(tmp_path / "bags"),
        *extra,
    ]


def test_build_then_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(run_build(tmp_path)) == 0
    out = capsys.readouterr().out
    for name in SEED_NAMES:
        assert f"built     {name}" in out
    assert "5 sources: 5 built, 0 replaced, 0 unchanged, 0 failed" in out
    assert main(run_build(tmp_path)) == 0
    assert "0 built, 0 replaced, 5 unchanged, 0 failed" in capsys.readouterr().out


def test_source_date_epoch_makes_builds_identical(tmp_path: Path) -> None:
    """Two builds in two processes, with different hash seeds (set and dict order), give
    the same bytes."""
    for name, seed in (("a", "1"), ("b", "2")):
        env = {
            **os.environ,
            "SOURCE_DATE_EPOCH": "1700000000",
            "PYTHONHASHSEED": seed,
            "PYTHONPATH": str(ROOT),
        }
        argv = [sys.executable, "-m", "archiver", *run_build(tmp_path / name)]
        done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    a, b = digests(tmp_path / "a" / "bags"), digests(tmp_path / "b" / "bags")
    assert a == b and {name.split("/")[0] for name in a} == set(STEMS)
    info = (tmp_path / "a" / "bags" / STEMS[0] / "bag-info.txt").read_text()
    assert "Bagging-Date: 2023-11-14" in info


def test_bad_source_date_epoch_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(run_build(tmp_path)) == 2
    err = capsys.readouterr().err
    assert (
        err == "archiver: error: SOURCE_DATE_EPOCH: 'yesterday' is not a number of "
        "seconds since 1970-01-01\n"
    )


def test_failed_source_exits_2_and_others_are_built(
    tmp_path: Path, source_tree: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    text = (SOURCES / "metadata.csv").read_text("utf-8").replace(",2011-12-20,", ",20.12.2011,")
    sources = source_tree(text)
    assert main(run_build(tmp_path, sources=sources)) == 2
    captured = capsys.readouterr()
    assert "failed    000_5e17403660513e1c.txt" in captured.out
    assert "'20.12.2011' is not an ISO 8601 date" in captured.out
    assert "4 built" in captured.out
    assert captured.err == "archiver: error: 1 source(s) failed: 000_5e17403660513e1c.txt\n"
    assert "Traceback" not in captured.out + captured.err
    assert sorted(p.name for p in (tmp_path / "bags").iterdir()) == STEMS[1:]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: (d / "metadata.csv").write_bytes(b"filename,dc.title\n\xff\n"),
            "not valid UTF-8",
        ),
        (lambda d: (d / "metadata.csv").unlink(), "cannot read"),
    ],
    ids=["catalog not utf-8", "catalog missing"],
)
def test_catalog_problems_are_one_line(
    tmp_path: Path,
    source_tree: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    mutate: Callable[[Path], object],
    message: str,
) -> None:
    sources = source_tree()
    mutate(sources)
    assert main(run_build(tmp_path, sources=sources)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "metadata.csv" in err
    assert not (tmp_path / "bags").exists()


def test_invalid_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "archive.toml"
    config.write_text("[organization]\nname = 'x'\n")
    argv = run_build(tmp_path)
    argv[argv.index("--config") + 1] = str(config)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"archiver: error: {config}: ") and err.count("\n") == 1


def test_sources_are_never_modified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digests(SOURCES)
    copy = tmp_path / "src"
    shutil.copytree(SOURCES, copy)
    assert main(run_build(tmp_path, sources=copy)) == 0
    assert digests(copy) == before
    capsys.readouterr()


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main([*run_build(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [o["status"] for o in data["outcomes"]] == ["built"] * 5
