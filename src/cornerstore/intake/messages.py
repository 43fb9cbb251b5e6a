"""Parse and validate Segment Spec messages into :class:`Message` objects.

The Spec (https://segment.com/docs/connections/spec/common/) defines the fields; cornerstore
also reads ``context.touchpoint`` to say which department a message comes from. Errors name the
field and the message index, never the value, so nothing a customer typed is echoed back.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from cornerstore.errors import InvalidInput, TooLarge
from cornerstore.settings import TOUCHPOINTS
from cornerstore.spec import MESSAGE_TYPES

_TOUCHPOINTS = frozenset(TOUCHPOINTS)
# Times every backend stores and reads back: Python's datetime spans years 1 to 9999, and a day
# inside either end keeps every time-zone conversion of a stored time within it.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
_OUT_OF_RANGE = "out of range (years 0001 to 9999)"
# Integers JSON is written with here (orjson): signed or unsigned 64 bits.
_SMALLEST_INT, _LARGEST_INT = -(2**63), 2**64 - 1


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
    channel: str | None = None
    version: str | None = None
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
    tz = parsed.tzinfo
    if tz is None:
        parsed = parsed.replace(tzinfo=UTC)
    elif tz is not UTC:  # most senders write Z (or +00:00): already UTC, nothing to convert
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            raise InvalidInput(f"{where}: {_OUT_OF_RANGE}") from None
    if not EARLIEST <= parsed <= LATEST:
        raise InvalidInput(f"{where}: {_OUT_OF_RANGE}")
    return parsed


def correct_clock_skew(
    device_time: datetime, sent_at: datetime, received_at: datetime, where: str
) -> datetime:
    """The Spec's correction ``receivedAt - (sentAt - device time)``, refused out of range.

    >>> at, sent = datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 1, 12, 1, tzinfo=UTC)
    >>> correct_clock_skew(at, sent, at, "timestamp").isoformat()
    '2026-03-01T11:59:00+00:00'
    """
    try:
        corrected = received_at - (sent_at - device_time)
    except OverflowError:
        corrected = None
    if corrected is None or not EARLIEST <= corrected <= LATEST:
        raise InvalidInput(f"{where}: corrected for clock skew with sentAt, {_OUT_OF_RANGE}")
    return corrected


def check_storable(value: Any, where: str) -> None:
    """Refuse what no backend can store, naming the field and never the value.

    PostgreSQL cannot hold a NUL character in text (keys included, since JSON is stored as
    text); JSON has no NaN or Infinity; integers beyond 64 bits fit no JSON encoder here.

    >>> check_storable({"traits": {"name": "a\\u0000b"}}, "batch[2]")
    Traceback (most recent call last):
    cornerstore.errors.InvalidInput: batch[2].traits.name: contains a NUL character (\\u0000)
    """
    fault = _first_unstorable(value)
    if fault is not None:
        path, reason = fault
        raise InvalidInput(f"{where}{''.join(reversed(path))}: {reason}")


_NUL = "contains a NUL character (\\u0000)"
_NUL_IN_NAME = "a field name contains a NUL character (\\u0000)"
_NOT_FINITE = "not a finite number (NaN and Infinity are not JSON)"
_BEYOND_64_BITS = "integer out of range (beyond 64 bits)"


def _first_unstorable(value: Any) -> tuple[list[str], str] | None:
    """The first value of ``value``, in document order, that no backend can store: the path to
    it (its parts innermost first, built only for it) and what is wrong; None when all can be.

    Only a message whose encoding holds ``null`` or ``\\u0000`` is walked, but a ``null`` is
    common (an anonymous visitor's ``"userId": null``, an empty field): its ordinary leaves are
    judged here without a call, and no field's label is written unless it is at fault.
    """
    kind = type(value)
    if kind is dict or kind is list:
        in_list = kind is list
        name = ""
        for key, item in enumerate(value) if in_list else value.items():
            if not in_list:
                name = key if type(key) is str else str(key)
                if "\x00" in name:
                    return [], _NUL_IN_NAME
            leaf = type(item)
            if (
                (leaf is str and "\x00" not in item)
                or item is None
                or leaf is bool
                or (leaf is float and item - item == 0.0)  # NaN and the infinities give NaN
                or (leaf is int and _SMALLEST_INT <= item <= _LARGEST_INT)
            ):
                continue
            fault = _first_unstorable(item)
            if fault is not None:
                fault[0].append(f"[{key}]" if in_list else f".{name}")
                return fault
        return None
    if kind is str:
        return ([], _NUL) if "\x00" in value else None
    if isinstance(value, float):
        return None if math.isfinite(value) else ([], _NOT_FINITE)
    if isinstance(value, int) and not _SMALLEST_INT <= value <= _LARGEST_INT:
        return [], _BEYOND_64_BITS
    return None


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


# The objects of a message, in the order their faults are reported.
_OBJECTS = ("context", "traits", "properties", "integrations")


def _object(value: Any, key: str, where: str) -> dict[str, Any]:
    """``value`` of object field ``key``, when it is neither a plain dict nor absent: a dict's
    subclass as it is, anything else refused by name."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}.{key}: must be a JSON object")
    return value


def _name(
    raw: dict[str, Any], key: str, where: str, required: bool, longest: int = 256
) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{where}.{key}: is required for this message type")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{where}.{key}: must be a string")
    if len(value) > longest:
        raise InvalidInput(f"{where}.{key}: longer than {longest} characters")
    return value


