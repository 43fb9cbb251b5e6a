"""BG/NBD against the published CDNOW answers (Fader, Hardie & Lee 2005), its gradient, and the
shape of its predictions."""

from __future__ import annotations

import numpy as np
import pytest

from cornerstore.learn.bgnbd import BgNbd, fit_bgnbd, log_likelihood, simulate_bgnbd
from cornerstore.learn.fitting import (
    WARM_START_SAMPLE,
    CustomerGroups,
    FloatArray,
    group_customers,
    maximise,
)
from cornerstore.learn.transactions import RfmSummary
from tests.learn.conftest import numeric_gradient, sig3

Histories = tuple[FloatArray, FloatArray, FloatArray]
PAPER = BgNbd(r=0.2426, alpha=4.414, a=0.7929, b=2.426)


def test_fitting_cdnow_gives_the_published_parameters_and_log_likelihood(
    cdnow_histories: Histories,
) -> None:
    model = fit_bgnbd(*cdnow_histories)

    assert {k: sig3(v) for k, v in model.parameters.items()} == {
        "r": "0.243",
        "alpha": "4.41",
        "a": "0.793",
        "b": "2.43",
    }
    assert round(model.log_likelihood, 2) == -9582.43
    assert model.converged


def test_the_holdout_check_matches_the_paper(cdnow_histories: Histories, cdnow: RfmSummary) -> None:
    x, t_x, T = cdnow_histories
    actual = cdnow.table["holdout_frequency"].to_numpy()

    predicted = fit_bgnbd(x, t_x, T).expected_purchases(39.0, x, t_x, T)

    assert round(float(predicted.sum())) == 1653
    assert sig3(float(np.corrcoef(predicted, actual)[0, 1])) == "0.626"


def test_the_analytic_gradient_matches_finite_differences(cdnow_histories: Histories) -> None:
    groups = group_customers(*cdnow_histories)
    point = np.log([0.3, 5.0, 0.6, 2.0])

    analytic = log_likelihood(point, groups)[1]

    assert analytic == pytest.approx(
        numeric_gradient(lambda p: log_likelihood(p, groups), point), rel=1e-5
    )


def test_grouping_identical_histories_does_not_change_the_likelihood(
    cdnow_histories: Histories,
) -> None:
    x, t_x, T = cdnow_histories
    point = np.log([0.3, 5.0, 0.6, 2.0])
    distinct_x, x_index = np.unique(x, return_inverse=True)
    one_group_each = CustomerGroups(
        x=x,
        t_x=t_x,
        T=T,
        weight=np.ones_like(x),
        distinct_x=distinct_x,
        x_index=x_index,
        x_weight=np.bincount(x_index).astype(np.float64),
    )
    grouped = group_customers(x, t_x, T)

    assert len(grouped.x) < len(x) / 2
    assert log_likelihood(point, grouped)[0] == pytest.approx(
        log_likelihood(point, one_group_each)[0], rel=1e-12
    )


def test_a_customer_without_repeat_purchases_is_certainly_alive() -> None:
    # FHL 2005: in BG/NBD dropout only follows a repeat purchase.
    alive = PAPER.probability_alive(np.array([0.0, 0.0]), np.zeros(2), np.array([1.0, 38.0]))

    assert alive.tolist() == [1.0, 1.0]


def test_p_alive_falls_with_silence_and_rises_with_recency() -> None:
    ages = np.array([32.0, 35.0, 38.0])
    recencies = np.array([10.0, 20.0, 30.0])

    longer_silence = PAPER.probability_alive(np.full(3, 3.0), np.full(3, 30.0), ages)
    more_recent = PAPER.probability_alive(np.full(3, 3.0), recencies, np.full(3, 38.0))

    assert np.all(np.diff(longer_silence) < 0)
    assert np.all(np.diff(more_recent) > 0)
    assert np.all((longer_silence > 0) & (longer_silence < 1))


def test_expected_purchases_grow_with_the_horizon_and_with_frequency() -> None:
    horizons = [
        PAPER.expected_purchases(t, np.array([2.0]), np.array([30.0]), np.array([38.0]))[0]
        for t in (1, 10, 52)
    ]
    by_frequency = PAPER.expected_purchases(
        39.0, np.array([1.0, 3.0, 6.0]), np.full(3, 37.0), np.full(3, 38.0)
    )

    assert horizons[0] < horizons[1] < horizons[2]
    assert np.all(np.diff(by_frequency) > 0)


def test_a_new_customers_expectation_equals_a_zero_history_customers() -> None:
    # A customer just acquired (x = 0, T = 0) expects E[X(t)] repeat purchases, FHL eq. (9).
    conditional = PAPER.expected_purchases(39.0, np.array([0.0]), np.array([0.0]), np.array([0.0]))

    assert conditional[0] == pytest.approx(PAPER.expected_purchases_new_customer(39.0), rel=1e-10)


def test_fitting_simulated_customers_recovers_the_mean_rate_and_dropout() -> None:
    rng = np.random.default_rng(7)
    T = rng.integers(190, 274, 50_000) / 7
    x, t_x = simulate_bgnbd(PAPER.r, PAPER.alpha, PAPER.a, PAPER.b, T, rng)

    model = fit_bgnbd(x, t_x, T)

    assert model.r / model.alpha == pytest.approx(PAPER.r / PAPER.alpha, rel=0.1)
    assert model.a / (model.a + model.b) == pytest.approx(PAPER.a / (PAPER.a + PAPER.b), rel=0.1)


def test_a_large_fit_started_from_a_sample_reaches_the_same_optimum_as_l_bfgs() -> None:
    rng = np.random.default_rng(3)
    T = rng.integers(190, 274, 200_000) / 7
    x, t_x = simulate_bgnbd(PAPER.r, PAPER.alpha, PAPER.a, PAPER.b, T, rng)
    t_x = np.ceil(t_x * 7) / 7 * (x > 0)  # day resolution, as real data
    groups = group_customers(x, t_x, T)
    start = np.log([1.0, 30.0, 1.0, 1.0])

    from_sample = fit_bgnbd(x, t_x, T)
    plain = maximise(lambda p: log_likelihood(p, groups), start, groups.customers)

    assert len(groups.x) > WARM_START_SAMPLE  # the sample path is the one taken
    assert from_sample.log_likelihood == pytest.approx(plain.log_likelihood, abs=1e-3)
    assert list(from_sample.parameters.values()) == pytest.approx(list(plain.parameters), rel=1e-4)
