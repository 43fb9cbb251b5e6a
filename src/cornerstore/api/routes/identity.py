"""Identity resolution for staff: the review queue of candidate pairs, decisions, explanations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cornerstore.api.deps import RowId, ServicesDep, StaffCaller
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.identity import DecisionOut, ExplanationOut, PlacedOut, ReviewOut

router = APIRouter(
    prefix="/v1/identity", tags=["identity"], responses=error_answers(400, 401, 403, 404)
)


@router.get(
    "/reviews",
    response_model=list[ReviewOut],
    response_model_exclude_unset=True,
)
def list_reviews(
    services: ServicesDep,
    caller: StaffCaller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ReviewOut]:
    """Pairs waiting for a decision, strongest first, side by side with each field's weight."""
    return [ReviewOut.model_validate(r) for r in services.identity.pending(caller, limit)]


@router.post(
    "/reviews/{review_id}/accept", response_model=DecisionOut, responses=error_answers(409, 422)
)
def accept_review(services: ServicesDep, caller: StaffCaller, review_id: RowId) -> DecisionOut:
    """Merge the two customers (recorded and reversible, under the usual safeguards)."""
    return DecisionOut.model_validate(services.identity.decide(caller, review_id, accept=True))


@router.post(
    "/reviews/{review_id}/reject", response_model=DecisionOut, responses=error_answers(409)
)
def reject_review(services: ServicesDep, caller: StaffCaller, review_id: RowId) -> DecisionOut:
    """Keep the two customers apart: later resolution never merges or queues them again."""
    return DecisionOut.model_validate(services.identity.decide(caller, review_id, accept=False))


@router.get("/explain", response_model=ExplanationOut)
def explain_pair(
    services: ServicesDep,
    caller: StaffCaller,
    a: Annotated[str, Query(min_length=1, max_length=512, description="A customer")],
    b: Annotated[str, Query(min_length=1, max_length=512, description="The other customer")],
) -> ExplanationOut:
    """Each field's match weight for two stored customers under the active model."""
    return ExplanationOut.model_validate(services.identity.explain(caller, a, b))


@router.post("/place/{customer_id}", response_model=PlacedOut)
def place_customer(services: ServicesDep, caller: StaffCaller, customer_id: str) -> PlacedOut:
    """Score one customer against all the others now: merge it into the same person, queue the
    pair for review, or leave it (households are recorded, never merged)."""
    return PlacedOut.model_validate(services.identity.place(caller, customer_id))
