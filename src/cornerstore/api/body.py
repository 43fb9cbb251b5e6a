"""Reading intake request bodies: size limits, gzip with a decompression-bomb guard, the write key.

Kept apart from the routes because the official clients differ: segment-analytics-python sends
``writeKey`` in the body (2.3+) and HTTP Basic, RudderStack's client sends HTTP Basic and gzips.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from fastapi import Request

from cornerstore.errors import InvalidInput, TooLarge
from cornerstore.json_input import UnreadableJson, read_json
from cornerstore.settings import IntakeLimits


async def read_body(request: Request, limits: IntakeLimits) -> bytes:
    """The request body, decompressed, refusing anything over the configured limits."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise InvalidInput("Content-Length: not a number") from None
        if size > limits.max_body_bytes:
            raise TooLarge(
                f"body is {size} bytes, over the limit of {limits.max_body_bytes} bytes a request"
            )
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limits.max_body_bytes:
            raise TooLarge(f"body is over the limit of {limits.max_body_bytes} bytes a request")
        chunks.append(chunk)
    raw = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        if len(raw) > limits.max_batch_bytes:
            raise TooLarge(f"batch is over the limit of {limits.max_batch_bytes} bytes")
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise InvalidInput("Content-Encoding: not supported; send gzip, deflate or identity")
    wbits = zlib.MAX_WBITS | 16 if encoding != "deflate" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        # max_length stops inflating at the limit: a small bomb never expands in memory.
        body = inflater.decompress(raw, limits.max_batch_bytes + 1)
    except zlib.error:
        raise InvalidInput(f"body: not valid {encoding} data") from None
    if len(body) > limits.max_batch_bytes or inflater.unconsumed_tail:
        raise TooLarge(f"decompressed batch is over the limit of {limits.max_batch_bytes} bytes")
    if not inflater.eof:
        raise InvalidInput(f"body: {encoding} data ends early (truncated)")
    return body


def parse_json(body: bytes) -> Any:
    """The JSON value of ``body``; an error names the byte where it stops being JSON, or says
    it is nested too deep (see :mod:`cornerstore.json_input`).

    >>> parse_json('{"a": "é", x}'.encode())
    Traceback (most recent call last):
    cornerstore.errors.InvalidInput: body: not valid JSON (at byte 12)
    """
    if not body:
        raise InvalidInput("body: empty; send a JSON object")
    try:
        return read_json(body)
    except UnreadableJson as exc:
        raise InvalidInput(f"body: {exc.message}") from None


def header_write_key(request: Request) -> str:
    """The write key from HTTP Basic (key as user, empty password) or a Bearer token; or ""."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInput("Authorization: malformed Basic credentials") from None
        return decoded.partition(":")[0]
    if scheme == "bearer":
        return value.strip()
    return ""


def is_bearer(request: Request) -> bool:
    """Whether the request authorises with a Bearer token (Segment's OAuth access token, or a
    write key sent that way)."""
    return request.headers.get("authorization", "").partition(" ")[0].lower() == "bearer"


def body_write_key(body: Any) -> str:
    """The ``writeKey`` of a JSON body (segment-analytics-python 2.3+ sends it there); or ""."""
    if isinstance(body, dict):
        key = body.get("writeKey")
        if isinstance(key, str):
            return key
    return ""
