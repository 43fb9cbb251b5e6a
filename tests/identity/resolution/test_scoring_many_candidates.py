"""``Scorer.score`` adds up weights without explaining each candidate: its weights are explain's.

A common surname brings hundreds of candidates to one arrival, so ``score`` tests levels on the
reference columns in place; the match weights it gives must be exactly (not nearly) the prior
plus the sum of ``explain``'s field weights, on every level of every comparison.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cornerstore.identity.resolution.model import IdentityModel, weight_of
from cornerstore.identity.resolution.records import PreparedRecords, prepare_record
from cornerstore.identity.resolution.scorer import Scorer

RAW_FIELDS = ["first_name", "last_name", "email", "phone", "address", "city", "postcode"]


def _explained_weights(scorer: Scorer, record: dict[str, Any], exclude: int | None) -> list:
    others = max(1, len(scorer) - (exclude is not None))
    prior = weight_of(scorer.model.prior(others))
    return [
        (c.position, prior + sum(f.weight for f in scorer.explain(record, scorer.row(c.position))))
        for c in scorer.score(record, exclude)
    ]


def _scored_weights(scorer: Scorer, record: dict[str, Any], exclude: int | None) -> list:
    return [(c.position, c.match_weight) for c in scorer.score(record, exclude)]


def _levels_reached(scorer: Scorer, record: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (f.field, f.level)
        for c in scorer.score(record)
        for f in scorer.explain(record, scorer.row(c.position))
    }


@pytest.fixture(scope="module")
def scorer(messy_records: PreparedRecords, messy_model: IdentityModel) -> Scorer:
    """A scorer the tests only read (none adds or removes records)."""
    return Scorer(messy_model, messy_records)


def test_every_stored_records_candidates_score_as_explained(
    scorer: Scorer, messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    reached: set[tuple[str, str]] = set()
    pairs = 0

    for i in range(len(messy_records)):
        record = scorer.row(i)
        scored = _scored_weights(scorer, record, i)
        assert scored == _explained_weights(scorer, record, i)
        pairs += len(scored)
        if i % 10 == 0:
            reached |= _levels_reached(scorer, record)

    every_level = {(c.name, lv.label) for c in messy_model.comparisons for lv in c.levels}
    assert pairs > 5_000
    # Nearly every level is met (a few, such as a swapped surname, the messy set rarely makes).
    assert len(reached) >= len(every_level) - 6


def _garbled(rng: random.Random, raw: dict[str, Any]) -> dict[str, Any]:
    """A record of the same person typed again: fields dropped, letters slipped, names swapped."""
    out = {k: raw.get(k) for k in RAW_FIELDS}
    for field in RAW_FIELDS:
        value = out[field]
        roll = rng.random()
        if not value:
            continue
        if roll < 0.15:
            out[field] = None
        elif roll < 0.35 and len(value) > 2:
            j = rng.randrange(len(value) - 1)
            out[field] = value[:j] + value[j + 1] + value[j] + value[j + 2 :]
        elif roll < 0.45 and len(value) > 1:
            out[field] = value[: rng.randrange(1, len(value))]
        elif roll < 0.5 and field == "first_name":
            out[field] = value[0]
    if rng.random() < 0.1:
        out["first_name"], out["last_name"] = out["last_name"], out["first_name"]
    return out


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_an_arrivals_candidates_score_as_explained(
    messy_rows: list[dict[str, Any]], scorer: Scorer, seed: int
) -> None:
    rng = random.Random(seed)
    arrival = prepare_record(_garbled(rng, rng.choice(messy_rows)))

    assert _scored_weights(scorer, arrival, None) == _explained_weights(scorer, arrival, None)


def test_weights_follow_records_added_and_removed(
    messy_rows: list[dict[str, Any]], messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    # Term frequencies change as records come and go; the weights must follow them.
    scorer = Scorer(messy_model, messy_records)
    rng = random.Random(7)
    surname = messy_records.row(0)["last_name"]
    before = _scored_weights(scorer, messy_records.row(0), 0)

    for n in range(40):
        raw = _garbled(rng, rng.choice(messy_rows))
        raw["last_name"] = surname
        scorer.add(f"added-{n}", prepare_record(raw))
    scorer.remove(1)
    record = messy_records.row(0)

    after = _scored_weights(scorer, record, 0)
    assert after == _explained_weights(scorer, record, 0)
    assert dict(after) != dict(before)
