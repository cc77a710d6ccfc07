"""`archiver build`: one preservation bag per source file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from archiver.build.collection import BuildOutcome, BuildStatus
from archiver.cli.output import (
    ledger_help,
    ledger_note,
    make_console,
    print_error,
    print_stamp_failures,
    progress_bar,
    safe,
)
from archiver.model.errors import EXIT_OK, EXIT_UNUSABLE
from archiver.workflows.build import build_bags

STYLES = {
    BuildStatus.BUILT: "green",
    BuildStatus.REPLACED: "yellow",
    BuildStatus.UNCHANGED: "dim",
    BuildStatus.FAILED: "bold red",
}


def register(subparsers: Any) -> None:
    """Add the build command."""
    parser = subparsers.add_parser(
        "build",
        help="build one BagIt preservation package per source file",
        description="Build one BagIt 1.0 bag per source: the untouched original in data/, "
        "sha256+sha512 manifests and tag manifests, Dublin Core and PREMIS 3 metadata "
        "(JSON and XML, validated). Without SOURCE, every file beside the catalog. "
        "An unchanged source is reported 'unchanged' and nothing is rewritten; a changed "
        "source whose bag exists is refused unless --replace; a bag replaced is a "
        "correction made on purpose: it is audited and its new tag manifests recorded in the "
        "collection's ledger (when there is one) as the reference the next audit compares "
        "with. With SOURCE_DATE_EPOCH set, builds are byte-identical.",
        epilog="Exit status: 0 every source built or unchanged; 2 a source or the catalog, "
        "configuration or output directory has a problem (each failed source is named). "
        "Examples: 'archiver build' (every item of sources/metadata.csv into bags/); "
        "'archiver build sources/letter.txt' (that item only); 'archiver build --replace' "
        "(after correcting the catalog: the changed bags are rebuilt and recorded as the "
        "new reference); 'SOURCE_DATE_EPOCH=1700000000 archiver build --out /tmp/again' "
        "(a reproducible rebuild, byte for byte).",
    )
    parser.add_argument(
        "sources",
        metavar="SOURCE",
        nargs="*",
        type=Path,
        help="source files to build (default: every file beside the catalog)",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        default=Path("sources/metadata.csv"),
        help="the catalog CSV (default: sources/metadata.csv)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bags"), help="where bags are written (default: bags)"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("archive.toml"),
        help="the archive's settings (default: archive.toml)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="rebuild bags whose source or catalog row changed, swapping them atomically, "
        "and record them in the ledger as replaced on purpose (default: a changed source "
        "whose bag exists is refused)",
    )
    parser.add_argument(
        "--ledger",
        metavar="F",
        type=Path,
        default=None,
        help="where --replace records the bags it replaced: "
        + ledger_help("the collection at --out"),
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the outcomes as JSON on stdout instead of the table (default: the table)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the bags and print a line per source and the totals."""
    console = make_console()

    def on_outcome(outcome: BuildOutcome) -> None:
        if not args.json:
            style = STYLES.get(outcome.status, "")
            where = f" -> {safe(outcome.bag)}" if outcome.bag else ""
            reason = f": {safe(outcome.reason, 600)}" if outcome.reason else ""
            console.print(f"[{style}]{outcome.status:<9}[/] {safe(outcome.source)}{where}{reason}")

    on_terminal = console.is_terminal and not args.json
    with progress_bar("building", enabled=on_terminal, console=console) as progress:
        result = build_bags(
            config_path=args.config,
            catalog_path=args.catalog,
            out_dir=args.out,
            sources=args.sources,
            replace=args.replace,
            ledger=args.ledger,
            on_outcome=on_outcome,
            progress=progress,
        )
    report = result.report
    for path in report.stale_removed:
        print(f"archiver: removed {path}, left by a build that was killed", file=sys.stderr)
    ledger_note(result.location)
    if args.json:
        document: dict[str, Any] = {"outcomes": [o.to_json() for o in report.outcomes]}
        if report.stale_removed:
            document["stale_removed"] = list(report.stale_removed)
        if result.location is not None:
            document["ledger"] = str(result.location.path)
            document["replace_run"] = result.replace_run
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        totals = ", ".join(f"{report.count(s)} {s}" for s in BuildStatus)
        console.print(f"{len(report.outcomes)} sources: {totals}")
        if result.replace_run is not None:
            console.print(
                f"replaced on purpose: {len(result.recorded)} bag(s) recorded as the audit's "
                f"reference (run {result.replace_run})"
            )
        elif result.location is not None:
            console.print("replaced: no ledger yet, so no audit reference to move")
    for bag in result.rejected:
        print_error(f"{bag}: replaced, but its audit failed: not recorded as the reference")
    unstamped = print_stamp_failures(list(result.stamp_failures))
    if report.failed:
        names = ", ".join(o.source for o in report.failed)
        print_error(f"{len(report.failed)} source(s) failed: {names}")
        return EXIT_UNUSABLE
    return EXIT_UNUSABLE if result.rejected or unstamped else EXIT_OK
