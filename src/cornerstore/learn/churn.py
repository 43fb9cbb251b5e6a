"""Churn early warning: customers slipping away who are worth keeping, ranked by the value at
risk, each with its reasons in words.

A customer is at risk when they are slipping and worth keeping, or when a complaint is left
open:

- slipping, against their own rhythm: the current gap is ``churn_gap_ratio`` times their usual
  gap between purchases (so a yearly buyer is not flagged after two quiet months, a weekly one
  is), judged only with ``churn_min_orders`` purchases or more (two gaps make a rhythm); for a
  customer buying at random at a steady rate a gap three times the usual comes about one time in
  twenty (e^-3), twice the usual one time in seven, too often to call;
- or slipping by the count model: P(alive) has fallen below ``churn_alive_below``;
- and worth keeping: the value at risk is at least ``churn_min_value_share`` of the median
  customer's, so the list is not filled with small one-off buyers;
- or a complaint has been open (opened, not resolved) longer than ``churn_open_complaint_days``.

The value at risk is what the shop stands to lose should the customer go: their CLV, or, without
a value model, their spend so far. CLV already weighs the future by P(alive), so a customer long
gone, with nothing left to lose, falls below the median and off the list: lapsed, not at risk.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from cornerstore.learn.behaviour import days_phrase, no_purchase_for
from cornerstore.settings import LearnSettings

WARNING_COLUMNS = {
    "customer_id": pl.String,
    "value_at_risk": pl.Float64,
    "reasons": pl.List(pl.String),
}


def open_complaints(complaints: pl.DataFrame, now: datetime, min_days: int) -> pl.DataFrame:
    """Complaints opened and not resolved for ``min_days`` or more: customer_id, open_days.

    ``complaints``: customer_id, case_id, name (opened or resolved event), at, kind
    (``opened`` / ``resolved``).
    """
    if complaints.height == 0:
        return pl.DataFrame(
            schema={"customer_id": complaints.schema["customer_id"], "open_days": pl.Float64}
        )
    resolved = complaints.filter(pl.col("kind") == "resolved").select("case_id").unique()
    now_lit = pl.lit(now).dt.convert_time_zone("UTC")
    return (
        complaints.filter(pl.col("kind") == "opened")
        .join(resolved, on="case_id", how="anti")
        .with_columns(((now_lit - pl.col("at")).dt.total_seconds() / 86_400).alias("open_days"))
        .filter(pl.col("open_days") >= min_days)
        .group_by("customer_id")
        .agg(pl.col("open_days").max())
    )


def churn_warnings(
    behaviour: pl.DataFrame,
    value: pl.DataFrame,
    complaints_open: pl.DataFrame,
    settings: LearnSettings,
) -> pl.DataFrame:
    """Customers at risk, highest value at risk first: customer_id, value_at_risk, reasons.

    ``behaviour`` is :func:`cornerstore.learn.behaviour.behaviour`'s table (customer_id, orders,
    recency_days, mean_gap_days, overdue_ratio, spend), ``value`` the value table
    (customer_id, probability_alive, clv), ``complaints_open`` from :func:`open_complaints`.

    Examples
    --------
    >>> b = pl.DataFrame({"customer_id": ["a", "b", "c"], "orders": [6, 6, 6],
    ...     "recency_days": [95.0, 5.0, 100.0], "mean_gap_days": [30.0, 30.0, 30.0],
    ...     "overdue_ratio": [95 / 30, 5 / 30, 100 / 30], "spend": [300.0, 100.0, 20.0]})
    >>> v = pl.DataFrame({"customer_id": ["a", "b", "c"], "probability_alive": [0.4, 0.9, 0.4],
    ...     "clv": [200.0, 80.0, 4.0]})
    >>> none = pl.DataFrame(schema={"customer_id": pl.String, "open_days": pl.Float64})
    >>> w = churn_warnings(b, v, none, LearnSettings())
    >>> w.rows()
    [('a', 200.0, ['P(alive) has fallen to 40%', 'no purchase for 95 days; usually every 30 days'])]
    """
    table = (
        behaviour.select(
            "customer_id", "orders", "recency_days", "mean_gap_days", "overdue_ratio", "spend"
        )
        .join(value.select("customer_id", "probability_alive", "clv"), on="customer_id", how="left")
        .join(complaints_open, on="customer_id", how="full", coalesce=True)
    )
    alive = pl.col("probability_alive")
    falling = alive < settings.churn_alive_below
    overdue = (
        (pl.col("orders") >= settings.churn_min_orders)
        & (pl.col("mean_gap_days") > 0)
        & (pl.col("overdue_ratio") >= settings.churn_gap_ratio)
    )
    complaint = pl.col("open_days").is_not_null()
    reasons = pl.concat_list(
        pl.when(falling)
        .then(pl.format("P(alive) has fallen to {}%", (alive * 100).round(0).cast(pl.Int64)))
        .otherwise(None),
        pl.when(overdue).then(no_purchase_for()).otherwise(None),
        pl.when(complaint)
        .then(
            pl.format(
                "a complaint has been open for {}",
                days_phrase(pl.col("open_days").floor().cast(pl.Int64)),
            )
        )
        .otherwise(None),
    ).list.drop_nulls()
    at_stake = pl.coalesce(pl.col("clv"), pl.col("spend"), pl.lit(0.0))
    valued = table.with_columns(at_stake.alias("value_at_risk"))
    worth_keeping = pl.col("value_at_risk") >= settings.churn_min_value_share * pl.col(
        "value_at_risk"
    ).filter(pl.col("orders").is_not_null()).median().fill_null(0.0)
    at_risk = ((falling.fill_null(False) | overdue.fill_null(False)) & worth_keeping) | complaint
    # Reasons are put in words for those at risk only: as text for every customer of a
    # large base they were the largest frame of the whole run.
    return (
        valued.with_columns(pl.col("value_at_risk").round(2))
        .filter(at_risk)
        .with_columns(reasons.alias("reasons"))
        .select("customer_id", "value_at_risk", "reasons")
        .sort("value_at_risk", "customer_id", descending=[True, False])
    )
