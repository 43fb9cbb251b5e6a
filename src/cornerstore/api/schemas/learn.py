"""What cornerstore learned: a customer's scores, the customers slipping away, say versus do."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from cornerstore.api.schemas import Answer


class ScoreOut(Answer):
    value: Any = Field(description="The score's figures (see docs/learn.md)")
    computed_at: datetime
    model: str = Field(description="Model version, e.g. learn/1:bgnbd")


class ScoresOut(Answer):
    customer_id: str
    profiled: bool = Field(description="False when the customer withdrew consent to profiling")
    scores: dict[str, ScoreOut] = Field(
        description="value, loyalty, churn_risk, delivery_window (absent until computed)"
    )


class AtRiskOut(Answer):
    customer_id: str
    name: str | None = Field(
        description="the customer's name; null when your role may not read names"
    )
    value_at_risk: float
    reasons: list[str]


class SayDoRowOut(Answer):
    survey: str
    solicited: bool = Field(description="Asked for by a member of staff (reported apart)")
    band: str = Field(description="NPS detractor/passive/promoter; CSAT low/neutral/high")
    segment: str | None = Field(description="The cluster, or null for all customers")
    answers: int
    customers: int
    bought_again: float = Field(description="Share of answers followed by a purchase")
    mean_spend_after: float
    mean_score: float


class SayDoSummaryOut(Answer):
    survey: str
    solicited: bool
    answers: int
    mean_score: float
    nps: float | None
    score_spend_correlation: float | None = Field(description="Spearman, score vs later spend")


class SayDoOut(Answer):
    window_days: int
    followed_until: datetime = Field(description="Answers after this are too recent to judge")
    summaries: list[SayDoSummaryOut]
    rows: list[SayDoRowOut]
