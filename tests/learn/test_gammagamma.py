"""Gamma-Gamma spend against the published CDNOW fit (Fader, Hardie & Lee 2005, "RFM and CLV"),
its gradient and its shrinkage."""

from __future__ import annotations

import numpy as np
import pytest

from cornerstore.errors import InvalidInput
from cornerstore.learn.fitting import maximise
from cornerstore.learn.gammagamma import GammaGamma, SpendData, fit_gamma_gamma, log_likelihood
from cornerstore.learn.transactions import RfmSummary
from tests.learn.conftest import numeric_gradient, sig3

PAPER = GammaGamma(p=6.25, q=3.744, gamma=15.44)


def spend_data(summary: RfmSummary) -> tuple[np.ndarray, np.ndarray]:
    table = summary.table
    return (
        table["frequency"].to_numpy().astype(np.float64),
        table["monetary_value"].to_numpy().astype(np.float64),
    )


def test_fitting_cdnow_gives_the_published_parameters(cdnow: RfmSummary) -> None:
    model = fit_gamma_gamma(*spend_data(cdnow))

    assert {k: sig3(v) for k, v in model.parameters.items()} == {
        "p": "6.25",
        "q": "3.74",
        "gamma": "15.4",
    }
    assert model.converged


def test_the_analytic_gradient_matches_finite_differences(cdnow: RfmSummary) -> None:
    x, z = spend_data(cdnow)
    repeat = x > 0
    point = np.log([4.0, 3.0, 20.0])

    def objective(p: np.ndarray) -> tuple[float, np.ndarray]:
        return log_likelihood(p, SpendData.of(x[repeat], z[repeat]))

    assert objective(point)[1] == pytest.approx(numeric_gradient(objective, point), rel=1e-5)


def test_expected_spend_lies_between_the_own_mean_and_the_population_mean() -> None:
    own_means = np.array([10.0, 10.0, 10.0, 100.0])
    purchases = np.array([1.0, 5.0, 50.0, 5.0])

    spend = PAPER.expected_spend(purchases, own_means)

    assert np.all(spend[:3] > own_means[:3]) and np.all(spend[:3] < PAPER.mean_spend)
    assert np.all(np.diff(spend[:3]) < 0)  # more purchases, closer to the customer's own mean
    assert PAPER.mean_spend < spend[3] < 100.0


def test_customers_without_repeat_purchases_expect_the_population_mean() -> None:
    spend = PAPER.expected_spend(np.array([0.0]), np.array([np.nan]))

    assert spend[0] == pytest.approx(PAPER.mean_spend)


def test_fewer_than_two_repeat_customers_cannot_be_fitted() -> None:
    with pytest.raises(InvalidInput, match="at least two customers"):
        fit_gamma_gamma(np.array([0.0, 1.0]), np.array([np.nan, 5.0]))


def test_a_large_fit_started_from_a_sample_reaches_the_same_optimum_as_l_bfgs() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(1, 20, 100_000).astype(np.float64)
    nu = rng.gamma(PAPER.q, 1 / PAPER.gamma, len(x))
    z = rng.gamma(PAPER.p * x, 1 / (nu * x))
    start = np.log([1.0, 2.0, float(np.mean(z))])

    from_sample = fit_gamma_gamma(x, z)
    plain = maximise(lambda p: log_likelihood(p, SpendData.of(x, z)), start, float(len(x)))

    assert from_sample.log_likelihood == pytest.approx(plain.log_likelihood, abs=1e-3)
    assert list(from_sample.parameters.values()) == pytest.approx(list(plain.parameters), rel=1e-4)
    assert from_sample.p == pytest.approx(PAPER.p, rel=0.05)
