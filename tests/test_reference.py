"""The generated reference (docs/reference/cli.md, the man page, the completion scripts,
the generated tables) matches what the code produces now, and the docs stay for readers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver.cli import COMMAND_MODULES, main, reference

ROOT = Path(__file__).resolve().parent.parent
USER_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_the_generated_files_are_up_to_date() -> None:
    diffs = reference.drift(ROOT)
    assert diffs == [], (
        "generated docs differ from the code; run "
        f"'{reference.REGENERATE}':\n" + "\n".join(diffs)[:4000]
    )


def test_check_exits_1_with_a_diff_on_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in reference.expected(ROOT):
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert reference.main(["--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / "docs/reference/cli.md"
    page.write_text(page.read_text(encoding="utf-8").replace("--catalog", "--katalog"))
    capsys.readouterr()
    assert reference.main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "+- `--catalog F`" in out and "--katalog" in out
    assert reference.main(["--write", "--root", str(tmp_path)]) == 0
    assert reference.main(["--check", "--root", str(tmp_path)]) == 0


def test_every_option_of_every_command_is_in_the_page_and_the_man_page() -> None:
    page = (ROOT / "docs/reference/cli.md").read_text(encoding="utf-8")
    man = (ROOT / "docs/man/archiver.1").read_text(encoding="utf-8")
    for command in reference.walk(reference.commands()):
        assert f"`{command.prog}`" in page or command.prog == "archiver"
        assert reference.roff(command.prog) in man
        for option in command.options:
            for name in option.names:
                assert name in page, (command.prog, name)
                assert reference.roff(name) in man, (command.prog, name)
            if option.help:
                assert reference.roff(option.help) in man, (command.prog, option.help)


def test_every_option_says_what_it_does() -> None:
    missing = [
        f"{command.prog} {option.label}"
        for command in reference.walk(reference.commands())
        for option in command.options
        if not option.help and not option.metavar.startswith(("COMMAND", "SUBCOMMAND"))
    ]
    assert missing == []


@pytest.mark.parametrize("command", ["build", "validate", "audit", "report", "deposit"])
def test_main_commands_have_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert f"Examples: 'archiver {command}" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_prints_the_packaged_script(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", shell]) == 0
    out = capsys.readouterr().out
    assert out == (ROOT / f"archiver/cli/completions/archiver.{shell}").read_text()
    for module in COMMAND_MODULES:
        assert module.rsplit(".", 1)[1] in out


def test_completion_of_an_unknown_shell_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["completion", "fish"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_the_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


@pytest.mark.parametrize("page", USER_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_user_page_mentions_an_issue_number(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert re.findall(r"(?i)\bissues? #?\d+|(?<![\w&/])#\d+\b", text) == []
