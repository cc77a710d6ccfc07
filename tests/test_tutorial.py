"""The tutorial (docs/tutorial.md) runs as written, so it cannot rot.

The page's conventions, read here in document order:

- a fenced block with a ``title="PATH"`` (```` ```csv title="sources/metadata.csv" ````) is a
  file the reader creates: its content is written to PATH;
- in a ```` ```console ```` block, each line starting with ``$ `` is a command (a trailing
  ``\\`` continues it), the other lines are its output (not compared: it varies);
- ``<!-- tutorial: exit N -->`` before a console block: its commands exit N (default 0).

``archiver ...`` commands run in process through ``archiver.cli.main`` (``$PWD`` and globs
expanded as the shell would); ``cd`` changes the working folder; any other command runs
with ``bash -c``. The ledger's per-user default is kept inside the temporary folder.
"""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from archiver.cli import main

PAGE = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
FENCE = re.compile(
    r"^(?P<comment><!-- tutorial: exit (?P<exit>\d+) -->\n)?"
    r"```(?P<lang>\w*)(?P<attrs>[^\n]*)\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
TITLE = re.compile(r'title="([^"]+)"')


@dataclass(frozen=True)
class Step:
    kind: str  # "file" or "command"
    text: str  # the file's path, or the command line
    content: str = ""  # the file's content
    exit: int = 0


def steps(page: str) -> list[Step]:
    """The files to write and the commands to run, in the page's order."""
    found: list[Step] = []
    for block in FENCE.finditer(page):
        title = TITLE.search(block["attrs"])
        if title:
            found.append(Step("file", title.group(1), block["body"]))
        elif block["lang"] == "console":
            status = int(block["exit"] or 0)
            command = ""
            for line in block["body"].splitlines():
                if command:  # a continuation line
                    command += " " + line.strip()
                elif line.startswith("$ "):
                    command = line[2:].strip()
                else:
                    continue
                if command.endswith("\\"):
                    command = command[:-1].rstrip()
                    continue
                found.append(Step("command", command, exit=status))
                command = ""
    return found


def _argv(command: str, cwd: Path) -> list[str]:
    words: list[str] = []
    for word in shlex.split(command.replace("$PWD", str(cwd))):
        matches = sorted(glob.glob(word, root_dir=cwd)) if "*" in word else []
        words.extend(matches or [word])
    return words


def test_the_page_has_the_steps_of_the_tour() -> None:
    commands = [s.text.split()[:2] for s in steps(PAGE.read_text(encoding="utf-8"))]
    for name in ("init", "build", "validate", "audit", "report", "deposit", "repair"):
        assert ["archiver", name] in commands, name
    files = [s.text for s in steps(PAGE.read_text(encoding="utf-8")) if s.kind == "file"]
    assert any(not f.isascii() for f in files), "a file named in another script"


def test_the_tutorial_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("ARCHIVER_SCHEDULER", raising=False)
    monkeypatch.delenv("ARCHIVER_TSA_URL", raising=False)
    cwd = tmp_path / "work"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    for step in steps(PAGE.read_text(encoding="utf-8")):
        if step.kind == "file":
            path = cwd / step.text
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(step.content, encoding="utf-8")
            continue
        argv = _argv(step.text, cwd)
        if argv[0] == "cd":
            cwd = cwd / argv[1]
            monkeypatch.chdir(cwd)
            continue
        if argv[0] == "archiver":
            status = main(argv[1:])
            output = capsys.readouterr()
            detail = output.out + output.err
        else:
            done = subprocess.run(
                ["bash", "-c", step.text], cwd=cwd, capture_output=True, text=True, check=False
            )
            status, detail = done.returncode, done.stdout + done.stderr
        assert status == step.exit, f"$ {step.text}\n{detail}"
