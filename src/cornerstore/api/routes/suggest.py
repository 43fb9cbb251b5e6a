"""Suggestions: the products to suggest to one customer, each with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas import ErrorOut

router = APIRouter(prefix="/v1", tags=["suggestions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid parameter"},
    401: {"model": ErrorOut, "description": "No valid API token"},
    403: {"model": ErrorOut, "description": "The credential's role may not read suggestions"},
    404: {"model": ErrorOut, "description": "No such customer"},
}


class SuggestionOut(BaseModel):
    item_id: str
    name: str | None = Field(description="The product's name, when purchases carried one")
    score: float
    reason: str = Field(description="Why this product, in words")
    kind: str = Field(
        description="replenishment, favourite, bought_with, similar_customers or popular"
    )


class SuggestionsOut(BaseModel):
    customer_id: str
    personal: bool = Field(
        description="False when the customer did not allow personalisation: the suggestions "
        "are the same for everyone"
    )
    note: str | None = Field(description="Why the suggestions are not personal, or missing")
    trained_at: datetime | None = Field(description="When the model was trained")
    suggestions: list[SuggestionOut]


@router.get(
    "/customers/{customer_id}/suggestions", response_model=SuggestionsOut, responses=_ERRORS
)
def get_suggestions(
    services: ServicesDep,
    caller: StaffCaller,
    customer_id: str,
    n: Annotated[int, Query(ge=1, le=100, description="How many suggestions")] = 10,
) -> SuggestionsOut:
    """The products to suggest to the customer, best first, each with its reason in words;
    non-personal (and saying so) when the customer did not allow personalisation."""
    found = services.suggestions.for_customer(caller, customer_id, n)
    return SuggestionsOut(
        customer_id=found.customer_id,
        personal=found.personal,
        note=found.note,
        trained_at=found.trained_at,
        suggestions=[
            SuggestionOut(
                item_id=s.item_id, name=s.name, score=s.score, reason=s.reason, kind=s.kind
            )
            for s in found.suggestions
        ],
    )
