"""The command line: parse arguments, call the library, map errors to exit statuses.

Each command lives in its own module under ``archiver.cli`` and provides
``register(subparsers)``, which adds its parser and sets ``run`` as the handler;
``run(args) -> int`` returns the exit status. Nothing below this package prints or exits.
A command module is named after its command, and ``main`` imports only the module of the
command it runs (importing all of them, build's FIDO and PREMIS stack included, cost every
run about 0.15 s); top-level help and usage errors still list every command.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence

from archiver import __version__
from archiver.model.errors import EXIT_UNUSABLE, ArchiverError

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of --version's time
if TYPE_CHECKING:
    import argparse
    from types import FrameType

# The command modules, in the order `archiver --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "archiver.cli.init",
    "archiver.cli.build",
    "archiver.cli.describe",
    "archiver.cli.validate",
    "archiver.cli.audit",
    "archiver.cli.ledger",
    "archiver.cli.report",
    "archiver.cli.package",
    "archiver.cli.deposit",
    "archiver.cli.repair",
    "archiver.cli.show",
    "archiver.cli.completion",
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
    import argparse
    import importlib

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


SIGTERM_EXIT = 128 + 15  # the shell's status for a process ended by SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C, so pools stop and nothing is left half done."""


class _Sigterm:
    """Whether SIGTERM came during the command. A library may reword the ``Terminated``
    raised in one of its callbacks as an error of its own (lxml does, while a schema
    compiles): after SIGTERM, any error is the termination."""

    def __init__(self) -> None:
        self.received = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = True
        raise Terminated(signum)


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[_Sigterm]:
    """While a command runs, SIGTERM raises ``Terminated`` (in the main thread only).

    ``signal`` and ``threading`` are imported here, not at the top: ``--version`` needs
    neither, and ``signal`` alone (its enums) cost a fifth of ``--version``'s own time.
    """
    import signal
    import threading

    sigterm = _Sigterm()
    if threading.current_thread() is not threading.main_thread():
        yield sigterm
        return
    previous = signal.signal(signal.SIGTERM, sigterm.handle)
    try:
        yield sigterm
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run archiver with ``argv`` (default: sys.argv[1:]); return the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    module = command_module(arguments)
    if arguments == ["--version"]:
        # What argparse would print, without importing it (and the shutil, textwrap and
        # gettext it brings for its help): two thirds of the time of --version.
        print(f"archiver {__version__}")
        return 0
    if module is None and "--version" in arguments:
        # No command to register: importing them all (and logging) would triple its time.
        return _parse_only(build_parser(""), arguments)
    # Libraries log at import (pairtree, under ocfl-py, sets INFO): only warnings reach users.
    import logging

    logging.basicConfig(level=logging.WARNING, format="archiver: %(name)s: %(message)s")
    parser = build_parser(module)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # argparse exits on --help, --version and bad usage
        return int(exc.code) if isinstance(exc.code, int) else EXIT_UNUSABLE
    sigterm = _Sigterm()
    try:
        with _sigterm_unwinds() as sigterm:
            status: int = args.run(args)
    except KeyboardInterrupt:
        print("archiver: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("archiver: terminated", file=sys.stderr)
        return SIGTERM_EXIT
    except Exception as exc:
        if sigterm.received:  # a library's rewording of Terminated
            print("archiver: terminated", file=sys.stderr)
            return SIGTERM_EXIT
        if isinstance(exc, ArchiverError):
            from archiver.cli.output import error_line

            print(error_line(exc), file=sys.stderr)
            return exc.exit_status
        # a bug or unforeseen input: one line, exit 2, never a traceback
        from archiver.model.text import unexpected_error_line

        if args.debug:
            import traceback

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


def _parse_only(parser: argparse.ArgumentParser, arguments: Sequence[str]) -> int:
    """Parse for the options that exit by themselves (``--version``); the exit status."""
    try:
        parser.parse_args(arguments)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_UNUSABLE
    return EXIT_UNUSABLE  # not reached: a command is required, so argparse exits
