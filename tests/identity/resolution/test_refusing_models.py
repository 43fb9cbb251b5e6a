"""A learned model that would do harm or nothing is refused, with what is wrong and what to do."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import Refused
from cornerstore.identity.resolution import learning, splink_engine
from cornerstore.identity.resolution.comparisons import Comparison
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.services import Services
from tests.identity.resolution.stored import ingest_shop, with_agreement_weight


def learning_nothing(model: IdentityModel) -> IdentityModel:
    """The model with every level weighing almost nothing: m a hair above u."""
    comparisons = [
        Comparison(
            c.name,
            (c.levels[0], *(replace(lv, m=(lv.u or 0.0) * 1.01) for lv in c.levels[1:])),
            c.description,
        )
        for c in model.comparisons
    ]
    return replace(model, comparisons=comparisons)


def test_a_trained_model_counts_every_agreement_for_a_match(messy_model: IdentityModel) -> None:
    assert messy_model.backwards_comparisons() == []


def test_a_model_in_which_agreeing_counts_against_a_match_names_those_comparisons(
    messy_model: IdentityModel,
) -> None:
    backwards = with_agreement_weight(messy_model, "first_name", -3.7)
    backwards = with_agreement_weight(backwards, "city", -7.6)

    assert backwards.backwards_comparisons() == ["first_name", "city"]


def test_learning_refuses_a_model_in_which_agreeing_counts_against_a_match(
    services: Services, owner: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_shop(services, people=60)
    train = splink_engine.train_model

    def train_backwards(*args: Any, **kwargs: Any) -> IdentityModel:
        return with_agreement_weight(train(*args, **kwargs), "first_name", -3.7)

    monkeypatch.setattr(splink_engine, "train_model", train_backwards)

    with pytest.raises(Refused) as refused:
        services.identity.train(owner)

    assert refused.value.message.startswith("identity model: in the model learned from ")
    assert "agreeing on first_name counts against a match, so it was not made active" in (
        refused.value.message
    )
    assert "learn again once more customers are stored" in refused.value.message
    with services.store.unit_of_work() as uow:
        assert uow.identity.active_model() is None


def test_learning_refuses_a_model_that_finds_no_pair_among_thousands_of_customers(
    services: Services, owner: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_shop(services, people=60)
    first = services.identity.train(owner)
    train = splink_engine.train_model
    monkeypatch.setattr(learning, "MIN_CUSTOMERS_FOR_PAIRS", 50)  # the shop's size
    monkeypatch.setattr(
        splink_engine, "train_model", lambda *a, **k: learning_nothing(train(*a, **k))
    )

    with pytest.raises(Refused) as refused:
        services.identity.train(owner)

    assert "finds no pair among them to merge or to review, so it was not made active" in (
        refused.value.message
    )
    with services.store.unit_of_work() as uow:
        active = uow.identity.active_model()
    assert active is not None and active.id == first.id


def test_learning_again_after_resolving_learns_from_the_customers_it_merged(
    services: Services, owner: Caller
) -> None:
    # The pairs left that share an address after a resolve are mostly households; the
    # customers it merged hold one person's records each, and learning reads all of them.
    ingest_shop(services)
    first = services.identity.train(owner)
    services.identity.resolve(owner)

    again = services.identity.train(owner)

    model = IdentityModel.from_json(again.model)
    assert model.backwards_comparisons() == []
    assert model.level_weight(0, 1) > 0  # agreeing on a first name counts for a match
    with services.store.unit_of_work() as uow:
        learned = uow.audit.find(action="identity_learn")
    assert [entry.detail for entry in learned] == [
        f"model {first.id} on {first.records} profiles",
        f"model {again.id} on {again.records} profiles",
    ]


def test_learning_again_keeps_a_comparison_it_learned_backwards_from_the_active_model(
    services: Services, owner: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_shop(services)
    first = services.identity.train(owner)
    train = splink_engine.train_model
    monkeypatch.setattr(  # what EM made of a resolved shop's households before
        splink_engine,
        "train_model",
        lambda *a, **k: with_agreement_weight(train(*a, **k), "first_name", -2.0),
    )

    again = services.identity.train(owner)

    earlier, model = (IdentityModel.from_json(m.model) for m in (first, again))
    assert model.backwards_comparisons() == []
    assert model.comparisons[0] == earlier.comparisons[0]
    assert model.comparisons[0].name == "first_name"
    with services.store.unit_of_work() as uow:
        learned = uow.audit.find(action="identity_learn")
    assert learned[-1].detail == (
        f"model {again.id} on {model.records} profiles, first_name kept from model {first.id}"
    )
