"""Offline evaluation of suggestions on any transactions file, against three baselines.

One split: the model learns from everything before ``split``; each evaluated customer's
purchases on or after it are the answer. Evaluated customers have two invoices or more before
the split (distinct days when the file has no invoice column) and bought after it; under the
``new`` protocol only products they never bought before count, and customers without such a
product are left out (every method would score 0 on them).

Every method ranks ``k`` products per customer and is scored with the same metrics, averaged
over the customers: precision@k, recall@k, NDCG@k (binary relevance, log2 discount) and
MAP@k (average precision over min(k, relevant)). The baselines:

- ``popularity``: the products most customers bought over the model's ``popular_days``;
- ``als``: implicit-feedback ALS alone (the same item factors the blend uses);
- ``repurchase``: the customer's own most-bought products, the latest first on ties.

With a quantity column, a line with a quantity of 0 or less is a return or a cancellation
(UCI Online Retail's ``C`` invoices): it is no purchase, neither in training nor in the answer,
and it is no invoice either. The products a customer returned in the ``returned_days`` (30)
before the split are known to the model as returns, as the live service knows them from the
return events: not suggested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from cornerstore.errors import InvalidInput
from cornerstore.learn.transactions import detect_format
from cornerstore.plural import counted
from cornerstore.suggest.model import Blend, History, SuggestionModel

Protocol = Literal["all", "new"]
PROTOCOLS: tuple[str, ...] = ("all", "new")
METRICS = ("precision", "recall", "ndcg", "map")


@dataclass(frozen=True)
class Columns:
    """The names of the file's columns: customer, item, date, and optional invoice and quantity."""

    customer: str
    item: str
    date: str
    invoice: str | None = None
    quantity: str | None = None
    """Lines with a quantity of 0 or less are returns and cancellations."""


