"""`archiver audit [ROOT ...] [--workers N] [--json FILE|-] [--ledger F] ...`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.audit.collection import (
    BAG_BATCH,
    AuditReport,
    ProgressCallback,
    audit,
    scan_roots,
)
from archiver.audit.executor import TaskExecutor
from archiver.audit.reference import check_reports
from archiver.bag.findings import BagReport
from archiver.cli.output import (
    kinds_epilog,
    make_console,
    print_problems,
    print_stamp_failures,
    safe,
)
from archiver.cli.report import add_report_arguments, describe, write
from archiver.cli.validate import add_mode_arguments, add_tag_limit_argument, timestamp_settings_for
from archiver.config import audit_setting
from archiver.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE, BagReadError, LedgerError
from archiver.fileio import check_output_path, write_bytes_atomic
from archiver.ledger.store import Ledger, LedgerEvent, default_ledger_path, plan_selection
from archiver.stamps import stamper, with_token_findings
from archiver.text import escape_controls

if TYPE_CHECKING:
    from rich.console import Console

    from archiver.repair.plan import BagRepair

DEFAULT_ROOT = "bags"
DEFAULT_CONFIG = Path("archive.toml")
SCHEDULER_ENV = "ARCHIVER_SCHEDULER"
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
        "for: name them as ROOTs). Record the run in the audit ledger (default: one per "
        "collection in the per-user data directory, e.g. "
        "~/.local/share/archiver/ledgers/NAME-KEY.sqlite, keyed by the resolved ROOTs; a "
        "ROOT/.audit-ledger.sqlite left by an earlier version is still used). With "
        "--scheduler the same tasks run on a Dask cluster whose workers see the bags at the "
        "same paths; this process merges the results and alone writes the ledger. "
        "Every bag gets the BagIt checks (every checksum unless --fast or "
        "--completeness-only) and, when it declares our BagIt profile, the profile check; "
        "the DC and PREMIS records' schema checks run only with --metadata (by default the "
        "tag manifests' checksums vouch that they are the bytes the build validated; "
        "'archiver validate' always checks them). "
        "Exit 0 all intact, 1 a bag failed, 2 the audit could not run.",
        epilog=kinds_epilog(),
    )
    parser.add_argument(
        "roots", metavar="ROOT", nargs="*", help="directory to search for bags, or a serialized bag"
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
        help="write the machine report to FILE ('-': stdout)",
    )
    parser.add_argument("--ledger", metavar="F", type=Path, default=None, help="ledger database")
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
        help="audit only the N bags whose last good check is oldest",
    )
    parser.add_argument(
        "--budget",
        metavar="DURATION",
        type=parse_duration,
        default=None,
        help="audit the most overdue bags that fit in DURATION (e.g. 30m, 2h)",
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
        "and record all of it as one ledger run",
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
        help="archive settings: [audit] scheduler, and with --repair [deposit.s3] (default: "
        "archive.toml if present)",
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
        help="after the audit, write the collection report (as 'archiver report' does) to FILE",
    )
    add_report_arguments(parser)
    parser.set_defaults(run=run)


def scheduler_for(
    option: str | None, environ: dict[str, str] | os._Environ[str], config: Path | None
) -> str | None:
    """--scheduler, else $ARCHIVER_SCHEDULER, else archive.toml's [audit] scheduler."""
    if option:
        return option
    if environ.get(SCHEDULER_ENV):
        return environ[SCHEDULER_ENV]
    path = config if config is not None else DEFAULT_CONFIG
    if config is None and not path.is_file():
        return None
    value = audit_setting(path, "scheduler")
    return str(value) if value else None


@contextmanager
def _cluster(
    scheduler: str | None, roots: Sequence[str], workers: int | None, timeout: float
) -> Iterator[TaskExecutor | None]:
    """The Dask executor for ``scheduler`` (None: the local process pool)."""
    if scheduler is None:
        yield None
        return
    from archiver.audit.dask_backend import connect, silence_logs  # only when asked for

    silence_logs()  # the cluster's own log is not this command's output
    absolute = [os.path.abspath(r) for r in roots]
    with connect(scheduler, absolute, local_workers=workers, timeout=timeout) as executor:
        yield executor


def _check_ledger(path: Path) -> None:
    """Fail before a long audit when the ledger could not take its run."""
    if path.exists():
        with Ledger.open(path, readonly=True):
            return
    if not path.parent.is_dir():
        raise LedgerError(f"{path}: cannot create the ledger, {path.parent} is not a directory")


def _select(path: Path, candidates: list[Path], args: argparse.Namespace) -> list[Path]:
    """The bags to audit: all, or the most overdue (--oldest, --budget), read-only."""
    if args.oldest is None and args.budget is None:
        return candidates
    names = [str(b) for b in candidates]
    if path.exists():
        with Ledger.open(path, readonly=True) as ledger:
            chosen = ledger.select_bags(names, args.oldest, args.budget)
    else:
        chosen = plan_selection(names, {}, args.oldest, args.budget)
    return [Path(b) for b in chosen]


