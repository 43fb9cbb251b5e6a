"""Customers who buy alike: each customer's products as a basket-decayed frequency vector, and
the products of the customers whose vectors are nearest.

TIFU-KNN (Hu, He, Rijke et al., "Modeling Personalized Item Frequency Information for
Next-basket Recommendation", SIGIR 2020): a customer's personal item frequency (PIF) vector
averages their baskets, the latest counting most; what their ``k`` nearest customers' vectors
hold is a score for every product, new ones too. Here a basket is a day the customer bought
on, the i-th latest weighted ``decay ** i`` (eq. 2 of the paper with groups of one basket), and
the nearest are found by cosine similarity. The vectors are held without the customers' ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

SAME = 0.95
"""A vector at least this alike is the customer's own (as stored at training) or a twin's, not
a neighbour: on Online Retail, the nearest other customer is at most 0.77 alike for 99 in 100."""


def day_weights(days: np.ndarray, all_days: np.ndarray, decay: float) -> tuple[np.ndarray, float]:
    """Each of ``days`` weighted ``decay ** i`` for the i-th latest of ``all_days`` (0 the
    latest), and the sum of the weights of ``all_days`` (what the vector is divided by).

    ``all_days`` are the distinct days the customer bought on, sorted; ``days`` are among them.

    >>> w, total = day_weights(np.array([3, 1]), np.array([1, 2, 3]), 0.5)
    >>> w.tolist(), total
    ([1.0, 0.25], 1.75)
    """
    rank = all_days.size - 1 - np.searchsorted(all_days, days)
    return np.power(decay, rank.astype(np.float64)), float(
        np.power(decay, np.arange(all_days.size, dtype=np.float64)).sum()
    )


@dataclass(frozen=True, eq=False)
class Pool:
    """The training customers' frequency vectors (one row each, no ids) and the rows' norms."""

    vectors: sparse.csr_matrix
    norms: np.ndarray

    @classmethod
    def empty(cls, items: int) -> Pool:
        return cls(sparse.csr_matrix((0, items), dtype=np.float32), np.zeros(0, np.float32))

    @classmethod
    def of(cls, frame: pl.DataFrame, item_pos: pl.DataFrame, decay: float) -> Pool:
        """The vectors of every customer in ``frame`` (``customer_id``, ``item_id``, ``at``);
        ``item_pos`` numbers the items (``item_id``, ``i``).

        >>> from datetime import datetime
        >>> frame = pl.DataFrame({"customer_id": ["a", "a", "a"], "item_id": ["tea", "pot", "tea"],
        ...     "at": [datetime(2024, 1, 1), datetime(2024, 1, 1), datetime(2024, 1, 2)]})
        >>> items = pl.DataFrame({"item_id": ["pot", "tea"], "i": [0, 1]})
        >>> Pool.of(frame, items, 0.5).vectors.toarray().astype(float).round(3).tolist()
        [[0.333, 1.0]]
        """
        if frame.height == 0:
            return cls.empty(item_pos.height)
        days = (
            frame.select("customer_id", "item_id", pl.col("at").dt.date().alias("day"))
            .unique()
            .with_columns(
                (pl.col("day").rank("dense", descending=True).over("customer_id") - 1).alias("rank")
            )
        )
        customers = days["customer_id"].unique().sort()
        cust_pos = pl.DataFrame(
            {"customer_id": customers, "u": np.arange(len(customers), dtype=np.int32)}
        )
        cells = (
            days.with_columns(pl.lit(decay, pl.Float64).pow(pl.col("rank")).alias("w"))
            .group_by("customer_id", "item_id")
            .agg(pl.col("w").sum())
            .join(cust_pos, on="customer_id")
            .join(item_pos, on="item_id")
        )
        per_customer = (
            days.group_by("customer_id")
            .agg((pl.col("rank").max() + 1).alias("baskets"))
            .join(cust_pos, on="customer_id")
        )
        baskets = np.zeros(len(customers))
        baskets[per_customer["u"].to_numpy()] = per_customer["baskets"].to_numpy()
        # The sum of decay ** i over a customer's baskets: the vector is their decayed average.
        total = (1 - np.power(decay, baskets)) / (1 - decay) if decay < 1 else baskets.astype(float)
        u = cells["u"].to_numpy()
        vectors = sparse.csr_matrix(
            (cells["w"].to_numpy() / total[u], (u, cells["i"].to_numpy())),
            shape=(len(customers), item_pos.height),
            dtype=np.float32,
        )
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
        return cls(vectors, norms.astype(np.float32))

    def scores(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Per query row (a customer's vector over the items), the similarity-weighted average
        of the vectors of its ``k`` most similar customers in the pool (cosine; rows at least
        :data:`SAME` alike left out). Zeros when the pool is empty.
        """
        out = np.zeros(queries.shape)
        size = self.vectors.shape[0]
        k = min(k, size)
        if k == 0 or not queries.size:
            return out
        lengths = np.linalg.norm(queries, axis=1, keepdims=True)
        unit = queries / np.where(lengths > 0, lengths, 1.0)
        norms = np.where(self.norms > 0, self.norms, 1.0).astype(np.float64)
        similarity = np.asarray(self.vectors @ unit.T).T / norms[None, :]
        similarity[similarity >= SAME] = 0.0
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weight = np.clip(np.take_along_axis(similarity, top, axis=1), 0.0, None)
        total = weight.sum(axis=1, keepdims=True)
        weight = weight / np.where(total > 0, total, 1.0)
        rows = np.repeat(np.arange(len(queries)), k)
        mix = sparse.csr_matrix((weight.ravel(), (rows, top.ravel())), shape=(len(queries), size))
        return np.asarray((mix @ self.vectors).todense(), dtype=np.float64)

    def arrays(self) -> dict[str, np.ndarray]:
        """The pool as plain arrays, to store without pickle."""
        return {
            "pool_data": self.vectors.data,
            "pool_indices": self.vectors.indices,
            "pool_indptr": self.vectors.indptr,
            "pool_norms": self.norms,
        }

    @classmethod
    def from_arrays(cls, z: dict[str, np.ndarray], items: int) -> Pool:
        if "pool_indptr" not in z:
            return cls.empty(items)  # a model stored before the pool: no neighbours
        indptr = z["pool_indptr"]
        vectors = sparse.csr_matrix(
            (z["pool_data"], z["pool_indices"], indptr), shape=(len(indptr) - 1, items)
        )
        return cls(vectors, z["pool_norms"])
