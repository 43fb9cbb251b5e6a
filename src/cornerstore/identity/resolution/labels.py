"""Staff decisions as labels: calibrate a freshly trained model on the pairs people judged.

A pair reaches a reviewer because the model scored it in the grey zone, and an undone merge
because the model (or an identifier) was sure of it; neither is a random sample of matches, so
estimating m from them would teach the model that matches look like grey-zone pairs. Given its
score, though, whether such a pair is one person is exactly what calibration asks: if reviewers
accept nine in ten pairs the model calls even odds, the model is too cautious for this business
by about three bits, whatever drew the pairs. So the labels move one number, the prior (how many
matches a record has, hence every pair's odds), by the shift that makes the model's probabilities
fit the decisions best (logistic regression with the weights as the only feature and a fixed
slope of one, i.e. Platt scaling with the slope pinned, made robust to a few labels that
contradict a certain model), held towards no shift by a normal prior so that a handful of
decisions cannot swing it far.

Written here with numpy rather than with scikit-learn: scikit-learn's logistic regression has no
robust likelihood and no pinned slope, and one parameter is a grid and a golden-section search.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from cornerstore.identity.resolution.clustering import names_conflict
from cornerstore.identity.resolution.model import Calibration
from cornerstore.identity.resolution.scorer import Scorer

#: How far (standard deviation, in bits) the shift may stray from zero before the decisions
#: must outweigh the penalty: 2 bits turn even odds into 80% or 20%.
SHIFT_SPREAD_BITS = 2.0
#: No shift beyond this many bits, however one-sided the decisions.
MAX_SHIFT_BITS = 10.0
#: The chance that a label says the opposite of what the (calibrated) model would.
LABEL_SLIP = 0.02


def _agreements(weights: Sequence[float], matches: Sequence[bool], shift: float) -> int:
    return sum((w + shift >= 0.0) == y for w, y in zip(weights, matches, strict=True))


def calibration_shift(
    weights: Sequence[float],
    matches: Sequence[bool],
    spread: float = SHIFT_SPREAD_BITS,
    slip: float = LABEL_SLIP,
) -> float:
    """The shift in bits that best fits labelled pairs' match weights (prior included) to
    their labels, held towards 0 by a normal prior of standard deviation ``spread`` bits.

    A label is taken to follow the shifted model's probability ``p = 1 / (1 + 2 ** -(weight +
    shift))`` except for a small chance ``slip`` that it says the opposite (a reviewer's slip,
    or a pair the model is sure of for reasons no shift should undo): without it, five pairs
    the model calls certain but staff rejected would drag every other pair down by many bits.
    The penalised log likelihood is maximised over a grid of 0.01 bits within
    ``MAX_SHIFT_BITS`` and then to 1e-6 by golden-section search around the best point.

    >>> calibration_shift([], [])
    0.0
    >>> round(calibration_shift([0.0] * 20, [True] * 18 + [False] * 2), 2)
    2.63
    >>> calibration_shift([0.0, 0.0], [True, False])
    0.0
    """
    if not weights:
        return 0.0
    w = np.asarray(weights, dtype=float)
    y = np.asarray(matches, dtype=bool)

    def objective(shift: float) -> float:
        p = 1.0 / (1.0 + np.exp2(-np.clip(w + shift, -200.0, 200.0)))
        p = slip + (1.0 - 2.0 * slip) * p
        fit = np.log(np.where(y, p, 1.0 - p)).sum()
        return float(fit - shift * shift / (2.0 * spread * spread))

    grid = np.arange(-MAX_SHIFT_BITS, MAX_SHIFT_BITS + 1e-9, 0.01)
    best = float(grid[int(np.argmax([objective(g) for g in grid]))])
    low, high = max(-MAX_SHIFT_BITS, best - 0.01), min(MAX_SHIFT_BITS, best + 0.01)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    while high - low > 1e-6:
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if objective(a) >= objective(b):
            high = b
        else:
            low = a
    shift = round((low + high) / 2.0, 4)
    return 0.0 if shift == 0 else shift


def weigh_labelled(
    scorer: Scorer, records: int, pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any], bool]]
) -> tuple[list[float], list[bool], int]:
    """Match weights (prior for ``records`` records included) of labelled pairs of prepared
    records, and their labels; pairs whose first names conflict are set aside and counted.
    """
    weights: list[float] = []
    matches: list[bool] = []
    set_aside = 0
    for left, right, match in pairs:
        if names_conflict(left, right):
            set_aside += 1
            continue
        weights.append(scorer.pair_weight(left, right, records - 1))
        matches.append(match)
    return weights, matches, set_aside


def calibrate(
    weights: Sequence[float], matches: Sequence[bool], unreadable: int = 0, set_aside: int = 0
) -> Calibration:
    """Calibrate on labelled pairs: their match weights under the new model (prior included)
    and whether staff said each is one person.

    >>> c = calibrate([1.0, 3.0, -0.5, 4.0], [True, True, True, False])
    >>> (c.accepted, c.rejected, c.agreed_before)
    (3, 1, 2)
    """
    shift = calibration_shift(weights, matches)
    accepted = sum(1 for y in matches if y)
    return Calibration(
        accepted=accepted,
        rejected=len(matches) - accepted,
        shift_bits=shift,
        agreed_before=_agreements(weights, matches, 0.0),
        agreed_after=_agreements(weights, matches, shift),
        unreadable=unreadable,
        set_aside=set_aside,
    )
