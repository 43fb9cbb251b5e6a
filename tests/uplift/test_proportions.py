"""Wilson and Newcombe intervals against the published worked examples."""

from __future__ import annotations

import pytest

from cornerstore.errors import InvalidInput
from cornerstore.uplift import proportion_difference, wilson_interval

# Newcombe (1998), Statistics in Medicine 17, Table II, method 10 (score, no continuity
# correction): (treatment successes, trials, control successes, trials) -> (lower, upper).
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_TABLE_II)
def test_the_difference_interval_matches_newcombes_table(counts, expected):
    result = proportion_difference(*counts)

    low, high = expected
    assert (round(result.difference.low, 4), round(result.difference.high, 4)) == (low, high)
    rate_difference = counts[0] / counts[1] - counts[2] / counts[3]
    assert result.difference.estimate == pytest.approx(rate_difference)


def test_wilson_interval_matches_newcombes_single_proportion_example():
    # Newcombe (1998), Statistics in Medicine 17, 857-872, Table I: 81/263, method 3.
    ci = wilson_interval(81, 263)

    assert (round(ci.low, 4), round(ci.high, 4)) == (0.2553, 0.3662)


def test_wilson_interval_stays_inside_zero_and_one_at_the_extremes():
    assert wilson_interval(0, 10).low == 0.0
    assert wilson_interval(10, 10).high == 1.0
    assert round(wilson_interval(0, 10).high, 4) == 0.2775


def test_a_wider_confidence_gives_a_wider_interval():
    narrow = proportion_difference(30, 200, 20, 200, confidence=0.90).difference
    wide = proportion_difference(30, 200, 20, 200, confidence=0.99).difference

    assert wide.low < narrow.low and narrow.high < wide.high


def test_swapping_the_groups_mirrors_the_interval():
    forward = proportion_difference(30, 200, 20, 180).difference
    backward = proportion_difference(20, 180, 30, 200).difference

    assert (backward.low, backward.high) == pytest.approx((-forward.high, -forward.low))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, 0, 1, 10), "treatment trials must be at least 1"),
        ((11, 10, 1, 10), "treatment successes must be between 0 and the number of trials"),
        ((1, 10, -1, 10), "control successes must be between 0 and the number of trials"),
        ((1.5, 10, 1, 10), "treatment successes and trials must be whole numbers"),
    ],
)
def test_impossible_counts_are_refused_with_which_group(args, message):
    with pytest.raises(InvalidInput) as raised:
        proportion_difference(*args)

    assert raised.value.message == message


def test_confidence_outside_zero_and_one_is_refused():
    with pytest.raises(InvalidInput, match="confidence must be between 0 and 1"):
        proportion_difference(1, 10, 1, 10, confidence=95)
