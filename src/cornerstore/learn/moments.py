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
import math
from datetime import datetime, timedelta

import polars as pl

from cornerstore.learn.behaviour import no_purchase_for

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


def _empty(customer_id: pl.DataType | None = None) -> pl.DataFrame:
    """No moments, with customers as ``customer_id`` (text ids unless told)."""
    return pl.DataFrame(schema=MOMENT_COLUMNS).cast(_but_customer(customer_id))


def _but_customer(customer_id: pl.DataType | None) -> pl.Schema:
    """:data:`MOMENT_COLUMNS`, with customers as ``customer_id`` when given, else as they are
    (text ids, or a learning run's keys: :mod:`~cornerstore.learn.keys`)."""
    columns = dict(MOMENT_COLUMNS)
    if customer_id is None:
        del columns["customer_id"]
    else:
        columns["customer_id"] = customer_id
    return pl.Schema(columns)


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


def household_moments(
    orders: pl.DataFrame, household_categories: tuple[str, ...] = HOUSEHOLD_CATEGORIES
) -> pl.DataFrame:
    """new_household_signal: a household category appearing after earlier purchases without
    it. ``orders``: customer_id, at, categories (list of strings)."""
    if orders.height == 0:
        return _empty()
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
    return first_seen.select(
        "customer_id",
        pl.lit("new_household_signal").alias("moment"),
        "at",
        pl.format("first purchase in {}", pl.col("category")).alias("detail"),
    ).cast(MOMENT_COLUMNS)


def big_purchase_candidates(
    orders: pl.DataFrame, totals: pl.DataFrame, big_purchase_ratio: float = 3.0
) -> pl.DataFrame:
    """Purchases ``big_purchase_ratio`` times the mean of the customer's other purchases or
    more (customer_id, at, amount): big purchases if also above the shop's 95th percentile
    (:func:`big_purchases`). ``totals``: customer_id, spend, orders of each customer."""
    # Against the mean of the customer's other purchases, so the big one does not raise its
    # own bar.
    others = (pl.col("spend") - pl.col("amount")) / (pl.col("orders") - 1)
    return (
        orders.select("customer_id", "at", "amount")
        .join(totals.select("customer_id", "spend", "orders"), on="customer_id")
        .filter((pl.col("orders") > 1) & (pl.col("amount") >= big_purchase_ratio * others))
        .select("customer_id", "at", "amount")
    )


def big_purchases(candidates: pl.DataFrame, p95: float | None) -> pl.DataFrame:
    """big_purchase: the candidates at or above the shop's 95th percentile of purchase
    amounts ``p95`` (none when no purchase has an amount)."""
    if p95 is None:
        return _empty(candidates.schema["customer_id"])
    return (
        candidates.filter(pl.col("amount") >= p95)
        .select(
            "customer_id",
            pl.lit("big_purchase").alias("moment"),
            "at",
            pl.format("a purchase of {}", pl.col("amount").round(2)).alias("detail"),
        )
        .cast(_but_customer(None))
    )


def quantile_of_counts(counts: pl.DataFrame, quantile: float) -> float | None:
    """The ``quantile`` of the values counted in ``counts`` (value, count; nulls not counted),
    as ``Series.quantile`` (nearest) gives it of the values themselves: a shop's purchase
    amounts take far fewer distinct values than there are purchases.

    >>> amounts = pl.Series("value", [5.0, 1.0, 5.0, 2.0, None, 9.0])
    >>> counted = amounts.value_counts(name="count")
    >>> quantile_of_counts(counted, 0.95) == amounts.quantile(0.95)
    True
    """
    known = (
        counts.drop_nulls("value")
        .group_by("value")
        .agg(pl.col("count").sum())
        .sort("value")
        .with_columns(pl.col("count").cum_sum().alias("through"))
    )
    n = int(known["count"].sum()) if known.height else 0
    if n == 0:
        return None
    # Polars' nearest rank: (n - 1) * q rounded half away from zero.
    rank = math.floor((n - 1) * quantile + 0.5)
    value = known.filter(pl.col("through") > rank)["value"][0]
    return float(value)


def behaviour_moments(behaviour: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """frequency_drop and purchase_anniversary, from the behaviour table."""
    now_lit = pl.lit(now).dt.convert_time_zone("UTC")
    parts = []
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
            no_purchase_for().alias("detail"),
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
    return pl.concat([p.cast(_but_customer(None)) for p in parts], how="vertical")


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
