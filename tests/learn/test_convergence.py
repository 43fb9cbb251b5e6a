"""Fits that say when they did not converge, and give the same answer on the same data.

When every customer has the same dropout chance, the beta (or gamma) of dropout collapses to a
point: its two parameters grow together without limit and the search ends at the optimiser's
bound. Such a fit is reported as not converged, with the parameters at the bound named, and the
value model falls back to one that converged.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from cornerstore.learn.bgnbd import BgNbd, fit_bgnbd, simulate_bgnbd
from cornerstore.learn.clv import ClvFit, choose_model, describe_fit, fit_clv
from cornerstore.learn.fitting import WARM_START_SAMPLE, FloatArray
from cornerstore.learn.mbgnbd import MbgNbd, fit_mbgnbd
from cornerstore.learn.paretonbd import ParetoNbd, fit_paretonbd
from cornerstore.learn.transactions import RfmSummary

Histories = tuple[FloatArray, FloatArray, FloatArray]


def same_dropout_for_everyone(customers: int = 3000, seed: int = 2) -> Histories:
    """Histories where every customer drops out with chance 1% after each purchase: a beta of
    dropout with a = 1e6, b = 9.9e7 is a point for all purposes."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(20.0, 100.0, customers).round()
    x, t_x = simulate_bgnbd(1.0, 6.0, 1e6, 9.9e7, T, rng)
    return x, t_x, T


def shuffled(histories: Histories, seed: int = 3) -> Histories:
    order = np.random.default_rng(seed).permutation(len(histories[0]))
    return tuple(v[order] for v in histories)  # type: ignore[return-value]


def test_a_dropout_shared_by_every_customer_leaves_b_at_the_bound_and_not_converged() -> None:
    histories = same_dropout_for_everyone()

    model = fit_bgnbd(*histories)

    assert (model.converged, model.at_bound) == (False, ("b",))
    assert model.b == pytest.approx(np.exp(20.0))
    assert model.a / (model.a + model.b) == pytest.approx(0.01, rel=0.15)


def test_pareto_nbd_with_one_dropout_rate_for_everyone_leaves_beta_at_the_bound() -> None:
    model = fit_paretonbd(*same_dropout_for_everyone())

    assert (model.converged, model.at_bound) == (False, ("beta",))


@pytest.mark.parametrize("fit", [fit_bgnbd, fit_paretonbd, fit_mbgnbd])
def test_fitting_twice_and_on_shuffled_rows_gives_the_same_parameters(fit: object) -> None:
    histories = same_dropout_for_everyone()

    first = fit(*histories)  # type: ignore[operator]
    again = fit(*histories)  # type: ignore[operator]
    reordered = fit(*shuffled(histories))  # type: ignore[operator]

    assert again.parameters == first.parameters
    assert reordered.parameters == pytest.approx(first.parameters, rel=1e-9)


def test_a_large_fit_started_from_a_sample_does_not_depend_on_the_order_of_the_rows() -> None:
    rng = np.random.default_rng(11)
    T = rng.uniform(20.0, 100.0, 2 * WARM_START_SAMPLE)
    x, t_x = simulate_bgnbd(0.5, 6.0, 0.8, 2.5, T, rng)

    first = fit_bgnbd(x, t_x, T)
    reordered = fit_bgnbd(*shuffled((x, t_x, T)))

    assert reordered.parameters == pytest.approx(first.parameters, rel=1e-9)
    assert (first.converged, first.at_bound) == (True, ())


def test_cdnow_converges_inside_the_bounds(cdnow_histories: Histories) -> None:
    models = [fit(*cdnow_histories) for fit in (fit_bgnbd, fit_paretonbd, fit_mbgnbd)]

    assert [(m.converged, m.at_bound) for m in models] == [(True, ())] * 3


def test_a_model_that_did_not_converge_is_replaced_by_one_that_did() -> None:
    stuck = BgNbd(1.0, 6.0, 4e6, 4e8, log_likelihood=-100.0, converged=False, at_bound=("b",))
    pareto = ParetoNbd(1.0, 6.0, 0.5, 9.0, log_likelihood=-98.0)
    mbgnbd = MbgNbd(1.0, 6.0, 0.5, 3.0, log_likelihood=-99.0)

    model, note = choose_model([stuck, pareto, mbgnbd], [], asked="bgnbd")

    assert model is pareto
    assert note == "bgnbd did not converge (b is at the optimiser's bound); paretonbd did"


def test_when_no_model_converged_the_one_asked_for_is_kept_at_its_limit_and_said_so() -> None:
    stuck = BgNbd(1.0, 6.0, 1e6, 9.9e7, log_likelihood=-100.0, converged=False, at_bound=("b",))
    pareto = ParetoNbd(1.0, 6.0, 2e6, 4e8, log_likelihood=-98.0, converged=False,
                       at_bound=("beta",))  # fmt: skip

    model, note = choose_model([stuck, pareto], [], asked="bgnbd")

    assert model is stuck
    assert note == (
        "bgnbd did not converge (b is at the optimiser's bound); paretonbd did not converge "
        "(beta is at the optimiser's bound); kept bgnbd at that limit: every customer has the "
        "same dropout chance after a purchase, 1.00%"
    )


def summary_of(histories: Histories, holdout: FloatArray) -> RfmSummary:
    x, t_x, T = histories
    table = pl.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(len(x))],
            "frequency": x.astype(np.int64),
            "recency": t_x,
            "T": T,
            "monetary_value": pl.Series([None] * len(x), dtype=pl.Float64),
            "holdout_frequency": holdout.astype(np.int64),
        }
    )
    return RfmSummary(table, date(2026, 1, 1), "week", 26.0)


def test_auto_describes_which_models_did_not_converge_and_what_it_kept() -> None:
    histories = same_dropout_for_everyone()
    holdout = np.random.default_rng(5).poisson(1.0, len(histories[0])).astype(np.float64)

    fit: ClvFit = fit_clv(summary_of(histories, holdout), model="auto", spend=False)
    report = describe_fit(fit)

    assert (report["converged"], report["at_bound"]) == (False, [fit.model.at_bound[0]])
    assert report["note"].startswith(
        "bgnbd did not converge (b is at the optimiser's bound); paretonbd did not converge "
        "(beta is at the optimiser's bound); mbgnbd did not converge (b is at the optimiser's "
        f"bound); kept {fit.model.name} at that limit: every customer has the same dropout"
    )
