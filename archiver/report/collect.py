"""Read what the report needs: the ledger (through its public API) and the bags' titles."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import orjson

from archiver.ledger.store import Ledger
from archiver.report.model import Page, build_page

TITLE_THREADS = 4  # reading many small dc.json files waits on the file system, not the CPU
CHUNK = 512


def read_title(bag: str) -> str:
    """The first ``dc.title`` of the bag's ``metadata/dc.json``; "" when it cannot be read."""
    try:
        with open(os.path.join(bag, "metadata", "dc.json"), "rb") as stream:
            record = orjson.loads(stream.read())
    except (OSError, orjson.JSONDecodeError):
        return ""
    titles = record.get("dc.title") if isinstance(record, dict) else None
    if isinstance(titles, list) and titles and isinstance(titles[0], str):
        return titles[0]
    return ""


def _titles(chunk: list[str]) -> list[str]:
    return [read_title(bag) for bag in chunk]


def read_titles(bags: Iterable[str]) -> dict[str, str]:
    """Each bag's title (bags whose record is gone or unreadable are left out)."""
    names = list(bags)
    chunks = [names[i : i + CHUNK] for i in range(0, len(names), CHUNK)]
    titles: dict[str, str] = {}
    with ThreadPoolExecutor(TITLE_THREADS) as pool:
        for chunk, found in zip(chunks, pool.map(_titles, chunks), strict=True):
            titles.update((bag, title) for bag, title in zip(chunk, found, strict=True) if title)
    return titles


def collect(ledger_path: Path, *, now: datetime, verify: bool = True) -> Page:
    """Read the ledger at ``ledger_path`` (and verify it unless told not to) into a page."""
    with Ledger.open(ledger_path, create=False) as ledger:
        runs = ledger.runs()
        summaries = ledger.bag_summaries()
        events = ledger.events()
        head = ledger.head()
        problems = ledger.verify() if verify else None
    names = {summary.bag for summary in summaries} | {e.event.bag for e in events}
    return build_page(
        ledger=str(ledger_path),
        runs=runs,
        summaries=summaries,
        events=events,
        head=head,
        problems=problems,
        titles=read_titles(sorted(names)),
        now=now,
    )
