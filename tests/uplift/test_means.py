"""Welch's interval against scipy, and the bootstrap check that watches it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cornerstore.errors import InvalidInput
from cornerstore.uplift import mean_difference


def test_welch_interval_equals_scipys_welch_t_test():
    rng = np.random.default_rng(7)
    treatment = rng.gamma(2.0, 10.0, 300)
    control = rng.gamma(2.0, 9.0, 450)

    result = mean_difference(treatment, control, confidence=0.9, bootstrap_resamples=0)

    scipy_result = stats.ttest_ind(treatment, control, equal_var=False)
    ci = scipy_result.confidence_interval(confidence_level=0.9)
    assert (result.difference.low, result.difference.high) == pytest.approx((ci.low, ci.high))
    assert result.degrees_of_freedom == pytest.approx(scipy_result.df)
    assert result.difference.estimate == pytest.approx(treatment.mean() - control.mean())
    assert result.bootstrap is None and result.bootstrap_agrees is None


def test_bootstrap_agrees_with_welch_on_a_large_sample():
    rng = np.random.default_rng(3)
    treatment = rng.normal(11.0, 4.0, 5000)
    control = rng.normal(10.0, 4.0, 5000)

    result = mean_difference(treatment, control)

    assert result.bootstrap is not None
    assert result.bootstrap_agrees is True
    assert result.bootstrap.covers(result.difference.estimate)


def test_bootstrap_warns_when_a_few_big_spenders_dominate_a_small_sample():
    # Twelve customers each, one of whom spent 500: the t interval pretends to symmetry the
    # data do not have, and the bootstrap shows it.
    treatment = [0.0] * 11 + [500.0]
    control = [0.0] * 10 + [5.0, 8.0]

    result = mean_difference(treatment, control)

    assert result.bootstrap_agrees is False
    assert result.bootstrap is not None
    # Welch reaches 50 below zero; no resample of these customers comes near that.
    assert result.difference.low < -50
    assert result.bootstrap.low > -5


def test_the_bootstrap_is_repeatable_with_the_same_seed():
    rng = np.random.default_rng(5)
    treatment, control = rng.exponential(5.0, 200), rng.exponential(5.0, 200)

    first = mean_difference(treatment, control, seed=11)
    again = mean_difference(treatment, control, seed=11)

    assert first == again


def test_groups_without_spread_give_the_point_itself():
    result = mean_difference([2.0, 2.0], [1.0, 1.0], bootstrap_resamples=0)

    assert (result.difference.low, result.difference.high) == (1.0, 1.0)


@pytest.mark.parametrize(
    ("treatment", "control", "message"),
    [
        ([1.0], [1.0, 2.0], "treatment needs at least 2 values"),
        ([1.0, 2.0], [1.0, float("nan")], "control values must be finite numbers"),
        ([1.0, 2.0], ["a", "b"], "control values must be numbers"),
        ([[1.0], [2.0]], [1.0, 2.0], "treatment values must be a flat list of numbers"),
    ],
)
def test_unusable_values_are_refused_with_which_group(treatment, control, message):
    with pytest.raises(InvalidInput) as raised:
        mean_difference(treatment, control)

    assert raised.value.message == message
