"""Suggestions: the products to suggest to one customer, each with its reason."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from cornerstore.api.schemas import Answer


class SuggestionOut(Answer):
    item_id: str
    name: str | None = Field(description="The product's name, when purchases carried one")
    score: float
    reason: str = Field(description="Why this product, in words")
    kind: str = Field(
        description="replenishment, favourite, bought_with, similar_customers or popular"
    )


class SuggestionsOut(Answer):
    customer_id: str
    personal: bool = Field(
        description="False when the customer did not allow personalisation: the suggestions "
        "are the same for everyone"
    )
    note: str | None = Field(description="Why the suggestions are not personal, or missing")
    trained_at: datetime | None = Field(description="When the model was trained")
    suggestions: list[SuggestionOut]
