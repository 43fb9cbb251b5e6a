"""Customer lifetime value: fit a purchase-count model and the Gamma-Gamma spend model to an RFM
summary, choose the count model by holdout accuracy, and predict per customer.

For each customer the predictions are: expected purchases in the next ``horizon`` periods,
P(alive) at the calibration end, expected spend per purchase, and CLV, the expected spend of the
purchases over the horizon discounted to the calibration end. The horizon is cut into weeks; the
expected purchases of each week are discounted at the annual ``discount_rate`` from the end of
that week (as ``lifetimes`` discounts per step). CLV is a margin only if amounts are margins.

Count models (one module each): BG/NBD (:mod:`~cornerstore.learn.bgnbd`), Pareto/NBD
(:mod:`~cornerstore.learn.paretonbd`) and MBG/NBD (:mod:`~cornerstore.learn.mbgnbd`). ``auto``
fits all three on the calibration period and keeps the one whose per-customer predictions of
holdout purchases have the smallest root mean squared error, among those that converged.

A fit with a parameter at the optimiser's bound has not converged: when customers barely differ
in their dropout, a mixing distribution collapses to a point and its parameters run off to the
bound. A model that did not converge is replaced by one that did (the most accurate on the
holdout, else the most likely); when none did, the model asked for is kept at that limit, which
is the simpler model with one dropout probability for everyone, and the fit's ``note`` says so.

The models and their fits are hand-written on numpy and scipy rather than taken from
``lifetimes`` (unmaintained since 2020, about ten times slower at scale) or PyMC-Marketing (an
800 MB Bayesian stack with a 20 s first compile that runs out of memory at scale).

Example
-------
>>> from datetime import date, timedelta
>>> import polars as pl
>>> from cornerstore.learn.transactions import summarise_rfm
>>> orders = pl.DataFrame([(f"c{i}", date(2024, 1, 1) + timedelta(days=i + 9 * k), 10.0 + i % 7)
...                        for i in range(60) for k in range(1 + i * 7 % 5)],
...                       schema=["customer_id", "date", "amount"], orient="row")
>>> summary = summarise_rfm(orders, calibration_end=date(2024, 2, 15))
>>> fit = fit_clv(summary, model="bgnbd")
>>> predict_clv(fit, summary, horizon=52).columns
['customer_id', 'frequency', 'recency', 'T', 'expected_purchases', 'probability_alive', ...]
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from cornerstore.errors import InvalidInput
from cornerstore.learn.bgnbd import fit_bgnbd
from cornerstore.learn.fitting import FloatArray, PurchaseModel, dense_codes
from cornerstore.learn.gammagamma import GammaGamma, fit_gamma_gamma
from cornerstore.learn.mbgnbd import fit_mbgnbd
from cornerstore.learn.paretonbd import fit_paretonbd
from cornerstore.learn.transactions import (
    DAYS_PER_PERIOD,
    FileFormat,
    Period,
    RfmSummary,
    read_transactions,
    summarise_rfm,
)

ModelChoice = Literal["bgnbd", "paretonbd", "mbgnbd", "auto"]
MODEL_CHOICES: tuple[str, ...] = ("bgnbd", "paretonbd", "mbgnbd", "auto")
DEFAULT_DISCOUNT_RATE = 0.10
"""Annual discount rate: 10 % a year, a common cost of capital for retailers."""
DAYS_PER_YEAR = 365.25


FITTERS: dict[str, Callable[[FloatArray, FloatArray, FloatArray], PurchaseModel]] = {
    "bgnbd": fit_bgnbd,
    "paretonbd": fit_paretonbd,
    "mbgnbd": fit_mbgnbd,
}


@dataclass(frozen=True)
class HoldoutScore:
    """How well a calibration fit predicts each customer's holdout purchases."""

    model: str
    rmse: float
    mae: float
    correlation: float
    predicted_total: float
    actual_total: int


@dataclass(frozen=True)
class ClvFit:
    """A fitted count model, the spend model when amounts were given, and holdout scores."""

    model: PurchaseModel
    spend: GammaGamma | None
    customers: int
    fit_seconds: float
    holdout: list[HoldoutScore] = field(default_factory=list)
    note: str | None = None
    """Why the model is not the one asked for, or why it is kept though it did not converge."""


