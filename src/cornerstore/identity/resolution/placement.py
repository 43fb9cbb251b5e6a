"""The stored customers kept in memory for placing customers one at a time as they arrive.

Reading every stored customer and indexing it takes seconds at 100,000 customers; scoring one
record against the index takes a fraction of a millisecond. So the index is built once per
model (and again when it grows old, to take in changes other processes made) and kept current
by the customers this process stores and merges: :meth:`PlacementIndex.put` replaces one
customer's record, :meth:`PlacementIndex.drop` takes one out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import COLUMNS, PreparedRecords
from cornerstore.identity.resolution.scorer import Candidate, Scorer


@dataclass
class PlacementIndex:
    """A :class:`Scorer` over the stored person customers, addressed by customer id.

    Used like this::

        index = PlacementIndex.build(7, model, read_profiles(uow, "GB"))
        index.put("c_new", record)
        index.score("c_new")[0].unique_id
        'c_41'
    """

    model_id: int
    scorer: Scorer
    position: dict[str, int]
    built_at: float = field(default_factory=time.monotonic)

    @classmethod
    def build(cls, model_id: int, model: IdentityModel, records: PreparedRecords) -> PlacementIndex:
        """Index ``records`` (``unique_id`` the customer id) for ``model``."""
        scorer = Scorer(model, records)
        ids = records.columns["unique_id"]
        return cls(model_id, scorer, {uid: i for i, uid in enumerate(ids)})

    @property
    def model(self) -> IdentityModel:
        return self.scorer.model

    def age(self) -> float:
        """Seconds since the index was built."""
        return time.monotonic() - self.built_at

    def __len__(self) -> int:
        return len(self.position)

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self.position

    def record(self, customer_id: str) -> dict[str, Any]:
        """The indexed record of a customer (KeyError when not indexed)."""
        return self.scorer.row(self.position[customer_id])

    def same_record(self, customer_id: str, record: Mapping[str, Any]) -> bool:
        """Whether the customer is indexed with exactly these matching values."""
        if customer_id not in self.position:
            return False
        row = self.record(customer_id)
        return all(row[c] == record.get(c) for c in COLUMNS if c != "unique_id")

    def put(self, customer_id: str, record: Mapping[str, Any]) -> None:
        """Index (or re-index) a customer with its current prepared record."""
        self.drop(customer_id)
        self.position[customer_id] = self.scorer.add(customer_id, record)

    def drop(self, customer_id: str) -> None:
        """Forget a customer (merged into another, erased)."""
        at = self.position.pop(customer_id, None)
        if at is not None:
            self.scorer.remove(at)

    def score(self, customer_id: str) -> list[Candidate]:
        """Every other indexed customer sharing a blocking key, strongest first, with the
        prior for all the others."""
        at = self.position[customer_id]
        return self.scorer.score(self.scorer.row(at), exclude=at)
