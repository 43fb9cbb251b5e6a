"""The firewall over a whole batch (:func:`scan_messages`) removes exactly what scanning each
message alone, string by string, removes; it only does less work for the clean messages, which
it hands back untouched.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cornerstore.json_input import MAX_JSON_DEPTH
from cornerstore.privacy import detect
from cornerstore.privacy.detect import FieldFinding, find, strings_with_candidates
from cornerstore.privacy.message_scan import ScannedMessage, scan_messages
from tests.privacy.test_candidate_scan import STRINGS, scanned_string_by_string, texts

# Beside the pieces of test_candidate_scan: text outside ASCII (whose lower case may be longer,
# İ), line breaks inside a string, and numbers a card may hide in.
ODD_STRINGS = st.sampled_from(
    [
        "Stra\u00dfe 12, M\u00fcnchen", "\u0130stanbul 4111 1111 1111 1111", "caf\u00e9\ncard",
        "note:\n4111 1111 1111 1111", "GB82\nWEST 1234 5698 7654 32", "\u00e9123456789",
        "Geb. am 12.03.1985, n\u00e9 le 12/03/1985", "line\n", "\n", "",
    ]
)  # fmt: skip
NUMBERS = st.sampled_from([4111111111111111, 4111111111111111.0, 123456789, -4111111111111111])
scalars = st.one_of(texts, STRINGS, ODD_STRINGS, NUMBERS, st.integers(), st.floats(), st.none())
# Keys are judged as text too: a card, an IBAN or a stated secret used as a key drops its entry;
# a bare date or an id does not.
NAMES = st.sampled_from(
    [
        "note", "userAgent", "url", "id", "n", "password", "dob", "token", "device", "context",
        "4111 1111 1111 1111", "DE89370400440532013000", "born 12.03.1985", "2024-01-01",
        "order_id", "my pin is 4921",
    ]
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=3)),
    max_leaves=8,
)
messages = st.dictionaries(NAMES, values, max_size=5)


def scanned_alone(message: Any) -> ScannedMessage:
    """What each message gives when scanned by itself, every string on its own."""
    if not isinstance(message, dict):
        return ScannedMessage(message, [])
    cleaned, found = scanned_string_by_string(message)
    return ScannedMessage(cleaned, found)


@settings(max_examples=1500, derandomize=True)
@given(st.lists(messages, min_size=1, max_size=6))
@example([{"context": {"device": {"token": "abc"}}}, {"device": {"token": "abc"}}])
@example([{"n": "\u0130stanbul 4111 1111 1111 1111"}, {"n": "Mozilla/5.0"}])
@example([{"n": ["a\n4111 1111 1111 1111", 4111111111111111.0]}, {"n": "x"}])
@example([{"n": {"4111 1111 1111 1111": 1}}, {"n": {"4111 1111 1111 1111": 2}}])
@example([{"4111 1111 1111 1111": "4111 1111 1111 1111"}, {"note": "4111 1111 1111 1111"}])
def test_a_batch_gives_what_each_message_scanned_alone_gives(batch: list[dict[str, Any]]) -> None:
    scanned = scan_messages(batch)

    assert scanned == [scanned_alone(message) for message in batch]


@settings(max_examples=3000, derandomize=True)
@given(st.lists(st.one_of(texts, STRINGS, ODD_STRINGS), min_size=1, max_size=8))
@example(["Mozilla/5.0", "card 4111 1111 1111 1111"])
@example(["x", "AB 12 34 56 C"])
@example(["gb82-west-1234-5698-7654-32"])
def test_every_string_in_which_find_finds_something_passes_the_candidate_scan(
    strings: list[str],
) -> None:
    holding = {i for i, s in enumerate(strings) if find(s)}

    assert holding <= strings_with_candidates(strings)


@settings(max_examples=3000, derandomize=True)
@given(texts)
@example("x 4-1-1-1-1-1-1-1-1")
@example("AB1234")
@example("AB 1 2 3 4")
@example("/ab12-cd34")
def test_the_shape_of_ascii_text_holds_every_number_candidate(text: str) -> None:
    if detect._CANDIDATE_NUMBER.search(text) is None:
        return

    assert strings_with_candidates([text]) == {0}


def test_a_clean_message_comes_back_as_it_was_given() -> None:
    message = {"type": "page", "context": {"userAgent": "Mozilla/5.0", "page": {"url": "/p/1"}}}

    [scanned] = scan_messages([message])

    assert scanned.message is message
    assert scanned.found == []


def test_a_message_with_a_card_is_redacted_and_says_where() -> None:
    batch = [
        {"type": "track", "properties": {"items": [{"note": "card 4111 1111 1111 1111"}]}},
        {"type": "identify", "traits": {"password": "hunter2"}, "userId": "u1"},
        {"type": "track", "properties": {"total": 4111111111111111}},
    ]

    scanned = scan_messages(batch, drop=frozenset())

    assert scanned == [
        ScannedMessage(
            {"type": "track", "properties": {"items": [{"note": "card [removed: payment card]"}]}},
            [FieldFinding("payment_card", "properties.items[0].note", "redacted")],
        ),
        ScannedMessage(
            {"type": "identify", "traits": {}, "userId": "u1"},
            [FieldFinding("secret", "traits.password")],
        ),
        ScannedMessage(
            {"type": "track", "properties": {}},
            [FieldFinding("payment_card", "properties.total")],
        ),
    ]


def test_the_push_token_of_a_device_is_kept_and_only_there() -> None:
    batch = [{"context": {"device": {"token": "f00d"}}}, {"device": {"token": "f00d"}}]

    scanned = scan_messages(batch)

    assert scanned[0] == ScannedMessage(batch[0], [])
    assert scanned[1] == ScannedMessage({"device": {}}, [FieldFinding("secret", "device.token")])


def test_a_message_nested_too_deep_is_told_apart_and_the_others_scanned() -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(MAX_JSON_DEPTH):
        inner["x"] = {}
        inner = inner["x"]
    batch = [deep, {"note": "SSN 221-85-5328"}, "not an object"]

    scanned = scan_messages(batch)

    assert scanned == [
        ScannedMessage(None, [], too_deep=True),
        ScannedMessage(
            {"note": "SSN [removed: national ID]"},
            [FieldFinding("national_id", "note", "redacted")],
        ),
        ScannedMessage("not an object", []),
    ]
