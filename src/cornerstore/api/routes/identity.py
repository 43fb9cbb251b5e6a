"""Identity resolution for staff: the review queue of candidate pairs, decisions, explanations."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas import CustomerPublic, ErrorOut
from cornerstore.identity.model import ReviewRecord
from cornerstore.identity.resolution.scorer import Explanation, FieldWeight
from cornerstore.identity.resolution.service import Placed, Review

router = APIRouter(prefix="/v1/identity", tags=["identity"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid parameter"},
    401: {"model": ErrorOut, "description": "No valid API token"},
    403: {"model": ErrorOut, "description": "The credential's role may not read or change merges"},
    404: {"model": ErrorOut, "description": "No such review, customer or model"},
}
_REJECT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    409: {"model": ErrorOut, "description": "The pair was already decided"},
}
_ACCEPT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_REJECT_ERRORS,
    422: {"model": ErrorOut, "description": "The safeguards refused the merge"},
}


class FieldWeightOut(BaseModel):
    field: str
    level: str = Field(description="The comparison level that held (exact, nickname, missing...)")
    left: Any = Field(description="The normalised value of the first customer, when readable")
    right: Any = Field(description="The normalised value of the second customer, when readable")
    weight: float = Field(description="The level's match weight (log2 of the Bayes factor)")

    @classmethod
    def of(cls, f: FieldWeight) -> FieldWeightOut:
        return cls(field=f.field, level=f.level, left=f.left, right=f.right, weight=f.weight)


class ReviewOut(BaseModel):
    """A pair waiting for a decision: both customers as the caller's role may see them."""

    id: int
    left: CustomerPublic
    right: CustomerPublic
    match_probability: float
    match_weight: float
    fields: list[FieldWeightOut]
    status: str
    created_at: datetime

    @classmethod
    def of(cls, r: Review) -> ReviewOut:
        return cls(
            id=r.id,
            left=CustomerPublic.of(r.left),
            right=CustomerPublic.of(r.right),
            match_probability=r.match_probability,
            match_weight=r.match_weight,
            fields=[FieldWeightOut.of(f) for f in r.fields],
            status=r.status,
            created_at=r.created_at,
        )


class DecisionOut(BaseModel):
    id: int
    left_id: str
    right_id: str
    status: str = Field(description="accepted (the two were merged) or rejected (kept apart)")
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, r: ReviewRecord) -> DecisionOut:
        return cls(
            id=r.id,
            left_id=r.left_id,
            right_id=r.right_id,
            status=r.status,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
        )


class ExplanationOut(BaseModel):
    left_id: str
    right_id: str
    prior_weight: float = Field(description="The prior for the number of stored customers")
    fields: list[FieldWeightOut]
    match_weight: float
    match_probability: float

    @classmethod
    def of(cls, e: Explanation) -> ExplanationOut:
        return cls(
            left_id=e.left_id,
            right_id=e.right_id,
            prior_weight=e.prior_weight,
            fields=[FieldWeightOut.of(f) for f in e.fields],
            match_weight=e.match_weight,
            match_probability=e.match_probability,
        )


class PlacedOut(BaseModel):
    """Where a customer went: ``merged`` into ``other_id``, ``queued`` for review with it,
    ``refused`` by the merge safeguards, or ``left`` on its own."""

    customer_id: str
    decision: str
    other_id: str | None = Field(description="The best candidate (none for households)")
    match_probability: float | None
    candidates: int = Field(description="Customers sharing a blocking key with this one")

    @classmethod
    def of(cls, p: Placed) -> PlacedOut:
        return cls(**asdict(p))


@router.get(
    "/reviews",
    response_model=list[ReviewOut],
    response_model_exclude_unset=True,
    responses=_ERRORS,
)
def list_reviews(
    services: ServicesDep,
    caller: StaffCaller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ReviewOut]:
    """Pairs waiting for a decision, strongest first, side by side with each field's weight."""
    return [ReviewOut.of(r) for r in services.identity.pending(caller, limit)]


@router.post("/reviews/{review_id}/accept", response_model=DecisionOut, responses=_ACCEPT_ERRORS)
def accept_review(services: ServicesDep, caller: StaffCaller, review_id: int) -> DecisionOut:
    """Merge the two customers (recorded and reversible, under the usual safeguards)."""
    return DecisionOut.of(services.identity.decide(caller, review_id, accept=True))


@router.post("/reviews/{review_id}/reject", response_model=DecisionOut, responses=_REJECT_ERRORS)
def reject_review(services: ServicesDep, caller: StaffCaller, review_id: int) -> DecisionOut:
    """Keep the two customers apart: later resolution never merges or queues them again."""
    return DecisionOut.of(services.identity.decide(caller, review_id, accept=False))


@router.get("/explain", response_model=ExplanationOut, responses=_ERRORS)
def explain_pair(
    services: ServicesDep,
    caller: StaffCaller,
    a: Annotated[str, Query(min_length=1, max_length=512, description="A customer")],
    b: Annotated[str, Query(min_length=1, max_length=512, description="The other customer")],
) -> ExplanationOut:
    """Each field's match weight for two stored customers under the active model."""
    return ExplanationOut.of(services.identity.explain(caller, a, b))


@router.post("/place/{customer_id}", response_model=PlacedOut, responses=_ERRORS)
def place_customer(services: ServicesDep, caller: StaffCaller, customer_id: str) -> PlacedOut:
    """Score one customer against all the others now: merge it into the same person, queue the
    pair for review, or leave it (households are recorded, never merged)."""
    return PlacedOut.of(services.identity.place(caller, customer_id))
