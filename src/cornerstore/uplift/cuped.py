"""CUPED: narrow a difference in means with each customer's own pre-period value.

The outcome ``Y`` is replaced by ``Y - theta (X - mean(X))`` where ``X`` is a covariate
measured before assignment (for example each customer's spend in the weeks before the
campaign) and ``theta = cov(X, Y) / var(X)``, estimated on both groups pooled. Because ``X``
cannot be affected by the treatment, the adjusted difference estimates the same effect, with
its variance reduced by about ``corr(X, Y)^2`` (Deng, Xu, Kohavi and Walker 2013, section 3.1,
equations 3 and 4).

Reference
---------
Deng, A., Xu, Y., Kohavi, R. and Walker, T. (2013). Improving the sensitivity of online
controlled experiments by utilizing pre-experiment data. WSDM '13, 123-132.
"""

from __future__ import annotations

import numpy as np

from cornerstore.errors import InvalidInput
from cornerstore.uplift.means import Values, _as_values, mean_difference
from cornerstore.uplift.model import CupedDifference


def cuped_difference(
    treatment: Values,
    treatment_covariate: Values,
    control: Values,
    control_covariate: Values,
    confidence: float = 0.95,
    *,
    bootstrap_resamples: int = 2000,
    seed: int = 0,
) -> CupedDifference:
    """The difference in means before and after CUPED on a pre-period covariate.

    Parameters
    ----------
    treatment, control
        The outcome per assigned customer (for example revenue in the window).
    treatment_covariate, control_covariate
        The same customers' pre-period value, in the same order.

    Examples
    --------
    >>> r = cuped_difference([5.0, 7.0, 9.0, 11.0], [1.0, 2.0, 3.0, 4.0],
    ...                      [2.0, 4.0, 6.0, 8.0], [1.0, 2.0, 3.0, 4.0], bootstrap_resamples=0)
    >>> round(r.theta, 6), r.adjusted.difference.estimate, r.adjusted.difference.width
    (2.0, 3.0, 0.0)
    """
    y1 = _as_values(treatment, "treatment")
    x1 = _as_values(treatment_covariate, "treatment covariate")
    y0 = _as_values(control, "control")
    x0 = _as_values(control_covariate, "control covariate")
    if y1.size != x1.size:
        raise InvalidInput("treatment and its covariate must have one value per customer")
    if y0.size != x0.size:
        raise InvalidInput("control and its covariate must have one value per customer")
    y = np.concatenate([y1, y0])
    x = np.concatenate([x1, x0])
    var_x = float(x.var(ddof=1))
    # A covariate without spread carries no information: no adjustment.
    theta = float(np.cov(x, y, ddof=1)[0, 1] / var_x) if var_x > 0 else 0.0
    centre = float(x.mean())
    a1 = y1 - theta * (x1 - centre)
    a0 = y0 - theta * (x0 - centre)
    var_y = float(y.var(ddof=1))
    adjusted_var = float(np.concatenate([a1, a0]).var(ddof=1))
    reduction = 1 - adjusted_var / var_y if var_y > 0 else 0.0
    options = {"bootstrap_resamples": bootstrap_resamples, "seed": seed}
    return CupedDifference(
        unadjusted=mean_difference(y1, y0, confidence, **options),
        adjusted=mean_difference(a1, a0, confidence, **options),
        theta=theta,
        variance_reduction=reduction,
    )
