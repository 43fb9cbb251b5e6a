"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): its gradient, its relation to BG/NBD, its
predictions, and recovery of simulated parameters."""

from __future__ import annotations

import numpy as np
import pytest

from cornerstore.learn.fitting import FloatArray, group_customers
from cornerstore.learn.mbgnbd import MbgNbd, fit_mbgnbd, log_likelihood, simulate_mbgnbd
from tests.learn.conftest import numeric_gradient

Histories = tuple[FloatArray, FloatArray, FloatArray]
MODEL = MbgNbd(r=0.525, alpha=6.18, a=0.891, b=1.61)


def test_the_analytic_gradient_matches_finite_differences(cdnow_histories: Histories) -> None:
    groups = group_customers(*cdnow_histories)
    point = np.log([0.5, 6.0, 0.9, 1.6])

    analytic = log_likelihood(point, groups)[1]

    assert analytic == pytest.approx(
        numeric_gradient(lambda p: log_likelihood(p, groups), point), rel=1e-5
    )


def test_cdnow_fits_at_least_as_well_as_bgnbd_with_the_same_number_of_parameters(
    cdnow_histories: Histories,
) -> None:
    model = fit_mbgnbd(*cdnow_histories)

    # BG/NBD's maximum on the same data is -9582.43 (FHL 2005).
    assert model.converged
    assert -9582.43 < model.log_likelihood < -9570


def test_a_customer_who_never_came_back_may_have_left() -> None:
    alive = MODEL.probability_alive(np.zeros(2), np.zeros(2), np.array([1.0, 38.0]))

    assert 0 < alive[1] < alive[0] < 1


def test_p_alive_falls_with_silence_and_rises_with_frequency_at_the_same_recency() -> None:
    silence = MODEL.probability_alive(
        np.full(3, 2.0), np.full(3, 10.0), np.array([20.0, 30.0, 38.0])
    )
    frequency = MODEL.probability_alive(
        np.array([1.0, 2.0, 3.0]), np.full(3, 37.9), np.full(3, 38.0)
    )

    assert np.all(np.diff(silence) < 0)
    assert np.all(np.diff(frequency) > 0)


def test_expected_purchases_are_p_alive_times_purchases_if_alive() -> None:
    x, t_x, T = np.array([0.0, 3.0]), np.array([0.0, 20.0]), np.array([30.0, 30.0])

    expected = MODEL.expected_purchases(52.0, x, t_x, T)

    assert expected == pytest.approx(
        MODEL.purchases_if_alive(52.0, x, T) * MODEL.probability_alive(x, t_x, T)
    )
    assert np.all(expected > 0)


def test_fitting_simulated_customers_recovers_the_mean_rate_and_dropout() -> None:
    rng = np.random.default_rng(11)
    T = rng.integers(190, 274, 50_000) / 7
    x, t_x = simulate_mbgnbd(MODEL.r, MODEL.alpha, MODEL.a, MODEL.b, T, rng)

    model = fit_mbgnbd(x, t_x, T)

    assert model.r / model.alpha == pytest.approx(MODEL.r / MODEL.alpha, rel=0.1)
    assert model.a / (model.a + model.b) == pytest.approx(MODEL.a / (MODEL.a + MODEL.b), rel=0.1)
