"""Reading JSON that customers send: it must be JSON, and nested no deeper than a limit.

Every walk over customer JSON (the privacy firewall's scan first of all) may rely on
:data:`MAX_JSON_DEPTH`: documents deeper than that are refused where they are read (request
bodies, ``privacy scan --json-input``) and the firewall refuses a deeper value handed to it by
library code. Real messages nest a few levels; 64 leaves room for any of them while a walk that
recurses once or twice a level stays far from Python's recursion limit, and from orjson's own
limits (1024 levels to read, 254 to write).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from cornerstore.errors import InvalidInput

MAX_JSON_DEPTH = 64
TOO_DEEP = f"nested too deep (limit {MAX_JSON_DEPTH})"

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class UnreadableJson(InvalidInput):
    """JSON that cannot be read; the message says why and where, never quoting the text."""


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How many objects and lists ``value`` nests, counting no further than ``limit + 1``.

    Walks without recursion, so any depth is safe to measure.

    Examples
    --------
    >>> json_depth("text"), json_depth({"a": [1, {"b": {}}]}), json_depth([[[[]]]], limit=2)
    (0, 4, 3)
    """
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _open_at(text: str) -> int:
    """How many objects and lists are open at the end of ``text`` (a prefix of a document)."""
    outside_strings = _STRING.sub("", text)
    opened = outside_strings.count("{") + outside_strings.count("[")
    return opened - outside_strings.count("}") - outside_strings.count("]")


def read_json(data: bytes) -> Any:
    """The JSON value of ``data``, refusing a document nested deeper than :data:`MAX_JSON_DEPTH`.

    Raises :class:`UnreadableJson` saying ``not valid UTF-8 (at byte N)``, ``not valid JSON
    (at byte N)`` or ``nested too deep (limit 64)``; a document too deep for the parser to read
    is told apart from broken JSON by how many levels are open where reading stopped.

    Examples
    --------
    >>> read_json(b'{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> read_json(b"[" * 10_000 + b"]" * 10_000)
    Traceback (most recent call last):
    cornerstore.json_input.UnreadableJson: nested too deep (limit 64)
    >>> read_json('{"a": "é", x}'.encode())
    Traceback (most recent call last):
    cornerstore.json_input.UnreadableJson: not valid JSON (at byte 12)
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        error = exc
    else:
        if json_depth(value) > MAX_JSON_DEPTH:
            raise UnreadableJson(TOO_DEEP)
        return value
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableJson(f"not valid UTF-8 (at byte {exc.start})") from None
    if _open_at(text[: error.pos]) > MAX_JSON_DEPTH:
        raise UnreadableJson(TOO_DEEP) from None
    # orjson counts characters; a client looking at what it sent counts bytes.
    at = len(text[: error.pos].encode("utf-8"))
    raise UnreadableJson(f"not valid JSON (at byte {at})") from None
