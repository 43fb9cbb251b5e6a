"""Choosing the count model by holdout accuracy and predicting value per customer."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from cornerstore.errors import InvalidInput
from cornerstore.learn.clv import ClvFit, describe_fit, fit_clv, predict_clv, score_holdout
from cornerstore.learn.transactions import RfmSummary, read_transactions, summarise_rfm
from tests.learn.conftest import CDNOW


@pytest.fixture(scope="module")
def auto_fit(cdnow: RfmSummary) -> ClvFit:
    return fit_clv(cdnow, model="auto")


def test_auto_keeps_the_model_with_the_smallest_holdout_error(auto_fit: ClvFit) -> None:
    scores = {s.model: s.rmse for s in auto_fit.holdout}

    assert sorted(scores) == ["bgnbd", "mbgnbd", "paretonbd"]
    assert scores[auto_fit.model.name] == min(scores.values())


def test_the_bgnbd_holdout_score_is_the_papers_check(cdnow: RfmSummary) -> None:
    fit = fit_clv(cdnow, model="bgnbd", spend=False)

    (score,) = fit.holdout

    assert (round(score.predicted_total), score.actual_total) == (1653, 1882)
    assert f"{score.correlation:.3g}" == "0.626"
    assert score == score_holdout(fit.model, cdnow)


def test_auto_needs_a_holdout() -> None:
    whole = summarise_rfm(read_transactions(CDNOW))

    with pytest.raises(InvalidInput, match="give a calibration end before"):
        fit_clv(whole, model="auto")


def test_predictions_cover_every_customer_with_sane_values(
    auto_fit: ClvFit, cdnow: RfmSummary
) -> None:
    table = predict_clv(auto_fit, cdnow, horizon=52)

    assert table.columns == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "expected_purchases",
        "probability_alive",
        "expected_spend",
        "expected_revenue",
        "clv",
    ]
    assert table["customer_id"].to_list() == cdnow.table["customer_id"].to_list()
    assert table.null_count().row(0) == (0,) * 9
    assert table["probability_alive"].is_between(0, 1).all()
    assert (table["clv"] > 0).all()
    # Discounting only lowers value; the first week is discounted too.
    assert (table["clv"] < table["expected_revenue"]).all()


def test_without_discounting_clv_is_the_expected_revenue(
    auto_fit: ClvFit, cdnow: RfmSummary
) -> None:
    table = predict_clv(auto_fit, cdnow, horizon=52, discount_rate=0.0)

    assert table["clv"].to_numpy() == pytest.approx(table["expected_revenue"].to_numpy(), rel=1e-12)


def test_value_grows_with_the_horizon_and_falls_with_the_discount_rate(
    auto_fit: ClvFit,
    cdnow: RfmSummary,
) -> None:
    short = predict_clv(auto_fit, cdnow, horizon=13)["clv"].to_numpy()
    long = predict_clv(auto_fit, cdnow, horizon=104)["clv"].to_numpy()
    dear = predict_clv(auto_fit, cdnow, horizon=104, discount_rate=0.5)["clv"].to_numpy()

    assert np.all(short < long)
    assert np.all(dear < long)


def test_a_horizon_in_days_gives_the_same_purchases_as_in_weeks() -> None:
    transactions = read_transactions(CDNOW)
    weeks = summarise_rfm(transactions, calibration_end=date(1997, 9, 30), period="week")
    days = summarise_rfm(transactions, calibration_end=date(1997, 9, 30), period="day")

    in_weeks = predict_clv(fit_clv(weeks), weeks, horizon=52)
    in_days = predict_clv(fit_clv(days), days, horizon=364)

    assert in_days["expected_purchases"].to_numpy() == pytest.approx(
        in_weeks["expected_purchases"].to_numpy(), rel=1e-4
    )
    assert in_days["clv"].to_numpy() == pytest.approx(in_weeks["clv"].to_numpy(), rel=1e-4)


def test_without_amounts_there_is_no_spend_and_no_clv(cdnow: RfmSummary) -> None:
    no_amounts = RfmSummary(
        table=cdnow.table.with_columns(pl.lit(None, pl.Float64).alias("monetary_value")),
        calibration_end=cdnow.calibration_end,
        period=cdnow.period,
        holdout_length=cdnow.holdout_length,
    )
    fit = fit_clv(no_amounts)

    table = predict_clv(fit, no_amounts, horizon=52)

    assert fit.spend is None and "gamma_gamma" not in describe_fit(fit)
    assert table["clv"].null_count() == table.height
    assert table["expected_purchases"].null_count() == 0


def test_the_description_is_plain_json_data(auto_fit: ClvFit) -> None:
    report = describe_fit(auto_fit)

    assert set(report) == {
        "model",
        "parameters",
        "log_likelihood",
        "customers",
        "fit_seconds",
        "converged",
        "at_bound",
        "note",
        "gamma_gamma",
        "holdout",
    }
    assert report["customers"] == 2357
    assert set(report["gamma_gamma"]["parameters"]) == {"p", "q", "gamma"}
    assert [h["model"] for h in report["holdout"]] == ["bgnbd", "paretonbd", "mbgnbd"]


@pytest.mark.parametrize("horizon", [0.0, -1.0])
def test_a_horizon_must_be_positive(auto_fit: ClvFit, cdnow: RfmSummary, horizon: float) -> None:
    with pytest.raises(InvalidInput, match="horizon must be a positive"):
        predict_clv(auto_fit, cdnow, horizon=horizon)
