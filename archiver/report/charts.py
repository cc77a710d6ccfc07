"""Bar charts as geometry for inline SVG (pure): the templates only draw what is here.

Each chart carries its title, a one-sentence text alternative and its data as rows, so
the page can show the numbers as a table for people who do not see the picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 200
LEFT = 56  # room for the y-axis labels
RIGHT = 8
TOP = 10
BOTTOM = 34  # room for the x-axis labels
MAX_X_LABELS = 12


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its box in SVG coordinates, its category and value as text."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    css: str


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis label at a position (y for the value axis, x for categories)."""

    at: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart ready to draw, with its title, text alternative and data rows."""

    ident: str
    title: str
    description: str
    unit: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    rows: tuple[tuple[str, str], ...]
    baseline: float
    left: int = LEFT


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^n at or above ``value`` (1 for nothing to show)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def format_number(value: float) -> str:
    """A short human number: 12, 3.5, 1.2k, 4.5M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}" if value != int(value) else str(int(value))


def bar_chart(
    ident: str,
    title: str,
    unit: str,
    items: Sequence[tuple[str, float, str]],
    description: str,
) -> Chart:
    """Lay out one bar per ``(label, value, css class)``, left to right, on a 0-based axis."""
    top = nice_ceiling(max((value for _, value, _ in items), default=0.0))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = float(TOP + plot_height)
    slot = plot_width / max(len(items), 1)
    gap = min(slot * 0.2, 6.0)
    bars = []
    for index, (label, value, css) in enumerate(items):
        height = plot_height * value / top
        if value > 0:
            height = max(height, 1.5)  # a non-zero count stays visible
        bars.append(
            Bar(
                x=round(LEFT + index * slot + gap / 2, 1),
                y=round(baseline - height, 1),
                width=round(max(slot - gap, 1.0), 1),
                height=round(height, 1),
                label=label,
                value=format_number(value),
                css=css,
            )
        )
    y_ticks = tuple(
        Tick(round(baseline - plot_height * i / 4, 1), format_number(top * i / 4)) for i in range(5)
    )
    every = max(1, math.ceil(len(items) / MAX_X_LABELS))
    x_ticks = tuple(
        Tick(round(LEFT + (i + 0.5) * slot, 1), label)
        for i, (label, _, _) in enumerate(items)
        if i % every == 0
    )
    rows = tuple((label, format_number(value)) for label, value, _ in items)
    return Chart(
        ident=ident,
        title=title,
        description=description,
        unit=unit,
        width=WIDTH,
        height=HEIGHT,
        bars=tuple(bars),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        rows=rows,
        baseline=baseline,
    )
