"""Staff decisions as labels: the next model learned is calibrated on them."""

from __future__ import annotations

import pytest

from cornerstore.access.caller import Caller
from cornerstore.identity.resolution import resolving
from cornerstore.identity.resolution.labels import (
    MAX_SHIFT_BITS,
    calibrate,
    calibration_shift,
)
from cornerstore.identity.resolution.model import Calibration, IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords
from cornerstore.identity.resolution.review import Review
from cornerstore.identity.resolution.scorer import Scorer
from cornerstore.identity.resolution.stored_profiles import field_dict
from cornerstore.services import Services
from tests.identity.resolution.stored import active_model, ingest_shop


def decide_the_grey_zone(services: Services, owner: Caller, accept: bool) -> list[Review]:
    """Learn and resolve a shop, then decide every pair queued for its weight (below the match
    probability) the same way."""
    ingest_shop(services, people=500, seed=7)
    services.identity.train(owner)
    services.identity.resolve(owner)
    merge_at = active_model(services).match_probability
    queue = [
        r for r in services.identity.pending(owner, limit=100) if r.match_probability < merge_at
    ]
    assert len(queue) >= 2
    for review in queue:
        services.identity.decide(owner, review.id, accept=accept)
    return queue


# -- the calibration itself ------------------------------------------------------------------------
def test_reviewers_accepting_pairs_the_model_calls_even_odds_raise_every_pairs_odds() -> None:
    weights = [0.0] * 40

    mostly_accepted = calibration_shift(weights, [True] * 36 + [False] * 4)
    mostly_rejected = calibration_shift(weights, [True] * 4 + [False] * 36)

    # 9 in 10 accepted, less the 2% slip, is odds of 11 (3.46 bits); the prior holds it back.
    assert 2.0 < mostly_accepted < 3.46
    assert mostly_rejected == pytest.approx(-mostly_accepted)


def test_a_few_decisions_move_the_model_less_than_many_saying_the_same() -> None:
    few = calibration_shift([0.0] * 5, [True] * 5)
    many = calibration_shift([0.0] * 500, [True] * 500)

    assert 0 < few < many <= MAX_SHIFT_BITS


def test_a_few_rejections_of_pairs_the_model_is_sure_of_do_not_drag_every_pair_down() -> None:
    weights = [-1.0, 0.0, 1.0, 2.0] * 10 + [25.0] * 5
    matches = [False, True, True, True] * 10 + [False] * 5

    with_rejections = calibration_shift(weights, matches)
    without = calibration_shift(weights[:40], matches[:40])

    assert abs(with_rejections - without) < 0.5


def test_decisions_that_agree_with_the_model_leave_it_nearly_as_it_is() -> None:
    weights = [-8.0, -6.0, -4.0, 4.0, 6.0, 8.0]
    matches = [False, False, False, True, True, True]

    calibration = calibrate(weights, matches)

    assert abs(calibration.shift_bits) < 0.01
    assert calibration.agreed_before == calibration.agreed_after == 6


def test_a_calibrated_model_moves_its_prior_and_keeps_the_calibration_in_json(
    messy_model: IdentityModel,
) -> None:
    model = IdentityModel.from_json(messy_model.to_json())
    before = model.prior_weight(10_000)

    model.calibrate(Calibration(30, 10, 1.5, 31, 34))
    again = IdentityModel.from_json(model.to_json())

    assert again.calibration == Calibration(30, 10, 1.5, 31, 34)
    assert again.prior_weight(10_000) == pytest.approx(before + 1.5, abs=1e-3)


def test_weighing_the_levels_a_review_kept_gives_the_weight_of_the_pair(
    messy_model: IdentityModel, messy_records: PreparedRecords
) -> None:
    scorer = Scorer(messy_model, messy_records, indexed=False)
    for a, b in [(0, 1), (2, 3), (10, 400), (5, 5)]:
        fields = scorer.explain(scorer.row(a), scorer.row(b))
        kept = [field_dict(f) for f in fields]

        assert scorer.weigh(kept) == pytest.approx(sum(f.weight for f in fields), abs=1e-9)


def test_levels_of_a_model_with_other_comparisons_cannot_be_weighed(
    messy_model: IdentityModel, messy_records: PreparedRecords
) -> None:
    scorer = Scorer(messy_model, messy_records, indexed=False)
    kept = [field_dict(f) for f in scorer.explain(scorer.row(0), scorer.row(1))]
    kept[0]["level"] = "a level no model has"

    assert scorer.weigh(kept) is None


# -- on the stored customers -----------------------------------------------------------------------
def test_learning_before_any_decision_leaves_the_model_uncalibrated(
    services: Services, owner: Caller
) -> None:
    ingest_shop(services)

    services.identity.train(owner)

    assert active_model(services).calibration is None


def test_accepting_the_grey_zone_calibrates_the_next_model_towards_merging(
    services: Services, owner: Caller
) -> None:
    queue = decide_the_grey_zone(services, owner, accept=True)

    services.identity.train(owner)

    calibration = active_model(services).calibration
    assert calibration is not None
    assert (calibration.accepted, calibration.rejected, calibration.unreadable) == (
        len(queue),
        0,
        0,
    )
    assert calibration.shift_bits > 0
    assert calibration.agreed_after >= calibration.agreed_before


def test_rejections_and_an_undone_merge_calibrate_the_next_model_towards_caution(
    services: Services, owner: Caller
) -> None:
    queue = decide_the_grey_zone(services, owner, accept=False)
    robert = services.profiles.get(owner, "robert")
    assert robert.merges is not None
    services.merges.unmerge(owner, next(m.id for m in robert.merges if m.reason == "resolve"))

    services.identity.train(owner)

    calibration = active_model(services).calibration
    assert calibration is not None
    # A pair whose first names now conflict is kept apart by that rule and set aside.
    assert calibration.accepted == 0
    assert calibration.rejected + calibration.set_aside == len(queue) + 1
    assert calibration.rejected >= len(queue) - 1
    assert calibration.shift_bits < 0
    assert calibration.agreed_after >= calibration.agreed_before


def test_decisions_on_pairs_clustering_kept_apart_above_the_threshold_do_not_calibrate(
    services: Services, owner: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nameless records between household members, queued as a shop might have before they
    # were left out of the queue (``household_or_nothing``): decisions a store may hold.
    monkeypatch.setattr(resolving, "household_or_nothing", lambda _left, _right: False)
    ingest_shop(services)
    services.identity.train(owner)
    services.identity.resolve(owner)
    above = [r for r in services.identity.pending(owner, limit=100) if r.match_probability >= 0.99]
    assert above
    for review in above:
        services.identity.decide(owner, review.id, accept=False)

    services.identity.train(owner)

    assert active_model(services).calibration is None
