"""What ``cornerstore learn`` keeps of the history: per-customer summaries, never purchases.

A run reads the history a slice of customers at a time (every event of a customer is in the
same slice) and reduces each slice, before reading the next, to what the models need of each
customer:

- the purchase summary loyalty is scored from
  (:func:`~cornerstore.learn.behaviour.purchase_summary`);
- the RFM table the value models are fitted to (:func:`~cornerstore.learn.transactions.rfm_table`;
  BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma need nothing else), also at the holdout cut when
  the model is chosen on a holdout;
- the moments found in single purchases and trait changes, and the purchases that are big
  purchases if they pass the shop's 95th percentile;
- the best delivery block per weekday (:func:`~cornerstore.learn.delivery.delivery_cells`);
- complaint events (a few a customer).

What is over the whole base (loyalty's percentiles, the value model's fit, the 95th
percentile of purchase amounts, which is kept as a count of each distinct amount) is computed
once from the combined summaries, so the results are those of reading everything at once while
memory grows with customers, not with purchases.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import polars as pl

from cornerstore.learn.behaviour import purchase_summary
from cornerstore.learn.delivery import delivery_cells
from cornerstore.learn.keys import CustomerKeys
from cornerstore.learn.moments import (
    big_purchase_candidates,
    complaint_moments,
    household_moments,
    trait_moments,
)
from cornerstore.learn.transactions import rfm_table
from cornerstore.learn.value import purchase_days

AMOUNT_COUNTS = pl.Schema({"value": pl.Float64(), "count": pl.Int64()})


@dataclass(frozen=True)
class HistorySummary:
    """The history of a group of customers as learning keeps it (frames by customer).

    ``purchases``: :func:`~cornerstore.learn.behaviour.purchase_summary` to ``as_of``;
    ``rfm`` and ``rfm_cut``: RFM tables at ``as_of``'s date and at the holdout cut (None
    without one); ``amounts``: value, count of each purchase amount; ``big``: big purchase
    candidates; ``moments``: moments from single purchases, trait changes and complaints;
    ``cells``: delivery cells; ``complaints``: the complaint events; ``first`` and ``last``:
    the first and the latest purchase (None without purchases).
    """

    purchases: pl.DataFrame
    rfm: pl.DataFrame
    rfm_cut: pl.DataFrame | None
    amounts: pl.DataFrame
    big: pl.DataFrame
    moments: pl.DataFrame
    cells: pl.DataFrame
    complaints: pl.DataFrame
    first: datetime | None
    last: datetime | None

    @property
    def last_date(self) -> date | None:
        return self.last.date() if self.last else None

    def keyed(self, keys: CustomerKeys) -> HistorySummary:
        """This summary with each frame's customers as their keys
        (:mod:`~cornerstore.learn.keys`)."""
        return replace(
            self,
            purchases=keys.keyed(self.purchases),
            rfm=keys.keyed(self.rfm),
            rfm_cut=None if self.rfm_cut is None else keys.keyed(self.rfm_cut),
            big=keys.keyed(self.big),
            moments=keys.keyed(self.moments),
            cells=keys.keyed(self.cells),
            complaints=keys.keyed(self.complaints),
        )


def summarise_history(
    *,
    orders: pl.DataFrame,
    complaints: pl.DataFrame,
    deliveries: pl.DataFrame,
    web: pl.DataFrame,
    touch: pl.DataFrame,
    traits: pl.DataFrame,
    as_of: datetime,
    cut: date | None,
    timezone: str,
    big_purchase_ratio: float,
    household_categories: tuple[str, ...],
) -> HistorySummary:
    """Reduce the history of a group of customers (all of each customer's events) to what
    learning keeps of it.

    ``orders``: customer_id, at, amount, touchpoint, categories; ``complaints``: customer_id,
    case_id, at, kind; ``deliveries``: customer_id, at, home; ``web``: customer_id, at;
    ``touch``: customer_id, touchpoints; ``traits``: customer_id, name, value, observed_at.
    """
    purchases = purchase_summary(orders, touch, as_of)
    days = purchase_days(orders)
    at = orders["at"]
    return HistorySummary(
        purchases=purchases,
        rfm=rfm_table(days, as_of.date()),
        rfm_cut=rfm_table(days, cut) if cut else None,
        amounts=orders.group_by(pl.col("amount").alias("value"))
        .agg(pl.len().alias("count"))
        .cast(AMOUNT_COUNTS),
        big=big_purchase_candidates(orders, purchases, big_purchase_ratio),
        moments=pl.concat(
            [
                trait_moments(traits),
                household_moments(orders, household_categories),
                complaint_moments(complaints),
            ],
            how="vertical",
        ),
        cells=delivery_cells(deliveries, web, timezone),
        complaints=complaints,
        first=at.min() if orders.height else None,  # type: ignore[arg-type]
        last=at.max() if orders.height else None,  # type: ignore[arg-type]
    )


def combine(parts: list[HistorySummary]) -> HistorySummary:
    """The summary of all the groups of customers in ``parts`` (no customer in two)."""
    if len(parts) == 1:
        return parts[0]

    def joined(name: str) -> pl.DataFrame:
        # Not rechunked: copying every slice's summaries into one buffer would hold them twice.
        return pl.concat([getattr(p, name) for p in parts], how="vertical", rechunk=False)

    cuts = [p.rfm_cut for p in parts if p.rfm_cut is not None]
    firsts = [p.first for p in parts if p.first is not None]
    lasts = [p.last for p in parts if p.last is not None]
    return HistorySummary(
        purchases=joined("purchases"),
        rfm=joined("rfm"),
        rfm_cut=pl.concat(cuts, how="vertical", rechunk=False) if cuts else None,
        amounts=joined("amounts").group_by("value").agg(pl.col("count").sum()),
        big=joined("big"),
        moments=joined("moments"),
        cells=joined("cells"),
        complaints=joined("complaints"),
        first=min(firsts) if firsts else None,
        last=max(lasts) if lasts else None,
    )
