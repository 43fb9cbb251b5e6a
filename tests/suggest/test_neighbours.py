"""What similar customers buy (TIFU-KNN): each customer's basket-decayed frequency vector, the
nearest other customers, and the products they buy suggested with their reason."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import sparse

from cornerstore.suggest.model import Blend, History, SuggestionModel
from cornerstore.suggest.neighbours import Pool
from tests.suggest.frames import purchases

NOW = datetime(2024, 7, 1)
DAY1, DAY2, DAY3 = (datetime(2024, 6, d) for d in (1, 2, 3))
ONLY_NEIGHBOURS = Blend(own=0, als=0, co=0, popular=0, knn=1, factors=4, iterations=3)


def _kettle_shop() -> pl.DataFrame:
    """Twenty customers buy a teapot and a cosy, then a kettle; ten buy coffee beans."""
    rows = []
    for k in range(20):
        day = NOW - timedelta(days=30 + k)
        rows += [(f"t{k}", "pot", day), (f"t{k}", "cosy", day), (f"t{k}", "kettle", day)]
    for k in range(10):
        rows.append((f"b{k}", "beans", NOW - timedelta(days=30 + k)))
    return purchases(rows)


def test_a_customers_vector_counts_the_latest_days_most() -> None:
    shop = purchases([("a", "pot", DAY1), ("a", "tea", DAY1), ("a", "tea", DAY2)])
    items = pl.DataFrame({"item_id": ["pot", "tea"], "i": [0, 1]})

    pool = Pool.of(shop, items, decay=0.5)

    # Day 2 weighs 1 and day 1 0.5, over the sum 1.5: tea was in both, the pot on day 1 only.
    assert pool.vectors.toarray()[0].tolist() == pytest.approx([1 / 3, 1.0])


def test_an_unchanged_customer_is_served_the_vector_stored_for_them() -> None:
    rows = [("a", "pot", DAY1), ("a", "tea", DAY1), ("a", "tea", DAY2), ("a", "mug", DAY3)]
    rows += [("b", "tea", DAY1), ("b", "mug", DAY2)]
    model = SuggestionModel.fit(purchases(rows), blend=Blend(knn=0.2, factors=2, iterations=2))
    history = History.of([(item, at) for c, item, at in rows if c == "a"])

    owned = model._owned(history, NOW)

    served = np.zeros(len(model.items))
    served[owned.idx] = owned.frequency
    assert model.pool is not None
    stored = model.pool.vectors.toarray()
    assert np.allclose(served, stored[0]) and not np.allclose(served, stored[1])


def test_a_customers_own_row_is_no_neighbour_of_theirs() -> None:
    pool = Pool(
        vectors=sparse.csr_matrix(np.array([[1.0, 0.0], [0.6, 0.8]])),
        norms=np.array([1.0, 1.0]),
    )

    found = pool.scores(np.array([[2.0, 0.0]]), k=2)

    # The first row is the customer themselves (the same direction): only the other counts.
    assert found.round(4).tolist() == [[0.6, 0.8]]


def test_what_similar_customers_buy_is_suggested_with_its_reason() -> None:
    model = SuggestionModel.fit(_kettle_shop(), blend=ONLY_NEIGHBOURS)
    # Bought this week, so the pot and the cosy are left out: what do their likes buy too?
    history = History.of([("pot", NOW - timedelta(days=3)), ("cosy", NOW - timedelta(days=3))])

    found = model.suggest(history, 1, NOW)

    assert [(s.item_id, s.kind, s.reason) for s in found] == [
        ("kettle", "similar_customers", "customers who buy what you buy also buy this")
    ]


def test_a_stored_model_with_neighbours_gives_the_same_suggestions() -> None:
    model = SuggestionModel.fit(_kettle_shop(), blend=Blend(knn=0.5, factors=4, iterations=3))
    history = History.of([("pot", NOW - timedelta(days=20)), ("beans", NOW - timedelta(days=40))])

    again = SuggestionModel.from_bytes(model.to_bytes())

    assert again.suggest(history, 4, NOW) == model.suggest(history, 4, NOW)
    assert again.pool is not None and again.pool.vectors.shape == (30, 4)


def test_by_default_no_customers_vector_is_stored() -> None:
    model = SuggestionModel.fit(_kettle_shop(), blend=Blend(factors=4, iterations=3))

    with np.load(io.BytesIO(model.to_bytes()), allow_pickle=False) as stored:
        sizes = {name: stored[name].size for name in stored.files if name.startswith("pool_")}

    assert sizes == {"pool_data": 0, "pool_indices": 0, "pool_indptr": 1, "pool_norms": 0}


@pytest.mark.parametrize("knn", [0.0, 0.3])
def test_many_customers_at_once_get_what_each_gets_alone(knn: float) -> None:
    model = SuggestionModel.fit(_kettle_shop(), blend=Blend(knn=knn, factors=4, iterations=3))
    histories = [
        History.of([("pot", NOW - timedelta(days=20))]),
        History.of([("beans", NOW - timedelta(days=15)), ("cosy", NOW - timedelta(days=60))]),
    ]

    together = model.suggest_many(histories, 3, NOW)

    assert together == [model.suggest(h, 3, NOW) for h in histories]
