"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430;
written out in Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

Each transaction's value is Gamma(p, nu) with mean p / nu; the customer's nu is Gamma(q, gamma).
Fitted to repeat customers' mean repeat-transaction value z (x > 0, first purchase excluded), it
gives each customer's expected spend per transaction, shrunk from their own mean towards the
population mean the fewer transactions they have. Hand-written for the same reasons as
:mod:`cornerstore.learn.bgnbd`; terms of x alone are computed once per distinct x.

Example
-------
>>> import numpy as np
>>> spend = GammaGamma(p=6.25, q=3.744, gamma=15.44)
>>> round(float(spend.expected_spend(np.array([2.0]), np.array([22.345]))[0]), 2)
24.65
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from cornerstore.errors import InvalidInput
from cornerstore.learn.fitting import (
    WARM_START_SAMPLE,
    FloatArray,
    maximise,
    maximise_from_sample,
)


@dataclass(frozen=True)
class GammaGamma:
    """A Gamma-Gamma spend model; ``log_likelihood`` is that of the fit, when fitted."""

    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")
    converged: bool = True
    at_bound: tuple[str, ...] = ()

    @property
    def parameters(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_spend(self) -> float:
        """Population mean spend per transaction, p gamma / (q - 1) (Fader & Hardie 2013)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")

    def expected_spend(self, x: FloatArray, mean_value: FloatArray) -> FloatArray:
        """E(Z | p, q, gamma, x, z) = p (gamma + x z) / (p x + q - 1) (Fader & Hardie 2013).

        Customers without repeat transactions (x = 0, or an unknown mean) get the population mean.
        """
        x = np.asarray(x, dtype=np.float64)
        z = np.nan_to_num(np.asarray(mean_value, dtype=np.float64), nan=0.0)
        z = np.where(x > 0, z, 0.0)
        return np.asarray(
            self.p * (self.gamma + x * z) / (self.p * x + self.q - 1), dtype=np.float64
        )


@dataclass(frozen=True)
class SpendData:
    """Repeat customers' purchase counts and mean values, with what every likelihood evaluation
    would otherwise recompute: distinct counts, logs of the means, and their sums."""

    x: FloatArray
    z: FloatArray
    xz: FloatArray
    distinct_x: FloatArray
    x_weight: FloatArray
    sum_log_z: float
    sum_x_log_z: float

    @classmethod
    def of(cls, x: FloatArray, mean_value: FloatArray) -> SpendData:
        """Prepare repeat customers' data (x > 0, mean values positive)."""
        x = np.asarray(x, dtype=np.float64)
        z = np.asarray(mean_value, dtype=np.float64)
        distinct_x, counts = np.unique(x, return_counts=True)
        log_z = np.log(z)
        return cls(
            x=x,
            z=z,
            xz=x * z,
            distinct_x=distinct_x,
            x_weight=counts.astype(np.float64),
            sum_log_z=float(log_z.sum()),
            sum_x_log_z=float(x @ log_z),
        )


def log_likelihood(log_params: FloatArray, data: SpendData) -> tuple[float, FloatArray]:
    """Total log-likelihood and gradient in (ln p, ln q, ln gamma) of the repeat customers' mean
    values (Fader & Hardie 2013, the marginal density of z given x):

    ln f = ln G(px+q) - ln G(px) - ln G(q) + q ln gamma + (px-1) ln z + px ln x
           - (px+q) ln(gamma + x z)
    """
    p, q, gamma = np.exp(log_params)
    xs, counts = data.distinct_x, data.x_weight
    px = p * xs
    # Terms of x alone, once per distinct x.
    per_x = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma) + px * np.log(xs)
    d_per_x_p = xs * (digamma(px + q) - digamma(px) + np.log(xs))
    d_per_x_q = digamma(px + q) - digamma(q) + np.log(gamma)
    # Per customer only the tail gamma + x z changes with the parameters.
    tail = gamma + data.xz
    log_tail = np.log(tail)
    inv_tail = 1.0 / tail
    sum_log_tail = float(log_tail.sum())
    sum_x_log_tail = float(data.x @ log_tail)
    sum_inv_tail = float(inv_tail.sum())
    sum_x_inv_tail = float(data.x @ inv_tail)
    value = (
        counts @ per_x
        + p * data.sum_x_log_z
        - data.sum_log_z
        - p * sum_x_log_tail
        - q * sum_log_tail
    )
    d_p = counts @ d_per_x_p + data.sum_x_log_z - sum_x_log_tail
    d_q = counts @ d_per_x_q - sum_log_tail
    d_gamma = counts.sum() * q / gamma - p * sum_x_inv_tail - q * sum_inv_tail
    return float(value), np.array([d_p * p, d_q * q, d_gamma * gamma])


def fit_gamma_gamma(x: FloatArray, mean_value: FloatArray) -> GammaGamma:
    """Fit Gamma-Gamma to customers with repeat transactions (rows with x = 0 are ignored).

    Example
    -------
    >>> import numpy as np
    >>> spend = fit_gamma_gamma(np.array([1.0, 2, 3, 1, 0]), np.array([10.0, 20, 15, 12, np.nan]))
    >>> sorted(spend.parameters)
    ['gamma', 'p', 'q']
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.asarray(mean_value, dtype=np.float64)
    repeat = (x > 0) & np.isfinite(z)
    # In one order (by x, then z), so that the warm start's sample, and so the fit, does not
    # depend on the order of the customers.
    order = np.lexsort((z[repeat], x[repeat]))
    x, z = x[repeat][order], z[repeat][order]
    if len(x) < 2:
        raise InvalidInput("spend needs at least two customers with repeat transactions")
    if np.any(z <= 0):
        raise InvalidInput("mean repeat spend must be positive for every repeat customer")
    # Start from moments: p near 1 per transaction, q and gamma around the mean value.
    start = np.log([1.0, 2.0, float(np.mean(z))])
    data = SpendData.of(x, z)
    if len(x) > WARM_START_SAMPLE:
        pick = np.random.default_rng(0).integers(0, len(x), WARM_START_SAMPLE)
        sample = SpendData.of(x[pick], z[pick])
        fit = maximise_from_sample(
            lambda params: log_likelihood(params, data),
            float(len(x)),
            lambda params: log_likelihood(params, sample),
            float(len(pick)),
            start,
        )
    else:
        fit = maximise(lambda params: log_likelihood(params, data), start, float(len(x)))
    p, q, gamma = fit.parameters
    return GammaGamma(
        p=float(p),
        q=float(q),
        gamma=float(gamma),
        log_likelihood=fit.log_likelihood,
        converged=fit.converged,
        at_bound=tuple(("p", "q", "gamma")[i] for i in fit.at_bound),
    )
