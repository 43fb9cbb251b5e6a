"""Churn early warning: customers slipping away, ranked by the value at risk, each with its
reasons in words.

Three signals, any of which puts a customer on the list:

- P(alive) from the count model has fallen below ``churn_alive_below``;
- the current gap is ``churn_gap_ratio`` times the customer's own usual gap between purchases
  (so a yearly buyer is not flagged after two quiet months, a weekly one is);
- a complaint has been open (opened, not resolved) longer than ``churn_open_complaint_days``.

Value at risk is the customer's CLV (or, without a value model, the last year's spend) times the
probability they are gone (1 - P(alive); 0.5 when P(alive) is unknown), so a valuable customer
drifting comes before a small one who left long ago.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

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
        return pl.DataFrame(schema={"customer_id": pl.String, "open_days": pl.Float64})
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

    ``behaviour`` is :func:`cornerstore.learn.behaviour.behaviour`'s table, ``value`` the value
    table (customer_id, probability_alive, clv), ``complaints_open`` from
    :func:`open_complaints`.

    Examples
    --------
    >>> b = pl.DataFrame({"customer_id": ["a", "b"], "recency_days": [95.0, 5.0],
    ...     "mean_gap_days": [30.0, 30.0], "overdue_ratio": [95 / 30, 5 / 30],
    ...     "spend": [300.0, 100.0]})
    >>> v = pl.DataFrame({"customer_id": ["a", "b"], "probability_alive": [0.3, 0.9],
    ...     "clv": [200.0, 80.0]})
    >>> none = pl.DataFrame(schema={"customer_id": pl.String, "open_days": pl.Float64})
    >>> w = churn_warnings(b, v, none, LearnSettings())
    >>> w.rows()
    [('a', 140.0, ['P(alive) has fallen to 30%', 'no purchase for 95 days; usually every 30'])]
    """
    table = (
        behaviour.select("customer_id", "recency_days", "mean_gap_days", "overdue_ratio", "spend")
        .join(value.select("customer_id", "probability_alive", "clv"), on="customer_id", how="left")
        .join(complaints_open, on="customer_id", how="full", coalesce=True)
    )
    alive = pl.col("probability_alive")
    reasons = pl.concat_list(
        pl.when(alive < settings.churn_alive_below)
        .then(pl.format("P(alive) has fallen to {}%", (alive * 100).round(0).cast(pl.Int64)))
        .otherwise(None),
        pl.when(pl.col("overdue_ratio") >= settings.churn_gap_ratio)
        .then(
            pl.format(
                "no purchase for {} days; usually every {}",
                pl.col("recency_days").round(0).cast(pl.Int64),
                pl.col("mean_gap_days").round(0).cast(pl.Int64),
            )
        )
        .otherwise(None),
        pl.when(pl.col("open_days").is_not_null())
        .then(
            pl.format(
                "a complaint has been open for {} days",
                pl.col("open_days").floor().cast(pl.Int64),
            )
        )
        .otherwise(None),
    ).list.drop_nulls()
    worth = pl.coalesce(pl.col("clv"), pl.col("spend"), pl.lit(0.0))
    gone = pl.coalesce(1.0 - alive, pl.lit(0.5))
    return (
        table.with_columns(reasons.alias("reasons"), (worth * gone).round(2).alias("value_at_risk"))
        .filter(pl.col("reasons").list.len() > 0)
        .select("customer_id", "value_at_risk", "reasons")
        .sort("value_at_risk", "customer_id", descending=[True, False])
    )
