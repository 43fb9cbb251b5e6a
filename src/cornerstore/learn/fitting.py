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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from cornerstore.errors import InvalidInput

FloatArray = NDArray[np.float64]
WARM_START_SAMPLE = 20_000
"""Above this many distinct histories (or spend customers) a fit starts from a sample's fit."""
LOG_BOUND = 20.0
"""Log parameters are searched in [-LOG_BOUND, LOG_BOUND]: a parameter at e^20 (about 4.9e8) or
e^-20 means the data do not pin it down, and the bounds keep exp() finite."""
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
    """Group rows by equal values in every column: (a row of each group, the group of each row,
    rows per group).

    Columns of small non-negative integers (purchase counts) are their own codes, other columns
    are coded by one 1-D ``np.unique``; the combined code is then made dense by counting, not
    sorting, when its range is small (as for counts and ages), else by ``np.unique``.
    """
    rows = len(columns[0])
    key = np.zeros(rows, dtype=np.int64)
    span = 1
    for column in columns:
        codes, size = _column_codes(column)
        key = key * size + codes
        span *= size
    if span <= 4 * rows + 1_000_000:
        counts = np.bincount(key, minlength=span)
        used = np.flatnonzero(counts)
        code_of = np.zeros(span, dtype=np.intp)
        code_of[used] = np.arange(len(used))
        inverse = code_of[key]
        representative = np.zeros(len(used), dtype=np.intp)
        # Any row stands for its group: all its rows are equal in these columns.
        representative[inverse] = np.arange(rows)
        return representative, inverse, counts[used].astype(np.float64)
    _, first, inverse, group_counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    return first, inverse.astype(np.intp), group_counts.astype(np.float64)


def _column_codes(column: FloatArray) -> tuple[NDArray[np.int64], int]:
    low, high = float(column.min(initial=0.0)), float(column.max(initial=0.0))
    if low >= 0 and high < 2**20 and np.array_equal(column, np.floor(column)):
        return column.astype(np.int64), int(high) + 1
    # Hash the distinct values, then look each row up: few distinct values (ages in days) make
    # this much faster than sorting every row as np.unique would.
    values = np.sort(pl.Series(column).unique().to_numpy())
    return np.searchsorted(values, column).astype(np.int64), len(values)


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
    """The outcome of a fit: parameters, total log-likelihood, and whether the search converged.

    A search that ends with a parameter at the bound (``at_bound``, their positions) has not
    converged: the likelihood still rises beyond the bound, so there is no interior maximum.
    """

    parameters: FloatArray
    log_likelihood: float
    converged: bool
    iterations: int
    at_bound: tuple[int, ...] = ()


def _outcome(
    log_params: FloatArray, value: float, settled: bool, iterations: int
) -> MaximumLikelihood:
    at_bound = tuple(int(i) for i in np.flatnonzero(np.abs(log_params) >= LOG_BOUND - 1e-3))
    return MaximumLikelihood(
        parameters=np.exp(log_params),
        log_likelihood=float(value),
        converged=settled and not at_bound,
        iterations=iterations,
        at_bound=at_bound,
    )


@cache
def _blas_pools() -> ThreadpoolController:
    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[Any]:
    """Run BLAS and LAPACK on one thread. The optimiser's linear algebra is on 4 x 4 matrices,
    where OpenBLAS's threads only wait for each other, and on a busy machine a fit took ten to
    twenty times longer with them."""
    with _blas_pools().limit(limits=1, user_api="blas") as limits:
        yield limits


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

    with one_blas_thread():
        result = minimize(
            negative_mean,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start),
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8},
        )
    log_params = np.asarray(result.x, dtype=np.float64)
    value, gradient = objective(log_params)
    # L-BFGS-B may stop in a line search within rounding of the optimum: judge by the gradient.
    flat = float(np.max(np.abs(gradient))) / customers < 1e-6
    return _outcome(log_params, value, bool(result.success) or flat, int(result.nit))


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
    mixtures: tuple[tuple[int, int], ...],
    parameters: int = 4,
) -> MaximumLikelihood:
    """Group the histories and maximise ``log_likelihood`` from 1 for shape parameters and
    :func:`starting_rate` for the time-scale parameters at ``scale_positions``.

    ``mixtures`` are the positions of the two parameters of each mixing distribution (the
    gamma of purchase rates, the beta or gamma of dropout) whose ratio stays fixed as both grow
    (see :func:`settle_collapsed_mixtures`). The result depends on the histories only, not on
    their order: the groups are sorted, and a warm start samples the groups with a fixed seed.
    """
    groups = group_customers(x, t_x, T)
    start = np.ones(parameters)
    start[list(scale_positions)] = starting_rate(groups)
    log_start = np.log(start)

    def objective(p: FloatArray) -> tuple[float, FloatArray]:
        return log_likelihood(p, groups)

    if len(groups.x) <= WARM_START_SAMPLE:
        fit = maximise(objective, log_start, groups.customers)
    else:
        sample = _sample_groups(groups, WARM_START_SAMPLE)
        fit = maximise_from_sample(
            objective,
            groups.customers,
            lambda p: log_likelihood(p, sample),
            sample.customers,
            log_start,
        )
    return settle_collapsed_mixtures(objective, fit, mixtures, groups.customers)


