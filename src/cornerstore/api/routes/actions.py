"""Next best actions: what to do now for one customer, and why."""

from __future__ import annotations

from fastapi import APIRouter

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas.actions import NextActionsOut
from cornerstore.api.schemas.errors import error_answers

router = APIRouter(prefix="/v1", tags=["next actions"], responses=error_answers(400, 401, 403, 404))


@router.get("/customers/{customer_id}/next-actions", response_model=NextActionsOut)
def get_next_actions(
    services: ServicesDep, caller: StaffCaller, customer_id: str
) -> NextActionsOut:
    """The customer's next best actions, best first, each with its reasons in words ("call:
    high value, slipping away, unresolved delivery complaint"); marketing held back by consent,
    an open complaint or a frequency cap is listed apart with the reason. The rules are in
    settings (`CORNERSTORE_ACTIONS`)."""
    found = services.actions.for_customer(caller, customer_id)
    return NextActionsOut.model_validate(found)
