"""The MBG/NBD model of repeat purchasing (Batislam, Denizel & Filiztekin 2007, "Empirical
validation and comparison of models for customer base analysis", International Journal of
Research in Marketing 24(3), 201-209).

BG/NBD with one change: a customer can also drop out right after the first purchase, so a
customer who never came back is not certainly active (in BG/NBD P(alive) is 1 at x = 0). With
lambda ~ Gamma(r, alpha) and p ~ Beta(a, b), the likelihood is

    L = B(a, b+x+1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + B(a+1, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

for every x, including x = 0. Hand-written for the reasons given in
:mod:`cornerstore.learn.bgnbd`; terms of x alone are computed once per distinct x.

Example
-------
>>> import numpy as np
>>> model = MbgNbd(r=0.5, alpha=5.0, a=0.5, b=3.0)
>>> bool(model.probability_alive(np.array([0.0]), np.array([0.0]), np.array([30.0]))[0] < 1)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import hyp2f1

from cornerstore.learn.bgnbd import (
    beta_geometric_log_likelihood,
    draw_purchase_histories,
    fit_beta_geometric,
)
from cornerstore.learn.fitting import (
    CustomerGroups,
    FloatArray,
    PurchaseModel,
)


@dataclass(frozen=True)
class MbgNbd(PurchaseModel):
    """An MBG/NBD model with its parameters and, when fitted, the fit's log-likelihood."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    converged: bool = True
    at_bound: tuple[str, ...] = ()
    name: ClassVar[str] = "mbgnbd"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")

    def probability_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """P(active | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))
        (Batislam et al. 2007)."""
        x = np.asarray(x, dtype=np.float64)
        log_ratio = (self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + np.asarray(t_x)))
        return np.asarray(1.0 / (1.0 + self.a / (self.b + x) * np.exp(log_ratio)))

    def purchases_if_alive(self, t: float, x: FloatArray, T: FloatArray) -> FloatArray:
        """Expected purchases in (T, T + t] of a customer active at T (Batislam et al. 2007's
        conditional expectation divided by P(alive)):
        (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; z)],
        z = t/(alpha+T+t)."""
        x = np.asarray(x, dtype=np.float64)
        z = t / (self.alpha + T + t)
        power = np.exp((self.r + x) * np.log((self.alpha + T) / (self.alpha + T + t)))
        f = hyp2f1(self.r + x, self.b + x + 1, self.a + self.b + x, z)
        return np.asarray((self.a + self.b + x) / (self.a - 1) * (1.0 - power * f))


def simulate_mbgnbd(
    r: float, alpha: float, a: float, b: float, T: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Draw (x, t_x) for customers observed for ``T`` periods from the MBG/NBD process: as
    :func:`~cornerstore.learn.bgnbd.simulate_bgnbd`, but dropout can also follow the first
    purchase, so the repeats before dropout are K - 1 with K ~ Geometric(p).

    Example
    -------
    >>> x, t_x = simulate_mbgnbd(0.5, 6.0, 0.9, 1.6, np.full(3, 39.0), np.random.default_rng(0))
    >>> x.shape
    (3,)
    """
    T = np.asarray(T, dtype=np.float64)
    n = len(T)
    rate = rng.gamma(r, 1.0 / alpha, n)
    p = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    return draw_purchase_histories(rate, (rng.geometric(p) - 1).astype(np.float64), T, rng)


def log_likelihood(log_params: FloatArray, groups: CustomerGroups) -> tuple[float, FloatArray]:
    """Total MBG/NBD log-likelihood and its gradient in (ln r, ln alpha, ln a, ln b).

    As for BG/NBD, ln L = A1 + A2 + ln(exp(A3) + exp(A4)) with A1 = ln G(r+x) - ln G(r)
    + r ln alpha, A2 = ln G(a+b) + ln G(b+x+1) - ln G(b) - ln G(a+b+x+1),
    A3 = -(r+x) ln(alpha+T) and A4 = ln a - ln(b+x) - (r+x) ln(alpha+t_x).
    """
    return beta_geometric_log_likelihood(log_params, groups, dropout_after_first=True)


def fit_mbgnbd(x: FloatArray, t_x: FloatArray, T: FloatArray) -> MbgNbd:
    """Fit MBG/NBD by maximum likelihood to frequency ``x``, recency ``t_x`` and age ``T``.

    Example
    -------
    >>> import numpy as np
    >>> model = fit_mbgnbd(np.array([0.0, 1.0, 3.0, 0.0]), np.array([0.0, 2.0, 8.0, 0.0]),
    ...                    np.array([10.0, 9.0, 10.0, 4.0]))
    >>> sorted(model.parameters)
    ['a', 'alpha', 'b', 'r']
    """
    return fit_beta_geometric(MbgNbd, log_likelihood, x, t_x, T)
