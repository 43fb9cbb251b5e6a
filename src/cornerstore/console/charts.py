"""Small charts drawn on the server as SVG: the geometry here, the markup in ``_charts.html``.

No chart library and no script: the page stays within its Content-Security-Policy and works
on a slow laptop. Every chart also says its numbers in words (``label`` of each bar), so a
screen reader and a printout get the same facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 300
BAR_HEIGHT = 16
GAP = 6
LABEL_WIDTH = 72
VALUE_WIDTH = 72  # room after the bar for its value in words


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

    def span(self, labelled: bool) -> int:
        """The length of a full bar."""
        return self.width - (self.label_width if labelled else 0) - VALUE_WIDTH


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
    [156.0, 78.0]
    """
    top = maximum if maximum is not None else max((v for _, v, _ in rows), default=0)
    labelled = any(label for label, _, _ in rows)
    span = WIDTH - (LABEL_WIDTH if labelled else 0) - VALUE_WIDTH
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

    >>> gauge("Loyalty", 0.5, "50 of 100").bars[0].width
    114.0
    """
    return bar_chart(title, [("", min(1.0, max(0.0, share)), text)], maximum=1.0)
