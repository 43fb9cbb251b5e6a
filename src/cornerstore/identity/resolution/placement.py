"""The stored customers kept in memory for placing customers one at a time as they arrive.

Reading every stored customer and indexing it takes seconds at 100,000 customers; scoring one
record against the index takes a fraction of a millisecond. So the index is built once per
model (and again when it grows old, to take in changes other processes made) and kept current
by the customers this process stores and merges: :meth:`PlacementIndex.put` replaces one
customer's record, :meth:`PlacementIndex.drop` takes one out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cornerstore.identity.resolution.clustering import HOME_COLUMNS, is_household
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import COLUMNS
from cornerstore.identity.resolution.scorer import Candidate, Scorer
from cornerstore.identity.resolution.stored_profiles import ProfileVariants


@dataclass
class PlacementIndex:
    """A :class:`Scorer` over the stored person customers, addressed by customer id.

    A customer is indexed with every variant of its values (see
    :func:`.stored_profiles.read_profile_variants`), its current record first, as resolve
    scores it; a candidate is a customer, at the score of its best-matching variant.

    Used like this::

        index = PlacementIndex.build(7, model, read_profile_variants(uow, "GB"))
        index.put("c_new", [record])
        index.score("c_new")[0].unique_id
        'c_41'
    """

    model_id: int
    scorer: Scorer
    position: dict[str, list[int]]
    owner: dict[int, str]
    built_at: float = field(default_factory=time.monotonic)

    @classmethod
    def build(
        cls, model_id: int, model: IdentityModel, profiles: ProfileVariants
    ) -> PlacementIndex:
        """Index the customers' variants for ``model``."""
        scorer = Scorer(model, profiles.variants)
        ids = profiles.customers.columns["unique_id"]
        position: dict[str, list[int]] = {}
        owner: dict[int, str] = {}
        for i, o in enumerate(profiles.owner):
            position.setdefault(ids[o], []).append(i)
            owner[i] = ids[o]
        return cls(model_id, scorer, position, owner)

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
        """The indexed current record of a customer (KeyError when not indexed)."""
        return self.scorer.row(self.position[customer_id][0])

    def same_records(self, customer_id: str, records: Sequence[Mapping[str, Any]]) -> bool:
        """Whether the customer is indexed with exactly these variants, in this order."""
        at = self.position.get(customer_id)
        if at is None or len(at) != len(records):
            return False
        return all(
            self.scorer.row(i)[c] == record.get(c)
            for i, record in zip(at, records, strict=True)
            for c in COLUMNS
            if c != "unique_id"
        )

    def put(self, customer_id: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Index (or re-index) a customer with its prepared variants, current record first."""
        self.drop(customer_id)
        at = [self.scorer.add(customer_id, record) for record in records]
        self.position[customer_id] = at
        self.owner.update(dict.fromkeys(at, customer_id))

    def drop(self, customer_id: str) -> None:
        """Forget a customer (merged into another, erased)."""
        for at in self.position.pop(customer_id, []):
            self.scorer.remove(at)
            del self.owner[at]

    def score(self, customer_id: str) -> list[Candidate]:
        """Every other indexed customer one of whose variants shares a blocking key with one
        of this customer's, strongest first, each at its best pair of variants (the candidate's
        ``position`` that variant)."""
        best: dict[str, Candidate] = {}
        for at in self.position[customer_id]:
            for c in self.scorer.score(self.scorer.row(at), exclude=at):
                other = self.owner.get(c.position)
                if other is None or other == customer_id:
                    continue
                if other not in best or c.match_weight > best[other].match_weight:
                    best[other] = replace(c, unique_id=other)
        return sorted(best.values(), key=lambda c: -c.match_weight)

    def households(self, record: Mapping[str, Any], candidates: Iterable[Candidate]) -> list[str]:
        """The candidates that are a household with ``record``
        (:func:`.clustering.is_household`), whatever they scored, in the given order.

        A household shares the surname and the address or phone: these are read off their
        columns first, and only the few candidates at the record's home are made rows to weigh
        the first names. A common surname brings hundreds of candidates, and a row for each
        cost about 1.5 ms of CPU at 600 of them.
        """
        last_name = record.get("last_name")
        columns = self.scorer.columns
        home = [(columns[c], record[c]) for c in HOME_COLUMNS if record.get(c)]
        if not last_name or not home:
            return []
        surnames = columns["last_name"]
        found = []
        for candidate in candidates:
            at = candidate.position
            if surnames[at] != last_name:
                continue
            for values, value in home:
                if values[at] == value:
                    if is_household(record, self.scorer.row(at)):
                        found.append(candidate.unique_id)
                    break
        return found
