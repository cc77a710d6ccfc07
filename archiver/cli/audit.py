"""`archiver audit [ROOT ...] [--workers N] [--json FILE|-] [--ledger F] ...`."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.audit.collection import BAG_BATCH
from archiver.cli.output import (
    kinds_epilog,
    ledger_help,
    ledger_note,
    make_console,
    print_problems,
    print_stamp_failures,
    progress_bar,
    safe,
)
from archiver.cli.report import add_report_arguments
from archiver.cli.validate import add_mode_arguments, add_tag_limit_argument
from archiver.ledger.reference import ACCEPT_HINT
from archiver.model.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE
from archiver.model.findings import Kind
from archiver.model.reports import AuditReport
from archiver.model.text import escape_controls
from archiver.workflows.audit import DEFAULT_ROOT, AuditRequest, audit_collection

if TYPE_CHECKING:
    from rich.console import Console

    from archiver.config import LedgerLocation

CONNECT_TIMEOUT = 20.0  # seconds, --scheduler-timeout
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?")


def parse_duration(text: str) -> float:
    """'90', '90s', '15m', '2h', '1h30m' → seconds (argparse type)."""
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        match = _DURATION.fullmatch(value)
        if not value or match is None:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a duration like 90s, 15m, 2h or 1h30m"
            ) from None
        hours, minutes, secs = match.groups()
        seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the budget must be more than 0 seconds")
    return seconds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def register(subparsers: Any) -> None:
    """Add the audit command."""
    parser = subparsers.add_parser(
        "audit",
        help="verify the fixity of every bag under the roots, in parallel",
        description="Find every bag under each ROOT (default: bags/) and verify all of "
        "them with one pool of workers. A ROOT may also be a serialized bag (.tar, .tar.gz, "
        ".tgz, .tar.bz2, .tar.xz, .zip): it is checked against its .sha256/.sha512 sidecars "
        "when present, extracted safely into a temporary directory and verified in the same "
        "run, under the archive's path (archives inside a ROOT directory are not searched "
        "for: name them as ROOTs). Record the run in the audit ledger (--ledger; else "
        "archive.toml's [ledger] path; else one per collection in the per-user data "
        "directory, e.g. ~/.local/share/archiver/ledgers/NAME-KEY.sqlite, keyed by the "
        "resolved ROOTs; a ROOT/.audit-ledger.sqlite left by an earlier version is still "
        "used; 'report', 'ledger', 'deposit' and 'repair' find the same one). With "
        "--scheduler the same tasks run on a Dask cluster whose workers see the bags at the "
        "same paths; this process merges the results and alone writes the ledger. "
        "Every bag gets the BagIt checks (every checksum unless --fast or "
        "--completeness-only) and, when it declares our BagIt profile, the profile check; "
        "the DC and PREMIS records' schema checks run only with --metadata (by default the "
        "tag manifests' checksums vouch that they are the bytes the build validated; "
        "'archiver validate' always checks them). "
        "Exit 0 all intact, 1 a bag failed, 2 the audit could not run.",
        epilog=kinds_epilog()
        + " Examples: 'archiver audit' (every bag under bags/, recorded in the collection's "
        "ledger); 'archiver audit /mnt/archive/bags --ledger /var/lib/archiver/ledger.sqlite "
        "--json /var/log/archiver/audit.json'; 'archiver audit --budget 2h' (the most "
        "overdue bags that fit in two hours, for a nightly job over a large collection); "
        "'archiver audit --repair' (repair what fails from its recorded deposits); "
        "'archiver audit --html report.html'; 'archiver audit /mnt/archive/bags --scheduler "
        "tcp://sched:8786' (on a Dask cluster).",
    )
    parser.add_argument(
        "roots",
        metavar="ROOT",
        nargs="*",
        help="a directory to search for bags, or a serialized bag (default: bags)",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        type=_positive_int,
        default=None,
        help="worker processes (default: all cores; with --scheduler local, the "
        "LocalCluster's worker processes)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run the audit on the Dask cluster of this scheduler (tcp://HOST:PORT), or "
        "'local' for a LocalCluster on this machine (default: $ARCHIVER_SCHEDULER, else "
        "[audit] scheduler in --config, else this machine's process pool); needs "
        "pip install 'archiver[dask]'",
    )
    parser.add_argument(
        "--batch",
        metavar="N",
        type=_positive_int,
        default=BAG_BATCH,
        help=f"small bags audited per task at most (default: {BAG_BATCH}; on a large "
        "cluster, more per task spares the scheduler)",
    )
    parser.add_argument(
        "--scheduler-timeout",
        metavar="SECONDS",
        type=parse_duration,
        default=CONNECT_TIMEOUT,
        help=f"how long to wait for the scheduler and a first worker (default: "
        f"{CONNECT_TIMEOUT:g} s)",
    )
    parser.add_argument(
        "--json",
        metavar="FILE",
        default=None,
        help="also write the machine report (JSON: run id, times, versions, every bag's "
        "status and findings) to FILE ('-': stdout, instead of the summary)",
    )
    parser.add_argument(
        "--ledger",
        metavar="F",
        type=Path,
        default=None,
        help=ledger_help("the collection at the ROOTs"),
    )
    add_mode_arguments(parser)
    add_tag_limit_argument(parser)
    parser.add_argument(
        "--metadata",
        action="store_true",
        help="also validate each bag's DC and PREMIS records against their JSON Schemas and "
        "XSDs (invalid-metadata), as 'archiver validate' does (default: off; fixity, BagIt "
        "and the profile are always checked)",
    )
    parser.add_argument(
        "--oldest",
        metavar="N",
        type=_positive_int,
        default=None,
        help="audit only the N bags whose last good check is oldest (never-checked bags "
        "first; default: every bag)",
    )
    parser.add_argument(
        "--budget",
        metavar="DURATION",
        type=parse_duration,
        default=None,
        help="audit the most overdue bags that fit in DURATION (e.g. 30m, 2h, 1h30m; "
        "default: no limit)",
    )
    parser.add_argument(
        "--accept",
        metavar="BAG",
        action="append",
        default=[],
        help="a bag deliberately rebuilt since its last good audit: take its new tag "
        "manifests as the reference instead of reporting tag-manifest-changed (repeat)",
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help="repair the bags that fail (as 'archiver repair' does), audit them again, "
        "and record all of it as one ledger run (default: only report them)",
    )
    parser.add_argument(
        "--from",
        dest="replicas",
        metavar="REPLICA",
        action="append",
        default=[],
        help="with --repair: a replica to restore from (default: the bag's recorded deposits)",
    )
    parser.add_argument(
        "--config",
        metavar="F",
        type=Path,
        default=None,
        help="archive settings: [ledger] path, [audit] scheduler, and with --repair "
        "[deposit.s3] (default: archive.toml if present)",
    )
    parser.add_argument(
        "--cache-hygiene",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read large files (1 MiB and more) with read-ahead hints and drop from the page "
        "cache what the audit brought in, keeping what was cached before, so a nightly audit "
        "does not evict the machine's working set (default: on; --no-cache-hygiene leaves "
        "the kernel's default behaviour)",
    )
    parser.add_argument(
        "--html",
        metavar="FILE",
        type=Path,
        default=None,
        help="after the audit, write the collection report (as 'archiver report' does) to "
        "FILE (default: none)",
    )
    add_report_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Audit the collection (``workflows.audit``), then print or write the report."""
    json_to_stdout = args.json == "-"
    request = AuditRequest(
        roots=tuple(args.roots or [DEFAULT_ROOT]),
        ledger=args.ledger,
        workers=args.workers,
        mode=args.mode,
        metadata=args.metadata,
        scheduler=args.scheduler,
        scheduler_timeout=args.scheduler_timeout,
        bag_batch=args.batch,
        cache_hygiene=args.cache_hygiene,
        max_tag_bytes=args.max_tag_size,
        oldest=args.oldest,
        budget=args.budget,
        accept=tuple(args.accept),
        repair=args.repair,
        replicas=tuple(args.replicas),
        config=args.config,
        json_out=None if args.json is None else Path(args.json),
        html_out=args.html,
        verify_ledger=args.verify,
    )
    with progress_bar(
        "audit", enabled=sys.stdout.isatty() and not json_to_stdout, data=True
    ) as progress:
        result = audit_collection(
            request, environ=os.environ, progress=progress, json_to_file=not json_to_stdout
        )
    report = result.report
    if json_to_stdout:
        ledger_note(result.location)
        sys.stdout.write(result.json_document())
    else:
        plain = not (result.repairs or report.findings or sys.stdout.isatty())
        console = None if plain else make_console()
        if result.repairs and console is not None:
            from archiver.cli.repair import print_repairs

            print_repairs(console, list(result.repairs), report.run_id, result.ledger, False)
        print_summary(console, report, result.ledger, result.location)
    if result.page is not None and args.html is not None and not json_to_stdout:
        from archiver.cli.report import describe

        make_console().print(describe(result.page, args.html))
    unstamped = print_stamp_failures(list(result.stamp_failures))
    if not result.intact:
        return EXIT_INTEGRITY
    return EXIT_UNUSABLE if unstamped else EXIT_OK  # recorded, but with no token: page