def _ledger_home(root: str, bags: list[Path]) -> Path:
    """The collection a root stands for, which keys its default ledger: the root, or its
    parent when the root is itself a bag or an archive."""
    path = Path(os.path.abspath(root))
    return path.parent if path in bags else Path(root)


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar (bytes/s, ETA) on a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.progress import (  # only on a terminal: cron jobs and scripts skip the import
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("audit", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def run(args: argparse.Namespace) -> int:
    """Select the bags, audit them, record the run, print or write the report."""
    roots: list[str] = args.roots or [DEFAULT_ROOT]
    json_to_stdout = args.json == "-"
    candidates, linked = scan_roots(roots)
    if not candidates:
        # A vanished storage mount must page someone, and must not get a fresh ledger.
        links = f" (links to bags, not followed: {', '.join(map(str, linked))})" if linked else ""
        raise BagReadError(f"{', '.join(roots)}: no bags found{links}")
    ledger_path = args.ledger or default_ledger_path(
        [_ledger_home(root, candidates) for root in roots]
    )
    # Nothing is written inside a bag being read, and a report with nowhere to go stops
    # the run before it starts, not after hours of hashing.
    check_output_path(ledger_path, candidates, what="ledger", inside_only=True)
    if args.json is not None and not json_to_stdout:
        check_output_path(Path(args.json), candidates, what="--json report")
    scheduler = scheduler_for(args.scheduler, os.environ, args.config)
    stamps = timestamp_settings_for(args.config)  # before the audit: a bad one stops it now
    _check_ledger(ledger_path)
    with _cluster(scheduler, roots, args.workers, args.scheduler_timeout) as executor:
        selected = _select(ledger_path, candidates, args)
        with _progress_bar(sys.stdout.isatty() and not json_to_stdout) as progress:
            report = audit(
                roots,
                workers=args.workers,
                mode=args.mode,
                metadata=args.metadata,
                progress=progress,
                bags=selected,
                executor=executor,
                bag_batch=args.batch,
                cache_hygiene=args.cache_hygiene,
                linked=linked,
                max_tag_bytes=args.max_tag_size,
            )
    # written only now: an audit that could not finish leaves the ledger untouched
    with Ledger.open(ledger_path) as ledger:
        ledger.stamp = stamper(stamps)  # the run gets a token once recorded
        records = ledger.tag_manifest_records([b.bag for b in report.bags])
        accepted = {os.path.abspath(b) for b in args.accept}
        report = _with_bags(report, check_reports(report.bags, records, accepted))
        now = datetime.now(UTC)
        report = _with_bags(report, with_token_findings(report.bags, stamps, now))
        events: list[LedgerEvent] = []
        repairs: list[BagRepair] = []
        if args.repair and not report.valid:
            report, events, repairs = _repair_failed(args, report, ledger)
        ledger.record_run(report, events)
        unstamped = print_stamp_failures(ledger.stamp_failures)
    if args.json is not None:
        data = report.to_json()
        if args.repair:
            data["repairs"] = [r.to_json() for r in repairs]
        document = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if json_to_stdout:
            sys.stdout.write(document)
        else:
            write_bytes_atomic(Path(args.json), document.encode("utf-8"))
    if not json_to_stdout:
        plain = not (repairs or report.findings or sys.stdout.isatty())
        console = None if plain else make_console()
        if repairs and console is not None:
            from archiver.cli.repair import print_repairs

            print_repairs(console, repairs, report.run_id, ledger_path, False)
        print_summary(console, report, ledger_path)
    intact = True
    if args.html is not None:
        page = write(ledger_path, args.html, verify=args.verify)
        intact = page.summary.verified is not False
        if not json_to_stdout:
            make_console().print(describe(page, args.html))
    if not (report.valid and intact):
        return EXIT_INTEGRITY
    return EXIT_UNUSABLE if unstamped else EXIT_OK  # recorded, but with no token: page


def _with_bags(report: AuditReport, bags: tuple[BagReport, ...]) -> AuditReport:
    """The report with its bags replaced and the intact / failed counts recomputed."""
    intact = sum(1 for b in bags if b.valid)
    totals = dataclasses.replace(report.totals, intact=intact, failed=len(bags) - intact)
    return dataclasses.replace(report, bags=bags, totals=totals)


def _repair_failed(
    args: argparse.Namespace, report: AuditReport, ledger: Ledger
) -> tuple[AuditReport, list[LedgerEvent], list[BagRepair]]:
    """Repair the failed bag directories, audit them again; the final report and events."""
    from archiver.cli.repair import settings_from
    from archiver.repair.run import repair_bags, run_events

    failed = [Path(b.bag) for b in report.bags if not b.valid and Path(b.bag).is_dir()]
    repairs = repair_bags(
        failed,
        ledger=ledger,
        given=args.replicas,
        settings=settings_from(args.config),
        environ=os.environ,
        run_id=report.run_id,
        clock=lambda: datetime.now(UTC),
        before={b.bag: b for b in report.bags},
    )
    after = {r.bag: r.after for r in repairs if r.after is not None}
    bags = tuple(after.get(b.bag, b) for b in report.bags)
    final = dataclasses.replace(_with_bags(report, bags), ended=datetime.now(UTC).isoformat())
    return final, run_events(repairs), repairs


def print_summary(console: Console | None, report: AuditReport, ledger_path: Path) -> None:
    """Bags intact / failed, files, bytes, seconds, MB/s; then the table of problems.

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
        f"({rate:.1f} MB/s); mode {report.mode}; ledger {ledger_path}"
    )
    if console is None:
        print(f"audit {report.run_id}: {word}{escape_controls(rest)}")
        return
    console.print(f"audit {safe(report.run_id)}: [{style}]{word}[/]{safe(rest)}")
    print_problems(console, list(report.findings))
