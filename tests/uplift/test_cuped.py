"""CUPED keeps the estimate and narrows the interval when the pre-period predicts."""

from __future__ import annotations

import numpy as np
import pytest

from cornerstore.errors import InvalidInput
from cornerstore.uplift import cuped_difference


def test_theta_is_the_pooled_regression_slope():
    rng = np.random.default_rng(2)
    x1, x0 = rng.gamma(2.0, 20.0, 400), rng.gamma(2.0, 20.0, 400)
    y1 = 0.7 * x1 + rng.normal(5.0, 3.0, 400)
    y0 = 0.7 * x0 + rng.normal(0.0, 3.0, 400)

    result = cuped_difference(y1, x1, y0, x0, bootstrap_resamples=0)

    x, y = np.concatenate([x1, x0]), np.concatenate([y1, y0])
    assert result.theta == pytest.approx(np.polyfit(x, y, 1)[0])
    assert result.adjusted.difference.width < 0.5 * result.unadjusted.difference.width
    assert result.adjusted.difference.covers(5.0)
    # Variance reduction is about the squared correlation (Deng et al. 2013, section 3.1).
    assert result.variance_reduction == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2, abs=0.01)


def test_a_covariate_without_spread_changes_nothing():
    y1, y0 = [3.0, 5.0, 4.0], [1.0, 2.0, 4.0]

    result = cuped_difference(y1, [1.0, 1.0, 1.0], y0, [1.0, 1.0, 1.0], bootstrap_resamples=0)

    assert result.theta == 0.0
    assert result.adjusted.difference == result.unadjusted.difference


def test_outcome_and_covariate_must_pair_up():
    with pytest.raises(InvalidInput, match="treatment and its covariate must have one value"):
        cuped_difference([1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0])
