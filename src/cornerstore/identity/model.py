"""Plain identity records returned by the store: what matching reads of a person, trained
models, the review queue and relations between profiles. No database or web types here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple


class PersonTrait(NamedTuple):
    """One observation of a trait, read as part of the customer (root) it belongs to now."""

    root_id: str
    name: str
    value: Any
    observed_at: datetime
    #: The message that brought it (None for a trait set otherwise): two messages stored at
    #: one time (an import's rows without a timestamp) are two observations, not one.
    message_id: str | None = None


class PersonIdentifier(NamedTuple):
    """One identifier, read as part of the customer (root) it belongs to now."""

    root_id: str
    kind: str
    value: str


@dataclass(frozen=True)
class StoredModel:
    """A trained identity model as stored: ``model`` is its JSON (``IdentityModel.to_json``)."""

    id: int
    version: int
    trained_at: datetime
    records: int
    model: str
    active: bool
    created_by: str


@dataclass(frozen=True)
class ReviewRecord:
    """A candidate pair in the review queue, and the decision on it once there is one.

    ``fields`` lists, per comparison, ``{"field", "level", "left", "right", "weight"}``."""

    id: int
    left_id: str
    right_id: str
    match_probability: float
    match_weight: float
    fields: list[dict[str, Any]]
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class StoredRelation:
    """A relation between two profiles (ids in sorted order) as stored."""

    id: int
    customer_id: str
    other_id: str
    kind: str
    found_by: str
    created_at: datetime
