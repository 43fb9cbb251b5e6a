"""What cornerstore learned: a customer's scores, and the customers slipping away."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.learn import AtRiskOut, SayDoOut, ScoresOut

router = APIRouter(prefix="/v1", tags=["learning"], responses=error_answers(400, 401, 403, 404))


@router.get("/customers/{customer_id}/scores", response_model=ScoresOut)
def get_scores(services: ServicesDep, caller: StaffCaller, customer_id: str) -> ScoresOut:
    """What was learned about the customer by the last `cornerstore learn`: value (CLV,
    P(alive)), behavioural loyalty, churn risk with reasons, delivery window."""
    return ScoresOut.model_validate(services.learner.scores(caller, customer_id))


@router.get("/learn/at-risk", response_model=list[AtRiskOut])
def get_at_risk(
    services: ServicesDep,
    caller: StaffCaller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[AtRiskOut]:
    """Customers slipping away, highest value at risk first, each with the reasons in words."""
    return [AtRiskOut.model_validate(r) for r in services.learner.at_risk(caller, limit)]


@router.get("/surveys/say-vs-do", response_model=SayDoOut)
def get_say_vs_do(
    services: ServicesDep,
    caller: StaffCaller,
    days: Annotated[int, Query(ge=7, le=730, description="Follow-up window")] = 180,
) -> SayDoOut:
    """What customers said in surveys against what they did in the following days, by band
    and cluster; answers asked for by staff reported apart."""
    return SayDoOut.model_validate(services.learner.say_vs_do(caller, days))
