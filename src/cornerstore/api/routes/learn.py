"""What cornerstore learned: a customer's scores, and the customers slipping away."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas import ErrorOut

router = APIRouter(prefix="/v1", tags=["learning"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid parameter"},
    401: {"model": ErrorOut, "description": "No valid API token"},
    403: {"model": ErrorOut, "description": "The credential may not read customers"},
    404: {"model": ErrorOut, "description": "No such customer"},
}


class ScoreOut(BaseModel):
    value: Any = Field(description="The score's figures (see docs/learn.md)")
    computed_at: datetime
    model: str = Field(description="Model version, e.g. learn/1:bgnbd")


class ScoresOut(BaseModel):
    customer_id: str
    profiled: bool = Field(description="False when the customer withdrew consent to profiling")
    scores: dict[str, ScoreOut] = Field(
        description="value, loyalty, churn_risk, delivery_window (absent until computed)"
    )


class AtRiskOut(BaseModel):
    customer_id: str
    value_at_risk: float
    reasons: list[str]


@router.get("/customers/{customer_id}/scores", response_model=ScoresOut, responses=_ERRORS)
def get_scores(services: ServicesDep, caller: StaffCaller, customer_id: str) -> ScoresOut:
    """What was learned about the customer by the last `cornerstore learn`: value (CLV,
    P(alive)), behavioural loyalty, churn risk with reasons, delivery window."""
    found = services.learner.scores(caller, customer_id)
    return ScoresOut(
        customer_id=found.customer_id,
        profiled=found.profiled,
        scores={
            name: ScoreOut(value=s.value, computed_at=s.computed_at, model=s.model)
            for name, s in found.scores.items()
        },
    )


@router.get("/learn/at-risk", response_model=list[AtRiskOut], responses=_ERRORS)
def get_at_risk(
    services: ServicesDep,
    caller: StaffCaller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[AtRiskOut]:
    """Customers slipping away, highest value at risk first, each with the reasons in words."""
    return [
        AtRiskOut(customer_id=r.customer_id, value_at_risk=r.value_at_risk, reasons=r.reasons)
        for r in services.learner.at_risk(caller, limit)
    ]
