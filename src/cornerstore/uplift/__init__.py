"""Uplift statistics: how much a treatment changed an outcome, with honest intervals.

Pure functions over counts and arrays (numpy and scipy only; no storage, no web):

- :func:`proportion_difference` - conversion: Wilson interval per group, Newcombe's hybrid
  score interval for the difference;
- :func:`mean_difference` - revenue per customer: Welch's t interval with a seeded
  bootstrap check;
- :func:`cuped_difference` - the same after CUPED on a pre-period covariate;
- :func:`sample_ratio_check` - chi-square test of the group sizes against the plan.

See docs/uplift.md for the formulas, their sources and the measured coverage.
"""

from cornerstore.uplift.cuped import cuped_difference
from cornerstore.uplift.means import mean_difference
from cornerstore.uplift.model import (
    CupedDifference,
    Interval,
    MeanDifference,
    ProportionDifference,
    SampleRatio,
)
from cornerstore.uplift.proportions import proportion_difference, wilson_interval
from cornerstore.uplift.ratio import sample_ratio_check

__all__ = [
    "CupedDifference",
    "Interval",
    "MeanDifference",
    "ProportionDifference",
    "SampleRatio",
    "cuped_difference",
    "mean_difference",
    "proportion_difference",
    "sample_ratio_check",
    "wilson_interval",
]
