"""What cornerstore learned: a customer's scores, and the customers slipping away."""

from __future__ import annotations

from dataclasses import asdict
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
    name: str | None = Field(
        description="the customer's name; null when your role may not read names"
    )
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
        AtRiskOut(
            customer_id=r.customer_id,
            name=r.name,
            value_at_risk=r.value_at_risk,
            reasons=r.reasons,
        )
        for r in services.learner.at_risk(caller, limit)
    ]


class SayDoRowOut(BaseModel):
    survey: str
    solicited: bool = Field(description="Asked for by a member of staff (reported apart)")
    band: str = Field(description="NPS detractor/passive/promoter; CSAT low/neutral/high")
    segment: str | None = Field(description="The cluster, or null for all customers")
    answers: int
    customers: int
    bought_again: float = Field(description="Share of answers followed by a purchase")
    mean_spend_after: float
    mean_score: float


class SayDoSummaryOut(BaseModel):
    survey: str
    solicited: bool
    answers: int
    mean_score: float
    nps: float | None
    score_spend_correlation: float | None = Field(description="Spearman, score vs later spend")


class SayDoOut(BaseModel):
    window_days: int
    followed_until: datetime = Field(description="Answers after this are too recent to judge")
    summaries: list[SayDoSummaryOut]
    rows: list[SayDoRowOut]


@router.get("/surveys/say-vs-do", response_model=SayDoOut, responses=_ERRORS)
def get_say_vs_do(
    services: ServicesDep,
    caller: StaffCaller,
    days: Annotated[int, Query(ge=7, le=730, description="Follow-up window")] = 180,
) -> SayDoOut:
    """What customers said in surveys against what they did in the following days, by band
    and cluster; answers asked for by staff reported apart."""
    report = services.learner.say_vs_do(caller, days)
    return SayDoOut(
        window_days=report.window_days,
        followed_until=report.followed_until,
        summaries=[SayDoSummaryOut(**asdict(s)) for s in report.summaries],
        rows=[SayDoRowOut(**asdict(r)) for r in report.rows],
    )
