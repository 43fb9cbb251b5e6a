"""Shares with their 95 % Wilson score interval, and quantiles of durations.

The Wilson interval (Wilson 1927, "Probable inference, the law of succession, and statistical
inference", JASA 22:209) keeps its bounds inside [0, 1] and stays honest for the small groups a
breakdown by agent or branch produces, where the normal approximation does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cornerstore.outcomes.model import Durations, Rate

#: The standard normal quantile for a two-sided 95 % interval.
Z_95 = 1.959963984540054


def wilson_rate(count: int, n: int, z: float = Z_95) -> Rate:
    """``count`` of ``n`` as a share with its Wilson score interval.

    Examples
    --------
    >>> r = wilson_rate(8, 10)
    >>> round(r.value, 2), round(r.low, 3), round(r.high, 3)
    (0.8, 0.49, 0.943)
    >>> wilson_rate(0, 0).value is None
    True
    """
    if n == 0:
        return Rate(count=0, n=0, value=None, low=None, high=None)
    share = count / n
    z2 = z * z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    return Rate(
        count=count, n=n, value=share, low=max(0.0, centre - half), high=min(1.0, centre + half)
    )


def quantile(values: Sequence[float], p: float) -> float:
    """The ``p`` quantile by linear interpolation between order statistics (Hyndman and Fan 1996,
    definition 7; what numpy and spreadsheets use): position ``(n - 1) * p`` of the sorted values.

    >>> round(quantile([1.0, 2.0, 3.0, 10.0], 0.9), 6)
    7.9
    """
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def summarise_hours(hours: Sequence[float]) -> Durations:
    """Median and 90th percentile of durations in hours.

    >>> summarise_hours([1.0, 3.0, 2.0])
    Durations(n=3, median_hours=2.0, p90_hours=2.8)
    """
    if not hours:
        return Durations(n=0, median_hours=None, p90_hours=None)
    return Durations(
        n=len(hours), median_hours=quantile(hours, 0.5), p90_hours=quantile(hours, 0.9)
    )
