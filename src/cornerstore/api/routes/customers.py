"""Customers: search, the 360 profile, timeline, trait history, prefill, merge and unmerge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.api.deps import RowId, ServicesDep, StaffCaller
from cornerstore.api.schemas.customers import (
    CustomerPublic,
    MergeIn,
    MergeOut,
    PrefillOut,
    SearchHitOut,
    SearchOut,
    TimelineOut,
    TraitObservationOut,
)
from cornerstore.api.schemas.errors import error_answers

router = APIRouter(prefix="/v1", tags=["customers"], responses=error_answers(400, 401, 403, 404))


@router.get("/customers", response_model=SearchOut, response_model_exclude_unset=True)
def search_customers(
    services: ServicesDep,
    caller: StaffCaller,
    q: Annotated[
        str,
        # Something to look for: not only spaces, no NUL character (the service refuses those
        # with the same 400).
        Query(
            min_length=1,
            max_length=200,
            pattern=r"^[^\x00]*[^\x00\s][^\x00]*$",
            description="Name, e-mail, phone, id",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Find customers by any identifier (normalised: e-mail case, phone format) or by name."""
    hits = services.profiles.search(caller, q, limit)
    return SearchOut(results=[SearchHitOut.model_validate(h) for h in hits])


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerPublic,
    response_model_exclude_unset=True,
)
def get_customer(services: ServicesDep, caller: StaffCaller, customer_id: str) -> Response:
    """The customer's 360 profile: identifiers, current traits with provenance, summary counts.

    Only the sections the caller's role may read are in the answer (``sections`` lists them).

    ``customer_id`` may also be an e-mail, phone or other identifier; a merged profile's id
    leads to the surviving profile.
    """
    answer = CustomerPublic.model_validate(services.profiles.get(caller, customer_id))
    # The answer is serialised here, once: returned as a model, FastAPI would dump it,
    # validate the dump against the response model and dump it again, on the API's most
    # frequent staff read.
    return Response(answer.model_dump_json(exclude_unset=True), media_type="application/json")


@router.get(
    "/customers/{customer_id}/timeline",
    response_model=TimelineOut,
    response_model_exclude_unset=True,
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
    return TimelineOut.model_validate(page)


@router.get("/customers/{customer_id}/traits/{name}", response_model=list[TraitObservationOut])
def get_trait_history(
    services: ServicesDep, caller: StaffCaller, customer_id: str, name: str
) -> list[TraitObservationOut]:
    """Every observation of one trait, oldest first, each with its touchpoint and source."""
    history = services.profiles.trait_history(caller, customer_id, name)
    return [TraitObservationOut.model_validate(o) for o in history]


@router.get("/customers/{customer_id}/prefill", response_model=PrefillOut)
def get_prefill(
    services: ServicesDep,
    caller: StaffCaller,
    customer_id: str,
    form: Annotated[str, Query(max_length=64, description="A form declared in settings")],
) -> PrefillOut:
    """Every field of a named form with its known value, source and age, and what is unknown."""
    return PrefillOut.model_validate(services.profiles.prefill(caller, customer_id, form))


@router.post(
    "/customers/{customer_id}/merge",
    response_model=MergeOut,
    responses=error_answers(409, 422),
)
async def post_merge(
    services: ServicesDep, caller: StaffCaller, customer_id: str, body: MergeIn
) -> MergeOut:
    """Join this customer and another profile, under the same safeguards as stitching.

    The older of the two profiles survives (staff keep the id they know); the answer names the
    winner and the loser, and ``POST /v1/merges/{id}/undo`` takes the merge back.
    """
    record = await run_in_threadpool(services.merges.merge, caller, customer_id, body.other)
    return MergeOut.model_validate(record)


@router.post(
    "/merges/{merge_id}/undo",
    response_model=MergeOut,
    responses=error_answers(409),
)
async def post_unmerge(services: ServicesDep, caller: StaffCaller, merge_id: RowId) -> MergeOut:
    """Undo a merge: both profiles return with their own identifiers, traits and events."""
    record = await run_in_threadpool(services.merges.unmerge, caller, merge_id)
    return MergeOut.model_validate(record)
