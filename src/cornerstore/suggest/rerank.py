"""The learned re-ranker: gradient-boosted trees over the blend's candidates, held as arrays.

LambdaMART: scikit-learn's regression trees, each fitted to the NDCG gradients of the pairs of
one customer's candidates. They are then copied into a few NumPy arrays (one row of nodes per
tree), so the model is stored without pickle and one customer's candidates are scored by walking
every tree at once, one array step per level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURES = (
    "own",
    "als",
    "co",
    "trending",
    "popular",
    "momentum",
    "repeat",
    "blend",
    "rank",
    "buys",
    "since",
    "decayed",
    "cycle",
    "due",
    "share",
    "items",
    "visits",
    "tenure",
    "last",
)
"""The features of one (customer, product) pair, in column order (see SuggestionModel)."""


def _dcg(hits: int) -> float:
    return float((1.0 / np.log2(np.arange(2, hits + 2))).sum())


def _lambdas(
    score: np.ndarray,
    groups: np.ndarray,
    place: np.ndarray,
    pairs: np.ndarray,
    ideal: np.ndarray,
    shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Per row the LambdaRank gradient and its second derivative: over each pair of one
    customer's rows (bought i, not bought j), the change of NDCG if the two swapped places
    times the chance the scores order them wrongly."""
    scores = np.full(shape, -1e9)
    scores[groups, place] = score
    order = np.argsort(-scores, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(shape[1]), shape), axis=1)
    discount = 1.0 / np.log2(rank + 2.0)
    swap = np.abs(discount[:, :, None] - discount[:, None, :]) / ideal[:, None, None]
    gap = np.clip(scores[:, :, None] - scores[:, None, :], -30, 30)
    wrong = 1.0 / (1.0 + np.exp(gap))
    weight = np.where(pairs, swap, 0.0)
    push = weight * wrong
    curve = push * (1.0 - wrong)
    gradient = push.sum(axis=2) - push.sum(axis=1)
    hessian = curve.sum(axis=2) + curve.sum(axis=1)
    return gradient[groups, place], hessian[groups, place]


_FIELDS = ("feature", "threshold", "left", "right", "missing_left", "leaf", "value")


