"""RFM and behavioural loyalty: loyalty read from what customers do, not from holding a card.

Per customer, from their purchases: how many, how much, how recently, for how long, how
regularly against their *own* rhythm (a monthly buyer 40 days quiet is late; a yearly one is
not), how broadly (categories and departments), and what share of the last year's spend came in
the last quarter. The loyalty score (0-100) averages five parts, each in 0..1:

- repeat: percentile of the number of purchases among all customers;
- tenure: percentile of the days since the first purchase;
- rhythm: 1 while the current gap is within the customer's usual gap, falling as it stretches;
- breadth: percentile of distinct categories plus distinct touchpoints;
- momentum: the share of the last 365 days' spend made in the last 90 (capped at 1).

The tier says it in a word: ``new`` (one purchase, in the last 90 days), ``one-off`` (one
purchase, longer ago), ``slipping`` (the current gap is twice the usual one or more), then by
score ``loyal`` (70+), ``regular`` (45+) or ``occasional``.

All of it is Polars expressions over the whole customer base at once.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

ORDER_COLUMNS = pl.Schema(
    {
        "customer_id": pl.String(),
        "at": pl.Datetime("us", "UTC"),
        "amount": pl.Float64(),
        "touchpoint": pl.String(),
        "categories": pl.List(pl.String()),
    }
)
_DAY_US = 86_400_000_000


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / _DAY_US


def days_phrase(days: pl.Expr) -> pl.Expr:
    """A whole number of days in words, "1 day" or "12 days" (the plural rule of
    :func:`cornerstore.plural.counted`, as a column expression).

    >>> pl.select(days_phrase(pl.Series([1, 12]))).to_series().to_list()
    ['1 day', '12 days']
    """
    unit = pl.when(days == 1).then(pl.lit("day")).otherwise(pl.lit("days"))
    return pl.format("{} {}", days, unit)


def no_purchase_for() -> pl.Expr:
    """The overdue regular's reason, from ``recency_days`` and ``mean_gap_days`` of
    :func:`purchase_summary`: "no purchase for 95 days; usually every 30 days"."""
    return pl.format(
        "no purchase for {}; usually every {}",
        days_phrase(pl.col("recency_days").round(0).cast(pl.Int64)),
        days_phrase(pl.col("mean_gap_days").round(0).cast(pl.Int64)),
    )


def _percentile(column: str) -> pl.Expr:
    return (pl.col(column).rank("average") / pl.len()).fill_null(0.0)


def behaviour(orders: pl.DataFrame, touchpoints: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """RFM figures and the loyalty score of every customer with at least one purchase.

    ``orders``: customer_id, at (UTC datetime), amount (float, may be null), touchpoint,
    categories (list of strings). ``touchpoints``: customer_id, touchpoints (distinct count
    over all events). Returns one row per customer: orders, spend, mean_spend, first_at,
    last_at, recency_days, tenure_days, mean_gap_days, gap_cv, overdue_ratio, categories,
    touchpoints, recent_share, loyalty (0-100) and loyalty_tier.

    This is :func:`loyalty` of :func:`purchase_summary`: the first is over all customers at
    once (percentiles), the second over each customer alone, so a history read a slice of
    customers at a time can be summarised slice by slice and scored once.

    Examples
    --------
    >>> from datetime import UTC
    >>> day = lambda d: datetime(2026, 1, d, tzinfo=UTC)
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...     "at": [day(1), day(11), day(21), day(2)], "amount": [10.0, 12.0, 8.0, 50.0],
    ...     "touchpoint": ["web"] * 4, "categories": [["tea"], ["tea", "cups"], [], ["tea"]]},
    ...     schema=ORDER_COLUMNS)
    >>> touch = pl.DataFrame({"customer_id": ["a", "b"], "touchpoints": [2, 1]})
    >>> b = behaviour(orders, touch, day(25)).sort("customer_id")
    >>> b.select("customer_id", "orders", "mean_gap_days", "categories").rows()
    [('a', 3, 10.0, 2), ('b', 1, None, 1)]
    """
    return loyalty(purchase_summary(orders, touchpoints, now), now)


def purchase_summary(
    orders: pl.DataFrame, touchpoints: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """What :func:`loyalty` needs of each customer's purchases, one row per customer with a
    purchase: orders, spend, mean_spend, first_at, last_at, mean_gap_days, gap_sd,
    categories, s90 and s365 (spend in the 90 and 365 days to ``now``) and touchpoints.

    Each row depends on that customer's purchases alone, so the summaries of separate groups
    of customers concatenate into the summary of all of them.
    """
    now_lit = pl.lit(now).dt.convert_time_zone("UTC")
    ordered = orders.sort("customer_id", "at").with_columns(
        _days(pl.col("at").diff().over("customer_id")).alias("gap")
    )
    per_customer = ordered.group_by("customer_id").agg(
        pl.len().alias("orders"),
        pl.col("amount").sum().alias("spend"),
        pl.col("amount").mean().alias("mean_spend"),
        pl.col("at").min().alias("first_at"),
        pl.col("at").max().alias("last_at"),
        pl.col("gap").mean().alias("mean_gap_days"),
        pl.col("gap").std().alias("gap_sd"),
        pl.col("categories")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .drop_nulls()
        .n_unique()
        .cast(pl.Int64)
        .alias("categories"),
        pl.col("amount").filter(pl.col("at") > now_lit - pl.duration(days=90)).sum().alias("s90"),
        pl.col("amount").filter(pl.col("at") > now_lit - pl.duration(days=365)).sum().alias("s365"),
    )
    return per_customer.join(touchpoints, on="customer_id", how="left").with_columns(
        pl.col("touchpoints").fill_null(1).cast(pl.Int64)
    )


def loyalty(summary: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """The loyalty table of the customers in ``summary`` (:func:`purchase_summary` of all of
    them, ``now`` the same), in customer order: see :func:`behaviour`."""
    now_lit = pl.lit(now).dt.convert_time_zone("UTC")
    table = (
        summary.sort("customer_id")
        .with_columns(
            _days(now_lit - pl.col("last_at")).alias("recency_days"),
            _days(now_lit - pl.col("first_at")).alias("tenure_days"),
            (pl.col("gap_sd") / pl.col("mean_gap_days")).alias("gap_cv"),
        )
        .with_columns(
            (pl.col("recency_days") / pl.col("mean_gap_days")).alias("overdue_ratio"),
            pl.when(pl.col("s365") > 0)
            .then((pl.col("s90") / pl.col("s365")).clip(0, 1))
            .otherwise(0.0)
            .alias("recent_share"),
            (pl.col("categories") + pl.col("touchpoints")).alias("breadth"),
        )
    )
    rhythm = (
        pl.when(pl.col("overdue_ratio").is_null())
        .then(0.0)
        .otherwise(1.0 / (1.0 + (pl.col("overdue_ratio") - 1.0).clip(0, None)))
    )
    loyalty = (
        _percentile("orders")
        + _percentile("tenure_days")
        + rhythm
        + _percentile("breadth")
        + pl.col("recent_share")
    ) * 20.0
    return (
        table.with_columns(loyalty.round(1).alias("loyalty"))
        .with_columns(
            pl.when((pl.col("orders") == 1) & (pl.col("tenure_days") < 90))
            .then(pl.lit("new"))
            .when(pl.col("orders") == 1)
            .then(pl.lit("one-off"))
            .when(pl.col("overdue_ratio") >= 2)
            .then(pl.lit("slipping"))
            .when(pl.col("loyalty") >= 70)
            .then(pl.lit("loyal"))
            .when(pl.col("loyalty") >= 45)
            .then(pl.lit("regular"))
            .otherwise(pl.lit("occasional"))
            .alias("loyalty_tier")
        )
        .drop("gap_sd", "s90", "s365", "breadth")
    )
