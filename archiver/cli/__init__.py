"""The command line: parse arguments, call the library, map errors to exit statuses.

Each command lives in its own module under ``archiver.cli`` and provides
``register(subparsers)``, which adds its parser and sets ``run`` as the handler;
``run(args) -> int`` returns the exit status. Nothing below this package prints or exits.
A command module is named after its command, and ``main`` imports only the module of the
command it runs (importing all of them, build's FIDO and PREMIS stack included, cost every
run about 0.15 s); top-level help and usage errors still list every command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from archiver import __version__
from archiver.cli.output import error_line, unexpected_error_line
from archiver.errors import EXIT_UNUSABLE, ArchiverError

# The command modules, in the order `archiver --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "archiver.cli.build",
    "archiver.cli.describe",
    "archiver.cli.validate",
    "archiver.cli.audit",
    "archiver.cli.ledger",
    "archiver.cli.package",
    "archiver.cli.deposit",
    "archiver.cli.repair",
)


def command_module(argv: Sequence[str]) -> str | None:
    """The module of the command ``argv`` names (its first argument that is not an option)."""
    for arg in argv:
        if not arg.startswith("-"):
            wanted = f"{__name__}.{arg}"
            return wanted if wanted in COMMAND_MODULES else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every command registered, or only the module ``only``."""
    parser = argparse.ArgumentParser(
        prog="archiver",
        description="Build, validate, audit and deposit BagIt preservation packages.",
        epilog="Exit status: 0 all good; 1 an integrity or validation failure was found; "
        "2 the command could not do its work.",
    )
    parser.add_argument("--version", action="version", version=f"archiver {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an unexpected error, also print the traceback (for bug reports)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        if only is None or name == only:
            importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run archiver with ``argv`` (default: sys.argv[1:]); return the exit status."""
    # Libraries log at import (pairtree, under ocfl-py, sets INFO): only warnings reach users.
    logging.basicConfig(level=logging.WARNING, format="archiver: %(name)s: %(message)s")
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_module(arguments))
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # argparse exits on --help, --version and bad usage
        return int(exc.code) if isinstance(exc.code, int) else EXIT_UNUSABLE
    try:
        status: int = args.run(args)
    except ArchiverError as exc:
        print(error_line(exc), file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("archiver: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or unforeseen input: one line, exit 2, never a traceback
        if args.debug:
            traceback.print_exc()
        command = " ".join(
            str(c) for c in (args.command, getattr(args, "ledger_command", None)) if c
        )
        print(unexpected_error_line(command, _inputs(args), exc), file=sys.stderr)
        return EXIT_UNUSABLE
    return status


def _inputs(args: argparse.Namespace) -> list[str]:
    """What the command was given to work on (its positional arguments), as strings."""
    found: list[str] = []
    for name in ("bags", "roots", "files", "sources", "bag"):
        value = getattr(args, name, None)
        if isinstance(value, list | tuple):
            found.extend(str(v) for v in value)
        elif value is not None:
            found.append(str(value))
    return found
