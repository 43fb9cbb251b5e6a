"""Moments: triggers and life events found in each customer's history.

Found from behaviour and from what customers told the business, never from birthdays:

- ``moved_house``: the address trait changed (a new street or postcode, not a reformatting);
- ``changed_name``: the last name changed;
- ``new_household_signal``: a category bought for the first time that signals a new member of the
  household (baby, pet, ... from ``household_categories``), after at least one earlier purchase;
- ``first_complaint``: the customer's first complaint;
- ``frequency_drop``: a repeat customer's current gap is three times their usual one;
- ``big_purchase``: a purchase ``big_purchase_ratio`` times their own mean and above the
  shop's 95th percentile;
- ``purchase_anniversary``: a year (or two, ...) since the first purchase, within the last 30 days.

Each moment has a stable key (customer, kind, day), so finding it again on the next run does not
add it twice; the learn service writes it to the timeline as an event staff and campaigns see.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import polars as pl

MOMENT_COLUMNS = pl.Schema(
    {
        "customer_id": pl.String(),
        "moment": pl.String(),
        "at": pl.Datetime("us", "UTC"),
        "detail": pl.String(),
    }
)
HOUSEHOLD_CATEGORIES = ("baby", "babies", "nursery", "pet", "pets", "toddler", "maternity")
_RECENT_DAYS = 30


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=MOMENT_COLUMNS)


def _address_key(value: str) -> str:
    try:
        parsed = json.loads(value)
    except ValueError:
        return value.strip().lower()
    if isinstance(parsed, dict):
        street = str(parsed.get("street") or parsed.get("line1") or "").strip().lower()
        code = str(parsed.get("postal_code") or parsed.get("postcode") or "").replace(" ", "")
        return f"{street}|{code.lower()}"
    return str(parsed).strip().lower()


def trait_moments(traits: pl.DataFrame) -> pl.DataFrame:
    """moved_house and changed_name from trait observations (customer_id, name, value JSON,
    observed_at): a moment at each observation whose value differs from the one before."""
    if traits.height == 0:
        return _empty()
    keyed = traits.with_columns(
        pl.when(pl.col("name") == "address")
        .then(pl.col("value").map_elements(_address_key, return_dtype=pl.String))
        .otherwise(pl.col("value").str.strip_chars('" ').str.to_lowercase())
        .alias("key")
    ).sort("customer_id", "name", "observed_at")
    changed = keyed.with_columns(
        pl.col("key").shift(1).over("customer_id", "name").alias("before")
    ).filter(pl.col("before").is_not_null() & (pl.col("before") != pl.col("key")))
    return changed.select(
        "customer_id",
        pl.when(pl.col("name") == "address")
        .then(pl.lit("moved_house"))
        .otherwise(pl.lit("changed_name"))
        .alias("moment"),
        pl.col("observed_at").alias("at"),
        pl.when(pl.col("name") == "address")
        .then(pl.lit("a new address"))
        .otherwise(pl.lit("a new last name"))
        .alias("detail"),
    )


def order_moments(
    orders: pl.DataFrame,
    behaviour: pl.DataFrame,
    now: datetime,
    *,
    big_purchase_ratio: float = 3.0,
    household_categories: tuple[str, ...] = HOUSEHOLD_CATEGORIES,
) -> pl.DataFrame:
    """new_household_signal, big_purchase, frequency_drop and purchase_anniversary."""
    if orders.height == 0:
        return _empty()
    parts = []
    # A household category appearing after earlier purchases without it.
    exploded = (
        orders.sort("customer_id", "at")
        .with_columns(pl.int_range(pl.len()).over("customer_id").alias("nth"))
        .explode("categories")
        .with_columns(pl.col("categories").str.to_lowercase().alias("category"))
    )
    first_seen = (
        exploded.filter(pl.col("category").is_in(list(household_categories)))
        .group_by("customer_id", "category")
        .agg(pl.col("at").min(), pl.col("nth").min())
        .filter(pl.col("nth") > 0)
    )
    parts.append(
        first_seen.select(
            "customer_id",
            pl.lit("new_household_signal").alias("moment"),
            "at",
            pl.format("first purchase in {}", pl.col("category")).alias("detail"),
        )
    )
    # Big purchases: against the customer's own mean and the shop's 95th percentile.
    p95 = orders["amount"].quantile(0.95)
    if p95 is not None:
        totals = behaviour.select("customer_id", "spend", "orders")
        # Against the mean of the customer's other purchases, so the big one does not raise
        # its own bar.
        others = (pl.col("spend") - pl.col("amount")) / (pl.col("orders") - 1)
        big = orders.join(totals, on="customer_id").filter(
            (pl.col("orders") > 1)
            & (pl.col("amount") >= big_purchase_ratio * others)
            & (pl.col("amount") >= p95)
        )
        parts.append(
            big.select(
                "customer_id",
                pl.lit("big_purchase").alias("moment"),
                "at",
                pl.format("a purchase of {}", pl.col("amount").round(2)).alias("detail"),
            )
        )
    now_lit = pl.lit(now).dt.convert_time_zone("UTC")
    # Frequency drop: dated the day the gap passed three usual gaps.
    drop = behaviour.filter((pl.col("orders") >= 3) & (pl.col("overdue_ratio") >= 3))
    parts.append(
        drop.select(
            "customer_id",
            pl.lit("frequency_drop").alias("moment"),
            (
                pl.col("last_at")
                + pl.duration(days=(3 * pl.col("mean_gap_days")).ceil().cast(pl.Int64))
            ).alias("at"),
            pl.format(
                "no purchase for {} days; usually every {}",
                pl.col("recency_days").round(0).cast(pl.Int64),
                pl.col("mean_gap_days").round(0).cast(pl.Int64),
            ).alias("detail"),
        ).filter(pl.col("at") <= now_lit)
    )
    # Anniversaries of the first purchase that fell in the last 30 days.
    years = ((now_lit - pl.col("first_at")).dt.total_days() // 365).cast(pl.Int64)
    anniversary = behaviour.with_columns(years.alias("years")).filter(pl.col("years") >= 1)
    anniversary = anniversary.with_columns(
        pl.col("first_at").dt.offset_by(pl.format("{}y", pl.col("years"))).alias("at")
    ).filter(pl.col("at") > now_lit - pl.duration(days=_RECENT_DAYS))
    parts.append(
        anniversary.select(
            "customer_id",
            pl.lit("purchase_anniversary").alias("moment"),
            "at",
            pl.format("{} year(s) since the first purchase", pl.col("years")).alias("detail"),
        )
    )
    return pl.concat([p.cast(MOMENT_COLUMNS) for p in parts], how="vertical")


def complaint_moments(complaints: pl.DataFrame) -> pl.DataFrame:
    """first_complaint: each customer's earliest opened complaint."""
    opened = complaints.filter(pl.col("kind") == "opened")
    if opened.height == 0:
        return _empty()
    return (
        opened.group_by("customer_id")
        .agg(pl.col("at").min())
        .select(
            "customer_id",
            pl.lit("first_complaint").alias("moment"),
            "at",
            pl.lit("the first complaint").alias("detail"),
        )
    )


def recent(moments: pl.DataFrame, now: datetime, days: int = 3650) -> pl.DataFrame:
    """Moments up to ``now`` and not older than ``days``, oldest first."""
    cutoff = now - timedelta(days=days)
    return moments.filter((pl.col("at") <= now) & (pl.col("at") >= cutoff)).sort(
        "customer_id", "at"
    )
