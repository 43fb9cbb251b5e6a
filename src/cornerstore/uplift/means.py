"""The difference of two means: Welch's t interval, checked by a seeded bootstrap.

Revenue per assigned customer is mostly zeros with a long tail, so the t approximation can be
poor for small groups. Welch's interval (unequal variances, Welch-Satterthwaite degrees of
freedom) is the answer; a percentile bootstrap resampling each group on its own is computed
beside it, and the answer says whether the two agree.

References
----------
Welch, B. L. (1947). The generalization of "Student's" problem when several different
population variances are involved. Biometrika 34, 28-35.
Efron, B. and Tibshirani, R. (1993). An Introduction to the Bootstrap, chapter 13
(percentile intervals).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from cornerstore.errors import InvalidInput
from cornerstore.uplift.model import Interval, MeanDifference
from cornerstore.uplift.proportions import check_confidence

# Resampled means are drawn in blocks of at most this many values, so a campaign of 100k
# customers bootstraps in bounded memory.
_BLOCK_VALUES = 4_000_000

Values = Sequence[float] | np.ndarray


def mean_difference(
    treatment: Values,
    control: Values,
    confidence: float = 0.95,
    *,
    bootstrap_resamples: int = 2000,
    seed: int = 0,
    agreement_tolerance: float = 0.1,
) -> MeanDifference:
    """Treatment mean minus control mean with Welch's interval and a bootstrap check.

    Parameters
    ----------
    treatment, control
        One value per assigned customer (for example revenue in the window, zeros included).
    bootstrap_resamples
        Percentile-bootstrap resamples (0 skips the check).
    seed
        Seed of the bootstrap, so the same data give the same answer.
    agreement_tolerance
        The bootstrap agrees when each of its ends lies within this share of the Welch
        interval's width of Welch's end.

    Examples
    --------
    >>> r = mean_difference([3.0, 5.0, 7.0, 9.0], [1.0, 2.0, 3.0], bootstrap_resamples=0)
    >>> r.difference.estimate, round(r.difference.low, 3), round(r.difference.high, 3)
    (4.0, 0.102, 7.898)
    """
    check_confidence(confidence)
    a = _as_values(treatment, "treatment")
    b = _as_values(control, "control")
    if bootstrap_resamples < 0:
        raise InvalidInput("bootstrap_resamples must not be negative")
    difference, df = welch_interval(a, b, confidence)
    boot = None
    agrees = None
    if bootstrap_resamples:
        boot = bootstrap_interval(a, b, confidence, bootstrap_resamples, seed)
        slack = agreement_tolerance * difference.width
        agrees = bool(
            abs(boot.low - difference.low) <= slack and abs(boot.high - difference.high) <= slack
        )
    return MeanDifference(
        treatment_mean=float(a.mean()),
        control_mean=float(b.mean()),
        difference=difference,
        degrees_of_freedom=df,
        bootstrap=boot,
        bootstrap_agrees=agrees,
    )


def welch_interval(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[Interval, float]:
    """Welch's t interval for ``mean(a) - mean(b)`` and its degrees of freedom.

    ``se^2 = s1^2/n1 + s2^2/n2``; ``df = se^4 / ((s1^2/n1)^2/(n1-1) + (s2^2/n2)^2/(n2-1))``
    (Welch 1947). With no spread in either group the interval is the point itself.
    """
    v1 = float(a.var(ddof=1)) / a.size
    v2 = float(b.var(ddof=1)) / b.size
    d = float(a.mean() - b.mean())
    se2 = v1 + v2
    if se2 == 0:
        return Interval(estimate=d, low=d, high=d, confidence=confidence), math.inf
    df = se2**2 / (v1**2 / (a.size - 1) + v2**2 / (b.size - 1))
    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    half = t * math.sqrt(se2)
    return Interval(estimate=d, low=d - half, high=d + half, confidence=confidence), df


def bootstrap_interval(
    a: np.ndarray, b: np.ndarray, confidence: float, resamples: int, seed: int
) -> Interval:
    """Percentile-bootstrap interval for ``mean(a) - mean(b)``, each group resampled alone."""
    rng = np.random.default_rng(seed)
    diffs = _resampled_means(a, resamples, rng) - _resampled_means(b, resamples, rng)
    tail = (1 - confidence) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    return Interval(
        estimate=float(a.mean() - b.mean()), low=float(low), high=float(high), confidence=confidence
    )


def _resampled_means(x: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(resamples)
    block = max(1, _BLOCK_VALUES // x.size)
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        idx = rng.integers(0, x.size, size=(stop - start, x.size))
        out[start:stop] = x[idx].mean(axis=1)
    return out


def _as_values(values: Values, which: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInput(f"{which} values must be numbers") from None
    if arr.ndim != 1:
        raise InvalidInput(f"{which} values must be a flat list of numbers")
    if arr.size < 2:
        raise InvalidInput(f"{which} needs at least 2 values")
    if not np.isfinite(arr).all():
        raise InvalidInput(f"{which} values must be finite numbers")
    return arr
