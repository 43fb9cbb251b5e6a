"""Segments: rule segments staff define and the clusters learning finds, with their value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cornerstore.api.schemas import Answer


class SegmentOut(Answer):
    id: str
    name: str
    kind: str = Field(description="rule (defined by staff) or cluster (found by learning)")
    definition: Any = Field(description="The condition tree, or a cluster's medians")
    description: str
    size: int
    clv_sum: float | None = Field(description="Sum of the members' CLV")
    clv_mean: float | None = Field(description="Mean CLV of a member")
    computed_at: datetime | None
    created_at: datetime
    created_by: str


class SegmentIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    definition: dict[str, Any] = Field(
        description='A condition tree, e.g. {"score": "loyalty.orders", "op": ">=", "value": 5}'
    )
    description: str | None = Field(None, max_length=1000)


class MembersOut(Answer):
    segment: SegmentOut
    customers: list[str]
    next_after: str | None = Field(description="Pass back as `after` for the next page")
