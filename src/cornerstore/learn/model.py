"""Plain learning records returned by the store: stored scores and segments. No database or
web types here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class StoredScore:
    """One learned figure of a profile as stored: ``value`` is the decoded JSON."""

    customer_id: str
    name: str
    value: Any
    computed_at: datetime
    model: str


class CustomerScore(NamedTuple):
    """The value (decoded JSON) of one score of one customer."""

    customer_id: str
    value: Any


@dataclass(frozen=True)
class SegmentRecord:
    """A segment or learned cluster as stored, with the size and value of its last computation."""

    id: str
    name: str
    kind: str
    definition: Any
    description: str
    created_at: datetime
    created_by: str
    computed_at: datetime | None
    size: int
    clv_sum: float | None
    clv_mean: float | None