def histories(summary: RfmSummary) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x, t_x, T) of every customer as float arrays."""
    table = summary.table
    return (
        table["frequency"].to_numpy().astype(np.float64),
        table["recency"].to_numpy().astype(np.float64),
        table["T"].to_numpy().astype(np.float64),
    )


def score_holdout(model: PurchaseModel, summary: RfmSummary) -> HoldoutScore:
    """Compare predicted and actual purchases per customer over the summary's holdout."""
    if summary.holdout_length <= 0:
        raise InvalidInput("there is no holdout: the calibration end is the last date in the data")
    x, t_x, T = histories(summary)
    predicted = model.expected_purchases(summary.holdout_length, x, t_x, T)
    actual = summary.table["holdout_frequency"].to_numpy().astype(np.float64)
    error = predicted - actual
    spread = float(np.std(predicted) * np.std(actual))
    correlation = float(np.corrcoef(predicted, actual)[0, 1]) if spread > 0 else float("nan")
    return HoldoutScore(
        model=model.name,
        rmse=float(np.sqrt(np.mean(error**2))),
        mae=float(np.mean(np.abs(error))),
        correlation=correlation,
        predicted_total=float(predicted.sum()),
        actual_total=int(actual.sum()),
    )


def fit_clv(summary: RfmSummary, model: ModelChoice = "bgnbd", spend: bool = True) -> ClvFit:
    """Fit the count model (or choose it with ``auto``) and, with amounts, Gamma-Gamma.

    ``spend`` asks for the spend model; it is fitted only when the summary has mean repeat
    values. Holdout scores are reported whenever the data extend past the calibration end.

    Example
    -------
    >>> from datetime import date, timedelta
    >>> import polars as pl
    >>> from cornerstore.learn.transactions import summarise_rfm
    >>> orders = pl.DataFrame([(f"c{i}", date(2024, 1, 1) + timedelta(days=i + 9 * k), 10.0 + i % 7)
    ...                        for i in range(60) for k in range(1 + i * 7 % 5)],
    ...                       schema=["customer_id", "date", "amount"], orient="row")
    >>> summary = summarise_rfm(orders, calibration_end=date(2024, 2, 15))
    >>> fit = fit_clv(summary, model="auto")
    >>> [score.model for score in fit.holdout]
    ['bgnbd', 'paretonbd', 'mbgnbd']
    """
    if model not in MODEL_CHOICES:
        raise InvalidInput(f"model must be one of {', '.join(MODEL_CHOICES)}")
    if model == "auto" and summary.holdout_length <= 0:
        raise InvalidInput(
            "--model auto chooses by holdout accuracy: give a calibration end before the "
            "last transaction date"
        )
    started = time.perf_counter()
    x, t_x, T = histories(summary)
    fitted = [FITTERS[name](x, t_x, T) for name in (list(FITTERS) if model == "auto" else [model])]
    if not fitted[0].converged and model != "auto":
        fitted += [FITTERS[name](x, t_x, T) for name in FITTERS if name != model]
    scores = [score_holdout(m, summary) for m in fitted] if summary.holdout_length > 0 else []
    chosen, note = choose_model(fitted, scores, asked=None if model == "auto" else model)
    spend_model = None
    mean_value = summary.table["monetary_value"]
    if spend and mean_value.null_count() < summary.customers:
        spend_model = fit_gamma_gamma(x, mean_value.to_numpy().astype(np.float64))
    return ClvFit(
        model=chosen,
        spend=spend_model,
        customers=summary.customers,
        fit_seconds=time.perf_counter() - started,
        holdout=scores,
        note=note,
    )


