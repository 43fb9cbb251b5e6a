"""Customers: search, the 360 profile, timeline, trait history, prefill, merge and unmerge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from cornerstore.api.deps import RowId, ServicesDep, StaffCaller
from cornerstore.api.schemas import (
    CustomerPublic,
    ErrorOut,
    EventOut,
    MergeIn,
    MergeOut,
    PrefillOut,
    SearchHitOut,
    SearchOut,
    TimelineOut,
    TraitObservationOut,
)

router = APIRouter(prefix="/v1", tags=["customers"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid parameter"},
    401: {"model": ErrorOut, "description": "No valid API token"},
    403: {"model": ErrorOut, "description": "The credential's role may not read this"},
    404: {"model": ErrorOut, "description": "No such customer"},
}


@router.get(
    "/customers", response_model=SearchOut, response_model_exclude_unset=True, responses=_ERRORS
)
def search_customers(
    services: ServicesDep,
    caller: StaffCaller,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Name, e-mail, phone, id")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Find customers by any identifier (normalised: e-mail case, phone format) or by name."""
    hits = services.profiles.search(caller, q, limit)
    return SearchOut(results=[SearchHitOut.of(h) for h in hits])


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerPublic,
    response_model_exclude_unset=True,
    responses=_ERRORS,
)
def get_customer(services: ServicesDep, caller: StaffCaller, customer_id: str) -> CustomerPublic:
    """The customer's 360 profile: identifiers, current traits with provenance, summary counts.

    Only the sections the caller's role may read are in the answer (``sections`` lists them).

    ``customer_id`` may also be an e-mail, phone or other identifier; a merged profile's id
    leads to the surviving profile.
    """
    return CustomerPublic.of(services.profiles.get(caller, customer_id))


@router.get(
    "/customers/{customer_id}/timeline",
    response_model=TimelineOut,
    response_model_exclude_unset=True,
    responses=_ERRORS,
)
def get_timeline(
    services: ServicesDep,
    caller: StaffCaller,
    customer_id: str,
    touchpoint: Annotated[list[str] | None, Query(description="Repeat to allow several")] = None,
    type: Annotated[list[str] | None, Query(description="identify, track, page, ...")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=500, description="Default: settings.timeline_page_size")
    ] = None,
) -> TimelineOut:
    """The customer's events across every department, newest first, keyset-paginated."""
    page = services.profiles.timeline(
        caller,
        customer_id,
        touchpoints=touchpoint or (),
        types=type or (),
        cursor=cursor,
        limit=limit,
    )
    return TimelineOut(
        customer_id=page.customer_id,
        events=[EventOut.of(e, page.withheld) for e in page.events],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/customers/{customer_id}/traits/{name}",
    response_model=list[TraitObservationOut],
    responses=_ERRORS,
)
def get_trait_history(
    services: ServicesDep, caller: StaffCaller, customer_id: str, name: str
) -> list[TraitObservationOut]:
    """Every observation of one trait, oldest first, each with its touchpoint and source."""
    history = services.profiles.trait_history(caller, customer_id, name)
    return [TraitObservationOut.of(o) for o in history]


@router.get("/customers/{customer_id}/prefill", response_model=PrefillOut, responses=_ERRORS)
def get_prefill(
    services: ServicesDep,
    caller: StaffCaller,
    customer_id: str,
    form: Annotated[str, Query(max_length=64, description="A form declared in settings")],
) -> PrefillOut:
    """Every field of a named form with its known value, source and age, and what is unknown."""
    return PrefillOut.of(services.profiles.prefill(caller, customer_id, form))


@router.post(
    "/customers/{customer_id}/merge",
    response_model=MergeOut,
    responses={**_ERRORS, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def post_merge(
    services: ServicesDep, caller: StaffCaller, customer_id: str, body: MergeIn
) -> MergeOut:
    """Join this customer and another profile, under the same safeguards as stitching.

    The older of the two profiles survives (staff keep the id they know); the answer names the
    winner and the loser, and ``POST /v1/merges/{id}/undo`` takes the merge back.
    """
    record = await run_in_threadpool(services.merges.merge, caller, customer_id, body.other)
    return MergeOut.of(record)


@router.post(
    "/merges/{merge_id}/undo",
    response_model=MergeOut,
    responses={**_ERRORS, 409: {"model": ErrorOut}},
)
async def post_unmerge(services: ServicesDep, caller: StaffCaller, merge_id: RowId) -> MergeOut:
    """Undo a merge: both profiles return with their own identifiers, traits and events."""
    return MergeOut.of(await run_in_threadpool(services.merges.unmerge, caller, merge_id))
