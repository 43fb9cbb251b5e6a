"""The sample-ratio check against scipy's chi-square and a hand computation."""

from __future__ import annotations

import pytest

from cornerstore.errors import InvalidInput
from cornerstore.uplift import sample_ratio_check


def test_a_fair_split_passes_and_a_lost_tenth_of_one_group_fails():
    fair = sample_ratio_check([50_210, 49_790], [0.5, 0.5])
    lost = sample_ratio_check([50_000, 45_000], [0.5, 0.5])

    assert fair.passed is True
    assert lost.passed is False
    assert lost.p_value < 1e-50


def test_the_statistic_is_pearsons_chi_square():
    # (900-1000)^2/1000 + (1100-1000)^2/1000 = 20, one degree of freedom: p = 7.74e-6.
    result = sample_ratio_check([900, 1100], [1, 1])

    assert result.expected == (1000.0, 1000.0)
    assert result.statistic == pytest.approx(20.0)
    assert result.p_value == pytest.approx(7.744e-6, rel=1e-3)
    assert result.passed is False


def test_expected_sizes_are_reported_without_floating_point_noise_and_the_statistic_stays_exact():
    # 90 customers at 70% / 30%: 90 * 0.7 is 62.99999999999999 in floating point.
    result = sample_ratio_check([60, 30], [0.7, 0.3])

    assert result.expected == (63.0, 27.0)
    assert result.statistic == (60 - 90 * 0.7) ** 2 / (90 * 0.7) + (30 - 90 * 0.3) ** 2 / (90 * 0.3)


def test_expected_sizes_keep_their_fractions_to_a_hundredth():
    assert sample_ratio_check([2, 1], [2, 1]).expected == (2.0, 1.0)
    assert sample_ratio_check([5, 5], [1, 2]).expected == (3.33, 6.67)


def test_shares_need_not_sum_to_one():
    assert sample_ratio_check([800, 200], [4, 1]).statistic == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("observed", "shares", "message"),
    [
        ([10], [1.0], "observed and shares need one entry per group"),
        ([10, 10], [0.5, 0.0], "every planned share must be a positive number"),
        ([10, -1], [0.5, 0.5], "observed group sizes must be whole numbers"),
        ([0, 0], [0.5, 0.5], "observed groups are all empty"),
    ],
)
def test_unusable_groups_are_refused(observed, shares, message):
    with pytest.raises(InvalidInput, match=message):
        sample_ratio_check(observed, shares)
