"""Incremental audits: which bags to check now, most overdue first (``--oldest N``,
``--budget DURATION``), from what the ledger knows of each bag's audits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from archiver.ledger.store import BagStats, Ledger
from archiver.model.errors import LedgerError


def plan_selection(
    candidates: Sequence[str],
    stats: Mapping[str, BagStats],
    oldest: int | None,
    budget_seconds: float | None,
) -> list[str]:
    """Order and cut the candidates for an incremental audit (pure).

    Order: bags never audited first, then bags never found good by a fixity audit, then by
    the run of their last good fixity check, oldest first; ties keep the candidates' order.
    ``oldest`` caps the count. With ``budget_seconds``, each bag costs its estimate (bags
    without one cost the mean of the known estimates, else 0) and selection stops at the
    first bag that would exceed the budget. At least one bag is selected when any exist.
    """
    if oldest is not None and oldest < 1:
        raise LedgerError(f"--oldest: must be at least 1, not {oldest}")
    if budget_seconds is not None and budget_seconds <= 0:
        raise LedgerError(f"--budget: must be more than 0 seconds, not {budget_seconds:g}")
    unique = list(dict.fromkeys(candidates))
    empty = BagStats()

    def key(item: tuple[int, str]) -> tuple[int, int, int]:
        position, bag = item
        s = stats.get(bag, empty)
        if s.last_checked_seq is None:
            return (0, 0, position)
        if s.last_good_seq is None:
            return (1, 0, position)
        return (2, s.last_good_seq, position)

    ordered = [bag for _, bag in sorted(enumerate(unique), key=key)]
    if oldest is not None:
        ordered = ordered[:oldest]
    if budget_seconds is None:
        return ordered
    known = [e for bag in unique if (e := stats.get(bag, empty).estimate_seconds) is not None]
    default = sum(known) / len(known) if known else 0.0
    selected: list[str] = []
    spent = 0.0
    for bag in ordered:
        estimate = stats.get(bag, empty).estimate_seconds
        cost = default if estimate is None else estimate
        if selected and spent + cost > budget_seconds:
            break
        selected.append(bag)
        spent += cost
    return selected


def select_bags(
    ledger: Ledger, candidates: Sequence[str], oldest: int | None, budget_seconds: float | None
) -> list[str]:
    """The candidates an incremental audit should check, most overdue first.

    See ``plan_selection``; estimates come from each bag's last fixity audit: the run's
    seconds shared out by bytes (which accounts for the run's parallelism).
    """
    return plan_selection(candidates, ledger.bag_stats(candidates), oldest, budget_seconds)