def print_summary(
    console: Console | None,
    report: AuditReport,
    ledger_path: Path,
    location: LedgerLocation | None = None,
) -> None:
    """Bags intact / failed, files, bytes, seconds, MB/s, the ledger (and, with
    ``location``, how it was chosen); then the table of problems, and for a bag whose tag
    manifests changed, how to accept a change made on purpose.

    With no ``console`` (stdout not a terminal, nothing to tabulate: a nightly cron job
    whose bags are intact) the line is printed without rich, whose import is a quarter of
    such a run's start-up; it reads the same as rich prints it there.
    """
    t = report.totals
    rate = t.bytes / t.seconds / 1e6 if t.seconds > 0 else 0.0
    word, style = ("intact", "green") if report.valid else ("FAILED", "bold red")
    rest = (
        f" — {t.intact} of {t.bags} bags intact, "
        f"{t.failed} failed; {t.files} files, {t.bytes} bytes in {t.seconds:.2f} s "
        f"({rate:.1f} MB/s); mode {report.mode}; "
        f"{location.describe() if location is not None else f'ledger {ledger_path}'}"
    )
    if console is None:
        print(f"audit {report.run_id}: {word}{escape_controls(rest)}")
        return
    console.print(f"audit {safe(report.run_id)}: [{style}]{word}[/]{safe(rest)}")
    print_problems(console, list(report.findings))
    changed = sorted({f.bag for f in report.findings if f.kind == Kind.TAG_MANIFEST_CHANGED})
    if changed:
        console.print(
            f"tag-manifest-changed in {len(changed)} bag(s): if a bag was changed on purpose, "
            f"{ACCEPT_HINT}, e.g. --accept {safe(changed[0])}"
        )
