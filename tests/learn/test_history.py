"""What learning keeps of the history: per-customer summaries of separate groups of customers
combine into the summary of all of them, and the shop's percentile of purchase amounts is the
same from counts of each amount as from the amounts."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from cornerstore.learn.behaviour import ORDER_COLUMNS, behaviour, loyalty
from cornerstore.learn.delivery import delivery_windows, windows_of
from cornerstore.learn.history import combine, summarise_history
from cornerstore.learn.moments import quantile_of_counts
from cornerstore.learn.value import customer_value, value_from_tables

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def orders_of(customers: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(customers):
        for _ in range(rng.randint(1, 12)):
            at = NOW - timedelta(days=rng.uniform(0, 700))
            amount = round(rng.lognormvariate(3, 0.6), 2) if rng.random() > 0.05 else None
            rows.append((f"c{i:04d}", at, amount, "web", [rng.choice(["tea", "baby", "pets"])]))
    return pl.DataFrame(rows, schema=ORDER_COLUMNS, orient="row")


def empty(*names: str) -> pl.DataFrame:
    types = {"at": pl.Datetime("us", "UTC"), "observed_at": pl.Datetime("us", "UTC")}
    return pl.DataFrame(schema={name: types.get(name, pl.String) for name in names})


def within(frame: pl.DataFrame, lo: str, hi: str) -> pl.DataFrame:
    return frame.filter((pl.col("customer_id") >= lo) & (pl.col("customer_id") < hi))


def summary_of(orders: pl.DataFrame, deliveries: pl.DataFrame) -> object:
    return summarise_history(
        orders=orders,
        complaints=empty("customer_id", "case_id", "at", "kind"),
        deliveries=deliveries,
        web=empty("customer_id", "at"),
        touch=orders.group_by("customer_id").agg(pl.lit(1).alias("touchpoints")),
        traits=empty("customer_id", "name", "value", "observed_at"),
        as_of=NOW,
        cut=date(2025, 12, 1),
        timezone="Europe/London",
        big_purchase_ratio=3.0,
        household_categories=("baby", "pets"),
    )


def test_summaries_of_groups_of_customers_learn_what_the_whole_history_does() -> None:
    orders = orders_of(300, seed=3)
    rng = random.Random(4)
    deliveries = pl.DataFrame(
        [
            (f"c{i:04d}", NOW - timedelta(hours=rng.uniform(0, 2000)), rng.random() < 0.6)
            for i in range(300)
            for _ in range(3)
        ],
        schema={"customer_id": pl.String, "at": pl.Datetime("us", "UTC"), "home": pl.Boolean},
        orient="row",
    )
    groups = [f"c{i:04d}" for i in (0, 90, 200, 300)]
    parts = [
        summary_of(within(orders, lo, hi), within(deliveries, lo, hi))
        for lo, hi in itertools.pairwise(groups)
    ]

    combined = combine(parts)  # type: ignore[arg-type]

    touch = orders.group_by("customer_id").agg(pl.lit(1).alias("touchpoints"))
    assert loyalty(combined.purchases, NOW).equals(
        behaviour(orders, touch, NOW).sort("customer_id")
    )
    whole = customer_value(orders, NOW, model="auto")
    sliced = value_from_tables(
        combined.rfm,
        combined.rfm_cut,
        today=NOW.date(),
        cut=date(2025, 12, 1),
        last=combined.last_date,  # type: ignore[arg-type]
        model="auto",
    )
    assert (sliced.model, sliced.parameters) == (whole.model, whole.parameters)
    assert sliced.table.equals(whole.table.sort("customer_id"))
    assert quantile_of_counts(combined.amounts, 0.95) == orders["amount"].quantile(0.95)
    windows = delivery_windows(deliveries, empty("customer_id", "at"), "Europe/London")
    assert windows_of(combined.cells) == windows
    in_hours = pl.col("at").dt.convert_time_zone("Europe/London").dt.hour().is_between(8, 19)
    assert len(windows) == deliveries.filter(in_hours)["customer_id"].n_unique()


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("quantile", [0.0, 0.05, 0.5, 0.95, 1.0])
def test_a_percentile_from_counts_of_each_amount_is_the_percentile_of_the_amounts(
    seed: int, quantile: float
) -> None:
    rng = random.Random(seed)
    amounts = pl.Series(
        "value",
        [
            None if rng.random() < 0.1 else round(rng.lognormvariate(3, 0.6), 1)
            for _ in range(rng.randint(1, 400))
        ],
        dtype=pl.Float64,
    )

    counted = quantile_of_counts(amounts.value_counts(name="count"), quantile)

    assert counted == amounts.quantile(quantile)