def _sample_groups(groups: CustomerGroups, size: int) -> CustomerGroups:
    """``size`` customers drawn with a fixed seed from the sorted groups, so the same
    histories in any order give the same sample."""
    cumulative = np.cumsum(groups.weight)
    rng = np.random.default_rng(0)
    pick = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    pick = np.minimum(pick, len(cumulative) - 1)
    return group_customers(groups.x[pick], groups.t_x[pick], groups.T[pick])


def settle_collapsed_mixtures(
    objective: Objective,
    fit: MaximumLikelihood,
    mixtures: tuple[tuple[int, int], ...],
    customers: float,
) -> MaximumLikelihood:
    """Move a fit whose mixing distribution collapses to a point onto the bound, and search on.

    When every customer has nearly the same dropout probability (or purchase rate), a beta's
    (a, b) or a gamma's (shape, scale) grow together without limit at a fixed ratio: the
    likelihood keeps rising, ever more slowly, along that ridge, and L-BFGS-B stops wherever
    the rise falls below its tolerance, at 1e5 one day and 1e8 the next. For each mixture the
    pair is shifted together (same ratio) until the larger reaches the bound; if the likelihood
    there is about as high (within 1e-5 per customer), the search restarts from the shifted
    point and, if it ends as high as before (within rounding), its fit replaces the first, with
    that parameter at the bound and reported in ``at_bound``: the same answer on the same data,
    and an honest one. Losing a real spread between customers costs far more than 1e-5 each.
    """
    point = np.log(fit.parameters)
    shifted = point.copy()
    for pair in mixtures:
        positions = list(pair)
        probe = point.copy()
        probe[positions] += LOG_BOUND - float(np.max(point[positions]))
        value = objective(probe)[0]
        if np.isfinite(value) and value >= fit.log_likelihood - 1e-5 * customers:
            shifted[positions] = probe[positions]
    if np.array_equal(shifted, point):
        return fit
    settled = maximise(objective, shifted, customers)
    # Within rounding: at e^20 the terms of the likelihood are some 1e7 times larger.
    return settled if settled.log_likelihood >= fit.log_likelihood - 1e-7 * customers else fit


def maximise_from_sample(
    objective: Objective,
    customers: float,
    sample_objective: Objective,
    sample_customers: float,
    start: FloatArray,
) -> MaximumLikelihood:
    """Maximise a large data set's log-likelihood starting from a random sample's fit.

    The sample is fitted with :func:`maximise`; the Hessian of its mean log-likelihood at that
    optimum, by central differences of the analytic gradient, is then a good and fixed
    curvature for the whole data, whose per-customer mean has the same shape. Newton steps with
    it converge in a few evaluations of the full likelihood, where L-BFGS-B, learning the
    curvature afresh, needs fifteen or so. Falls back to :func:`maximise` if the sample's
    Hessian is not negative definite or a step fails to improve the likelihood.
    """
    near = maximise(sample_objective, start, sample_customers)
    point = np.log(near.parameters)
    hessian = _mean_hessian(sample_objective, point, sample_customers)
    with one_blas_thread():
        definite = np.all(np.isfinite(hessian)) and np.all(np.linalg.eigvalsh(hessian) < 0)
        inverse = np.linalg.inv(hessian) if definite else None
    if inverse is None:
        return maximise(objective, point, customers)
    value, gradient = objective(point)
    for iteration in range(1, 50):
        mean_gradient = gradient / customers
        if float(np.max(np.abs(mean_gradient))) < 1e-8:
            return _outcome(point, value, True, iteration)
        candidate = point - inverse @ mean_gradient
        if float(np.max(np.abs(candidate))) > LOG_BOUND:
            return maximise(objective, point, customers)
        new_value, new_gradient = objective(candidate)
        if not np.isfinite(new_value) or new_value < value - 1e-9 * abs(value):
            return maximise(objective, point, customers)
        point, value, gradient = candidate, new_value, new_gradient
    return maximise(objective, point, customers)


def _mean_hessian(objective: Objective, point: FloatArray, customers: float) -> FloatArray:
    step = 1e-5
    columns = [
        (objective(point + step * e)[1] - objective(point - step * e)[1]) / (2 * step * customers)
        for e in np.eye(len(point))
    ]
    hessian = np.array(columns).T
    return np.asarray((hessian + hessian.T) / 2, dtype=np.float64)


class PurchaseModel(ABC):
    """What the purchase-count models share: E[Y(t) | x, t_x, T] is P(alive) times the
    expected purchases of a customer known to be active, which depends on (x, T) only."""

    name: ClassVar[str]
    PARAMETERS: ClassVar[tuple[str, ...]]
    log_likelihood: float
    converged: bool
    at_bound: tuple[str, ...]
    """Names of the parameters the fit left at the optimiser's bound (then not converged)."""

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
