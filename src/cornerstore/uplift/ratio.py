"""Sample-ratio mismatch: are the groups the sizes the assignment promised?

A chi-square goodness-of-fit test of the observed group sizes against the planned shares. A
very small p-value means the assignment or the counting is broken (customers lost from one
group, a filter applied after assignment), and no difference between the groups can be
trusted until it is explained. The default threshold 0.001 is strict on purpose: the test runs
on every result, so false alarms must be rare (Fabijan et al. 2019 use 0.0005).

Reference
---------
Fabijan, A., Gupchup, J., Gupta, S., Omhover, J., Qin, W., Vermeer, L. and Dmitriev, P. (2019).
Diagnosing sample ratio mismatch in online controlled experiments. KDD '19, 2156-2164.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

from cornerstore.errors import InvalidInput
from cornerstore.uplift.model import SampleRatio

# Decimals of the expected group sizes a result reports.
REPORTED_DECIMALS = 2


def sample_ratio_check(
    observed: Sequence[int], shares: Sequence[float], threshold: float = 0.001
) -> SampleRatio:
    """Test observed group sizes against planned shares (which are normalised to sum to 1).

    Examples
    --------
    >>> sample_ratio_check([9_000, 1_000], [0.9, 0.1]).passed
    True
    >>> sample_ratio_check([9_200, 800], [0.9, 0.1]).passed
    False
    >>> sample_ratio_check([63, 27], [0.7, 0.3]).expected
    (63.0, 27.0)
    """
    if len(observed) != len(shares) or len(observed) < 2:
        raise InvalidInput("observed and shares need one entry per group, at least two groups")
    if any(int(n) != n or n < 0 for n in observed):
        raise InvalidInput("observed group sizes must be whole numbers, not negative")
    if any(not math.isfinite(s) or s <= 0 for s in shares):
        raise InvalidInput("every planned share must be a positive number")
    if not 0 < threshold < 1:
        raise InvalidInput("threshold must be between 0 and 1 (exclusive)")
    total = sum(observed)
    if total == 0:
        raise InvalidInput("observed groups are all empty")
    share_sum = sum(shares)
    expected = tuple(total * s / share_sum for s in shares)
    statistic, p_value = stats.chisquare([float(n) for n in observed], expected)
    return SampleRatio(
        observed=tuple(int(n) for n in observed),
        # The test uses the exact sizes; the report says them to a hundredth of a customer,
        # so 90 customers at 70% are 63.0, not 62.99999999999999 (floating-point noise).
        expected=tuple(round(e, REPORTED_DECIMALS) for e in expected),
        statistic=float(statistic),
        p_value=float(p_value),
        threshold=threshold,
        passed=bool(p_value >= threshold),
    )