def _version(value: Any, where: str) -> str | None:
    """The Spec ``version`` (``2``, ``1.1`` or ``"1.1"``) as text (not None nor empty)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{where}: must be a string or a number")
    text = str(value)
    if len(text) > 16:
        raise InvalidInput(f"{where}: longer than 16 characters")
    return text


def _time_text(value: Any, parsed: datetime) -> str:
    return value if isinstance(value, str) else parsed.isoformat()


def _event_time(
    raw: dict[str, Any], where: str, sent_at: datetime | None, received_at: datetime
) -> tuple[datetime, str | None]:
    """When the event happened, and the device's own time as it was sent.

    ``originalTimestamp`` (or, as the client libraries send it, ``timestamp`` alone) is the
    device's time, corrected for clock skew when ``sentAt`` says when the device sent it. A
    ``timestamp`` given together with ``originalTimestamp`` was set by the sender as the event
    time (Segment's own output, a replay, an import) and is kept as it is.
    """
    stamped = raw.get("timestamp")
    device = raw.get("originalTimestamp")
    if stamped and device:
        device_time = parse_time(device, f"{where}.originalTimestamp")
        return parse_time(stamped, f"{where}.timestamp"), _time_text(device, device_time)
    if not (stamped or device):
        return received_at, None
    label = f"{where}.timestamp" if stamped else f"{where}.originalTimestamp"
    value = stamped or device
    device_time = parse_time(value, label)
    if sent_at is None:
        return device_time, _time_text(value, device_time)
    return correct_clock_skew(device_time, sent_at, received_at, label), _time_text(
        value, device_time
    )


def encode_message(raw: dict[str, Any], where: str = "message") -> bytes:
    """The message as compact UTF-8 JSON, whose length is its size (never more than the clients
    measure); a value JSON cannot carry is named by its field."""
    try:
        return orjson.dumps(raw)
    except TypeError:
        check_storable(raw, where)
        raise InvalidInput(f"{where}: contains a value that is not JSON") from None


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

    The device's time is corrected as the Spec says, ``receivedAt - (sentAt - device time)``,
    when the sender stamped ``sentAt``; historical imports without ``sentAt`` keep their time; a
    ``timestamp`` sent with ``originalTimestamp`` is the event time as given. A message no
    backend can store (a NUL character, a time or number out of range) is refused by field.
    """
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: must be a JSON object")
    encoded = encode_message(raw, where)
    if len(encoded) > max_message_bytes:
        raise TooLarge(
            f"{where}: message is {len(encoded)} bytes, over the limit of {max_message_bytes} bytes"
        )
    # find rather than ``in``: for bytes, ``in`` first tries the text as an integer (a byte
    # value) and formats the TypeError it then drops, which costs more than the search itself.
    # A backslash, rare in JSON text, is looked for first: one byte is searched as by memchr,
    # about a tenth of the cost of searching for the six bytes of \u0000.
    nul = encoded.find(b"\\") >= 0 and encoded.find(b"\\u0000") >= 0
    if nul or encoded.find(b"null") >= 0:
        # A NUL is escaped as \u0000 and orjson writes NaN and Infinity as null: only then is
        # the message walked to name the field (integers beyond 64 bits fail to encode).
        check_storable(raw, where)
    kind = raw.get("type", implied_type)
    if implied_type is not None and kind != implied_type:
        raise InvalidInput(f"{where}.type: must be {implied_type!r} on this endpoint")
    if kind not in MESSAGE_TYPES:
        raise InvalidInput(f"{where}.type: must be one of {', '.join(MESSAGE_TYPES)}")

    # Nearly every id is a short string and every object a dict: those are taken here, and
    # the helpers (whose error labels are built only for what they refuse) judge the rest.
    get = raw.get
    user_id = get("userId")
    if type(user_id) is not str or len(user_id) > 256:
        user_id = _text_id(user_id, f"{where}.userId")
    anonymous_id = get("anonymousId")
    if type(anonymous_id) is not str or len(anonymous_id) > 256:
        anonymous_id = _text_id(anonymous_id, f"{where}.anonymousId")
    user_id, anonymous_id = user_id or None, anonymous_id or None
    previous_id = None
    if kind == "alias":
        previous_id = _text_id(get("previousId"), f"{where}.previousId")
        if previous_id is None or user_id is None:
            raise InvalidInput(f"{where}: alias needs both previousId and userId")
    elif user_id is None and anonymous_id is None:
        raise InvalidInput(f"{where}: needs a userId or an anonymousId")

    message_id = get("messageId")
    if type(message_id) is not str or len(message_id) > 256:
        message_id = _text_id(message_id, f"{where}.messageId")
    message_id = message_id or str(uuid.uuid4())
    # The objects, in the order their faults are reported; nearly all are objects or absent,
    # taken here without a call (a comprehension would be one, and _object another).
    objects = []
    for key in _OBJECTS:
        value = get(key)
        if type(value) is not dict:
            value = {} if value is None else _object(value, key, where)
        objects.append(value)
    context, traits, properties, integrations = objects
    if kind == "identify" and not traits and isinstance(context.get("traits"), dict):
        # RudderStack's clients send identify traits only in context.traits.
        traits = context["traits"]

    sent_raw = raw.get("sentAt")
    sent_at = parse_time(sent_raw, f"{where}.sentAt") if sent_raw else batch_sent_at
    timestamp, original_text = _event_time(raw, where, sent_at, received_at)

    version = get("version")
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
        channel=None if get("channel") is None else _name(raw, "channel", where, False, 64),
        version=None if version is None or version == "" else _version(version, f"{where}.version"),
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
