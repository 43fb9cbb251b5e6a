"""Reading JSON that customers send, and how deep it may nest.

:data:`MAX_JSON_DEPTH` is the one limit on nesting. Every walk over customer JSON starts at the
privacy firewall (:func:`cornerstore.privacy.detect.scan_mapping`), which refuses a value nested
deeper with :class:`TooDeep`; walks after it may rely on the limit. Real messages nest a few
levels; 64 leaves room for any of them while a walk that recurses once or twice a level stays
far from Python's recursion limit, and from orjson's own limits (1024 levels to read, 254 to
write). A document too deep for the parser itself is told apart from broken JSON by
:func:`read_json`, so it too is refused as nested too deep.
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


class TooDeep(UnreadableJson):
    """JSON nested deeper than :data:`MAX_JSON_DEPTH` objects and lists."""

    def __init__(self) -> None:
        super().__init__(TOO_DEEP)


def _open_at(text: str) -> int:
    """How many objects and lists are open at the end of ``text`` (a prefix of a document)."""
    outside_strings = _STRING.sub("", text)
    opened = outside_strings.count("{") + outside_strings.count("[")
    return opened - outside_strings.count("}") - outside_strings.count("]")


def read_json(data: bytes) -> Any:
    """The JSON value of ``data``, or :class:`UnreadableJson` saying why not.

    The reasons are ``not valid UTF-8 (at byte N)``, ``not valid JSON (at byte N)`` and, for a
    document nested deeper than the parser reads, :class:`TooDeep`: where reading stopped, more
    than :data:`MAX_JSON_DEPTH` levels were open.

    Examples
    --------
    >>> read_json(b'{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> read_json(b"[" * 10_000 + b"]" * 10_000)
    Traceback (most recent call last):
    cornerstore.json_input.TooDeep: nested too deep (limit 64)
    >>> read_json('{"a": "é", x}'.encode())
    Traceback (most recent call last):
    cornerstore.json_input.UnreadableJson: not valid JSON (at byte 12)
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        error = exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableJson(f"not valid UTF-8 (at byte {exc.start})") from None
    if _open_at(text[: error.pos]) > MAX_JSON_DEPTH:
        raise TooDeep() from None
    # orjson counts characters; a client looking at what it sent counts bytes.
    at = len(text[: error.pos].encode("utf-8"))
    raise UnreadableJson(f"not valid JSON (at byte {at})") from None
