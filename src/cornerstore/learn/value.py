"""Customer value from the stored purchases: the count model (BG/NBD, Pareto/NBD, MBG/NBD or the
best of them on a holdout) and Gamma-Gamma spend, predicted as of today.

This is :mod:`cornerstore.learn.clv` applied to the shop's own history: purchases by day per
customer, weekly periods, T measured to ``now``. With ``auto`` the last quarter of the history is
held out to choose the model, which is then refitted on everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from cornerstore.errors import InvalidInput
from cornerstore.learn.clv import ModelChoice, fit_clv, predict_clv
from cornerstore.learn.transactions import DAYS_PER_PERIOD, RfmSummary, rfm_table


@dataclass(frozen=True)
class ValueResult:
    """Per-customer predictions, and the model that made them (``None`` and a reason when the
    history is too thin to fit one); ``reason`` also says why a model was replaced, or kept
    though it did not converge (``at_bound`` names the parameters at the optimiser's bound)."""

    table: pl.DataFrame
    model: str | None
    parameters: dict[str, float]
    reason: str | None = None
    converged: bool | None = None
    at_bound: tuple[str, ...] = ()


EMPTY = pl.Schema(
    {
        "customer_id": pl.String(),
        "expected_purchases": pl.Float64(),
        "probability_alive": pl.Float64(),
        "expected_spend": pl.Float64(),
        "clv": pl.Float64(),
    }
)


def purchase_days(orders: pl.DataFrame) -> pl.DataFrame:
    """``orders`` (customer_id, at, amount) as the transactions the models read: customer_id,
    date, amount."""
    return orders.select("customer_id", pl.col("at").dt.date().alias("date"), pl.col("amount"))


def holdout_cut(first: date, today: date) -> date:
    """Where ``auto`` ends the calibration period to choose a model: three quarters of the way
    from the first purchase to today."""
    return first + timedelta(days=int((today - first).days * 0.75))


def customer_value(
    orders: pl.DataFrame,
    now: datetime,
    *,
    model: ModelChoice = "bgnbd",
    horizon_weeks: int = 52,
    discount_rate: float = 0.10,
) -> ValueResult:
    """Expected purchases over the horizon, P(alive), expected spend and discounted CLV.

    ``orders``: customer_id, at (UTC datetime), amount. Returns a table with customer_id,
    expected_purchases, probability_alive, expected_spend, clv (the last two null without
    amounts).
    """
    if orders.height == 0:
        return ValueResult(pl.DataFrame(schema=EMPTY), None, {}, "no purchases yet")
    transactions = purchase_days(orders)
    today = now.date()
    last: date = transactions["date"].max()  # type: ignore[assignment]
    cut = None
    if model == "auto":
        cut = holdout_cut(transactions["date"].min(), today)  # type: ignore[arg-type]
    return value_from_tables(
        rfm_table(transactions, today),
        rfm_table(transactions, cut) if cut else None,
        today=today,
        cut=cut,
        last=last,
        model=model,
        horizon_weeks=horizon_weeks,
        discount_rate=discount_rate,
    )


def value_from_tables(
    table: pl.DataFrame,
    held_out: pl.DataFrame | None,
    *,
    today: date,
    cut: date | None,
    last: date,
    model: ModelChoice = "bgnbd",
    horizon_weeks: int = 52,
    discount_rate: float = 0.10,
) -> ValueResult:
    """:func:`customer_value` from the per-customer RFM tables
    (:func:`~cornerstore.learn.transactions.rfm_table`) at ``today`` and, for ``auto``, at
    ``cut`` (:func:`holdout_cut`); ``last`` is the date of the latest purchase.

    The tables are all the models read of the history, so they can be built a slice of
    customers at a time and concatenated.
    """
    empty = pl.DataFrame(schema=EMPTY)
    try:
        chosen: ModelChoice = model
        choice_note = None
        if model == "auto":
            if held_out is None or cut is None:
                raise InvalidInput("auto needs the history summarised at the holdout cut")
            held_out_fit = fit_clv(_summary(held_out, cut, last), "auto")
            chosen, choice_note = held_out_fit.model.name, held_out_fit.note  # type: ignore[assignment]
        summary = _summary(table, today, last)
        fit = fit_clv(summary, chosen)
    except (InvalidInput, ValueError, ArithmeticError) as exc:
        reason = exc.message if isinstance(exc, InvalidInput) else "the model could not be fitted"
        return ValueResult(empty, None, {}, f"no value model: {reason}")
    predicted = predict_clv(fit, summary, horizon_weeks, discount_rate)
    table = predicted.select(
        "customer_id", "expected_purchases", "probability_alive", "expected_spend", "clv"
    )
    return ValueResult(
        table,
        fit.model.name,
        dict(fit.model.parameters),
        reason=fit.note or choice_note,
        converged=fit.model.converged,
        at_bound=fit.model.at_bound,
    )


def _summary(table: pl.DataFrame, end: date, last: date) -> RfmSummary:
    if table.height == 0:
        raise InvalidInput("no customer made a first purchase on or before the calibration end")
    holdout_days = max((last - end).days, 0)
    return RfmSummary(
        table.sort("customer_id"), end, "week", holdout_days / DAYS_PER_PERIOD["week"]
    )
