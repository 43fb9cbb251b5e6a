"""The suggestion model on small, explicit histories: reasons in words, repeat buys when due,
never what was just bought or returned, popularity for newcomers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cornerstore.suggest.model import Blend, History, SuggestionModel
from tests.suggest.frames import purchases

NOW = datetime(2024, 7, 1)
NAMES = {"pot": "teapot", "cosy": "tea cosy", "mug": "mug", "beans": "coffee beans"}
SMALL = Blend(factors=4, iterations=3)


shop = purchases


@pytest.fixture(scope="module")
def model() -> SuggestionModel:
    rows = []
    for k in range(30):
        day = NOW - timedelta(days=20 + k)
        rows += [(f"c{k}", "pot", day), (f"c{k}", "cosy", day)]
        if k % 3 == 0:
            rows.append((f"c{k}", "mug", day))
    for k in range(10):
        rows.append((f"b{k}", "beans", NOW - timedelta(days=5 + k)))
    return SuggestionModel.fit(shop(rows), names=NAMES, blend=SMALL)


def test_a_product_often_bought_with_one_of_theirs_says_so(model: SuggestionModel) -> None:
    model.blend = Blend(own=0, als=0, co=1, popular=0)
    history = History.of([("pot", datetime(2024, 5, 12))])

    found = model.suggest(history, 1, NOW)

    assert [(s.item_id, s.kind, s.reason) for s in found] == [
        ("cosy", "bought_with", "often bought with the teapot you bought in May")
    ]


def test_a_repeat_buy_that_is_due_is_suggested_with_its_cycle(model: SuggestionModel) -> None:
    model.blend = SMALL
    every_five_weeks = [("beans", NOW - timedelta(days=42 + 35 * k)) for k in range(4)]

    found = model.suggest(History.of(every_five_weeks), 3, NOW)

    assert (found[0].item_id, found[0].kind, found[0].reason) == (
        "beans",
        "replenishment",
        "you buy this about every 5 weeks; last time 6 weeks ago",
    )


@pytest.mark.parametrize(
    ("last", "cycle", "kind", "reason"),
    [
        # Three cycles late: still due.
        (105, 35, "replenishment", "you buy this about every 5 weeks; last time 3 months ago"),
        # More than three missed: a habit they had, not one that is due.
        (330, 28, "favourite", "you used to buy this about every 4 weeks; last time 11 months ago"),
    ],
)
def test_a_repeat_buy_is_due_until_more_than_three_of_its_cycles_are_missed(
    model: SuggestionModel, last: int, cycle: int, kind: str, reason: str
) -> None:
    model.blend = SMALL
    bought = [("beans", NOW - timedelta(days=last + cycle * k)) for k in range(4)]

    found = model.suggest(History.of(bought), 3, NOW)

    assert {s.item_id: (s.kind, s.reason) for s in found}["beans"] == (kind, reason)


def test_a_repeat_buy_that_is_not_due_is_left_out(model: SuggestionModel) -> None:
    model.blend = SMALL
    bought_ten_days_ago = [("beans", NOW - timedelta(days=10 + 35 * k)) for k in range(4)]

    found = model.suggest(History.of(bought_ten_days_ago), 4, NOW)

    assert "beans" not in [s.item_id for s in found]
    assert found  # the rest of the shop is still suggested


def test_their_own_product_ranked_by_alike_customers_says_they_bought_it(
    model: SuggestionModel,
) -> None:
    model.blend = Blend(own=0, als=1, co=0, popular=0, factors=4, iterations=3)
    history = History.of([("pot", datetime(2024, 5, 12))])

    found = model.suggest(history, 3, NOW)

    pot = next(s for s in found if s.item_id == "pot")
    assert (pot.kind, pot.reason) == ("favourite", "you bought this once, last in May")
    assert {s.kind for s in found if s.item_id != "pot"} <= {"similar_customers", "popular"}


def test_an_irregular_repeat_buy_is_suggested_once_its_shortest_gap_has_passed(
    model: SuggestionModel,
) -> None:
    model.blend = SMALL
    # Gaps of 20, 90 and 100 days: the median (90) is not due, the shortest (20) is.
    days = (30, 50, 140, 240)
    irregular = [("beans", NOW - timedelta(days=d)) for d in days]

    found = model.suggest(History.of(irregular), 4, NOW)

    beans = next(s for s in found if s.item_id == "beans")
    assert (beans.kind, beans.reason) == ("favourite", "you bought this 4 times, last in June")


def test_an_irregular_repeat_buy_is_left_out_until_its_shortest_gap_may_end_in_the_horizon(
    model: SuggestionModel,
) -> None:
    model.blend = SMALL
    # Gaps of 40, 90 and 100 days, the last buy 10 days ago: even the shortest gap ends in
    # 30 days, beyond the 14-day horizon.
    irregular = [("beans", NOW - timedelta(days=d)) for d in (10, 50, 140, 240)]

    found = model.suggest(History.of(irregular), 4, NOW)

    assert "beans" not in [s.item_id for s in found]


def test_a_regular_buy_bought_just_now_waits_for_its_cycle_whatever_its_shortest_gap(
    model: SuggestionModel,
) -> None:
    model.blend = SMALL
    # Bought again after 2 days once, but usually every 60 days; the last buy 3 days ago.
    days = (3, 5, 65, 125)
    just_bought = [("beans", NOW - timedelta(days=d)) for d in days]

    found = model.suggest(History.of(just_bought), 4, NOW)

    assert "beans" not in [s.item_id for s in found]


def test_what_was_just_bought_or_returned_is_never_suggested(model: SuggestionModel) -> None:
    model.blend = SMALL
    history = History.of(
        [("pot", NOW - timedelta(days=2)), ("mug", NOW - timedelta(days=60))], returned=["cosy"]
    )

    found = [s.item_id for s in model.suggest(history, 4, NOW)]

    assert "pot" not in found and "cosy" not in found
    assert set(found) == {"mug", "beans"}


def test_a_newcomer_gets_the_popular_products(model: SuggestionModel) -> None:
    found = model.suggest(History(), 2, NOW)

    assert [s.kind for s in found] == ["popular", "popular"]
    assert {s.item_id for s in found} == {"pot", "cosy"}
    assert found[0].reason == "popular with customers over the last 90 days"


def test_a_stored_model_ranks_as_the_trained_one(model: SuggestionModel) -> None:
    model.blend = SMALL
    history = History.of([("pot", datetime(2024, 5, 12)), ("mug", datetime(2024, 4, 2))])

    again = SuggestionModel.from_bytes(model.to_bytes())

    assert again.suggest(history, 3, NOW) == model.suggest(history, 3, NOW)
    assert (again.blend, again.names, again.trained_until) == (
        model.blend,
        model.names,
        model.trained_until,
    )


def test_only_new_leaves_out_everything_bought_before(model: SuggestionModel) -> None:
    model.blend = SMALL
    history = History.of([("pot", datetime(2024, 1, 12)), ("cosy", datetime(2024, 1, 12))])

    found = [s.item_id for s in model.suggest(history, 4, NOW, only_new=True)]

    assert set(found) == {"mug", "beans"}


def test_a_product_bought_lately_outranks_one_bought_as_often_long_ago(
    model: SuggestionModel,
) -> None:
    model.blend = Blend(own=1, als=0, co=0, popular=0)
    lately = [("mug", NOW - timedelta(days=30 + 9 * k)) for k in range(2)]
    long_ago = [("beans", NOW - timedelta(days=400 + 9 * k)) for k in range(2)]

    found = [s.item_id for s in model.suggest(History.of(lately + long_ago), 2, NOW)]

    assert found == ["mug", "beans"]


def test_a_product_its_buyers_buy_again_outranks_a_one_off_bought_as_often() -> None:
    rows = [(f"r{k}", "beans", NOW - timedelta(days=d)) for k in range(10) for d in (40, 80)]
    rows += [(f"o{k}", "vase", NOW - timedelta(days=60)) for k in range(10)]
    shop_model = SuggestionModel.fit(shop(rows), blend=Blend(own=1, als=0, co=0, popular=0))
    same_days = [("beans", NOW - timedelta(days=50)), ("vase", NOW - timedelta(days=50))]

    found = [s.item_id for s in shop_model.suggest(History.of(same_days), 2, NOW)]

    assert found == ["beans", "vase"]


def test_a_model_stored_by_an_older_version_is_refused_with_a_reason() -> None:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez_compressed(buffer, items=np.array(["tea"]), trending=np.zeros(1))

    with pytest.raises(ValueError, match="train again"):
        SuggestionModel.from_bytes(buffer.getvalue())


def test_a_product_selling_more_than_usual_now_comes_before_one_selling_less() -> None:
    rows = [(f"n{k}", "snowglobe", NOW - timedelta(days=5 + k)) for k in range(10)]
    rows += [(f"f{k}", "deckchair", NOW - timedelta(days=120 + k)) for k in range(10)]
    seasonal = SuggestionModel.fit(shop(rows), blend=Blend(own=1, als=0, co=0, popular=0))
    last_year = NOW - timedelta(days=300)
    both_last_year = [("deckchair", last_year), ("snowglobe", last_year)]

    found = [s.item_id for s in seasonal.suggest(History.of(both_last_year), 2, NOW)]

    assert found == ["snowglobe", "deckchair"]
