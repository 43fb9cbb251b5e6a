"""Cases: open one from a web form or chat, add messages, move it along, read the queue, and
give remedies within limits (see docs/cases.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cornerstore.api.deps import RowId, ServicesDep, StaffCaller
from cornerstore.api.schemas.cases import (
    CaseChangeIn,
    CaseDetailOut,
    CaseIn,
    CaseMessageIn,
    CaseMessageOut,
    CaseOut,
    Channel,
    DecisionIn,
    ReattachIn,
    RemedyIn,
    RemedyOut,
    RemedySuggestionOut,
    Status,
)
from cornerstore.api.schemas.errors import error_answers
from cornerstore.cases.model import CaseLink
from cornerstore.cases.service import CaseOpening, CaseUpdate, NewMessage, Sender

CustomerQuery = Annotated[str | None, Query(max_length=512, description="Id, e-mail or phone")]
OwnerQuery = Annotated[
    str | None, Query(max_length=64, description='A staff username; "none": cases nobody owns')
]
AgeQuery = Annotated[
    float | None,
    Query(ge=0, le=36_500, description="Only cases opened more than this many days ago"),
]

router = APIRouter(prefix="/v1", tags=["cases"], responses=error_answers(400, 401, 403, 404))


@router.post("/cases", response_model=CaseDetailOut, status_code=201, responses=error_answers(422))
def post_case(services: ServicesDep, caller: StaffCaller, body: CaseIn) -> CaseDetailOut:
    """Open a case. The sender is a customer staff know, or contact details that identity
    places (an e-mail or phone already known joins that customer). Text passes the privacy
    firewall."""
    given = body.sender.address
    address = {k: v for k, v in given.model_dump().items() if v} if given else None
    opening = CaseOpening(
        Sender(**body.sender.model_dump(exclude={"address"}), address=address),
        body.channel,
        body.subject,
        body.body,
        category=body.category,
        priority=body.priority,
        branch=body.branch,
        links=tuple(CaseLink(k.kind, k.ref) for k in body.links),
        owner=body.owner,
        external_ref=f"api:{body.reference}" if body.reference else None,
    )
    return CaseDetailOut.model_validate(services.cases.open(caller, opening))


@router.get("/cases", response_model=list[CaseOut])
def list_cases(
    services: ServicesDep,
    caller: StaffCaller,
    customer: CustomerQuery = None,
    status: Annotated[list[Status] | None, Query()] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    category: Annotated[list[str] | None, Query(max_length=20)] = None,
    branch: Annotated[list[str] | None, Query(max_length=20)] = None,
    owner: OwnerQuery = None,
    age: AgeQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CaseOut]:
    """Cases, newest first, filtered by customer, status, channel, category, branch, owner
    and age."""
    where = services.cases.filter(
        caller,
        status=status or (),
        channel=channel or (),
        category=category or (),
        branch=branch or (),
        owner=owner,
        older_than_days=age,
        limit=limit,
        offset=offset,
    )
    return [CaseOut.model_validate(c) for c in services.cases.find(caller, where, customer)]


@router.get("/cases/{case_id}", response_model=CaseDetailOut)
def get_case(services: ServicesDep, caller: StaffCaller, case_id: RowId) -> CaseDetailOut:
    """A case with its messages (internal notes included), changes and remedies."""
    return CaseDetailOut.model_validate(services.cases.get(caller, case_id))


@router.post(
    "/cases/{case_id}/messages",
    response_model=CaseMessageOut,
    status_code=201,
    responses=error_answers(409),
)
def post_message(
    services: ServicesDep, caller: StaffCaller, case_id: RowId, body: CaseMessageIn
) -> CaseMessageOut:
    """Add a reply, an internal note or the customer's words (a chat line, a call noted). A
    customer writing on a waiting or resolved case reopens it."""
    message = NewMessage(body.body, body.direction, body.internal)
    return CaseMessageOut.model_validate(services.cases.add_message(caller, case_id, message))


@router.patch("/cases/{case_id}", response_model=CaseOut, responses=error_answers(409))
def patch_case(
    services: ServicesDep, caller: StaffCaller, case_id: RowId, body: CaseChangeIn
) -> CaseOut:
    """Change the status (open, waiting, resolved, closed), owner, category, priority or
    branch; every change is kept with who made it."""
    changes = CaseUpdate(body.status, body.owner, body.category, body.priority, body.branch)
    return CaseOut.model_validate(services.cases.update(caller, case_id, changes))


@router.put("/cases/{case_id}/customer", response_model=CaseOut)
def put_customer(
    services: ServicesDep, caller: StaffCaller, case_id: RowId, body: ReattachIn
) -> CaseOut:
    """File the case with another customer (it was attached to the wrong person)."""
    return CaseOut.model_validate(services.cases.reattach(caller, case_id, body.customer))


@router.post(
    "/cases/{case_id}/remedies",
    response_model=RemedyOut,
    status_code=201,
)
def post_remedy(
    services: ServicesDep, caller: StaffCaller, case_id: RowId, body: RemedyIn
) -> RemedyOut:
    """Give a credit, refund, replacement or coupon: granted at once within your role's limit,
    else pending until someone else whose limit covers it approves."""
    remedy = services.remedies.grant(caller, case_id, body.kind, body.amount, body.order, body.note)
    return RemedyOut.model_validate(remedy)


@router.get("/cases/{case_id}/remedies/suggestion", response_model=RemedySuggestionOut)
def get_suggestion(
    services: ServicesDep, caller: StaffCaller, case_id: RowId
) -> RemedySuggestionOut:
    """The remedy to offer, sized by what is at stake, with the reason in words; never above
    your limit."""
    return RemedySuggestionOut.model_validate(services.remedies.suggest(caller, case_id))


@router.get("/remedies/pending", response_model=list[RemedyOut])
def pending_remedies(services: ServicesDep, caller: StaffCaller) -> list[RemedyOut]:
    """Remedies waiting for approval, oldest first."""
    return [RemedyOut.model_validate(r) for r in services.remedies.pending(caller)]


@router.post(
    "/remedies/{remedy_id}/decision", response_model=RemedyOut, responses=error_answers(409)
)
def decide_remedy(
    services: ServicesDep, caller: StaffCaller, remedy_id: RowId, body: DecisionIn
) -> RemedyOut:
    """Approve or refuse a pending remedy (not your own; within your limit)."""
    return RemedyOut.model_validate(services.remedies.decide(caller, remedy_id, body.approve))
