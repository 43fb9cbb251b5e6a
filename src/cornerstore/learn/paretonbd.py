"""The Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987, "Counting Your
Customers: Who Are They and What Will They Do Next?", Management Science 33(1), 1-24).

While active a customer buys at rate lambda ~ Gamma(r, alpha); the customer's unobserved lifetime
is exponential with rate mu ~ Gamma(s, beta), so dropout can happen at any time, not only after
a purchase as in BG/NBD.

The likelihood is usually written with Gauss hypergeometric functions (Fader & Hardie 2005, "A
Note on Deriving the Pareto/NBD Model and Related Expressions"), whose derivatives in the
parameters have no convenient closed form. Here it is written from the same note's starting
point, averaging over lambda and over the dropout time tau in (t_x, T]:

    L = G(r+x) alpha^r beta^s / G(r) * [ (alpha+T)^-(r+x) (beta+T)^-s
                                         + s * integral_{t_x}^{T} (alpha+tau)^-(r+x)
                                                                  (beta+tau)^-(s+1) dtau ]

The integrand is smooth and positive, so 32-point Gauss-Legendre quadrature is exact to double
precision for the histories seen in practice, and the gradient is that of the quadrature sum,
exact for the objective being maximised. Hand-written for the reasons given in
:mod:`cornerstore.learn.bgnbd`.

Example
-------
>>> import numpy as np
>>> model = ParetoNbd(r=0.5534, alpha=10.58, s=0.6061, beta=11.67)
>>> bool(model.probability_alive(np.array([0.0]), np.array([0.0]), np.array([38.86]))[0] < 1)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import digamma, gammaln

from cornerstore.learn.fitting import (
    CustomerGroups,
    FloatArray,
    PurchaseModel,
    fit_histories,
)

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(32)


@dataclass(frozen=True)
class ParetoNbd(PurchaseModel):
    """A Pareto/NBD model with its parameters and, when fitted, the fit's log-likelihood."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float = float("nan")
    converged: bool = True
    at_bound: tuple[str, ...] = ()
    name: ClassVar[str] = "paretonbd"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")

    def probability_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """P(active at T | x, t_x, T): the share of the likelihood from "still active at T"."""
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        log_alive, log_dropped = _log_terms(self.r, self.alpha, self.s, self.beta, x, t_x, T)[:2]
        return np.asarray(np.exp(log_alive - np.logaddexp(log_alive, log_dropped)))

    def purchases_if_alive(self, t: float, x: FloatArray, T: FloatArray) -> FloatArray:
        """Expected purchases in (T, T + t] of a customer active at T (Schmittlein et al. 1987,
        the conditional expectation divided by P(alive)):
        (r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)], and its limit
        (r+x)(beta+T)/(alpha+T) * ln((beta+T+t)/(beta+T)) at s = 1."""
        x = np.asarray(x, dtype=np.float64)
        log_q = np.log((self.beta + T) / (self.beta + T + t))
        s1 = self.s - 1
        horizon = -np.expm1(s1 * log_q) / s1 if abs(s1) > 1e-9 else -log_q
        return np.asarray((self.r + x) * (self.beta + T) / (self.alpha + T) * horizon)


def _log_terms(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """ln of the "active at T" term, ln of s times the dropout integral, and the quadrature
    points: (log_alive, log_dropped, tau, node log-weights, node shares of the integral)."""
    rx = (r + x)[:, None]
    half = ((T - t_x) / 2)[:, None]
    tau = t_x[:, None] + half * (1 + _NODES[None, :])
    log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    with np.errstate(divide="ignore"):
        log_node = (
            np.log(_WEIGHTS)[None, :]
            + np.log(half)
            - rx * np.log(alpha + tau)
            - (s + 1) * np.log(beta + tau)
        )
    top = np.max(log_node, axis=1, keepdims=True)
    safe_top = np.where(np.isfinite(top), top, 0.0)
    total = np.sum(np.exp(log_node - safe_top), axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_integral = (safe_top + np.log(total))[:, 0]
    shares = np.exp(log_node - safe_top) / np.where(total > 0, total, 1.0)
    return log_alive, np.log(s) + log_integral, tau, log_node, shares


def log_likelihood(log_params: FloatArray, groups: CustomerGroups) -> tuple[float, FloatArray]:
    """Total Pareto/NBD log-likelihood and its gradient in (ln r, ln alpha, ln s, ln beta)."""
    r, alpha, s, beta = np.exp(log_params)
    xs, counts = groups.distinct_x, groups.x_weight
    x, t_x, T, w = groups.x, groups.t_x, groups.T, groups.weight
    # Terms of x alone, once per distinct x.
    log_gamma_ratio = gammaln(r + xs) - gammaln(r)
    d_gamma_ratio = digamma(r + xs) - digamma(r)

    log_alive, log_dropped, tau, _, shares = _log_terms(r, alpha, s, beta, x, t_x, T)
    mix = np.logaddexp(log_alive, log_dropped)
    w_alive = np.exp(log_alive - mix)
    w_dropped = 1.0 - w_alive
    n = w.sum()
    rx = r + x

    value = counts @ log_gamma_ratio + n * (r * np.log(alpha) + s * np.log(beta)) + w @ mix
    mean_log_alpha_tau = np.sum(shares * np.log(alpha + tau), axis=1)
    mean_inv_alpha_tau = np.sum(shares / (alpha + tau), axis=1)
    mean_log_beta_tau = np.sum(shares * np.log(beta + tau), axis=1)
    mean_inv_beta_tau = np.sum(shares / (beta + tau), axis=1)
    d_r = (
        counts @ d_gamma_ratio
        + n * np.log(alpha)
        - w @ (w_alive * np.log(alpha + T) + w_dropped * mean_log_alpha_tau)
    )
    d_alpha = n * r / alpha - w @ (rx * (w_alive / (alpha + T) + w_dropped * mean_inv_alpha_tau))
    d_s = n * np.log(beta) + w @ (
        -w_alive * np.log(beta + T) + w_dropped * (1 / s - mean_log_beta_tau)
    )
    d_beta = n * s / beta - w @ (w_alive * s / (beta + T) + w_dropped * (s + 1) * mean_inv_beta_tau)
    gradient = np.array([d_r * r, d_alpha * alpha, d_s * s, d_beta * beta])
    return float(value), gradient


def fit_paretonbd(x: FloatArray, t_x: FloatArray, T: FloatArray) -> ParetoNbd:
    """Fit Pareto/NBD by maximum likelihood to frequency ``x``, recency ``t_x`` and age ``T``.

    Example
    -------
    >>> import numpy as np
    >>> model = fit_paretonbd(np.array([0.0, 1.0, 3.0, 0.0]), np.array([0.0, 2.0, 8.0, 0.0]),
    ...                       np.array([10.0, 9.0, 10.0, 4.0]))
    >>> sorted(model.parameters)
    ['alpha', 'beta', 'r', 's']
    """
    fit = fit_histories(
        log_likelihood, x, t_x, T, scale_positions=(1, 3), mixtures=((0, 1), (2, 3))
    )
    r, alpha, s, beta = fit.parameters
    return ParetoNbd(
        r=float(r),
        alpha=float(alpha),
        s=float(s),
        beta=float(beta),
        log_likelihood=fit.log_likelihood,
        converged=fit.converged,
        at_bound=tuple(ParetoNbd.PARAMETERS[i] for i in fit.at_bound),
    )
