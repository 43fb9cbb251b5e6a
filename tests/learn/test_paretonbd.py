"""Pareto/NBD against the published CDNOW fit (Fader, Hardie & Lee 2005, "A Note on Implementing
the Pareto/NBD Model in MATLAB": r = 0.5534, alpha = 10.5802, s = 0.6061, beta = 11.6562,
LL = -9594.98), the closed-form likelihood, its gradient and its predictions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln, hyp2f1

from cornerstore.learn.fitting import FloatArray, group_customers
from cornerstore.learn.paretonbd import ParetoNbd, fit_paretonbd, log_likelihood
from tests.learn.conftest import numeric_gradient, sig3

Histories = tuple[FloatArray, FloatArray, FloatArray]
NOTE = ParetoNbd(r=0.5534, alpha=10.5802, s=0.6061, beta=11.6562)


def closed_form_log_likelihood(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """The hypergeometric form of Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD
    Model and Related Expressions", for alpha >= beta."""
    assert alpha >= beta
    rsx = r + s + x

    def a0(t: FloatArray) -> FloatArray:
        z = (alpha - beta) / (alpha + t)
        return hyp2f1(rsx, s + 1, rsx + 1, z) / (alpha + t) ** rsx

    bracket = 1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / rsx * (a0(t_x) - a0(T))
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.log(bracket)


def test_fitting_cdnow_gives_the_published_fit(cdnow_histories: Histories) -> None:
    model = fit_paretonbd(*cdnow_histories)

    assert {k: sig3(v) for k, v in model.parameters.items()} == {
        k: sig3(v) for k, v in NOTE.parameters.items()
    }
    assert round(model.log_likelihood, 2) == -9594.98
    assert model.converged


def test_the_quadrature_likelihood_equals_the_hypergeometric_closed_form(
    cdnow_histories: Histories,
) -> None:
    x, t_x, T = cdnow_histories
    groups = group_customers(x, t_x, T)
    params = (0.55, 10.6, 0.61, 8.0)

    quadrature = log_likelihood(np.log(params), groups)[0]
    closed_form = float(np.sum(closed_form_log_likelihood(*params, x, t_x, T)))

    assert quadrature == pytest.approx(closed_form, rel=1e-10)


def test_the_analytic_gradient_matches_finite_differences(cdnow_histories: Histories) -> None:
    groups = group_customers(*cdnow_histories)
    point = np.log([0.4, 8.0, 0.8, 15.0])

    analytic = log_likelihood(point, groups)[1]

    assert analytic == pytest.approx(
        numeric_gradient(lambda p: log_likelihood(p, groups), point), rel=1e-5
    )


def test_a_customer_who_never_came_back_may_have_left() -> None:
    alive = NOTE.probability_alive(np.zeros(3), np.zeros(3), np.array([1.0, 20.0, 38.0]))

    assert np.all(np.diff(alive) < 0)
    assert 0 < alive[-1] < alive[0] < 1


def test_p_alive_is_one_when_the_last_purchase_was_just_now() -> None:
    alive = NOTE.probability_alive(np.array([4.0]), np.array([30.0]), np.array([30.0]))

    assert alive[0] == pytest.approx(1.0)


def test_expected_purchases_at_s_equal_one_are_the_limit_of_nearby_s() -> None:
    x, T = np.array([2.0]), np.array([30.0])
    at_one = ParetoNbd(r=0.5, alpha=10.0, s=1.0, beta=12.0).purchases_if_alive(39.0, x, T)
    near_one = ParetoNbd(r=0.5, alpha=10.0, s=1.0 + 1e-6, beta=12.0).purchases_if_alive(39.0, x, T)

    assert at_one[0] == pytest.approx(near_one[0], rel=1e-5)
