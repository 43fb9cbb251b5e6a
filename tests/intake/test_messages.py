"""Parsing Spec messages: validation names the field, times follow the Spec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from cornerstore.errors import InvalidInput, TooLarge
from cornerstore.intake.batch_rows import EVENT_COLUMNS, event_row
from cornerstore.intake.messages import Message, parse_message

RECEIVED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def parse(raw: object, sent: datetime | None = None, implied: str | None = None) -> Message:
    return parse_message(
        raw,
        where="batch[0]",
        received_at=RECEIVED,
        batch_sent_at=sent,
        default_touchpoint="web",
        max_message_bytes=32 * 1024,
        implied_type=implied,
    )


def test_clock_skew_is_corrected_with_sent_at_as_the_spec_says() -> None:
    # The device clock is 10 minutes fast: it stamped the event 1 minute before sending it.
    msg = parse(
        {
            "type": "track",
            "event": "A",
            "userId": "u",
            "timestamp": "2026-03-01T12:09:00Z",
            "sentAt": "2026-03-01T12:10:00Z",
        }
    )

    assert msg.timestamp == RECEIVED - timedelta(minutes=1)
    assert msg.original_timestamp == "2026-03-01T12:09:00Z"
    assert msg.received_at == RECEIVED


def test_a_batch_level_sent_at_applies_to_messages_without_their_own() -> None:
    msg = parse(
        {"type": "page", "userId": "u", "timestamp": "2026-03-01T12:00:00+01:00"},
        sent=datetime(2026, 3, 1, 11, 0, 30, tzinfo=UTC),
    )

    assert msg.timestamp == RECEIVED - timedelta(seconds=30)


def test_historical_messages_without_sent_at_keep_their_time() -> None:
    msg = parse({"type": "track", "event": "A", "userId": "u", "timestamp": "2024-05-01T08:00:00"})

    assert msg.timestamp == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_a_message_without_a_timestamp_takes_the_receive_time() -> None:
    assert parse({"type": "identify", "userId": "u"}).timestamp == RECEIVED


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([], "batch[0]: must be a JSON object"),
        ({"type": "buy", "userId": "u"}, "batch[0].type: must be one of"),
        ({"type": "track", "userId": "u"}, "batch[0].event: is required"),
        ({"type": "track", "event": "A"}, "batch[0]: needs a userId or an anonymousId"),
        ({"type": "alias", "userId": "u"}, "batch[0]: alias needs both previousId and userId"),
        ({"type": "group", "userId": "u"}, "batch[0].groupId: is required"),
        ({"type": "identify", "userId": {"a": 1}}, "batch[0].userId: must be a string"),
        ({"type": "identify", "userId": "u", "traits": [1]}, "batch[0].traits: must be a JSON"),
        ({"type": "identify", "userId": "u", "timestamp": "yesterday"}, "batch[0].timestamp: not"),
        (
            {"type": "identify", "userId": "u", "context": {"touchpoint": "moon"}},
            "batch[0].context.touchpoint: must be one of",
        ),
    ],
)
def test_malformed_messages_are_refused_naming_the_field(raw: object, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(raw)

    assert caught.value.message.startswith(reason)


def test_a_message_whose_objects_are_all_wrong_is_refused_for_its_context_first() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse({"type": "track", "event": "A", "userId": "u", "traits": 1, "context": "x"})

    assert caught.value.message == "batch[0].context: must be a JSON object"


@pytest.mark.parametrize("value", [0, "", [], False, "{}"])
def test_an_object_sent_as_any_other_falsy_or_textual_value_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse({"type": "track", "event": "A", "userId": "u", "integrations": value})

    assert caught.value.message == "batch[0].integrations: must be a JSON object"


def test_absent_and_null_objects_are_empty_and_given_ones_are_kept() -> None:
    msg = parse(
        {"type": "track", "event": "A", "userId": "u", "properties": {"a": 1}, "context": None}
    )

    assert (msg.context, msg.traits, msg.properties, msg.integrations) == ({}, {}, {"a": 1}, {})


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-05-01T08:00:00.250Z", datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=UTC)),
        ("2024-05-01T08:00:00+00:00", datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
        ("2024-05-01T10:30:00+02:30", datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
        ("2024-05-01T08:00:00", datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_event_times_are_stored_in_utc_whatever_zone_they_are_written_in(
    stamp: str, expected: datetime
) -> None:
    msg = parse({"type": "track", "event": "A", "userId": "u", "timestamp": stamp})

    assert msg.timestamp == expected
    assert msg.timestamp.utcoffset() == timedelta(0)
    assert msg.original_timestamp == stamp


def test_of_several_unstorable_values_the_first_in_the_message_is_named() -> None:
    properties = {
        "note": None,
        "items": [{"price": 1.5, "sku": "a"}, {"price": float("nan")}],
        "code": "x\u0000",
        "big": 2**70,
    }

    with pytest.raises(InvalidInput) as caught:
        parse({"type": "track", "event": "A", "anonymousId": "a1", "properties": properties})

    assert caught.value.message == (
        "batch[0].properties.items[1].price: not a finite number (NaN and Infinity are not JSON)"
    )


def test_a_message_with_nulls_and_large_numbers_that_fit_is_accepted_as_sent() -> None:
    properties = {"note": None, "total": 12.5, "id": 2**64 - 1, "low": -(2**63), "ok": True}

    msg = parse(
        {
            "type": "track",
            "event": "A",
            "userId": None,
            "anonymousId": "a1",
            "properties": properties,
        }
    )

    assert (msg.user_id, msg.anonymous_id, msg.properties) == (None, "a1", properties)


def test_the_reason_never_contains_the_value_sent() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse({"type": "identify", "userId": "u", "timestamp": "ann@example.com"})

    assert "ann@example.com" not in caught.value.message


def test_a_message_over_the_size_limit_names_the_limit() -> None:
    with pytest.raises(TooLarge, match="over the limit of 32768 bytes"):
        parse({"type": "track", "event": "A", "userId": "u", "properties": {"x": "y" * 40000}})


def test_the_single_message_endpoints_imply_the_type() -> None:
    assert parse({"userId": "u", "event": "A"}, implied="track").type == "track"
    with pytest.raises(InvalidInput, match="must be 'track' on this endpoint"):
        parse({"type": "page", "userId": "u"}, implied="track")


def test_context_touchpoint_says_which_department_sent_it() -> None:
    msg = parse(
        {
            "type": "track",
            "event": "Case Opened",
            "userId": "u",
            "context": {"touchpoint": "support"},
        }
    )

    assert msg.touchpoint == "support"


def test_a_timestamp_sent_with_original_timestamp_is_the_event_time_as_given() -> None:
    msg = parse(
        {
            "type": "track",
            "event": "A",
            "userId": "u",
            "timestamp": "2026-03-01T11:00:00Z",
            "originalTimestamp": "2026-03-01T11:09:00Z",
            "sentAt": "2026-03-01T11:10:00Z",
        }
    )

    assert (msg.timestamp, msg.original_timestamp) == (
        datetime(2026, 3, 1, 11, 0, tzinfo=UTC),
        "2026-03-01T11:09:00Z",
    )


def test_original_timestamp_alone_is_the_device_time_corrected_for_skew() -> None:
    msg = parse(
        {
            "type": "track",
            "event": "A",
            "userId": "u",
            "originalTimestamp": "2026-03-01T12:09:00Z",
            "sentAt": "2026-03-01T12:10:00Z",
        }
    )

    assert (msg.timestamp, msg.original_timestamp) == (
        RECEIVED - timedelta(minutes=1),
        "2026-03-01T12:09:00Z",
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            {"type": "track", "event": "A", "userId": "u", "properties": {"a": [1, "x\u0000"]}},
            "batch[0].properties.a[1]: contains a NUL character (\\u0000)",
        ),
        (
            {"type": "track", "event": "A", "userId": "u", "timestamp": "9999-12-31T23:00:00Z"},
            "batch[0].timestamp: out of range (years 0001 to 9999)",
        ),
        (
            {"type": "track", "event": "A", "userId": "u", "sentAt": "0001-01-01T00:00:00Z"},
            "batch[0].sentAt: out of range (years 0001 to 9999)",
        ),
        (
            {"type": "track", "event": "A", "userId": "u", "properties": {"n": float("-inf")}},
            "batch[0].properties.n: not a finite number (NaN and Infinity are not JSON)",
        ),
    ],
)
def test_what_no_database_can_store_is_refused_naming_the_field(
    raw: dict[str, object], reason: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(raw)

    assert refused.value.message == reason


def test_a_message_exactly_at_the_size_limit_is_taken_and_one_byte_more_is_not() -> None:
    raw = {"type": "track", "event": "A", "userId": "u", "properties": {"x": ""}}
    raw["properties"]["x"] = "y" * (32 * 1024 - len(orjson.dumps(raw)))

    assert parse(raw).properties == raw["properties"]
    raw["properties"]["x"] += "y"
    with pytest.raises(TooLarge, match="message is 32769 bytes"):
        parse(raw)


def test_the_event_row_stores_the_objects_as_they_arrived_and_a_category_with_the_properties() -> (
    None
):
    page = parse(
        {
            "type": "page",
            "userId": "u",
            "category": "Shop",
            "properties": {"path": "/é"},
            "context": {"ip": "8.8.8.8"},
            "integrations": {"All": False},
        }
    )

    row = dict(zip(EVENT_COLUMNS, event_row(page, "cus_1", None, "shop"), strict=True))

    assert (row["properties"], row["context"], row["integrations"]) == (
        '{"path":"/é","category":"Shop"}',
        '{"ip":"8.8.8.8"}',
        '{"All":false}',
    )
