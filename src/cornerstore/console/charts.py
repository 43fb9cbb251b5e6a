"""Small charts drawn on the server as SVG: the geometry here, the markup in ``_charts.html``.

No chart library and no script: the page stays within its Content-Security-Policy and works
on a slow laptop. Every chart also says its numbers in words (``label`` of each bar), so a
screen reader and a printout get the same facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 240
BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 44


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown beside the bar
    y: float
    width: float


@dataclass(frozen=True, slots=True)
class BarChart:
    """Horizontal bars, one per row, scaled to the largest value (or ``maximum``)."""

    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, float, str]],
    maximum: float | None = None,
) -> BarChart:
    """Bars for ``(label, value, text)`` rows; negative values draw as empty bars.

    Examples
    --------
    >>> chart = bar_chart("Orders", [("web", 30, "30"), ("store", 15, "15")])
    >>> [bar.width for bar in chart.bars]
    [150.0, 75.0]
    """
    top = maximum if maximum is not None else max((v for _, v, _ in rows), default=0)
    span = WIDTH - LABEL_WIDTH - 46  # room for the label before and the text after the bar
    bars = [
        Bar(
            label,
            value,
            text,
            y=i * (BAR_HEIGHT + GAP),
            width=round(span * max(0.0, value) / top, 1) if top > 0 else 0.0,
        )
        for i, (label, value, text) in enumerate(rows)
    ]
    height = max(1, len(bars) * (BAR_HEIGHT + GAP) - GAP)
    return BarChart(title, bars, WIDTH, height)


def gauge(title: str, share: float, text: str) -> BarChart:
    """One bar filled to ``share`` (0 to 1) of its length.

    >>> gauge("Loyalty", 0.727, "72.7 of 100").bars[0].width
    109.0
    """
    return bar_chart(title, [("", min(1.0, max(0.0, share)), text)], maximum=1.0)
