"""`archiver init [DIR]`: lay out a new collection (settings, catalog, sources folder)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archiver.model.errors import EXIT_OK
from archiver.model.text import escape_controls
from archiver.workflows.init import init_collection


def register(subparsers: Any) -> None:
    """Add the init command."""
    parser = subparsers.add_parser(
        "init",
        help="start a collection: a commented archive.toml and an empty catalog",
        description="Lay out a new collection in DIR (default: the current folder; made "
        "when missing), as 'archiver build' run from DIR expects it: archive.toml (the "
        "archive's settings, commented, with placeholder values to edit: organization, "
        "contact, collection, rights, bag; [ledger] commented out), sources/ (put the "
        "originals here) and sources/metadata.csv (the catalog's header: filename, "
        "dc.identifier, dc.title, dc.creator, dc.date, dc.description, dc.language, dc.type, "
        "premis.copyrightStatus; add one row per item). bags/ is written by 'archiver "
        "build'. Nothing is overwritten: if archive.toml or sources/metadata.csv exists, "
        "nothing is written and the exit status is 2.",
    )
    parser.add_argument(
        "directory",
        metavar="DIR",
        nargs="?",
        type=Path,
        default=Path("."),
        help="the collection's folder (default: the current folder)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the files; say what was made and what to do next."""
    result = init_collection(args.directory)
    for path in (*result.made, result.config, result.catalog):
        print(f"created {escape_controls(str(path))}")
    print(
        f"next: edit {escape_controls(str(result.config))}, put the originals in "
        f"{escape_controls(str(result.catalog.parent))}/ with a row each in the catalog, "
        "then run 'archiver build'"
    )
    return EXIT_OK
