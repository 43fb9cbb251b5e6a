"""The learned re-ranker: gradient-boosted trees over the blend's candidates, held as arrays.

scikit-learn's ``HistGradientBoostingClassifier`` fits the trees; they are then copied into a
few NumPy arrays (one row of nodes per tree), so the model is stored without pickle and one
customer's candidates are scored by walking every tree at once, one array step per level.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        *,
        weights: np.ndarray | None = None,
        trees: int,
        leaves: int,
        threads: int,
        seed: int,
    ) -> Trees:
        """Fit a classifier of ``labels`` (bought or not) from ``features`` and keep its trees."""
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        model = HistGradientBoostingClassifier(
            max_iter=trees,
            max_leaf_nodes=leaves,
            learning_rate=0.1,
            early_stopping=False,
            random_state=seed,
        )
        with threadpool_limits(threads, "openmp"):
            model.fit(features, labels, sample_weight=weights)
        nodes = [predictor[0].nodes for predictor in model._predictors]
        width = max(len(n) for n in nodes)

        def padded(name: str, dtype: type) -> np.ndarray:
            out: np.ndarray = np.zeros((len(nodes), width), dtype=dtype)
            for t, n in enumerate(nodes):
                out[t, : len(n)] = n[name]
            return out

        leaf = padded("is_leaf", np.bool_)
        leaf[:, 0] |= np.array([len(n) == 1 for n in nodes])
        return cls(
            feature=padded("feature_idx", np.int32),
            threshold=padded("num_threshold", np.float64),
            left=padded("left", np.int32),
            right=padded("right", np.int32),
            missing_left=padded("missing_go_to_left", np.bool_),
            leaf=leaf,
            value=padded("value", np.float64),
            depth=int(max(n["depth"].max() for n in nodes)),
        )

    def score(self, features: np.ndarray) -> np.ndarray:
        """The trees' summed leaf values per row of ``features`` (higher: more likely bought).

        >>> t = Trees(np.array([[0, 0, 0]]), np.array([[0.5, 0, 0]]), np.array([[1, 0, 0]]),
        ...     np.array([[2, 0, 0]]), np.array([[True, False, False]]),
        ...     np.array([[False, True, True]]), np.array([[0.0, -1.0, 1.0]]), 1)
        >>> t.score(np.array([[0.2], [0.9], [np.nan]])).tolist()
        [-1.0, 1.0, -1.0]
        """
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