@dataclass(frozen=True, eq=False)
class Trees:
    """Boosted trees as padded arrays, one row per tree: a node's feature, threshold, children,
    where a missing value goes, whether it is a leaf, and its value."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    depth: int

    @classmethod
    def fit(
        cls,
        features: np.ndarray,
        labels: np.ndarray,
        groups: np.ndarray,
        relevant: np.ndarray,
        *,
        trees: int,
        leaves: int,
        rate: float = 0.1,
        seed: int = 7,
    ) -> Trees:
        """LambdaMART (Burges 2010): boosted regression trees, each fitted to the gradients of
        NDCG over the pairs of one customer's candidates (a bought one and one not bought).

        ``groups`` numbers the customer of each row (rows of one customer together, in the
        blend's order), ``relevant`` per customer how many products they bought (the ideal DCG
        counts them all, as the evaluation does). The pairs are held as a customers x
        candidates x candidates array: memory grows with the square of the candidates.
        """
        from sklearn.tree import DecisionTreeRegressor

        start = np.flatnonzero(np.concatenate(([True], groups[1:] != groups[:-1])))
        place = np.arange(groups.size) - np.repeat(start, np.diff(np.append(start, groups.size)))
        count, width = relevant.size, int(place.max()) + 1
        bought = np.zeros((count, width))
        bought[groups, place] = labels
        present = np.zeros((count, width), dtype=bool)
        present[groups, place] = True
        pairs = (bought[:, :, None] > bought[:, None, :]) & present[:, None, :]
        ideal = np.array([_dcg(min(10, max(int(n), 1))) for n in relevant])
        score = np.zeros(groups.size)
        fitted = []
        for _ in range(trees):
            gradient, hessian = _lambdas(score, groups, place, pairs, ideal, (count, width))
            used = hessian > 0
            tree = DecisionTreeRegressor(
                max_leaf_nodes=leaves, min_samples_leaf=50, random_state=seed
            )
            tree.fit(features[used], gradient[used] / hessian[used], sample_weight=hessian[used])
            fitted.append(tree)
            score += rate * tree.predict(features)
        return cls.of_sklearn(fitted, rate)

    @classmethod
    def of_sklearn(cls, regressors: list[Any], rate: float) -> Trees:
        """The sum of ``rate`` times each fitted ``DecisionTreeRegressor``'s prediction."""
        width = max(r.tree_.node_count for r in regressors)

        def padded(name: str, dtype: type) -> np.ndarray:
            out: np.ndarray = np.zeros((len(regressors), width), dtype=dtype)
            for t, r in enumerate(regressors):
                values = getattr(r.tree_, name)
                out[t, : r.tree_.node_count] = values.reshape(r.tree_.node_count, -1)[:, 0]
            return out

        left = padded("children_left", np.int32)
        leaf = left < 0
        # A leaf points at itself, its feature at column 0: the walk stays where it is.
        here = np.broadcast_to(np.arange(width, dtype=np.int32), left.shape)
        return cls(
            feature=np.where(leaf, 0, padded("feature", np.int32)),
            threshold=padded("threshold", np.float64),
            left=np.where(leaf, here, left),
            right=np.where(leaf, here, padded("children_right", np.int32)),
            missing_left=padded("missing_go_to_left", np.bool_),
            leaf=leaf,
            value=rate * padded("value", np.float64),
            depth=max(int(r.tree_.max_depth) for r in regressors),
        )

    def score(self, features: np.ndarray) -> np.ndarray:
        """The trees' summed leaf values per row of ``features`` (higher: more likely bought).

        >>> t = Trees(np.array([[0, 0, 0]]), np.array([[0.5, 0, 0]]), np.array([[1, 0, 0]]),
        ...     np.array([[2, 0, 0]]), np.array([[True, False, False]]),
        ...     np.array([[False, True, True]]), np.array([[0.0, -1.0, 1.0]]), 1)
        >>> t.score(np.array([[0.2], [0.9], [np.nan]])).tolist()
        [-1.0, 1.0, -1.0]
        """
        # scikit-learn's trees compare float32 values with their thresholds: so do these.
        features = np.asarray(features, dtype=np.float32)
        rows = features.shape[0]
        count, width = self.feature.shape
        base = np.arange(count) * width
        node = np.broadcast_to(base, (rows, count)).copy()
        feature, threshold = self.feature.ravel(), self.threshold.ravel()
        # Children as positions in the flattened arrays (each tree's row offset added).
        left = self.left.ravel() + np.repeat(base, width)
        right = self.right.ravel() + np.repeat(base, width)
        missing, leaf = self.missing_left.ravel(), self.leaf.ravel()
        line = np.arange(rows)[:, None]
        for _ in range(self.depth):
            x = features[line, feature[node]]
            go_left = np.where(np.isnan(x), missing[node], x <= threshold[node])
            step = np.where(go_left, left[node], right[node])
            node = np.where(leaf[node], node, step)
        return self.value.ravel()[node].sum(axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store, named ``ranker_*``."""
        out = {f"ranker_{name}": getattr(self, name) for name in _FIELDS}
        out["ranker_depth"] = np.array([self.depth])
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Trees | None:
        """The trees stored by :meth:`arrays`, or None when none were (an empty array)."""
        if arrays["ranker_value"].size == 0:
            return None
        fields = {name: arrays[f"ranker_{name}"] for name in _FIELDS}
        return cls(**fields, depth=int(arrays["ranker_depth"][0]))


NO_TREES = {f"ranker_{name}": np.zeros((0, 0)) for name in _FIELDS} | {
    "ranker_depth": np.array([0])
}
"""What is stored for a model without a re-ranker."""
