"""The shop's customers at a glance, from the stored scores: churn risk, loyalty tiers and how
many customers keep buying month after month.

Pure functions over the scores as :meth:`LearningRepository.scores_named` returns them, so the
figures on a page and in a test come from one place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The tiers of :mod:`cornerstore.learn.behaviour`, from the most to the least attached.
LOYALTY_TIERS = ("loyal", "regular", "occasional", "slipping", "new", "one-off")
# Bands of P(alive): the chance the customer still buys at all.
ALIVE_BANDS = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0))
RETENTION_MONTHS = 12
_MONTH_DAYS = 30.44


@dataclass(frozen=True, slots=True)
class Count:
    label: str
    customers: int


@dataclass(frozen=True, slots=True)
class RetentionPoint:
    """Of the ``eligible`` customers whose first purchase is at least ``month`` months old,
    ``share`` still bought ``month`` months or more after it."""

    month: int
    eligible: int
    share: float


@dataclass(frozen=True, slots=True)
class Cohort:
    """Customers who first bought in one quarter, and the share still buying later."""

    quarter: str
    customers: int
    retained: dict[int, float | None]


@dataclass(frozen=True, slots=True)
class Overview:
    """What the last learning run says about the whole customer base."""

    customers: int
    at_risk: int
    value_at_risk: float
    alive: list[Count]
    tiers: list[Count]
    retention: list[RetentionPoint]
    cohorts: list[Cohort]
    computed_at: datetime | None


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _months(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86_400 / _MONTH_DAYS


def alive_bands(values: Iterable[Mapping[str, Any]]) -> list[Count]:
    """How many customers fall in each band of P(alive).

    >>> [c.customers for c in alive_bands([{"probability_alive": 0.1}, {"probability_alive": 1}])]
    [1, 0, 0, 0, 1]
    """
    counts = [0] * len(ALIVE_BANDS)
    for value in values:
        p = value.get("probability_alive")
        if not isinstance(p, int | float):
            continue
        index = min(int(float(p) * len(ALIVE_BANDS)), len(ALIVE_BANDS) - 1)
        counts[max(index, 0)] += 1
    return [
        Count(f"{round(low * 100)}-{round(high * 100)}%", n)
        for (low, high), n in zip(ALIVE_BANDS, counts, strict=True)
    ]


def loyalty_tiers(values: Iterable[Mapping[str, Any]]) -> list[Count]:
    """Customers per loyalty tier, in :data:`LOYALTY_TIERS` order (other tiers after).

    >>> [(c.label, c.customers) for c in loyalty_tiers([{"loyalty_tier": "new"}])][4]
    ('new', 1)
    """
    counted = Counter(str(v.get("loyalty_tier")) for v in values if v.get("loyalty_tier"))
    order = [*LOYALTY_TIERS, *sorted(set(counted) - set(LOYALTY_TIERS))]
    return [Count(tier, counted.get(tier, 0)) for tier in order]


def retention_curve(
    values: Sequence[Mapping[str, Any]], as_of: datetime, months: int = RETENTION_MONTHS
) -> list[RetentionPoint]:
    """The share of customers still buying ``month`` months after their first purchase, for
    month 0 to ``months``; only customers whose first purchase is that old count.

    ``values`` are loyalty scores with ``first_at`` and ``last_at``.
    """
    spans = _spans(values, as_of)
    points = []
    for month in range(months + 1):
        eligible = [bought for bought, known in spans if known >= month]
        kept = sum(1 for bought in eligible if bought >= month)
        share = kept / len(eligible) if eligible else 0.0
        points.append(RetentionPoint(month, len(eligible), round(share, 4)))
    return points


def _spans(values: Iterable[Mapping[str, Any]], as_of: datetime) -> list[tuple[float, float]]:
    """(months from first to last purchase, months from first purchase to ``as_of``)."""
    spans = []
    for value in values:
        first, last = _when(value.get("first_at")), _when(value.get("last_at"))
        if first is None or last is None:
            continue
        spans.append((_months(first, last), _months(first, as_of)))
    return spans


def cohorts(
    values: Sequence[Mapping[str, Any]], as_of: datetime, marks: Sequence[int] = (3, 6, 12)
) -> list[Cohort]:
    """First-purchase quarters, newest first, with the share still buying after each of
    ``marks`` months (None while the quarter is too young to tell)."""
    groups: dict[str, list[tuple[float, float]]] = {}
    for value in values:
        first, last = _when(value.get("first_at")), _when(value.get("last_at"))
        if first is None or last is None:
            continue
        quarter = f"{first.year} Q{(first.month - 1) // 3 + 1}"
        groups.setdefault(quarter, []).append((_months(first, last), _months(first, as_of)))
    out = []
    for quarter in sorted(groups, reverse=True):
        spans = groups[quarter]
        retained: dict[int, float | None] = {}
        for mark in marks:
            eligible = [bought for bought, known in spans if known >= mark]
            retained[mark] = (
                round(sum(1 for b in eligible if b >= mark) / len(eligible), 4)
                if len(eligible) == len(spans)
                else None
            )
        out.append(Cohort(quarter, len(spans), retained))
    return out


def overview(
    value: Sequence[Mapping[str, Any]],
    loyalty: Sequence[Mapping[str, Any]],
    churn: Sequence[Mapping[str, Any]],
    computed_at: datetime | None = None,
) -> Overview:
    """Every figure of the overview from the three stored scores of each customer.

    Retention is measured to the latest purchase of anyone, as learning measures recency
    when a history stopped: the quiet time after it says nothing about a cohort.
    """
    lasts = [when for v in loyalty if (when := _when(v.get("last_at"))) is not None]
    as_of = max(lasts, default=computed_at or datetime.min)
    risky = [c for c in churn if c.get("at_risk")]
    return Overview(
        customers=len(loyalty),
        at_risk=len(risky),
        value_at_risk=round(sum(float(c.get("value_at_risk") or 0.0) for c in risky), 2),
        alive=alive_bands(value),
        tiers=loyalty_tiers(loyalty),
        retention=retention_curve(loyalty, as_of),
        cohorts=cohorts(loyalty, as_of),
        computed_at=computed_at,
    )
