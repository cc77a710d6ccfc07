"""`archiver deposit BAG ... --to URI [--verify] [--ledger F] [--config F] [--json]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import Progress
from rich.table import Table

from archiver.audit.collection import versions
from archiver.bag.findings import Finding
from archiver.cli.output import (
    make_console,
    print_error,
    print_problems,
    safe,
    unexpected_error_line,
)
from archiver.config import load_config
from archiver.deposit import (
    DamagedTargetError,
    DepositResult,
    InvalidBagError,
    Target,
    deposit_bag,
    parse_target,
    verify_deposit,
)
from archiver.deposit.events import (
    bag_key,
    deposit_event,
    failure_event,
    is_recorded,
    reconciled_event,
    verification_event,
)
from archiver.errors import EXIT_INTEGRITY, EXIT_OK, EXIT_UNUSABLE, ArchiverError, DepositError
from archiver.fileio import check_output_path
from archiver.ledger.store import Ledger, LedgerEvent, default_ledger_path
from archiver.text import one_line

DEFAULT_CONFIG = Path("archive.toml")


def register(subparsers: Any) -> None:
    """Add the deposit command."""
    parser = subparsers.add_parser(
        "deposit",
        help="deposit bags to an OCFL root, an S3 store or a directory, and verify them",
        description="Validate each BAG, deposit it at URI and verify what landed: "
        "ocfl:///path/to/root (OCFL 1.1 storage root, created if missing, layout "
        "0003-hash-and-id-n-tuple-storage-layout; one object per bag, id = External-"
        "Identifier; a changed bag becomes a new version), s3://bucket/prefix (serialized "
        "bag + .sha256/.sha512 sidecars; endpoint and credentials from AWS_* variables or "
        "archive.toml [deposit.s3]), file:///path (a validated copy). An unchanged bag is a "
        "no-op. Every deposit is recorded in the ledger. --verify reports an OCFL bag that "
        "is an older version of its intact object as superseded (not damaged). Exit 0 all "
        "deposited (or unchanged) and verified, 1 a bag is invalid or a deposited copy is "
        "damaged, 2 the deposit could not be done.",
    )
    parser.add_argument("bags", metavar="BAG", nargs="+", type=Path, help="bag directory")
    parser.add_argument("--to", metavar="URI", required=True, help="deposit target URI")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="do not deposit: re-verify what the target holds for each BAG",
    )
    parser.add_argument(
        "--ledger",
        metavar="F",
        type=Path,
        default=None,
        help="ledger database (default: <parent of first BAG>/.audit-ledger.sqlite)",
    )
    parser.add_argument(
        "--config",
        metavar="F",
        type=Path,
        default=None,
        help=f"archive settings, for [deposit.*] (default: {DEFAULT_CONFIG} if present)",
    )
    parser.add_argument("--json", action="store_true", help="print a machine report")
    parser.set_defaults(run=run)


def _settings(path: Path | None) -> dict[str, Any]:
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return {}
        path = DEFAULT_CONFIG
    return dict(load_config(path).deposit)


def _now() -> datetime:
    return datetime.now(UTC)


def run(args: argparse.Namespace) -> int:
    """Deposit (or re-verify) every bag; record the events; print a table or JSON.

    The ledger is opened first (an unusable ledger stops the command before any
    transfer), and the events of the bags done so far are recorded even when a later bag
    fails or the command is interrupted.
    """
    target = parse_target(args.to)
    settings = _settings(args.config)
    ledger_path: Path = args.ledger or default_ledger_path([Path(args.bags[0]).parent])
    # Nothing is written inside a bag being read: not the ledger, not the target.
    check_output_path(ledger_path, args.bags, what="ledger", inside_only=True)
    if target.path is not None:
        check_output_path(target.path, args.bags, what="deposit target", directory=True)
    started = _now()
    rows: list[dict[str, Any]] = []
    events: list[LedgerEvent] = []
    problems: list[Finding] = []
    with Ledger.open(ledger_path) as ledger:
        try:
            with _progress(len(args.bags), sys.stdout.isatty() and not args.json) as advance:
                if args.verify:
                    status = _verify_all(
                        args.bags, target, settings, rows, events, problems, advance
                    )
                else:
                    status = _deposit_all(
                        args.bags, target, settings, rows, events, problems, advance, ledger
                    )
        finally:
            if events:
                ledger.record_events(
                    events,
                    run_id=str(uuid.uuid4()),
                    started=started.isoformat(),
                    ended=_now().isoformat(),
                    versions=versions(),
                    kind="deposit",
                    target=target.uri,
                )
    if args.json:  # stdout is the one JSON document: the findings are in its rows
        document = {"target": target.uri, "ledger": str(ledger_path), "bags": rows}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        if problems:
            print_problems(make_console(), problems)
        _print_table(rows, target, ledger_path if events else None)
    return status


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    """A transient bar counting bags on a terminal; a no-op otherwise."""
    if not enabled or total < 2:
        yield lambda: None
        return
    with Progress(*Progress.get_default_columns(), transient=True) as bar:
        task = bar.add_task("deposit", total=total)
        yield lambda: bar.advance(task)


def _error_row(bag: Path, exc: ArchiverError) -> dict[str, Any]:
    print_error(exc)
    return {"bag": str(bag), "status": "error", "error": str(exc)}


def _problems_row(
    bag: Path, status: str, findings: Sequence[Finding], **extra: str
) -> dict[str, Any]:
    """A report row for a bag with its findings (``extra`` fields go after "bag")."""
    return {"bag": str(bag), **extra, "status": status, "problems": [f.to_json() for f in findings]}


def _deposit_all(
    bags: list[Path],
    target: Target,
    settings: dict[str, Any],
    rows: list[dict[str, Any]],
    events: list[LedgerEvent],
    problems: list[Finding],
    advance: Callable[[], None],
    ledger: Ledger,
) -> int:
    """Deposit each bag; collect its event. An unchanged bag whose stored copy has no
    event in the ledger (an earlier run was killed before recording) gets it now."""
    status = EXIT_OK
    for bag in bags:
        try:
            result: DepositResult = deposit_bag(
                bag, target, now=_now(), environ=os.environ, settings=settings
            )
        except InvalidBagError as exc:
            rows.append(_problems_row(bag, "invalid", exc.report.findings))
            problems.extend(exc.report.errors)
            status = max(status, EXIT_INTEGRITY)
            continue
        except DamagedTargetError as exc:  # damage found at the target: exit 1, not 2
            rows.append(_problems_row(bag, "damaged", exc.findings, target=target.uri))
            problems.extend(exc.findings)
            events.append(verification_event(bag, target, _now(), exc.findings))
            status = max(status, EXIT_INTEGRITY)
            continue
        except DepositError as exc:
            rows.append(_error_row(bag, exc))
            events.append(failure_event(bag, target, _now(), str(exc)))
            status = EXIT_UNUSABLE
            continue
        except ArchiverError as exc:
            rows.append(_error_row(bag, exc))
            status = EXIT_UNUSABLE
            continue
        except Exception as exc:  # input no check foresaw: this bag fails, the others go on
            line = unexpected_error_line("deposit", [str(bag)], exc)
            print(line, file=sys.stderr)
            rows.append({"bag": str(bag), "status": "error", "error": line})
            status = EXIT_UNUSABLE
            continue
        finally:
            advance()
        if not result.identifier_from_bag_info:
            print(
                one_line(
                    f"archiver: warning: {bag}: no External-Identifier in bag-info.txt, "
                    f"deposited as {result.identifier!r} (the directory name)"
                ),
                file=sys.stderr,
            )
        rows.append(result.to_json())
        event = deposit_event(result)
        if event is None and not is_recorded(
            result, [r.event for r in ledger.events(bag_key(result.bag))]
        ):
            event = reconciled_event(result)
        if event is not None:
            events.append(event)
    return status


def _verify_all(
    bags: list[Path],
    target: Target,
    settings: dict[str, Any],
    rows: list[dict[str, Any]],
    events: list[LedgerEvent],
    problems: list[Finding],
    advance: Callable[[], None],
) -> int:
    status = EXIT_OK
    for bag in bags:
        try:
            result = verify_deposit(bag, target, environ=os.environ, settings=settings)
        except ArchiverError as exc:
            rows.append(_error_row(bag, exc))
            status = EXIT_UNUSABLE
            continue
        finally:
            advance()
        findings = result.findings
        events.append(verification_event(bag, target, _now(), findings, result.superseded))
        extra = {"target": target.uri}
        if result.superseded:
            extra["detail"] = result.superseded
        rows.append(_problems_row(bag, str(result.status), findings, **extra))
        problems.extend(findings)
        if findings and status == EXIT_OK:
            status = EXIT_INTEGRITY
    return status


_STYLES = {
    "deposited": "green",
    "new-version": "green",
    "updated": "green",
    "unchanged": "dim",
    "verified": "green",
    "superseded": "yellow",
    "invalid": "bold red",
    "damaged": "bold red",
    "error": "bold red",
}


def _print_table(rows: list[dict[str, Any]], target: Target, ledger: Path | None) -> None:
    console = make_console()
    table = Table(title=f"Deposit to {safe(target.uri)}")
    for column in ("bag", "status", "identifier", "location"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = _STYLES.get(row["status"], "")
        table.add_row(
            safe(row["bag"]),
            f"[{style}]{row['status']}[/]" if style else row["status"],
            safe(str(row.get("identifier", ""))),
            safe(str(row.get("location", row.get("error", row.get("detail", ""))))),
        )
    console.print(table)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    console.print(f"{len(rows)} bag(s): {summary}" + (f"; ledger {ledger}" if ledger else ""))
