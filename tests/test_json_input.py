"""Customer JSON is read whole or refused with a reason: broken, or nested too deep."""

from __future__ import annotations

import pytest

from cornerstore.json_input import MAX_JSON_DEPTH, TooDeep, UnreadableJson, read_json
from cornerstore.privacy.detect import scan_mapping


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [1_025, 10_000, 100_000])
def test_json_deeper_than_the_parser_reads_is_refused_as_too_deep(depth: int) -> None:
    with pytest.raises(TooDeep) as refused:
        read_json(nested(depth))

    assert refused.value.message == "nested too deep (limit 64)"


def test_broken_json_inside_deep_nesting_is_refused_as_too_deep() -> None:
    with pytest.raises(TooDeep):
        read_json(b"[" * 2_000 + b"x")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = b'{"a": "' + b"[" * 5_000 + b'\\" [", "b": }'

    with pytest.raises(UnreadableJson) as refused:
        read_json(text)

    assert refused.value.message == "not valid JSON (at byte 5019)"


def test_bytes_that_are_not_utf8_are_named_by_position() -> None:
    with pytest.raises(UnreadableJson) as refused:
        read_json(b'{"a": "\xff"}')

    assert refused.value.message == "not valid UTF-8 (at byte 7)"


def test_the_firewall_walks_json_as_deep_as_the_limit_and_refuses_one_level_more() -> None:
    at_limit = {"note": read_json(nested(MAX_JSON_DEPTH - 1))}
    over_limit = {"note": read_json(nested(MAX_JSON_DEPTH))}

    assert scan_mapping(at_limit) == (at_limit, [])
    with pytest.raises(TooDeep):
        scan_mapping(over_limit)
