"""Suggestions: the products to suggest to one customer, each with its reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.suggestions import SuggestionsOut

router = APIRouter(prefix="/v1", tags=["suggestions"], responses=error_answers(400, 401, 403, 404))


@router.get("/customers/{customer_id}/suggestions", response_model=SuggestionsOut)
def get_suggestions(
    services: ServicesDep,
    caller: StaffCaller,
    customer_id: str,
    n: Annotated[int, Query(ge=1, le=100, description="How many suggestions")] = 10,
) -> SuggestionsOut:
    """The products to suggest to the customer, best first, each with its reason in words;
    non-personal (and saying so) when the customer did not allow personalisation."""
    found = services.suggestions.for_customer(caller, customer_id, n)
    return SuggestionsOut.model_validate(found)
