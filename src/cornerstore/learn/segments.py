"""Micro-segments: rule segments staff define, and clusters found in behaviour.

**Rule segments** are condition trees in JSON, in the spirit of Apache Unomi's conditions:

.. code-block:: json

    {"all": [
        {"score": "loyalty.orders", "op": ">=", "value": 5},
        {"any": [{"trait": "city", "op": "=", "value": "York"},
                 {"events": {"name": "Order Completed", "touchpoint": "store"},
                  "count": {"op": ">=", "value": 3}, "days": 90}]},
        {"not": {"score": "churn_risk.at_risk", "op": "=", "value": true}}
    ]}

Leaves: ``score`` (a learned figure, ``loyalty.orders``, ``value.clv``, ``churn_risk.at_risk``),
``trait`` (the current value of a trait; ``exists`` tests presence) and ``events`` (how many events
matching ``name`` / ``type`` / ``touchpoint`` in the last ``days``). Operators: ``=``, ``!=``,
``>``, ``>=``, ``<``, ``<=``, ``in``, ``contains``, ``exists``. A tree is checked once, with
errors that name the path of the bad node, then evaluated as Polars expressions over every
customer at once.

**Clusters** are k-means (scikit-learn) on the standardised logarithms of behaviour (purchases,
spend, basket, recency, tenure, breadth, momentum), k from 3 to 7 chosen by silhouette on a
sample. Each is described in words by what sets it apart from the whole base.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from cornerstore.errors import InvalidInput
from cornerstore.plural import counted

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "in", "contains", "exists")
MAX_DEPTH = 8
MAX_NODES = 100
_SCORE = re.compile(r"(value|loyalty|churn_risk)\.[a-z_]{1,40}")
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_TEXT = re.compile(r"[^\x00-\x1f]{1,256}")

# Behaviour that clusters are found in, with the words that describe a cluster above or below the
# base on it.
CLUSTER_FEATURES = {
    "orders": ("buy often", "buy rarely"),
    "spend": ("spend a lot", "spend little"),
    "mean_spend": ("fill big baskets", "fill small baskets"),
    "recency_days": ("have gone quiet", "bought recently"),
    "tenure_days": ("have been with us long", "are new"),
    "categories": ("buy across many categories", "stick to a few categories"),
    "touchpoints": ("use many departments", "use one department"),
    "recent_share": ("are spending more lately", "are spending less lately"),
}


@dataclass(frozen=True)
class EventCount:
    """The events an ``events`` leaf counts; ``key`` names its column of counts."""

    name: str | None
    type: str | None
    touchpoint: str | None
    days: int

    @property
    def key(self) -> str:
        return f"events:{self.name}:{self.type}:{self.touchpoint}:{self.days}"


@dataclass(frozen=True)
class Needs:
    """What a set of trees reads: trait names and event counts."""

    traits: frozenset[str]
    events: frozenset[EventCount]


def _fail(path: str, message: str) -> InvalidInput:
    return InvalidInput(f"{path}: {message}")


def check_condition(node: Any, path: str = "definition", depth: int = 0) -> int:
    """Validate a condition tree; return its number of nodes. Errors name the bad node's path.

    >>> check_condition({"all": [{"score": "loyalty.orders", "op": ">=", "value": 3}]})
    2
    >>> check_condition({"any": [{"trait": "city", "op": "~"}]})
    Traceback (most recent call last):
    ...
    cornerstore.errors.InvalidInput: definition.any[0].op: must be one of =, !=, >, >=, <, <=, \
