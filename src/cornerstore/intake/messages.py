"""Parse and validate Segment Spec messages into :class:`Message` objects.

The Spec (https://segment.com/docs/connections/spec/common/) defines the fields; cornerstore
also reads ``context.touchpoint`` to say which department a message comes from. Errors name the
field and the message index, never the value, so nothing a customer typed is echoed back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from cornerstore.errors import InvalidInput, TooLarge
from cornerstore.settings import TOUCHPOINTS

TYPES = ("identify", "track", "page", "screen", "group", "alias")
_TOUCHPOINTS = frozenset(TOUCHPOINTS)


@dataclass(slots=True)
class Message:
    """One validated Spec message with its corrected time and touchpoint."""

    type: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime
    original_timestamp: str | None
    sent_at: datetime | None
    received_at: datetime
    touchpoint: str
    event: str | None = None
    name: str | None = None
    group_id: str | None = None
    previous_id: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    integrations: dict[str, Any] = field(default_factory=dict)


def parse_time(value: Any, where: str) -> datetime:
    """Parse an ISO-8601 time (``Z`` or an offset); a time without zone is taken as UTC.

    >>> parse_time("2024-03-01T10:00:00.000Z", "timestamp").isoformat()
    '2024-03-01T10:00:00+00:00'
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and 0 < len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{where}: not an ISO-8601 time") from None
    else:
        raise InvalidInput(f"{where}: not an ISO-8601 time")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text_id(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{where}: must be a string or a number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if len(text) > 256:
        raise InvalidInput(f"{where}: longer than 256 characters")
    return text or None


def _object(raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}.{key}: must be a JSON object")
    return value


def _name(raw: dict[str, Any], key: str, where: str, required: bool) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{where}.{key}: is required for this message type")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{where}.{key}: must be a string")
    if len(value) > 256:
        raise InvalidInput(f"{where}.{key}: longer than 256 characters")
    return value


def message_size(raw: dict[str, Any]) -> int:
    """Bytes of the message as compact UTF-8 JSON (never more than the clients measure)."""
    try:
        return len(orjson.dumps(raw))
    except TypeError:
        raise InvalidInput("message: contains a value that is not JSON") from None


def parse_message(
    raw: Any,
    *,
    where: str,
    received_at: datetime,
    batch_sent_at: datetime | None,
    default_touchpoint: str,
    max_message_bytes: int,
    implied_type: str | None = None,
) -> Message:
    """Validate one Spec message and correct its clock skew.

    ``timestamp`` is corrected as the Spec says: ``receivedAt - (sentAt - originalTimestamp)``
    when the sender stamped ``sentAt``; historical imports without ``sentAt`` keep their time.
    """
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: must be a JSON object")
    size = message_size(raw)
    if size > max_message_bytes:
        raise TooLarge(
            f"{where}: message is {size} bytes, over the limit of {max_message_bytes} bytes"
        )
    kind = raw.get("type", implied_type)
    if implied_type is not None and kind != implied_type:
        raise InvalidInput(f"{where}.type: must be {implied_type!r} on this endpoint")
    if kind not in TYPES:
        raise InvalidInput(f"{where}.type: must be one of {', '.join(TYPES)}")

    user_id = _text_id(raw.get("userId"), f"{where}.userId")
    anonymous_id = _text_id(raw.get("anonymousId"), f"{where}.anonymousId")
    previous_id = None
    if kind == "alias":
        previous_id = _text_id(raw.get("previousId"), f"{where}.previousId")
        if previous_id is None or user_id is None:
            raise InvalidInput(f"{where}: alias needs both previousId and userId")
    elif user_id is None and anonymous_id is None:
        raise InvalidInput(f"{where}: needs a userId or an anonymousId")

    message_id = _text_id(raw.get("messageId"), f"{where}.messageId") or str(uuid.uuid4())
    context = _object(raw, "context", where)
    traits = _object(raw, "traits", where)
    if kind == "identify" and not traits and isinstance(context.get("traits"), dict):
        # RudderStack's clients send identify traits only in context.traits.
        traits = context["traits"]
    properties = _object(raw, "properties", where)
    integrations = _object(raw, "integrations", where)

    sent_raw = raw.get("sentAt")
    sent_at = parse_time(sent_raw, f"{where}.sentAt") if sent_raw else batch_sent_at
    original = raw.get("timestamp") or raw.get("originalTimestamp")
    if original:
        original_time = parse_time(original, f"{where}.timestamp")
        original_text = original if isinstance(original, str) else original_time.isoformat()
        timestamp = received_at - (sent_at - original_time) if sent_at else original_time
    else:
        original_text = None
        timestamp = received_at

    touchpoint = context.get("touchpoint")
    if touchpoint is not None and touchpoint not in _TOUCHPOINTS:
        raise InvalidInput(f"{where}.context.touchpoint: must be one of {', '.join(TOUCHPOINTS)}")

    msg = Message(
        type=kind,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=timestamp,
        original_timestamp=original_text,
        sent_at=sent_at,
        received_at=received_at,
        touchpoint=touchpoint or default_touchpoint,
        previous_id=previous_id,
        traits=traits,
        properties=properties,
        context=context,
        integrations=integrations,
    )
    if kind == "track":
        msg.event = _name(raw, "event", where, required=True)
    elif kind in ("page", "screen"):
        msg.name = _name(raw, "name", where, required=False)
        category = _name(raw, "category", where, required=False)
        if category is not None and "category" not in properties:
            # Kept with the properties, where the timeline shows it.
            msg.properties = {**properties, "category": category}
    elif kind == "group":
        msg.group_id = _text_id(raw.get("groupId"), f"{where}.groupId")
        if msg.group_id is None:
            raise InvalidInput(f"{where}.groupId: is required for group")
    return msg
