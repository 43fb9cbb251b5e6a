"""Cases from systems that already speak the Spec: ``Case Opened``, ``Case Message`` and
``Case Resolved`` track events arriving through intake become cases and messages, filed with
the profile intake stitched each event to (see docs/cases.md for the properties read).

Intake has passed their properties through the privacy firewall before they get here, and
stores each message once, so filing them again never happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cornerstore.cases.model import CHANNELS, LINK_KINDS, PRIORITIES, CaseLink
from cornerstore.intake.messages import Message
from cornerstore.spec import CASE_MESSAGE, CASE_OPENED, CASE_RESOLVED

# The channel of a case whose event names none, by the department it came from.
_CHANNEL_OF_TOUCHPOINT = {"store": "store", "web": "web", "app": "chat"}


def _text(props: dict[str, Any], *names: str, limit: int = 20_000) -> str:
    for name in names:
        value = props.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                return text[:limit]
    return ""


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One case event as the contact centre reads it."""

    kind: str  # opened | message | resolved
    profile_id: str
    ref: str  # external_ref of the case: ``spec:<case_id>``
    at: datetime
    message_id: str
    channel: str
    category: str
    priority: str
    subject: str
    body: str
    direction: str
    branch: str | None
    links: tuple[CaseLink, ...]
    agent: str | None = None  # the staff username who wrote an outgoing message


def read_case_event(profile_id: str, msg: Message) -> CaseEvent | None:
    """What a stored track event says about a case; None when it is not a case event.

    Properties read: ``case_id`` (or ``caseId``; the message id when absent), ``channel``,
    ``category`` (or ``topic``), ``priority``, ``subject`` (or ``title``), ``text`` (or
    ``body``, ``message``, ``description``), ``direction`` (in or out, of Case Message),
    ``branch``, ``agent`` (the staff username who wrote an outgoing Case Message) and
    ``order_id`` / ``shipment_id`` / ``invoice_id``.
    """
    kinds = {CASE_OPENED: "opened", CASE_MESSAGE: "message", CASE_RESOLVED: "resolved"}
    kind = kinds.get(msg.event or "")
    if kind is None:
        return None
    props = msg.properties
    case_id = _text(props, "case_id", "caseId", limit=400) or msg.message_id
    channel = _text(props, "channel", limit=32).lower()
    if channel not in CHANNELS:
        channel = _CHANNEL_OF_TOUCHPOINT.get(msg.touchpoint, "phone")
    priority = _text(props, "priority", limit=16).lower()
    category = _text(props, "category", "topic", limit=64) or "other"
    direction = _text(props, "direction", limit=8).lower()
    links = tuple(
        CaseLink(k, ref)
        for k in LINK_KINDS
        if (ref := _text(props, f"{k}_id", f"{k}Id", limit=128))
    )
    return CaseEvent(
        kind=kind,
        profile_id=profile_id,
        ref=f"spec:{case_id}",
        at=msg.timestamp,
        message_id=f"spec:{msg.message_id}",
        channel=channel,
        category=category,
        priority=priority if priority in PRIORITIES else "normal",
        subject=_text(props, "subject", "title", limit=300),
        body=_text(props, "text", "body", "message", "description"),
        direction=direction if direction in ("in", "out") else "in",
        branch=_text(props, "branch", limit=64) or None,
        links=links,
        agent=_text(props, "agent", limit=64) or None,
    )
