"""Confidence intervals for a proportion and for the difference of two proportions.

Wilson's score interval for one rate, and Newcombe's hybrid score interval (method 10 of
Newcombe 1998) for the difference of two independent rates: it combines the two Wilson
intervals and, unlike the Wald interval, keeps its coverage near the nominal level for small
samples and rates near 0 or 1, and never leaves ``[-1, 1]``.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22, 209-212.
Newcombe, R. G. (1998). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from cornerstore.errors import InvalidInput
from cornerstore.uplift.model import Interval, ProportionDifference


def normal_quantile(confidence: float) -> float:
    """The two-sided standard normal critical value for ``confidence``.

    >>> round(normal_quantile(0.95), 4)
    1.96
    """
    check_confidence(confidence)
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise InvalidInput("confidence must be between 0 and 1 (exclusive)")


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson's score interval for the rate ``successes / trials``.

    Newcombe (1998) equation for method 3: the roots of ``|p - P| = z sqrt(P(1-P)/n)``.

    >>> ci = wilson_interval(81, 263)
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.2553, 0.3662)
    """
    _check_counts(successes, trials, "")
    z = normal_quantile(confidence)
    p = successes / trials
    z2 = z * z
    centre = (2 * successes + z2) / (2 * (trials + z2))
    half = z * math.sqrt(z2 + 4 * successes * (1 - p)) / (2 * (trials + z2))
    # At 0 or n successes the closed form lands on the bound up to rounding; pin it.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(estimate=p, low=low, high=high, confidence=confidence)


def proportion_difference(
    treatment_successes: int,
    treatment_trials: int,
    control_successes: int,
    control_trials: int,
    confidence: float = 0.95,
) -> ProportionDifference:
    """Treatment rate minus control rate with Newcombe's hybrid score interval.

    With Wilson intervals ``(l1, u1)`` and ``(l2, u2)`` of the two rates, the difference
    ``d = p1 - p2`` has the interval (Newcombe 1998, method 10)
    ``[d - sqrt((p1-l1)^2 + (u2-p2)^2), d + sqrt((u1-p1)^2 + (p2-l2)^2)]``.

    Examples
    --------
    Newcombe's (1998) Table II, example (a): 56/70 against 48/80.

    >>> r = proportion_difference(56, 70, 48, 80)
    >>> round(r.difference.estimate, 4), round(r.difference.low, 4), round(r.difference.high, 4)
    (0.2, 0.0524, 0.3339)
    """
    _check_counts(treatment_successes, treatment_trials, "treatment ")
    _check_counts(control_successes, control_trials, "control ")
    treatment = wilson_interval(treatment_successes, treatment_trials, confidence)
    control = wilson_interval(control_successes, control_trials, confidence)
    p1, l1, u1 = treatment.estimate, treatment.low, treatment.high
    p2, l2, u2 = control.estimate, control.low, control.high
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return ProportionDifference(
        treatment=treatment,
        control=control,
        difference=Interval(estimate=d, low=low, high=high, confidence=confidence),
    )


def _check_counts(successes: int, trials: int, which: str) -> None:
    if isinstance(successes, bool) or isinstance(trials, bool):
        raise InvalidInput(f"{which}successes and trials must be whole numbers")
    if int(successes) != successes or int(trials) != trials:
        raise InvalidInput(f"{which}successes and trials must be whole numbers")
    if trials <= 0:
        raise InvalidInput(f"{which}trials must be at least 1")
    if not 0 <= successes <= trials:
        raise InvalidInput(f"{which}successes must be between 0 and the number of trials")
