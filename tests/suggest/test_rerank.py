"""The learned re-ranker: its trees score as scikit-learn's, it is fitted inside training when
asked for, keeps the product rules, and is stored and read back whole."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from sklearn.tree import DecisionTreeRegressor

from cornerstore.suggest.model import Blend, History, SuggestionModel
from cornerstore.suggest.rerank import Trees
from tests.suggest.frames import purchases

NOW = datetime(2024, 7, 1)
RERANKED = Blend(factors=4, iterations=3, rerank_days=30, rerank_min_customers=20)


def test_the_trees_score_as_scikit_learns_trees_do() -> None:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(400, 5))
    features[rng.random(features.shape) < 0.1] = np.nan
    regressors = [
        DecisionTreeRegressor(max_leaf_nodes=leaves, random_state=7).fit(
            features, rng.normal(size=400)
        )
        for leaves in (2, 7, 15)
    ]

    trees = Trees.of_sklearn(regressors, 0.1)

    expected = sum(0.1 * r.predict(features) for r in regressors)
    assert trees.score(features) == pytest.approx(expected, abs=1e-12)


def test_the_trees_learn_to_put_first_what_each_customer_bought() -> None:
    rng = np.random.default_rng(5)
    customers, candidates = 200, 20
    features = rng.uniform(size=(customers * candidates, 3))
    # Bought: a middling value of the first feature, which no single threshold orders.
    labels = np.abs(features[:, 0] - 0.5) < 0.1
    groups = np.repeat(np.arange(customers), candidates)
    relevant = np.bincount(groups, weights=labels).astype(int)

    trees = Trees.fit(features, labels, groups, relevant, trees=30, leaves=7)

    best = trees.score(features).reshape(customers, candidates).argmax(axis=1)
    first = labels.reshape(customers, candidates)[np.arange(customers), best]
    assert first[relevant > 0].mean() > 0.9


def shop() -> pl.DataFrame:
    """60 customers over 150 days: coffee beans every 10 days, a teapot once, every third a
    mug now and then."""
    rows = []
    for k in range(60):
        for day in range(150, 0, -10 - k % 3):
            rows.append((f"c{k}", "beans", NOW - timedelta(days=day)))
        rows.append((f"c{k}", "pot", NOW - timedelta(days=100 + k)))
        if k % 3 == 0:
            rows += [(f"c{k}", "mug", NOW - timedelta(days=d + k % 5)) for d in (20, 70, 120)]
    return purchases(rows)


@pytest.fixture(scope="module")
def reranked() -> SuggestionModel:
    return SuggestionModel.fit(shop(), blend=RERANKED)


def test_the_blend_alone_ranks_unless_a_reranker_is_asked_for() -> None:
    assert SuggestionModel.fit(shop(), blend=replace(RERANKED, rerank_days=0)).ranker is None


def test_too_few_customers_to_learn_from_leave_the_blend_alone() -> None:
    few = replace(RERANKED, rerank_min_customers=1000)

    assert SuggestionModel.fit(shop(), blend=few).ranker is None


def test_a_reranked_answer_keeps_the_rules_and_its_reasons(reranked: SuggestionModel) -> None:
    assert reranked.ranker is not None
    history = History.of(
        [("beans", NOW - timedelta(days=d)) for d in (42, 32, 22, 12)]
        + [("mug", NOW - timedelta(days=3)), ("pot", NOW - timedelta(days=60))],
        returned=["pot"],
    )

    found = reranked.suggest(history, 3, NOW)

    by_item = {s.item_id: s for s in found}
    assert "mug" not in by_item  # bought three days ago
    assert "pot" not in by_item  # returned
    assert by_item["beans"].kind == "replenishment"
    assert by_item["beans"].reason == "you buy this about every 10 days; last time 12 days ago"


def test_a_stored_reranker_ranks_as_the_trained_one(reranked: SuggestionModel) -> None:
    history = History.of([("beans", NOW - timedelta(days=d)) for d in (30, 20)])

    again = SuggestionModel.from_bytes(reranked.to_bytes())

    assert again.ranker is not None
    assert again.blend == reranked.blend
    assert again.suggest(history, 3, NOW) == reranked.suggest(history, 3, NOW)


def test_a_model_stored_before_the_reranker_existed_is_read_with_the_blend_alone() -> None:
    model = SuggestionModel.fit(shop(), blend=Blend(factors=4, iterations=3))
    with np.load(io.BytesIO(model.to_bytes()), allow_pickle=False) as z:
        older = {k: z[k] for k in z.files if not k.startswith("ranker_")}
    older["blend"] = older["blend"][: list(Blend.__dataclass_fields__).index("rerank_days")]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **older)  # type: ignore[arg-type]
    history = History.of([("beans", NOW - timedelta(days=d)) for d in (30, 20)])

    again = SuggestionModel.from_bytes(buffer.getvalue())

    assert again.ranker is None
    assert again.blend == model.blend
    assert again.suggest(history, 3, NOW) == model.suggest(history, 3, NOW)
