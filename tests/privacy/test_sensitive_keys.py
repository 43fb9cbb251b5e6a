"""A sensitive value used as an object key is judged as the same text would be as a value: the
entry goes, key and value, and the finding names only the parent."""

from __future__ import annotations

import pytest

from cornerstore.privacy.detect import TOP_LEVEL, FieldFinding, scan_mapping
from cornerstore.privacy.message_scan import ScannedMessage, scan_messages

CARD = "4111 1111 1111 1111"
IBAN = "DE89370400440532013000"


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (CARD, "payment_card"),
        ("4111111111111111", "payment_card"),
        (IBAN, "iban"),
        ("536-90-4399", "national_id"),
        ("AB123456C", "national_id"),
        ("born 12.03.1985", "birth_date"),
        ("my password is hunter2", "secret"),
    ],
)
def test_a_key_holding_a_sensitive_value_is_dropped_with_its_value(key: str, kind: str) -> None:
    message = {"type": "identify", "traits": {key: True, "plan": "gold"}}

    cleaned, found = scan_mapping(message)

    assert cleaned == {"type": "identify", "traits": {"plan": "gold"}}
    assert found == [FieldFinding(kind, "traits", "dropped")]
    assert key not in repr(found)


def test_the_batch_path_drops_the_same_keys_and_names_the_same_parent() -> None:
    batch = [
        {"type": "track", "properties": {IBAN: 1, "sku": "p-1"}},
        {"type": "track", "properties": {"sku": "p-1"}},
        {"type": "track", "properties": {IBAN: 2}},
    ]

    scanned = scan_messages(batch)

    assert scanned == [
        ScannedMessage(
            {"type": "track", "properties": {"sku": "p-1"}}, [FieldFinding("iban", "properties")]
        ),
        ScannedMessage(batch[1], []),
        ScannedMessage({"type": "track", "properties": {}}, [FieldFinding("iban", "properties")]),
    ]


def test_a_sensitive_key_at_the_top_is_named_as_the_top_level() -> None:
    cleaned, found = scan_mapping({CARD: "x", "type": "page"})

    assert cleaned == {"type": "page"}
    assert found == [FieldFinding("payment_card", TOP_LEVEL)]


@pytest.mark.parametrize("key", ["order_id", "2024-01-01", "sku-4111", "2025-03-01T08:00:00Z"])
def test_ordinary_keys_and_bare_dates_stay_as_the_same_text_would_as_a_value(key: str) -> None:
    # A bare date is a birth date only beside a birthday word, as a value is.
    message = {"properties": {key: 1}}

    assert scan_mapping(message) == (message, [])
    assert scan_messages([message]) == [ScannedMessage(message, [])]


def test_a_value_under_a_sensitive_key_is_not_reported_apart() -> None:
    # The entry goes as one: its value, sensitive or not, leaves no second finding.
    cleaned, found = scan_mapping({"traits": {CARD: {"note": f"card {CARD}"}}})

    assert cleaned == {"traits": {}}
    assert found == [FieldFinding("payment_card", "traits")]
