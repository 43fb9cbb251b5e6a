"""Campaign results by outcome, never by sends or opens.

Intention-to-treat: every customer assigned to treatment or control counts, whether or not
their message rendered, was delivered or was opened (the denominator mismatch MoEngage's
uplift suffers from is the failure to avoid). Within the window after the first send, from
intake's order events:

- conversion: the share of customers with an order; treatment minus control with Newcombe's
  hybrid score interval (Wilson per group);
- revenue per customer: Welch's interval with a bootstrap check, and CUPED on each customer's
  own spend in the pre-period (``campaigns.pre_period_days`` before the send).

A sample-ratio check (chi-square) on the group sizes runs first: while it fails, the groups
cannot be compared and the differences are withheld.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import orjson

from cornerstore.errors import InvalidInput
from cornerstore.uplift import (
    CupedDifference,
    ProportionDifference,
    SampleRatio,
    cuped_difference,
    proportion_difference,
    sample_ratio_check,
)


@dataclass(frozen=True)
class Results:
    """A campaign's outcome against control."""

    campaign_id: int
    window_start: datetime
    window_end: datetime
    complete: bool
    """False while the window is still running (the figures can still move)."""
    treatment: int
    control: int
    treatment_converted: int
    control_converted: int
    treatment_revenue: float
    control_revenue: float
    coupons_redeemed: int
    sample_ratio: SampleRatio | None
    withheld: str | None
    """Why no difference is shown (sample-ratio mismatch, a group too small), or None."""
    conversion: ProportionDifference | None
    revenue: CupedDifference | None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("window_start", "window_end"):
            out[name] = out[name].isoformat()
        return out


def amount_of(properties: str | None, amount_properties: Sequence[str]) -> float:
    """The order's amount: the first of ``amount_properties`` that holds a number, else 0.

    >>> amount_of('{"total": "12.5"}', ["total", "revenue"])
    12.5
    >>> amount_of('{"revenue": -3}', ["total", "revenue"])
    -3.0
    >>> amount_of(None, ["total"])
    0.0
    """
    if not properties:
        return 0.0
    try:
        found = orjson.loads(properties)
    except orjson.JSONDecodeError:
        return 0.0
    if not isinstance(found, dict):
        return 0.0
    for name in amount_properties:
        value = found.get(name)
        if isinstance(value, bool):
            continue
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if number == number and abs(number) != float("inf"):
            return number
    return 0.0


def spend_per_customer(
    orders: Iterable[tuple[str, datetime, str | None]], amount_properties: Sequence[str]
) -> tuple[dict[str, float], set[str]]:
    """Revenue per customer and who ordered at all, from (customer, at, properties)."""
    revenue: dict[str, float] = {}
    buyers: set[str] = set()
    for customer, _, properties in orders:
        buyers.add(customer)
        revenue[customer] = revenue.get(customer, 0.0) + amount_of(properties, amount_properties)
    return revenue, buyers


def compare(
    campaign_id: int,
    arms: Mapping[str, str],
    window: tuple[datetime, datetime],
    now: datetime,
    during: tuple[dict[str, float], set[str]],
    before: dict[str, float],
    control_share: float,
    coupons_redeemed: int,
    srm_threshold: float,
) -> Results:
    """Compare treatment with control over the assigned customers ``arms`` (customer -> arm).

    ``during`` is (revenue per customer, buyers) in the window, ``before`` the pre-period
    spend per customer; customers missing from them spent nothing.
    """
    revenue, buyers = during
    treated = sorted(c for c, arm in arms.items() if arm == "treatment")
    held = sorted(c for c, arm in arms.items() if arm == "control")
    t_rev = [revenue.get(c, 0.0) for c in treated]
    c_rev = [revenue.get(c, 0.0) for c in held]
    t_conv = sum(1 for c in treated if c in buyers)
    c_conv = sum(1 for c in held if c in buyers)
    ratio = None
    withheld = None
    conversion = None
    revenue_difference = None
    if not treated or not held:
        withheld = "no one in the control group" if treated else "no one in the treatment group"
    else:
        ratio = sample_ratio_check(
            [len(treated), len(held)], [1 - control_share, control_share], srm_threshold
        )
        if not ratio.passed:
            withheld = (
                f"sample-ratio mismatch: {len(treated)} treatment and {len(held)} control "
                f"are not the planned {1 - control_share:.0%}/{control_share:.0%} "
                f"(p = {ratio.p_value:.2g}); the groups cannot be compared until it is explained"
            )
        elif len(treated) < 2 or len(held) < 2:
            withheld = "each group needs at least two customers"
        else:
            try:
                conversion = proportion_difference(t_conv, len(treated), c_conv, len(held))
                revenue_difference = cuped_difference(
                    t_rev,
                    [before.get(c, 0.0) for c in treated],
                    c_rev,
                    [before.get(c, 0.0) for c in held],
                    seed=campaign_id,
                )
            except InvalidInput as exc:
                withheld = str(exc)
    return Results(
        campaign_id=campaign_id,
        window_start=window[0],
        window_end=window[1],
        complete=now >= window[1],
        treatment=len(treated),
        control=len(held),
        treatment_converted=t_conv,
        control_converted=c_conv,
        treatment_revenue=round(sum(t_rev), 2),
        control_revenue=round(sum(c_rev), 2),
        coupons_redeemed=coupons_redeemed,
        sample_ratio=ratio,
        withheld=withheld,
        conversion=conversion,
        revenue=revenue_difference,
    )
