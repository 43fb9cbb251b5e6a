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


# What became of each customer a campaign considered, in order: one of the first four on
# assignment, then rendered, then sent or failed. Control customers stay held_out.
ELIGIBLE = "eligible"
HELD_OUT = "held_out"
CAPPED = "capped"
EXCLUDED = "excluded"
RENDERED = "rendered"
SENT = "sent"
FAILED = "failed"
STATES = (ELIGIBLE, HELD_OUT, CAPPED, EXCLUDED, RENDERED, SENT, FAILED)

TREATMENT = "treatment"
CONTROL = "control"
NOT_ASSIGNED = "none"


@dataclass(frozen=True, slots=True)
class Offer:
    """The campaign's offer: what a personal coupon gives, and how long it stays valid."""

    description: str
    expires_days: int


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """One campaign as stored."""

    id: int
    name: str
    purpose: str
    channel: str
    audience: dict[str, object]
    subject: str
    body: str
    html: str | None
    offer: Offer | None
    control_share: float
    window_days: int
    role: str
    status: str
    created_at: datetime
    created_by: str
    assigned_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Recipient:
    """One customer a campaign considered: their group and state, with the reason."""

    customer_id: str
    arm: str
    state: str
    reason: str | None
    attempts: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CouponRecord:
    """A personal single-use coupon."""

    code: str
    campaign_id: int
    customer_id: str
    expires_at: datetime
    redeemed_at: datetime | None
    redeemed_message_id: str | None
