"""Segments: rule segments staff define and the clusters learning finds, with their value."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.segments import MembersOut, SegmentIn, SegmentOut

router = APIRouter(prefix="/v1", tags=["segments"], responses=error_answers(400, 401, 403, 404))


@router.get("/segments", response_model=list[SegmentOut])
def list_segments(services: ServicesDep, caller: StaffCaller) -> list[SegmentOut]:
    """Every segment with its size and value (sum and mean CLV), rule segments first."""
    return [SegmentOut.model_validate(s) for s in services.segments.list(caller)]


@router.post(
    "/segments",
    response_model=SegmentOut,
    status_code=201,
    responses=error_answers(409),
)
def post_segment(services: ServicesDep, caller: StaffCaller, body: SegmentIn) -> SegmentOut:
    """Define a rule segment; its members are computed at once from the learned scores."""
    created = services.segments.create(caller, body.name, body.definition, body.description)
    return SegmentOut.model_validate(created)


@router.get("/segments/{segment_id}", response_model=SegmentOut)
def get_segment(services: ServicesDep, caller: StaffCaller, segment_id: str) -> SegmentOut:
    """One segment."""
    return SegmentOut.model_validate(services.segments.get(caller, segment_id))


@router.get("/segments/{segment_id}/members", response_model=MembersOut)
def get_members(
    services: ServicesDep,
    caller: StaffCaller,
    segment_id: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> MembersOut:
    """A page of member profile ids in id order."""
    return MembersOut.model_validate(services.segments.members(caller, segment_id, limit, after))


@router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(services: ServicesDep, caller: StaffCaller, segment_id: str) -> Response:
    """Remove a rule segment."""
    services.segments.delete(caller, segment_id)
    return Response(status_code=204)
