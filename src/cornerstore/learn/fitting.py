"""What every model fit shares: customers grouped by identical histories, and a maximum
likelihood search in log parameters with analytic gradients.

Customers with the same (x, t_x, T) contribute the same likelihood, so each distinct history is
evaluated once and weighted by how many customers have it; day-level data of a million customers
has only some tens of thousands of distinct histories. Terms that depend only on the purchase
count x (log-gamma and digamma functions) are evaluated once per distinct x.

Example
-------
>>> import numpy as np
>>> groups = group_customers(np.array([0.0, 0.0, 2.0]), np.array([0.0, 0.0, 3.0]),
...                          np.array([5.0, 5.0, 5.0]))
>>> groups.weight.tolist(), groups.distinct_x.tolist()
([2.0, 1.0], [0.0, 2.0])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.optimize import minimize

from cornerstore.errors import InvalidInput

FloatArray = NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]


@dataclass(frozen=True)
class CustomerGroups:
    """Distinct customer histories with their counts; per-group arrays share one order."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray
    distinct_x: FloatArray
    """The distinct purchase counts, ascending."""
    x_index: NDArray[np.intp]
    """For each group, the position of its x in ``distinct_x``."""
    x_weight: FloatArray
    """Customers per distinct x."""

    @property
    def customers(self) -> float:
        return float(self.weight.sum())


def dense_codes(*columns: FloatArray) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray]:
    """Group rows by equal values in every column: (first row of each group, group of each row,
    rows per group). One 1-D ``np.unique`` per column, much faster than ``unique(axis=0)``."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        _, codes = np.unique(column, return_inverse=True)
        key = key * (int(codes.max(initial=0)) + 1) + codes
    _, first, inverse, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    return first, inverse.astype(np.intp), counts.astype(np.float64)


def group_customers(x: FloatArray, t_x: FloatArray, T: FloatArray) -> CustomerGroups:
    """Group customers by identical (frequency, recency, age)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    check_histories(x, t_x, T)
    # A hash group-by: several times faster than sorting a million rows on three keys.
    groups = (
        pl.DataFrame({"x": x, "t_x": t_x, "T": T})
        .group_by("x", "t_x", "T")
        .len()
        .sort("x", "t_x", "T")
    )
    gx = groups["x"].to_numpy()
    distinct_x, x_index = np.unique(gx, return_inverse=True)
    return CustomerGroups(
        x=gx,
        t_x=groups["t_x"].to_numpy(),
        T=groups["T"].to_numpy(),
        weight=groups["len"].to_numpy().astype(np.float64),
        distinct_x=distinct_x,
        x_index=x_index.astype(np.intp),
        x_weight=np.bincount(
            x_index, weights=groups["len"].to_numpy(), minlength=len(distinct_x)
        ).astype(np.float64),
    )


def check_histories(x: FloatArray, t_x: FloatArray, T: FloatArray) -> None:
    """Refuse histories no model can describe."""
    if not (len(x) == len(t_x) == len(T)):
        raise InvalidInput("frequency, recency and T must have the same length")
    if len(x) == 0:
        raise InvalidInput("there are no customers to fit")
    if (
        not np.all(np.isfinite(x) & np.isfinite(t_x) & np.isfinite(T))
        or np.any(x < 0)
        or np.any(t_x < 0)
        or np.any(t_x > T)
        or np.any((x == 0) & (t_x != 0))
    ):
        raise InvalidInput("histories need 0 <= recency <= T, and recency 0 without repeats")


@dataclass(frozen=True)
class MaximumLikelihood:
    """The outcome of a fit: parameters, total log-likelihood, and whether the search converged."""

    parameters: FloatArray
    log_likelihood: float
    converged: bool
    iterations: int


def maximise(objective: Objective, start: FloatArray, customers: float) -> MaximumLikelihood:
    """Maximise a log-likelihood over log parameters with L-BFGS-B and its analytic gradient.

    ``objective(log_params)`` returns the total log-likelihood and its gradient with respect to
    the log parameters. The mean per customer is minimised so that tolerances do not depend on
    the number of customers.
    """

    def negative_mean(log_params: FloatArray) -> tuple[float, FloatArray]:
        value, gradient = objective(log_params)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(log_params)
        return -value / customers, -gradient / customers

    result = minimize(
        negative_mean,
        start,
        jac=True,
        method="L-BFGS-B",
        # Log parameters beyond +-20 mean a degenerate fit; the bounds keep exp() finite.
        bounds=[(-20.0, 20.0)] * len(start),
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8},
    )
    log_params = np.asarray(result.x, dtype=np.float64)
    value, gradient = objective(log_params)
    # L-BFGS-B may stop in a line search within rounding of the optimum: judge by the gradient.
    flat = float(np.max(np.abs(gradient))) / customers < 1e-6
    return MaximumLikelihood(
        parameters=np.exp(log_params),
        log_likelihood=float(value),
        converged=bool(result.success) or flat,
        iterations=int(result.nit),
    )


def starting_rate(groups: CustomerGroups) -> float:
    """A starting scale for the purchase-rate gamma (alpha): mean age over mean repeats, so that
    the first guess of the rate r/alpha is of the right size in weeks or in days."""
    mean_x = float(np.average(groups.x, weights=groups.weight))
    mean_T = float(np.average(groups.T, weights=groups.weight))
    return max(mean_T / max(mean_x, 0.1), 1e-3)


def fit_histories(
    log_likelihood: Callable[[FloatArray, CustomerGroups], tuple[float, FloatArray]],
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    scale_positions: tuple[int, ...],
    parameters: int = 4,
) -> MaximumLikelihood:
    """Group the histories and maximise ``log_likelihood`` from 1 for shape parameters and
    :func:`starting_rate` for the time-scale parameters at ``scale_positions``."""
    groups = group_customers(x, t_x, T)
    start = np.ones(parameters)
    start[list(scale_positions)] = starting_rate(groups)
    return maximise(lambda p: log_likelihood(p, groups), np.log(start), groups.customers)


class PurchaseModel(ABC):
    """What the purchase-count models share: E[Y(t) | x, t_x, T] is P(alive) times the
    expected purchases of a customer known to be active, which depends on (x, T) only."""

    name: ClassVar[str]
    PARAMETERS: ClassVar[tuple[str, ...]]
    log_likelihood: float
    converged: bool

    @property
    def parameters(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.PARAMETERS}

    @abstractmethod
    def probability_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """P(active at T | x, t_x, T)."""

    @abstractmethod
    def purchases_if_alive(self, t: float, x: FloatArray, T: FloatArray) -> FloatArray:
        """Expected purchases in (T, T + t] of a customer known to be active at T."""

    def expected_purchases(
        self, t: float, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next t periods."""
        return self.purchases_if_alive(t, x, T) * self.probability_alive(x, t_x, T)
