"""The command line as a whole: every command has help, --version, usage errors exit 2."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from archiver import __version__
from archiver.cli import COMMAND_MODULES, main
from archiver.model.findings import KIND_DESCRIPTIONS, Kind

COMMANDS = [m.rsplit(".", 1)[1] for m in COMMAND_MODULES]


def test_every_design_command_is_registered() -> None:
    assert {"build", "validate", "audit", "describe", "package", "deposit", "ledger"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"archiver {command}" in out
    assert "usage:" in out


def test_top_level_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("argv", [["--version"], ["--debug", "--version"]])
def test_version(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The fast path (``--version`` alone) prints exactly what argparse prints."""
    assert main(argv) == 0
    assert capsys.readouterr().out == f"archiver {__version__}\n"


def test_version_does_not_import_argparse() -> None:
    code = "import sys; from archiver.cli import main; main(['--version']); "
    code += "print('argparse' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "False", done.stderr


@pytest.mark.parametrize("argv", [[], ["no-such-command"], ["build", "--no-such-option"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archiver", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == f"archiver {__version__}"


@pytest.mark.parametrize("command", ["validate", "audit"])
def test_checking_commands_explain_every_problem_kind(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    text = "".join(capsys.readouterr().out.split())  # argparse wraps lines, even at '-'
    for kind, meaning in KIND_DESCRIPTIONS.items():
        assert "".join(f"{kind}: {meaning}".split()) in text
    assert set(KIND_DESCRIPTIONS) == set(Kind)


def test_sigterm_handler_is_restored_after_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    assert main(["validate", "/nonexistent"]) == 2
    capsys.readouterr()
    assert signal.getsignal(signal.SIGTERM) is before
