"""Customer JSON is read whole or refused with a reason: broken, or nested too deep."""

from __future__ import annotations

import pytest

from cornerstore.json_input import MAX_JSON_DEPTH, UnreadableJson, json_depth, read_json


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_json_nested_as_deep_as_the_limit_is_read() -> None:
    value = read_json(nested(MAX_JSON_DEPTH))

    assert json_depth(value) == MAX_JSON_DEPTH == 64


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 1_025, 10_000, 100_000])
def test_json_nested_deeper_than_the_limit_is_refused_as_too_deep(depth: int) -> None:
    with pytest.raises(UnreadableJson) as refused:
        read_json(nested(depth))

    assert refused.value.message == "nested too deep (limit 64)"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = b'{"a": "' + b"[" * 5_000 + b'", "b": }'

    with pytest.raises(UnreadableJson) as refused:
        read_json(text)

    assert refused.value.message == "not valid JSON (at byte 5015)"


def test_broken_json_inside_deep_nesting_is_refused_as_too_deep() -> None:
    with pytest.raises(UnreadableJson) as refused:
        read_json(b"[" * 2_000 + b"x")

    assert refused.value.message == "nested too deep (limit 64)"


def test_bytes_that_are_not_utf8_are_named_by_position() -> None:
    with pytest.raises(UnreadableJson) as refused:
        read_json(b'{"a": "\xff"}')

    assert refused.value.message == "not valid UTF-8 (at byte 7)"


def test_measuring_depth_stops_after_the_limit_and_never_recurses() -> None:
    value: list[object] = []
    for _ in range(100_000):
        value = [value]

    assert json_depth(value, limit=10) == 11
    assert json_depth({"a": {"b": [1, "x"]}, "c": 2}) == 3