def read_purchases(path: Path | str, columns: Columns) -> pl.DataFrame:
    """Read a CSV or Parquet transactions file into the model's purchase columns.

    Rows without a customer or item are left out (guests, adjustments). ``returned`` is true
    on the lines whose quantity is 0 or less (always false without a quantity column). An
    unreadable file, a missing column, a date or a quantity that cannot be read is an
    :class:`InvalidInput` naming the file or column, never a value.

    Used like this::

        read_purchases("orders.csv", Columns("customer", "sku", "day")).columns
        ['customer_id', 'item_id', 'at', 'basket_id', 'returned']
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"transactions file not found: {path}")
    fmt = detect_format(path)
    if fmt == "cdnow":
        raise InvalidInput(f"{path.name}: give a CSV or Parquet file with an item column")
    optional = [c for c in (columns.invoice, columns.quantity) if c]
    wanted = list(dict.fromkeys([columns.customer, columns.item, columns.date, *optional]))
    try:
        names = (
            list(pl.read_parquet_schema(path))
            if fmt == "parquet"
            else pl.read_csv(path, n_rows=0).columns
        )
        missing = [c for c in wanted if c not in names]
        if missing:
            raise InvalidInput(f"{path.name}: column not found: {', '.join(missing)}")
        text = dict.fromkeys(
            [columns.customer, columns.item] + ([columns.invoice] if columns.invoice else []),
            pl.String,
        )
        frame = (
            pl.read_parquet(path, columns=wanted)
            if fmt == "parquet"
            else pl.read_csv(
                path, columns=wanted, schema_overrides=text, infer_schema_length=10_000
            )
        )
    except InvalidInput:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise InvalidInput(
            f"{path.name} could not be read as {fmt}: {type(exc).__name__}"
        ) from None
    at = _timestamps(frame.schema[columns.date], columns.date)
    quantity = (
        _quantity(frame.schema[columns.quantity], columns.quantity)
        if columns.quantity
        else pl.lit(1.0)
    )
    basket = (
        pl.col(columns.invoice).cast(pl.String)
        if columns.invoice
        else pl.col(columns.customer).cast(pl.String) + pl.lit("|") + at.dt.date().cast(pl.String)
    )
    out = frame.select(
        pl.col(columns.customer).cast(pl.String).str.strip_chars().alias("customer_id"),
        pl.col(columns.item).cast(pl.String).str.strip_chars().alias("item_id"),
        at.alias("at"),
        basket.alias("basket_id"),
        quantity.alias("quantity"),
    ).filter(
        pl.col("customer_id").is_not_null()
        & (pl.col("customer_id") != "")
        & pl.col("item_id").is_not_null()
        & (pl.col("item_id") != "")
    )
    bad = out["at"].null_count()
    if bad:
        raise InvalidInput(
            f"column {columns.date}: {counted(bad, 'row has', 'rows have')} no readable date "
            "(expected ISO dates like 2024-03-12, with or without a time)"
        )
    if columns.quantity and (bad := out["quantity"].null_count()):
        raise InvalidInput(
            f"column {columns.quantity}: {counted(bad, 'row has', 'rows have')} no readable "
            "quantity (expected numbers)"
        )
    if out.height == 0:
        raise InvalidInput(f"{path.name}: no rows with a customer and an item")
    return out.with_columns((pl.col("quantity") <= 0).alias("returned")).drop("quantity")


def _quantity(dtype: pl.DataType, name: str) -> pl.Expr:
    """The quantity column as numbers (null where a value is no number)."""
    column = pl.col(name)
    if dtype.is_numeric():
        return column.cast(pl.Float64).fill_nan(None)
    text = column.cast(pl.String).str.strip_chars()
    return text.cast(pl.Float64, strict=False).fill_nan(None)


def _timestamps(dtype: pl.DataType, name: str) -> pl.Expr:
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return column.dt.replace_time_zone(None).dt.cast_time_unit("us")
    if dtype == pl.Date:
        return column.cast(pl.Datetime("us"))
    text = column.cast(pl.String).str.strip_chars()
    return text.str.to_datetime(strict=False, time_unit="us")


@dataclass(frozen=True)
class Split:
    """The training purchases, and per evaluated customer the history and the answer."""

    train: pl.DataFrame
    histories: dict[str, History]
    answers: dict[str, set[str]]


def split_purchases(
    purchases: pl.DataFrame, split: date, protocol: Protocol, returned_days: int = 30
) -> Split:
    """Cut the purchases at ``split`` and pick the evaluated customers (see the module).

    Lines flagged ``returned`` are no purchases; those in the ``returned_days`` before the
    split become the customers' returns (as the service remembers them).
    """
    if protocol not in PROTOCOLS:
        raise InvalidInput(f"protocol: must be one of {', '.join(PROTOCOLS)}")
    cut = datetime(split.year, split.month, split.day)
    flagged = "returned" in purchases.columns
    remembered = pl.col("at").is_between(cut - timedelta(days=returned_days), cut, closed="left")
    returns = purchases.filter(pl.col("returned") & remembered) if flagged else None
    bought = purchases.filter(~pl.col("returned")).drop("returned") if flagged else purchases
    train = bought.filter(pl.col("at") < cut)
    test = bought.filter(pl.col("at") >= cut)
    if train.height == 0 or test.height == 0:
        raise InvalidInput("split-date: there must be purchases before and after it")
    regulars = (
        train.group_by("customer_id")
        .agg(pl.col("basket_id").n_unique().alias("invoices"))
        .filter(pl.col("invoices") >= 2)["customer_id"]
    )
    answers_frame = (
        test.filter(pl.col("customer_id").is_in(regulars.implode()))
        .group_by("customer_id")
        .agg(pl.col("item_id").unique())
    )
    evaluated = answers_frame["customer_id"].implode()
    returned: dict[str, list[str]] = {}
    if returns is not None:
        returned = dict(
            returns.filter(pl.col("customer_id").is_in(evaluated))
            .group_by("customer_id")
            .agg(pl.col("item_id").unique())
            .iter_rows()
        )
    histories: dict[str, History] = {}
    for customer, items, ats in (
        train.filter(pl.col("customer_id").is_in(evaluated))
        .group_by("customer_id")
        .agg("item_id", "at")
        .iter_rows()
    ):
        pairs = list(zip(items, ats, strict=True))
        histories[customer] = History.of(pairs, returned.get(customer, ()))
    answers: dict[str, set[str]] = {}
    for customer, items in answers_frame.iter_rows():
        wanted = set(items)
        if protocol == "new":
            wanted -= set(histories[customer].days)
        if wanted:
            answers[customer] = wanted
    if not answers:
        raise InvalidInput("no customer has two invoices before the split and a purchase after it")
    return Split(train, {c: histories[c] for c in answers}, answers)


def score_ranking(ranked: list[str], relevant: set[str], k: int) -> tuple[float, ...]:
    """Precision, recall, NDCG and average precision at ``k`` of one ranking.

    >>> score_ranking(["a", "b", "c"], {"a", "c"}, 3)
    (0.6666666666666666, 1.0, 0.9197207891481876, 0.8333333333333333)
    """
    hits = [item in relevant for item in ranked[:k]]
    found = sum(hits)
    dcg = sum(1.0 / np.log2(r + 2) for r, hit in enumerate(hits) if hit)
    ideal = sum(1.0 / np.log2(r + 2) for r in range(min(k, len(relevant))))
    precisions, running = [], 0
    for r, hit in enumerate(hits):
        if hit:
            running += 1
            precisions.append(running / (r + 1))
    return (
        found / k,
        found / len(relevant),
        float(dcg / ideal),
        sum(precisions) / min(k, len(relevant)),
    )


Ranker = Callable[[str, History], list[str]]


def mean_metrics(split: Split, rank: Ranker, k: int) -> dict[str, float]:
    """Each metric averaged over the evaluated customers, rounded to four places."""
    rows = [score_ranking(rank(c, split.histories[c]), split.answers[c], k) for c in split.answers]
    means = np.mean(np.array(rows), axis=0)
    return {name: round(float(v), 4) for name, v in zip(METRICS, means, strict=True)}


def evaluate(
    purchases: pl.DataFrame,
    split: date,
    *,
    protocol: Protocol = "all",
    k: int = 10,
    blend: Blend | None = None,
    threads: int = 0,
    returned_days: int = 30,
) -> dict[str, object]:
    """Train on the purchases before ``split`` and score the blend and the baselines.

    Returns the JSON shape of ``cornerstore suggest evaluate``::

        {"k": 10, "protocol": "all", "customers": N,
         "cornerstore": {"precision": .., "recall": .., "ndcg": .., "map": ..},
         "baselines": {"popularity": {...}, "als": {...}, "repurchase": {...}}}
    """
    if not 1 <= k <= 100:
        raise InvalidInput("k: must be between 1 and 100")
    cut = split_purchases(purchases, split, protocol, returned_days)
    now = datetime(split.year, split.month, split.day)
    # A repeat buy counts when it falls anywhere in the test window, so "due" reaches as far.
    bought = purchases.filter(~pl.col("returned")) if "returned" in purchases.columns else purchases
    window: datetime = bought["at"].max()  # type: ignore[assignment]
    blend = replace(blend or Blend(), due_within_days=max(1, (window - now).days))
    model = SuggestionModel.fit(cut.train, blend=blend, threads=threads)
    only_new = protocol == "new"
    popular = [s.item_id for s in model.popular(k + 200)]

    def blended(_: str, history: History) -> list[str]:
        return [s.item_id for s in model.suggest(history, k, now, only_new=only_new)]

    def by_popularity(_: str, history: History) -> list[str]:
        return [i for i in popular if not (only_new and i in history.days)][:k]

    def by_als(_: str, history: History) -> list[str]:
        scores = model.scores(history, now)["als"]
        if only_new:
            for item in history.days:
                if (i := model.position(item)) is not None:
                    scores[i] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        return [model.items[i] for i in order]

    def by_repurchase(_: str, history: History) -> list[str]:
        if only_new:
            return []
        mine = sorted(history.days.items(), key=lambda kv: (-len(kv[1]), -kv[1][-1].timestamp()))
        return [item for item, _ in mine[:k]]

    return {
        "k": k,
        "protocol": protocol,
        "customers": len(cut.answers),
        "cornerstore": mean_metrics(cut, blended, k),
        "baselines": {
            "popularity": mean_metrics(cut, by_popularity, k),
            "als": mean_metrics(cut, by_als, k),
            "repurchase": mean_metrics(cut, by_repurchase, k),
        },
    }
