"""Identity resolution: queued pairs, decisions, explanations and where a customer was placed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from cornerstore.api.schemas import Answer
from cornerstore.api.schemas.customers import CustomerPublic


class FieldWeightOut(Answer):
    field: str
    level: str = Field(description="The comparison level that held (exact, nickname, missing...)")
    left: Any = Field(description="The normalised value of the first customer, when readable")
    right: Any = Field(description="The normalised value of the second customer, when readable")
    weight: float = Field(description="The level's match weight (log2 of the Bayes factor)")


class ReviewOut(Answer):
    """A pair waiting for a decision: both customers as the caller's role may see them."""

    id: int
    left: CustomerPublic
    right: CustomerPublic
    match_probability: float
    match_weight: float
    fields: list[FieldWeightOut]
    status: str
    created_at: datetime
    against: list[FieldWeightOut] = Field(
        default_factory=list,
        description="Evidence against: fields on which another pair of the two customers' "
        "records (an older address, a second e-mail) disagrees, at its most negative weight; "
        "``fields`` shows the pair of records that agree best",
    )


class DecisionOut(Answer):
    id: int
    left_id: str
    right_id: str
    status: str = Field(description="accepted (the two were merged) or rejected (kept apart)")
    decided_by: str | None
    decided_at: datetime | None


class ScoredVariantOut(Answer):
    """Which record of a customer was scored: its current one, or its values as observed at
    an earlier moment."""

    current: bool
    observed_at: datetime | None = Field(description="When these values were seen (not current)")


class ExplanationOut(Answer):
    """Two stored customers as ``identity resolve`` scores them: their best-scoring variants."""

    left_id: str
    right_id: str
    prior_weight: float = Field(description="The prior for the number of stored variants")
    fields: list[FieldWeightOut]
    match_weight: float
    match_probability: float
    left_variant: ScoredVariantOut
    right_variant: ScoredVariantOut
    compared: bool = Field(
        description="Whether resolve compares the two at all (a variant pair shares a blocking key)"
    )


class PlacedOut(Answer):
    """Where a customer went: ``merged`` into ``other_id``, ``queued`` for review with it,
    ``refused`` by the merge safeguards, or ``left`` on its own."""

    customer_id: str
    decision: str
    other_id: str | None = Field(description="The best candidate (none for households)")
    match_probability: float | None
    candidates: int = Field(description="Customers sharing a blocking key with this one")
