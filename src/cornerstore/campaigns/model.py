"""Plain campaign records returned by the store: contacts, campaigns, recipients and coupons.
No database, template or web types here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Contact:
    """One time the shop reached out to a customer (``customer_id`` is their root profile)."""

    customer_id: str
    channel: str
    purpose: str
    at: datetime
    source: str
    campaign_id: int | None = None
