"""Plain privacy records returned by the store: consent answers, what the firewall removed, and
what an erasure deleted. No database or web types here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One consent answer as stored: a profile's grant or withdrawal of a purpose."""

    customer_id: str
    purpose: str
    granted: bool
    at: datetime
    touchpoint: str
    source: str
    message_id: str | None


@dataclass(frozen=True, slots=True)
class PrivacyEventRecord:
    """What the firewall removed: never the value."""

    at: datetime
    entrance: str
    source: str
    kind: str
    field: str
    action: str
    message_id: str | None


@dataclass(frozen=True, slots=True)
class ErasedCounts:
    """How many rows of each kind an erasure deleted."""

    profiles: int
    identifiers: int
    traits: int
    events: int
    consents: int
    merges: int
