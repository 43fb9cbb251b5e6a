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
from cornerstore.learn.transactions import summarise_rfm


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
    empty = pl.DataFrame(
        schema={
            "customer_id": pl.String,
            "expected_purchases": pl.Float64,
            "probability_alive": pl.Float64,
            "expected_spend": pl.Float64,
            "clv": pl.Float64,
        }
    )
    if orders.height == 0:
        return ValueResult(empty, None, {}, "no purchases yet")
    transactions = orders.select(
        "customer_id", pl.col("at").dt.date().alias("date"), pl.col("amount")
    )
    today: date = now.date()
    try:
        chosen: ModelChoice = model
        choice_note = None
        if model == "auto":
            first: date = transactions["date"].min()  # type: ignore[assignment]
            cut = first + timedelta(days=int((today - first).days * 0.75))
            held_out = fit_clv(summarise_rfm(transactions, calibration_end=cut), "auto")
            chosen, choice_note = held_out.model.name, held_out.note  # type: ignore[assignment]
        summary = summarise_rfm(transactions, calibration_end=today)
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