def choose_model(
    fitted: list[PurchaseModel], scores: list[HoldoutScore], asked: str | None
) -> tuple[PurchaseModel, str | None]:
    """The model to use, and a note when it is not simply the one asked for.

    ``fitted`` starts with the model asked for (``asked`` None: choose the most accurate);
    ``scores`` are their holdout scores in the same order, or empty. Only converged fits are
    eligible while there is one: the most accurate on the holdout, else the most likely. When
    none converged, the one asked for (or the most accurate) is kept at its limit.

    Example
    -------
    >>> from cornerstore.learn.bgnbd import BgNbd
    >>> from cornerstore.learn.mbgnbd import MbgNbd
    >>> stuck = BgNbd(1.0, 6.0, 4e6, 4.9e8, log_likelihood=-10.0, converged=False,
    ...               at_bound=("b",))
    >>> fine = MbgNbd(1.0, 6.0, 0.5, 3.0, log_likelihood=-11.0)
    >>> model, note = choose_model([stuck, fine], [], asked="bgnbd")
    >>> model.name, note
    ('mbgnbd', "bgnbd did not converge (b is at the optimiser's bound); mbgnbd did")
    """
    rmse = {s.model: s.rmse for s in scores}

    def best(models: list[PurchaseModel]) -> PurchaseModel:
        if rmse:
            return min(models, key=lambda m: rmse[m.name])
        return max(models, key=lambda m: m.log_likelihood)

    first = fitted[0] if asked is not None else best(fitted)
    if first.converged:
        return first, None
    converged = [m for m in fitted if m.converged]
    chosen = best(converged) if converged else first
    why = "; ".join(
        f"{m.name} did not converge ({_stuck_reason(m)})" for m in fitted if not m.converged
    )
    if chosen.converged:
        return chosen, f"{why}; {chosen.name} did"
    return chosen, f"{why}; kept {chosen.name} at that limit: {_limit(chosen)}"


def _stuck_reason(model: PurchaseModel) -> str:
    if not model.at_bound:
        return "the search stopped short of the maximum"
    verb = "is" if len(model.at_bound) == 1 else "are"
    return f"{', '.join(model.at_bound)} {verb} at the optimiser's bound"


def _limit(model: PurchaseModel) -> str:
    """What a model stuck at its bound amounts to, in words: a mixing distribution collapsed
    to one value shared by every customer."""
    at_bound, p = set(model.at_bound), model.parameters
    if at_bound & {"a", "b"}:
        chance = p["a"] / (p["a"] + p["b"])
        return f"every customer has the same dropout chance after a purchase, {chance:.2%}"
    if at_bound & {"s", "beta"}:
        return f"every customer has the same dropout rate, {p['s'] / p['beta']:.3g} a period"
    if at_bound & {"r", "alpha"}:
        return f"every customer buys at the same rate, {p['r'] / p['alpha']:.3g} a period"
    return "a parameter the data do not pin down"


def predict_clv(
    fit: ClvFit,
    summary: RfmSummary,
    horizon: float,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
) -> pl.DataFrame:
    """Per customer: expected purchases in the next ``horizon`` periods, P(alive), expected
    spend per purchase, expected revenue and discounted CLV, as of the calibration end.

    Columns: ``customer_id``, ``frequency``, ``recency``, ``T``, ``expected_purchases``,
    ``probability_alive``, ``expected_spend``, ``expected_revenue``, ``clv`` (the last three
    null without a spend model).

    Example
    -------
    >>> from datetime import date, timedelta
    >>> import polars as pl
    >>> from cornerstore.learn.transactions import summarise_rfm
    >>> orders = pl.DataFrame([(f"c{i}", date(2024, 1, 1) + timedelta(days=i + 9 * k), 10.0 + i % 7)
    ...                        for i in range(60) for k in range(1 + i * 7 % 5)],
    ...                       schema=["customer_id", "date", "amount"], orient="row")
    >>> summary = summarise_rfm(orders, calibration_end=date(2024, 2, 15))
    >>> clv = predict_clv(fit_clv(summary), summary, horizon=52, discount_rate=0.1)
    >>> clv.height, clv.select("clv").null_count().item()
    (46, 0)
    """
    if not horizon > 0:
        raise InvalidInput("the horizon must be a positive number of periods")
    if not 0 <= discount_rate < 10:
        raise InvalidInput("the discount rate is a yearly rate such as 0.1 for 10 %")
    x, t_x, T = histories(summary)
    alive = fit.model.probability_alive(x, t_x, T)
    if_alive, discounted_if_alive = _purchases_over_horizon(
        fit.model, x, T, horizon, discount_rate, DAYS_PER_PERIOD[summary.period]
    )
    table = summary.table.select("customer_id", "frequency", "recency", "T").with_columns(
        pl.Series("expected_purchases", if_alive * alive),
        pl.Series("probability_alive", alive),
    )
    if fit.spend is None:
        nothing = pl.lit(None, pl.Float64)
        return table.with_columns(
            nothing.alias("expected_spend"),
            nothing.alias("expected_revenue"),
            nothing.alias("clv"),
        )
    mean_value = summary.table["monetary_value"].to_numpy().astype(np.float64)
    spend = fit.spend.expected_spend(x, mean_value)
    return table.with_columns(
        pl.Series("expected_spend", spend),
        pl.Series("expected_revenue", if_alive * alive * spend),
        pl.Series("clv", discounted_if_alive * alive * spend),
    )