in, contains, exists
    """
    if depth > MAX_DEPTH:
        raise _fail(path, f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict):
        raise _fail(path, "must be an object (all, any, not, score, trait or events)")
    for key in ("all", "any"):
        if key in node:
            items = node[key]
            if len(node) != 1 or not isinstance(items, list) or not items:
                raise _fail(f"{path}.{key}", "must be the only key, with a non-empty list")
            return 1 + sum(
                check_condition(item, f"{path}.{key}[{i}]", depth + 1)
                for i, item in enumerate(items)
            )
    if "not" in node:
        if len(node) != 1:
            raise _fail(f"{path}.not", "must be the only key")
        return 1 + check_condition(node["not"], f"{path}.not", depth + 1)
    if "events" in node:
        _check_events(node, path)
        return 1
    if "score" in node:
        if not isinstance(node["score"], str) or not _SCORE.fullmatch(node["score"]):
            raise _fail(f"{path}.score", "must name a learned figure such as loyalty.orders")
    elif "trait" in node:
        if not isinstance(node["trait"], str) or not _NAME.fullmatch(node["trait"]):
            raise _fail(f"{path}.trait", "must be a trait name")
    else:
        raise _fail(path, "must have one of all, any, not, score, trait or events")
    _check_comparison(node, path)
    return 1


def _check_comparison(node: dict[str, Any], path: str) -> None:
    op = node.get("op")
    if op not in OPERATORS:
        raise _fail(f"{path}.op", f"must be one of {', '.join(OPERATORS)}")
    if op == "exists":
        return
    if "value" not in node:
        raise _fail(f"{path}.value", "is required")
    value = node["value"]
    if op == "in":
        if not isinstance(value, list) or not all(_scalar(v) for v in value) or len(value) > 100:
            raise _fail(f"{path}.value", "must be a list of up to 100 strings or numbers")
    elif not _scalar(value):
        raise _fail(f"{path}.value", "must be a string, number or true/false")
    elif op in (">", ">=", "<", "<=") and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        raise _fail(f"{path}.value", f"must be a number to compare with {op}")


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_TEXT.fullmatch(value)) or value == ""
    return isinstance(value, bool | int | float) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


def _check_events(node: dict[str, Any], path: str) -> None:
    spec = node["events"]
    if not isinstance(spec, dict) or not spec or set(spec) - {"name", "type", "touchpoint"}:
        raise _fail(f"{path}.events", "must be an object with name, type and/or touchpoint")
    for key, value in spec.items():
        if not isinstance(value, str) or not _TEXT.fullmatch(value):
            raise _fail(f"{path}.events.{key}", "must be a string")
    days = node.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3660:
        raise _fail(f"{path}.days", "must be a whole number of days from 1 to 3660")
    count = node.get("count", {"op": ">=", "value": 1})
    if not isinstance(count, dict):
        raise _fail(f"{path}.count", 'must be an object such as {"op": ">=", "value": 3}')
    _check_comparison(count, f"{path}.count")
    if count["op"] in ("in", "contains", "exists") or isinstance(count.get("value"), str):
        raise _fail(f"{path}.count", "must compare with a number")


def needs(trees: list[Any]) -> Needs:
    """The traits and event counts these (checked) trees read."""
    traits: set[str] = set()
    events: set[EventCount] = set()

    def walk(node: dict[str, Any]) -> None:
        for key in ("all", "any"):
            for item in node.get(key, []):
                walk(item)
        if "not" in node:
            walk(node["not"])
        if "trait" in node:
            traits.add(node["trait"])
        if "events" in node:
            events.add(_event_count(node))

    for tree in trees:
        walk(tree)
    return Needs(frozenset(traits), frozenset(events))


def _event_count(node: dict[str, Any]) -> EventCount:
    spec = node["events"]
    return EventCount(spec.get("name"), spec.get("type"), spec.get("touchpoint"), node["days"])


def _compare(column: pl.Expr, op: str, value: Any) -> pl.Expr:
    if op == "exists":
        return column.is_not_null()
    if op == "in":
        return column.is_in(value)
    if op == "contains":
        return column.cast(pl.String).str.contains(str(value), literal=True)
    comparisons = {
        "=": column == value,
        "!=": column != value,
        ">": column > value,
        ">=": column >= value,
        "<": column < value,
        "<=": column <= value,
    }
    return comparisons[op]


def condition_expr(node: dict[str, Any]) -> pl.Expr:
    """The tree as one boolean Polars expression over the facts frame (nulls count as no)."""
    if "all" in node:
        return pl.all_horizontal([condition_expr(n) for n in node["all"]])
    if "any" in node:
        return pl.any_horizontal([condition_expr(n) for n in node["any"]])
    if "not" in node:
        return ~condition_expr(node["not"])
    if "events" in node:
        count = node.get("count", {"op": ">=", "value": 1})
        column = pl.col(_event_count(node).key).fill_null(0)
        return _compare(column, count["op"], count["value"]).fill_null(False)
    column = pl.col(f"score:{node['score']}" if "score" in node else f"trait:{node['trait']}")
    return _compare(column, node["op"], node.get("value")).fill_null(False)


def facts_columns(trees: list[Any]) -> set[str]:
    """Every facts column the trees read (scores, traits, event counts)."""
    columns: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        for key in ("all", "any"):
            for item in node.get(key, []):
                walk(item)
        if "not" in node:
            walk(node["not"])
        if "score" in node:
            columns.add(f"score:{node['score']}")
        if "trait" in node:
            columns.add(f"trait:{node['trait']}")
        if "events" in node:
            columns.add(_event_count(node).key)

    for tree in trees:
        walk(tree)
    return columns


def members(facts: pl.DataFrame, tree: dict[str, Any]) -> list[str]:
    """The customer ids for which the tree holds.

    >>> facts = pl.DataFrame({"customer_id": ["a", "b"], "score:loyalty.orders": [7, 2],
    ...                       "trait:city": ["York", None]})
    >>> members(facts, {"any": [{"score": "loyalty.orders", "op": ">", "value": 5},
    ...                         {"trait": "city", "op": "=", "value": "Leeds"}]})
    ['a']
    """
    missing = facts_columns([tree]) - set(facts.columns)
    if missing:
        facts = facts.with_columns(pl.lit(None).alias(name) for name in sorted(missing))
    return facts.filter(condition_expr(tree))["customer_id"].to_list()


# -- clusters -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cluster:
    """One cluster: its members (a column of ids: millions of them as Python strings would
    take several times the memory), a short name, and what sets it apart in words."""

    name: str
    description: str
    customers: pl.Series
    profile: dict[str, float]


def _figure(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def find_clusters(table: pl.DataFrame, seed: int = 0, sample: int = 20_000) -> list[Cluster]:
    """k-means clusters of ``table`` (the behaviour table), described in words.

    Needs at least 30 customers; fewer give no clusters.
    """
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    features = list(CLUSTER_FEATURES)
    data = table.select("customer_id", *features).drop_nulls(features)
    if data.height < 30:
        return []
    raw = data.select(features).to_numpy().astype(np.float64)
    logged = np.log1p(np.clip(raw, 0, None))
    spread = logged.std(axis=0)
    # A feature every customer shares (one department only) says nothing: leave it out.
    varied = spread > 1e-9
    features = [f for f, keep in zip(features, varied, strict=True) if keep]
    raw, logged, spread = raw[:, varied], logged[:, varied], spread[varied]
    if not features:
        return []
    scaled = (logged - logged.mean(axis=0)) / spread
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(scaled), size=min(sample, len(scaled)), replace=False)
    best_k, best_score, best_centres = 3, -1.0, None
    for k in range(3, 8):
        if k >= len(pick):
            break
        trial = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(scaled[pick])
        if len(set(trial.labels_)) < 2:
            continue
        score = float(
            silhouette_score(scaled[pick], trial.labels_, sample_size=min(5000, len(pick)))
        )
        if score > best_score:
            best_k, best_score, best_centres = k, score, trial.cluster_centers_
    # The whole base starts from the sample's centres: one run instead of four restarts.
    start = best_centres if best_centres is not None else "k-means++"
    model = KMeans(n_clusters=best_k, init=start, n_init=1, random_state=seed).fit(scaled)
    ids = data["customer_id"]
    medians = {f: float(np.median(raw[:, i])) for i, f in enumerate(features)}
    clusters = []
    for label in range(best_k):
        mask = model.labels_ == label
        centre = model.cluster_centers_[label]
        order = np.argsort(-np.abs(centre))[:3]
        words = [
            CLUSTER_FEATURES[features[i]][0 if centre[i] > 0 else 1]
            for i in order
            if abs(centre[i]) >= 0.3
        ] or ["typical customers"]
        profile = {f: round(float(np.median(raw[mask, i])), 2) for i, f in enumerate(features)}
        detail = "; ".join(
            f"{features[i].replace('_', ' ')} {_figure(profile[features[i]])} "
            f"vs {_figure(medians[features[i]])}"
            for i in order
            if abs(centre[i]) >= 0.3
        )
        clusters.append(
            Cluster(
                name=", ".join(words),
                description=f"{counted(int(mask.sum()), 'customer')} who {', '.join(words)}"
                + (f" (median {detail} for all customers)" if detail else ""),
                customers=ids.filter(pl.Series(mask)),
                profile=profile,
            )
        )
    clusters.sort(key=lambda c: -len(c.customers))
    return clusters
