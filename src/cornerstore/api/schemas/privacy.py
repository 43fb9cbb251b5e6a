"""Privacy: consent per purpose, "anonymous, please", erasure, and the firewall's record."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from pydantic.json_schema import JsonDict

from cornerstore.api.schemas import Answer
from cornerstore.settings import PURPOSES, TOUCHPOINTS

# Documented as the server checks them, so a client (or a fuzzer) learns the values from the
# schema; the services still check and name the field in a 400.
_PURPOSE_KEYS: JsonDict = {"propertyNames": {"enum": list(PURPOSES)}}
_TOUCHPOINT: JsonDict = {"enum": [*TOUCHPOINTS, None]}


class ConsentStateOut(Answer):
    purpose: str
    granted: bool
    asked: bool = Field(description="False when this is the default: the customer was never asked")
    at: datetime | None
    touchpoint: str | None
    source: str | None


class ConsentChangeOut(Answer):
    profile: str = Field(validation_alias="customer_id")
    purpose: str
    granted: bool
    at: datetime
    touchpoint: str
    source: str
    message_id: str | None


class ConsentsOut(Answer):
    customer_id: str
    anonymous: bool = Field(description="Profiling and personalisation are both withdrawn")
    consents: list[ConsentStateOut]
    history: list[ConsentChangeOut]


class ConsentsIn(BaseModel):
    consents: dict[str, bool] = Field(
        description='Purpose -> granted, e.g. {"marketing_email": false}',
        min_length=1,
        max_length=20,
        json_schema_extra=_PURPOSE_KEYS,
    )
    touchpoint: str | None = Field(
        None, description="Where the customer said it (default: web)", json_schema_extra=_TOUCHPOINT
    )


class AnonymousIn(BaseModel):
    anonymous: bool = Field(description="True: stop profiling and personalisation")
    touchpoint: str | None = Field(
        None, description="Where the customer said it (default: web)", json_schema_extra=_TOUCHPOINT
    )


class ErasureOut(Answer):
    customer_id: str
    profiles: int
    identifiers: int
    traits: int
    events: int
    consents: int
    merges: int
    suppressed_identifiers: int = Field(
        description="Identifiers kept only as keyed hashes, so replayed events are dropped"
    )


class PrivacyEventOut(Answer):
    at: datetime
    entrance: str
    source: str
    kind: str
    field: str
    action: str
    message_id: str | None