def _purchases_over_horizon(
    model: PurchaseModel,
    x: FloatArray,
    T: FloatArray,
    horizon: float,
    discount_rate: float,
    days_per_period: float,
) -> tuple[FloatArray, FloatArray]:
    """Expected purchases of an active customer over the horizon, plain and discounted week by
    week. They depend on (x, T) only, so each distinct pair is evaluated once."""
    representative, inverse, _ = dense_codes(x, T)
    xu, Tu = x[representative], T[representative]
    week = 7.0 / days_per_period
    steps = math.ceil(horizon / week - 1e-9)
    ends = np.minimum(np.arange(1, steps + 1) * week, horizon)
    cumulative = np.vstack([model.purchases_if_alive(float(t), xu, Tu) for t in ends])
    per_week = np.diff(cumulative, axis=0, prepend=0.0)
    years = ends * days_per_period / DAYS_PER_YEAR
    discount = (1.0 + discount_rate) ** -years
    discounted = discount @ per_week
    return cumulative[-1][inverse], discounted[inverse]


def fit_transactions_file(
    path: Path | str,
    *,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
    file_format: FileFormat | None = None,
    calibration_end: date | None = None,
    period: Period = "week",
    model: ModelChoice = "bgnbd",
) -> tuple[RfmSummary, ClvFit]:
    """Read a transaction file, summarise it at the calibration end, and fit the models.

    Gamma-Gamma is fitted when the file has amounts (an amount column was named, or the CDNOW
    text format). See :func:`~cornerstore.learn.transactions.read_transactions` for formats.

    Example
    -------
    >>> import tempfile
    >>> from datetime import date, timedelta
    >>> import polars as pl
    >>> orders = pl.DataFrame([(f"c{i}", date(2024, 1, 1) + timedelta(days=i + 9 * k), 10.0 + i % 7)
    ...                        for i in range(60) for k in range(1 + i * 7 % 5)],
    ...                       schema=["customer_id", "date", "amount"], orient="row")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     orders.write_csv(Path(folder) / "orders.csv")
    ...     summary, fit = fit_transactions_file(
    ...         Path(folder) / "orders.csv", customer_col="customer_id", date_col="date",
    ...         amount_col="amount", calibration_end=date(2024, 2, 15))
    >>> summary.customers, sorted(describe_fit(fit)["parameters"])
    (46, ['a', 'alpha', 'b', 'r'])
    """
    transactions = read_transactions(
        path,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        file_format=file_format,
    )
    summary = summarise_rfm(transactions, calibration_end=calibration_end, period=period)
    return summary, fit_clv(summary, model=model, spend="amount" in transactions.columns)


def describe_fit(fit: ClvFit) -> dict[str, Any]:
    """The fit as plain JSON-ready data: model, parameters, log-likelihood, customers, seconds,
    and the spend model and holdout scores when there are any (NaN becomes None)."""
    report: dict[str, Any] = {
        "model": fit.model.name,
        "parameters": {k: float(v) for k, v in fit.model.parameters.items()},
        "log_likelihood": float(fit.model.log_likelihood),
        "customers": fit.customers,
        "fit_seconds": round(fit.fit_seconds, 4),
        "converged": fit.model.converged,
        "at_bound": list(fit.model.at_bound),
        "note": fit.note,
    }
    if fit.spend is not None:
        report["gamma_gamma"] = {
            "parameters": {k: float(v) for k, v in fit.spend.parameters.items()},
            "log_likelihood": float(fit.spend.log_likelihood),
            "converged": fit.spend.converged,
            "at_bound": list(fit.spend.at_bound),
        }
    if fit.holdout:
        report["holdout"] = [
            {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in asdict(s).items()
            }
            for s in fit.holdout
        ]
    return report
