"""Resolve a whole data set at once: train (or take) a model, score candidate pairs with Splink,
cluster without chaining, report households.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cornerstore.identity.resolution.clustering import Clusters, cluster_pairs
from cornerstore.identity.resolution.model import IdentityModel, weight_of
from cornerstore.identity.resolution.records import PreparedRecords
from cornerstore.identity.resolution.splink_engine import Engine, predict_pairs, train_model


@dataclass
class Resolution:
    """The outcome of resolving a data set: the model used, scored pairs, clusters."""

    model: IdentityModel
    clusters: Clusters
    pairs_scored: int
    pairs_matched: int


def resolve(
    records: PreparedRecords,
    model: IdentityModel | None = None,
    *,
    match_probability: float | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    engine: Engine = "duckdb",
) -> Resolution:
    """Cluster ``records`` into people (or link two files, when ``records.source`` is set).

    A model is trained on the records themselves unless one is given. Pairs are kept from the
    model's review probability up (for households); pairs at or above ``match_probability``
    (default: the model's) are merged. Splink trains and scores on ``engine`` (DuckDB or Spark);
    clustering runs in-process either way.

    Used like this::

        records = prepare_records(rows, ids, ["first_name", "last_name", "email"])
        resolve(records).clusters.labels
        [0, 0, 2, 3, 2]
    """
    say = progress or (lambda _msg: None)
    if model is None:
        model = train_model(records, seed=seed, progress=progress, engine=engine)
    threshold = model.match_probability if match_probability is None else match_probability
    say("scoring candidate pairs")
    pairs = predict_pairs(records, model, min(model.review_probability, threshold), engine=engine)
    say("clustering")
    clusters = cluster_pairs(
        records, pairs["left"], pairs["right"], pairs["match_weight"], weight_of(threshold)
    )
    matched = sum(w >= weight_of(threshold) for w in pairs["match_weight"])
    return Resolution(model, clusters, len(pairs["left"]), matched)
