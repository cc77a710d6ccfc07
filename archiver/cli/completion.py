"""`archiver completion bash|zsh`: print the shell completion script.

The scripts are package data (``archiver/cli/completions/``), generated from the parser
by shtab at development time (``python -m archiver.cli.reference --write``; ``make lint``
fails when they are out of date), so printing one imports nothing but this module.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from archiver.model.errors import EXIT_OK

SHELLS = ("bash", "zsh")
SCRIPTS = Path(__file__).resolve().parent / "completions"


def register(subparsers: Any) -> None:
    """Add the completion command."""
    parser = subparsers.add_parser(
        "completion",
        help="print the shell completion script for bash or zsh",
        description="Print the completion script of SHELL on stdout: commands, options, "
        "choices and file names complete on TAB.",
        epilog="Examples: bash, for this session: 'source <(archiver completion bash)'; "
        "for good: 'archiver completion bash > ~/.local/share/bash-completion/completions/"
        "archiver'. zsh: 'archiver completion zsh > ~/.zfunc/_archiver', with "
        "'fpath=(~/.zfunc $fpath); autoload -Uz compinit; compinit' in ~/.zshrc.",
    )
    parser.add_argument("shell", metavar="SHELL", choices=SHELLS, help="bash or zsh")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the packaged script."""
    sys.stdout.write((SCRIPTS / f"archiver.{args.shell}").read_text(encoding="utf-8"))
    return EXIT_OK
