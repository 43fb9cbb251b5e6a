"""Segments: rule segments staff define and the clusters learning finds, with their value."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas import ErrorOut
from cornerstore.learn.model import SegmentRecord

router = APIRouter(prefix="/v1", tags=["segments"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid definition or parameter"},
    401: {"model": ErrorOut, "description": "No valid API token"},
    403: {"model": ErrorOut, "description": "The credential may not read customers"},
    404: {"model": ErrorOut, "description": "No such segment"},
}


class SegmentOut(BaseModel):
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

    @classmethod
    def of(cls, s: SegmentRecord) -> SegmentOut:
        return cls(
            id=s.id,
            name=s.name,
            kind=s.kind,
            definition=s.definition,
            description=s.description,
            size=s.size,
            clv_sum=s.clv_sum,
            clv_mean=s.clv_mean,
            computed_at=s.computed_at,
            created_at=s.created_at,
            created_by=s.created_by,
        )


class SegmentIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    definition: dict[str, Any] = Field(
        description='A condition tree, e.g. {"score": "loyalty.orders", "op": ">=", "value": 5}'
    )
    description: str | None = Field(None, max_length=1000)


class MembersOut(BaseModel):
    segment: SegmentOut
    customers: list[str]
    next_after: str | None = Field(description="Pass back as `after` for the next page")


@router.get("/segments", response_model=list[SegmentOut], responses=_ERRORS)
def list_segments(services: ServicesDep, caller: StaffCaller) -> list[SegmentOut]:
    """Every segment with its size and value (sum and mean CLV), rule segments first."""
    return [SegmentOut.of(s) for s in services.segments.list(caller)]


@router.post(
    "/segments",
    response_model=SegmentOut,
    status_code=201,
    responses={**_ERRORS, 409: {"model": ErrorOut}},
)
def post_segment(services: ServicesDep, caller: StaffCaller, body: SegmentIn) -> SegmentOut:
    """Define a rule segment; its members are computed at once from the learned scores."""
    return SegmentOut.of(
        services.segments.create(caller, body.name, body.definition, body.description)
    )


@router.get("/segments/{segment_id}", response_model=SegmentOut, responses=_ERRORS)
def get_segment(services: ServicesDep, caller: StaffCaller, segment_id: str) -> SegmentOut:
    """One segment."""
    return SegmentOut.of(services.segments.get(caller, segment_id))


@router.get("/segments/{segment_id}/members", response_model=MembersOut, responses=_ERRORS)
def get_members(
    services: ServicesDep,
    caller: StaffCaller,
    segment_id: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> MembersOut:
    """A page of member profile ids in id order."""
    page = services.segments.members(caller, segment_id, limit, after)
    return MembersOut(
        segment=SegmentOut.of(page.segment), customers=page.customers, next_after=page.next_after
    )


@router.delete("/segments/{segment_id}", status_code=204, responses=_ERRORS)
def delete_segment(services: ServicesDep, caller: StaffCaller, segment_id: str) -> Response:
    """Remove a rule segment."""
    services.segments.delete(caller, segment_id)
    return Response(status_code=204)
