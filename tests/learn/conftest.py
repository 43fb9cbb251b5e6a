"""The CDNOW sample (Fader, Hardie & Lee 2005) summarised as in the papers: weekly, calibration
to 1997-09-30, a 39-week holdout. Read from tests/data (see its README)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cornerstore.learn.fitting import FloatArray
from cornerstore.learn.transactions import RfmSummary, read_transactions, summarise_rfm

CDNOW = Path(__file__).parents[1] / "data" / "cdnow_sample.txt"
CALIBRATION_END = date(1997, 9, 30)


@pytest.fixture(scope="session")
def cdnow() -> RfmSummary:
    return summarise_rfm(read_transactions(CDNOW), calibration_end=CALIBRATION_END)


@pytest.fixture(scope="session")
def cdnow_histories(cdnow: RfmSummary) -> tuple[FloatArray, FloatArray, FloatArray]:
    table = cdnow.table
    return (
        table["frequency"].to_numpy().astype(np.float64),
        table["recency"].to_numpy().astype(np.float64),
        table["T"].to_numpy().astype(np.float64),
    )


def numeric_gradient(
    function: Callable[[FloatArray], tuple[float, FloatArray]],
    point: FloatArray,
    step: float = 1e-6,
) -> FloatArray:
    """Central finite differences of a function returning (value, gradient)."""
    return np.array(
        [
            (function(point + step * e)[0] - function(point - step * e)[0]) / (2 * step)
            for e in np.eye(len(point))
        ]
    )


def sig3(value: float) -> str:
    """A number to three significant digits, as the papers print them."""
    return f"{value:.3g}"
