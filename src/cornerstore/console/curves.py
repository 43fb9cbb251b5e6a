"""Column charts and line charts for the segments page, drawn on the server as SVG.

The geometry is computed here and drawn by ``_curves.html``; no script, so the page stays
within its Content-Security-Policy. Every chart has a title, a description in words and a data
table beside it, so a screen reader gets the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 320
HEIGHT = 160
MARGIN = 24  # room under the plot for the labels, above it for the values


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class ColumnChart:
    title: str
    description: str
    columns: list[Column]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - MARGIN


def column_chart(title: str, rows: Sequence[tuple[str, float, str]]) -> ColumnChart:
    """Upright columns for ``(label, value, text)`` rows, scaled to the largest value.

    >>> chart = column_chart("Tiers", [("loyal", 4, "4"), ("new", 2, "2")])
    >>> [round(c.height) for c in chart.columns]
    [112, 56]
    """
    top = max((v for _, v, _ in rows), default=0.0)
    plot = HEIGHT - 2 * MARGIN
    slot = WIDTH / max(1, len(rows))
    columns = []
    for i, (label, value, text) in enumerate(rows):
        height = plot * max(0.0, value) / top if top > 0 else 0.0
        columns.append(
            Column(
                label,
                text,
                x=round(i * slot + slot * 0.15, 1),
                y=round(HEIGHT - MARGIN - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
            )
        )
    description = "; ".join(f"{label}: {text}" for label, _, text in rows)
    return ColumnChart(title, description, columns)


@dataclass(frozen=True, slots=True)
class LineChart:
    title: str
    description: str
    points: str  # the polyline's "x,y x,y ..." attribute
    ticks: list[tuple[float, str]]  # x and label under the axis
    levels: list[tuple[float, str]]  # y and label of the guide lines (0, half, all)
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - MARGIN


def line_chart(title: str, rows: Sequence[tuple[str, float]], maximum: float = 1.0) -> LineChart:
    """A line through ``(label, value)`` rows, left to right, from 0 to ``maximum``.

    >>> line_chart("Kept", [("0", 1.0), ("1", 0.5)]).points
    '40.0,24.0 308.0,80.0'
    """
    plot = HEIGHT - 2 * MARGIN
    left = 40  # room for the guide lines' labels
    step = (WIDTH - left - 12) / max(1, len(rows) - 1)
    xy = [
        (
            round(left + i * step, 1),
            round(HEIGHT - MARGIN - plot * min(value, maximum) / maximum, 1),
        )
        for i, (_, value) in enumerate(rows)
    ]
    levels = [
        (round(HEIGHT - MARGIN - plot * share, 1), f"{share * maximum:.0%}")
        for share in (0.0, 0.5, 1.0)
    ]
    every = max(1, len(rows) // 6)
    ticks = [
        (x, label)
        for i, ((x, _), (label, _)) in enumerate(zip(xy, rows, strict=True))
        if i % every == 0
    ]
    description = "; ".join(f"{label}: {value:.0%}" for label, value in rows)
    return LineChart(title, description, " ".join(f"{x},{y}" for x, y in xy), ticks, levels)
