"""Delivery windows: when each customer is likely at home, per weekday, with confidence.

Evidence, in the shop's time zone: delivery attempts (delivered counts as at home, not at home
as away) and, as weak evidence of being home, activity on the web shop or app (a quarter of an
observation each). The day is cut into the carriers' blocks (08-12, 12-16, 16-20). For each
customer, block and weekday, P(home) is the Beta-smoothed rate, shrunk towards the customer's
own rate for that block on any day (most customers have few deliveries, so a single missed
Tuesday should not condemn every Tuesday) and that towards 50 %.

The answer per weekday is the block with the highest P(home), its P(home) and the number of
observations behind it; confidence is ``high`` from 5 observations, ``medium`` from 2.
"""

from __future__ import annotations

import polars as pl

BLOCKS = ((8, 12), (12, 16), (16, 20))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACTIVITY_WEIGHT = 0.25
# Pseudo-observations pulling a weekday's rate towards the customer's block rate, and that
# towards one half.
TO_BLOCK = 2.0
TO_HALF = 2.0


def _block(hour: pl.Expr) -> pl.Expr:
    expr = pl.lit(None, pl.Int64)
    for i, (start, end) in enumerate(BLOCKS):
        expr = pl.when((hour >= start) & (hour < end)).then(pl.lit(i)).otherwise(expr)
    return expr


def delivery_windows(
    deliveries: pl.DataFrame, activity: pl.DataFrame, timezone: str
) -> dict[str, list[dict[str, object]]]:
    """Per customer, a list with one entry per weekday that has evidence:
    ``{"weekday", "from_hour", "to_hour", "p_home", "observations", "confidence"}``.

    ``deliveries``: customer_id, at (UTC), home (bool). ``activity``: customer_id, at (UTC) of
    web or app events.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> tue = [datetime(2026, 3, d, 17, tzinfo=UTC) for d in (3, 10, 17)]
    >>> d = pl.DataFrame({"customer_id": ["a"] * 3, "at": tue, "home": [True, True, False]})
    >>> a = pl.DataFrame(schema={"customer_id": pl.String, "at": pl.Datetime("us", "UTC")})
    >>> delivery_windows(d, a, "UTC")["a"]
    [{'weekday': 'tue', 'from_hour': 16, 'to_hour': 20, 'p_home': 0.64, 'observations': 3.0, \
'confidence': 'medium'}]
    """
    return windows_of(delivery_cells(deliveries, activity, timezone))


CELL_COLUMNS = pl.Schema(
    {
        "customer_id": pl.String(),
        "weekday": pl.Int8(),
        "block": pl.Int8(),
        "p_home": pl.Float64(),
        "n": pl.Float64(),
    }
)


def delivery_cells(deliveries: pl.DataFrame, activity: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """Each customer's best block per weekday with evidence: customer_id, weekday (0 is
    Monday), block (an index into :data:`BLOCKS`), p_home, n (observations), in customer and
    weekday order. Each customer's rows depend on their own evidence alone, so the cells of
    separate groups of customers concatenate into the cells of all of them."""
    evidence = pl.concat(
        [
            deliveries.select(
                "customer_id",
                "at",
                pl.col("home").cast(pl.Float64).alias("home"),
                pl.lit(1.0).alias("weight"),
            ),
            activity.select(
                "customer_id",
                "at",
                pl.lit(1.0).alias("home"),
                pl.lit(ACTIVITY_WEIGHT).alias("weight"),
            ),
        ],
        how="vertical_relaxed",
    )
    local = pl.col("at").dt.convert_time_zone(timezone)
    evidence = (
        evidence.with_columns(
            _block(local.dt.hour().cast(pl.Int64)).alias("block"),
            (local.dt.weekday() - 1).alias("weekday"),
        )
        .drop_nulls("block")
        .with_columns((pl.col("home") * pl.col("weight")).alias("home_w"))
    )
    if evidence.height == 0:
        return pl.DataFrame(schema=CELL_COLUMNS)
    by_block = evidence.group_by("customer_id", "block").agg(
        ((pl.col("home_w").sum() + TO_HALF * 0.5) / (pl.col("weight").sum() + TO_HALF)).alias(
            "block_rate"
        )
    )
    cells = (
        evidence.group_by("customer_id", "weekday", "block")
        .agg(pl.col("home_w").sum().alias("home"), pl.col("weight").sum().alias("n"))
        .join(by_block, on=["customer_id", "block"])
        .with_columns(
            ((pl.col("home") + TO_BLOCK * pl.col("block_rate")) / (pl.col("n") + TO_BLOCK))
            .round(2)
            .alias("p_home")
        )
        # A tie between blocks goes to the earlier one, whatever order the rows came in.
        .sort(
            "customer_id",
            "weekday",
            "p_home",
            "n",
            "block",
            descending=[False, False, True, True, False],
        )
        .group_by("customer_id", "weekday", maintain_order=True)
        .first()
        .select(list(CELL_COLUMNS))
        .cast(CELL_COLUMNS)
    )
    return cells


def windows_of(cells: pl.DataFrame) -> dict[str, list[dict[str, object]]]:
    """:func:`delivery_windows`' answer from :func:`delivery_cells`."""
    windows: dict[str, list[dict[str, object]]] = {}
    for customer, weekday, block, p_home, n in cells.iter_rows():
        start, end = BLOCKS[block]
        windows.setdefault(customer, []).append(
            {
                "weekday": WEEKDAYS[weekday],
                "from_hour": start,
                "to_hour": end,
                "p_home": p_home,
                "observations": round(n, 2),
                "confidence": "high" if n >= 5 else "medium" if n >= 2 else "low",
            }
        )
    return windows
