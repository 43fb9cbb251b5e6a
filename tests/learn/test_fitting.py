"""Grouping customers by identical histories, and refusing impossible ones."""

from __future__ import annotations

import numpy as np
import pytest

from cornerstore.errors import InvalidInput
from cornerstore.learn.fitting import dense_codes, group_customers


@pytest.mark.parametrize("scale", [1.0, 1e9])  # counting path, and np.unique for a huge span
def test_dense_codes_put_equal_rows_together_and_count_them(scale: float) -> None:
    counts = np.array([0.0, 2.0, 0.0, 2.0, 1.0, 2.0]) * scale
    ages = np.array([3.5, 1.25, 3.5, 1.25, 3.5, 7.0])

    representative, inverse, sizes = dense_codes(counts, ages)

    groups = {
        (counts[representative[g]], ages[representative[g]]): sizes[g] for g in range(len(sizes))
    }
    assert groups == {(0.0, 3.5): 2, (2 * scale, 1.25): 2, (1 * scale, 3.5): 1, (2 * scale, 7.0): 1}
    assert np.array_equal(counts[representative[inverse]], counts)
    assert np.array_equal(ages[representative[inverse]], ages)


def test_groups_weigh_each_distinct_history_by_its_customers() -> None:
    groups = group_customers(
        np.array([0.0, 0.0, 2.0, 2.0, 2.0]),
        np.array([0.0, 0.0, 3.0, 3.0, 4.0]),
        np.array([5.0, 5.0, 5.0, 5.0, 5.0]),
    )

    assert list(zip(groups.x, groups.t_x, groups.weight, strict=True)) == [
        (0.0, 0.0, 2.0),
        (2.0, 3.0, 2.0),
        (2.0, 4.0, 1.0),
    ]
    assert (groups.distinct_x.tolist(), groups.x_weight.tolist()) == ([0.0, 2.0], [2.0, 3.0])


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [
        ([1.0], [6.0], [5.0]),  # last purchase after the calibration end
        ([0.0], [2.0], [5.0]),  # recency without a repeat purchase
        ([-1.0], [0.0], [5.0]),
        ([1.0], [np.nan], [5.0]),
    ],
)
def test_impossible_histories_are_refused(x: list[float], t_x: list[float], T: list[float]) -> None:
    with pytest.raises(InvalidInput, match="histories need"):
        group_customers(np.array(x), np.array(t_x), np.array(T))
