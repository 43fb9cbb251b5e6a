"""Records the uplift statistics return: plain frozen values, safe to serialise."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class _Record:
    def as_dict(self) -> dict[str, Any]:
        """The record as plain nested dicts (JSON-ready)."""
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Interval(_Record):
    """An estimate with its two-sided confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float
    confidence: float

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (ends included)."""
        return self.low <= value <= self.high

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class ProportionDifference(_Record):
    """Treatment rate minus control rate, each with its Wilson interval, and the difference
    with Newcombe's hybrid score interval."""

    treatment: Interval
    control: Interval
    difference: Interval
    method: str = "newcombe-wilson"


@dataclass(frozen=True)
class MeanDifference(_Record):
    """Treatment mean minus control mean with Welch's t interval and, when asked for, a
    seeded percentile-bootstrap interval that checks it.

    ``bootstrap_agrees`` is False when the two intervals' ends differ by more than the
    tolerance (a share of the Welch interval's width): the sample is too small or too skewed
    for the t approximation, and the bootstrap interval is the one to read.
    """

    treatment_mean: float
    control_mean: float
    difference: Interval
    degrees_of_freedom: float
    bootstrap: Interval | None
    bootstrap_agrees: bool | None
    method: str = "welch"


@dataclass(frozen=True)
class CupedDifference(_Record):
    """The difference in means after CUPED on a pre-period covariate, beside the plain one.

    ``theta`` is the pooled regression slope of the outcome on the covariate;
    ``variance_reduction`` the share of the outcome's variance the adjustment removed
    (about the squared correlation of outcome and covariate).
    """

    unadjusted: MeanDifference
    adjusted: MeanDifference
    theta: float
    variance_reduction: float
    method: str = "cuped"


@dataclass(frozen=True)
class SampleRatio(_Record):
    """Pearson's chi-square test of group sizes against the planned shares.

    ``passed`` is False when ``p_value`` is below ``threshold``: the assignment or the
    counting is broken and results should be withheld until it is explained.
    """

    observed: tuple[int, ...]
    #: The planned group sizes, rounded to hundredths for reporting (the test used them exact).
    expected: tuple[float, ...]
    statistic: float
    p_value: float
    threshold: float
    passed: bool
