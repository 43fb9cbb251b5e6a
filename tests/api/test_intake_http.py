"""Segment-compatible intake over HTTP: status codes, write keys, bodies, limits, dedup, skew."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest

import cornerstore.api.body
from cornerstore.access.caller import Caller
from cornerstore.errors import Unauthorized
from cornerstore.services import Services
from cornerstore.settings import IntakeLimits
from tests.api import At, basic, bearer, intake_answer, parse_iso, stored_message_ids
from tests.api.conftest import Keys, LiveServer, TestClient
from tests.factories import identify, track

LIMIT = 4 * 1024 * 1024  # the default max_batch_bytes and max_body_bytes
OK_EMPTY = intake_answer(0, 0)
_answer = intake_answer


def _stored_ids(client: TestClient, keys: Keys, customer: str) -> list[str]:
    return stored_message_ids(client, keys.token, customer)


# -- success and write keys ----------------------------------------------------------------


def test_a_valid_batch_is_answered_with_exactly_200_and_its_counts(
    client: TestClient, keys: Keys
) -> None:
    batch = [identify("u-1", email="ann@example.com"), track("Signed Up", user_id="u-1")]

    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(keys.write_key))

    assert (response.status_code, response.json()) == (200, _answer(2, 2))
    assert _stored_ids(client, keys, "u-1") == sorted(m["messageId"] for m in batch)


@pytest.mark.parametrize("where", ["basic", "body", "bearer"])
def test_the_write_key_is_accepted_as_basic_user_as_write_key_in_the_body_and_as_bearer(
    client: TestClient, keys: Keys, where: str
) -> None:
    message = track("Signed Up", user_id="u-2")
    body: dict[str, Any] = {"batch": [message]}
    headers = {"basic": basic(keys.write_key), "bearer": bearer(keys.write_key)}.get(where, {})
    if where == "body":
        body["writeKey"] = keys.write_key

    response = client.post("/v1/batch", json=body, headers=headers)
    events = client.get("/v1/customers/u-2/timeline", headers=bearer(keys.token)).json()

    assert (response.status_code, response.json()) == (200, _answer(1, 1))
    assert [(e["message_id"], e["source"], e["touchpoint"]) for e in events["events"]] == [
        (message["messageId"], "web-shop", "web")
    ]


def test_each_single_message_endpoint_implies_its_type(client: TestClient, keys: Keys) -> None:
    messages: dict[str, dict[str, Any]] = {
        "identify": {"userId": "u-3", "traits": {"firstName": "Cy"}},
        "track": {"userId": "u-3", "event": "Signed Up"},
        "page": {"userId": "u-3", "name": "Home"},
        "screen": {"userId": "u-3", "name": "Basket"},
        "group": {"userId": "u-3", "groupId": "acme"},
        "alias": {"userId": "u-3", "previousId": "anon-3"},
    }

    answers = {
        kind: client.post(
            f"/v1/{kind}", json=message | {"messageId": f"m-{kind}"}, headers=basic(keys.write_key)
        ).status_code
        for kind, message in messages.items()
    }
    events = client.get("/v1/customers/u-3/timeline", headers=bearer(keys.token)).json()

    assert answers == dict.fromkeys(messages, 200)
    assert sorted((e["message_id"], e["type"]) for e in events["events"]) == sorted(
        (f"m-{kind}", kind) for kind in messages
    )


def test_a_single_message_endpoint_refuses_a_message_of_another_type(
    client: TestClient, keys: Keys
) -> None:
    message = {"type": "identify", "userId": "u-4"}

    response = client.post("/v1/track", json=message, headers=basic(keys.write_key))

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_input", "message": "body.type: must be 'track' on this endpoint"},
    )


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        ("none", "a write key is required (HTTP Basic user, writeKey or Bearer)"),
        ("unknown", "the write key is unknown or revoked"),
        ("revoked", "the write key is unknown or revoked"),
        ("staff token", "that is a staff API token; send events with a write key"),
    ],
)
def test_intake_without_a_valid_write_key_is_refused_with_401(
    client: TestClient,
    services: Services,
    owner: Caller,
    keys: Keys,
    credential: str,
    message: str,
) -> None:
    issued = services.credentials.create_write_key(owner, "old-till", "store")
    opened = track("Opened", user_id="u-5")
    # Used once before it is revoked, so a cached check would let it through afterwards.
    first = client.post("/v1/batch", json={"batch": [opened]}, headers=basic(issued.secret))
    services.credentials.revoke_write_key(owner, issued.id)
    headers = {
        "none": {},
        "unknown": basic("csk_unknown"),
        "revoked": basic(issued.secret),
        "staff token": bearer(keys.token),
    }[credential]

    response = client.post(
        "/v1/batch", json={"batch": [track("Signed Up", user_id="u-5")]}, headers=headers
    )

    assert first.status_code == 200
    assert (response.status_code, response.json()) == (
        401,
        {"code": "unauthorized", "message": message},
    )
    assert _stored_ids(client, keys, "u-5") == [opened["messageId"]]


def test_an_unknown_write_key_in_the_header_is_refused_before_the_body_is_read(
    client: TestClient,
) -> None:
    response = client.post("/v1/batch", content=b"not json at all", headers=basic("csk_unknown"))

    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")


# -- bodies ---------------------------------------------------------------------------------


def test_a_gzip_body_is_accepted(client: TestClient, keys: Keys) -> None:
    batch = [identify("u-6", email="bo@example.com"), track("Signed Up", user_id="u-6")]
    body = gzip.compress(orjson.dumps({"batch": batch}))

    response = client.post(
        "/v1/batch",
        content=body,
        headers={**basic(keys.write_key), "Content-Encoding": "gzip"},
    )

    assert (response.status_code, response.json()) == (200, _answer(2, 2))
    assert _stored_ids(client, keys, "u-6") == sorted(m["messageId"] for m in batch)


@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        ("br", b"{}", "Content-Encoding: not supported; send gzip, deflate or identity"),
        ("gzip", b"not gzip", "body: not valid gzip data"),
        # mtime=0: the body is part of the test's id, which parallel workers must agree on.
        (
            "gzip",
            gzip.compress(b'{"batch": []}', mtime=0)[:-12],
            "body: gzip data ends early (truncated)",
        ),
    ],
)
def test_a_body_that_cannot_be_decoded_is_refused_with_400(
    client: TestClient, keys: Keys, encoding: str, body: bytes, message: str
) -> None:
    response = client.post(
        "/v1/batch", content=body, headers={**basic(keys.write_key), "Content-Encoding": encoding}
    )

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_input", "message": message},
    )


@pytest.fixture
def inflated(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Record how many bytes the intake inflates (the server runs in this process)."""
    produced: list[int] = []

    class Counting:
        def __init__(self, wbits: int) -> None:
            self._inner = zlib.decompressobj(wbits)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._inner.decompress(data, max_length)
            produced.append(len(out))
            return out

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    fake = SimpleNamespace(MAX_WBITS=zlib.MAX_WBITS, error=zlib.error, decompressobj=Counting)
    monkeypatch.setattr(cornerstore.api.body, "zlib", fake)
    yield produced


def test_a_gzip_bomb_is_refused_with_413_without_being_inflated(
    server: LiveServer, inflated: list[int]
) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)

    response = httpx.post(
        f"{server.base_url}/v1/batch",
        content=bomb,
        headers={**basic(server.write_key), "Content-Encoding": "gzip"},
    )

    assert len(bomb) < 100_000
    assert (response.status_code, response.json()) == (
        413,
        {
            "code": "too_large",
            "message": f"decompressed batch is over the limit of {LIMIT} bytes",
        },
    )
    # One call, stopped one byte past the limit: the other ~46 MB were never produced.
    assert inflated == [LIMIT + 1]


def test_a_body_over_the_size_limit_is_refused_with_413_naming_the_limit(
    server: LiveServer,
) -> None:
    body = b" " * (LIMIT + 1)

    response = httpx.post(
        f"{server.base_url}/v1/batch", content=body, headers=basic(server.write_key)
    )

    assert (response.status_code, response.json()) == (
        413,
        {
            "code": "too_large",
            "message": f"body is {LIMIT + 1} bytes, over the limit of {LIMIT} bytes a request",
        },
    )


def test_a_chunked_body_over_the_size_limit_is_refused_with_413_naming_the_limit(
    client_with: Callable[..., TestClient], keys: Keys
) -> None:
    client = client_with(intake=IntakeLimits(max_body_bytes=1000))

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b" " * 300

    response = client.post("/v1/batch", content=chunks(), headers=basic(keys.write_key))

    assert "content-length" not in response.request.headers
    assert (response.status_code, response.json()) == (
        413,
        {"code": "too_large", "message": "body is over the limit of 1000 bytes a request"},
    )


def test_a_batch_with_more_messages_than_allowed_is_refused_with_413(
    client_with: Callable[..., TestClient], keys: Keys
) -> None:
    client = client_with(intake=IntakeLimits(max_batch_messages=2))
    batch = [track("Viewed", user_id="u-7") for _ in range(3)]

    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(keys.write_key))

    assert (response.status_code, response.json()) == (
        413,
        {"code": "too_large", "message": "batch: 3 messages, over the limit of 2 a batch"},
    )


def test_a_message_over_32_kb_is_rejected_naming_the_limit(client: TestClient, keys: Keys) -> None:
    big = track("Note Added", user_id="u-8", note="x" * 33_000)
    small = track("Signed Up", user_id="u-8")
    size = len(orjson.dumps(big))

    mixed = client.post("/v1/batch", json={"batch": [big, small]}, headers=basic(keys.write_key))
    alone = client.post("/v1/batch", json={"batch": [big]}, headers=basic(keys.write_key))

    reason = f"batch[0]: message is {size} bytes, over the limit of 32768 bytes"
    assert (mixed.status_code, mixed.json()) == (
        200,
        _answer(2, 1, rejected=[{"index": 0, "reason": reason}]),
    )
    assert (alone.status_code, alone.json()) == (413, {"code": "too_large", "message": reason})
    assert _stored_ids(client, keys, "u-8") == [small["messageId"]]


def test_one_malformed_message_is_rejected_by_index_and_the_others_are_stored(
    client: TestClient, keys: Keys
) -> None:
    first = identify("u-9", email="cy@example.com")
    malformed = {"type": "track", "userId": "u-9", "messageId": "m-malformed"}
    last = track("Signed Up", user_id="u-9")

    response = client.post(
        "/v1/batch", json={"batch": [first, malformed, last]}, headers=basic(keys.write_key)
    )

    assert (response.status_code, response.json()) == (
        200,
        _answer(
            3,
            2,
            rejected=[{"index": 1, "reason": "batch[1].event: is required for this message type"}],
        ),
    )
    assert _stored_ids(client, keys, "u-9") == sorted([first["messageId"], last["messageId"]])


def test_a_batch_of_only_malformed_messages_is_refused_with_400(
    client: TestClient, keys: Keys
) -> None:
    batch = [{"type": "track", "event": "Signed Up"}, {"type": "shout", "userId": "u-10"}]

    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(keys.write_key))

    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "invalid_input",
            "message": "batch[0]: needs a userId or an anonymousId; "
            "batch[1].type: must be one of identify, track, page, screen, group, alias",
        },
    )


def test_an_empty_batch_is_answered_with_200(client: TestClient, keys: Keys) -> None:
    response = client.post("/v1/batch", json={"batch": []}, headers=basic(keys.write_key))

    assert (response.status_code, response.json()) == (200, OK_EMPTY)


@pytest.mark.parametrize(
    ("body", "position"),
    [
        (b'{"batch": [}', 11),
        # Two-byte characters before the error: the position counts bytes, not characters.
        ('{"batch": [{"userId": "Zoë Ünal"}, }'.encode(), 37),
    ],
)
def test_invalid_json_is_refused_with_400_naming_the_byte_position(
    client: TestClient, keys: Keys, body: bytes, position: int
) -> None:
    response = client.post("/v1/batch", content=body, headers=basic(keys.write_key))

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_input", "message": f"body: not valid JSON (at byte {position})"},
    )
    assert body[position : position + 1] == b"}"


DEEP_TAGS = orjson.loads(b"[" * 70 + b"]" * 70)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        # Deeper than the parser reads at all.
        ("/v1/batch", b'{"batch": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "body"),
        # Readable, but deeper than the firewall walks: the message is refused by its index.
        ("/v1/batch", orjson.dumps({"batch": [identify("w-1", tags=DEEP_TAGS)]}), "batch[0]"),
        ("/v1/identify", orjson.dumps(identify("w-1", tags=DEEP_TAGS)), "body"),
    ],
)
def test_json_nested_too_deep_is_refused_with_400_saying_so(
    client: TestClient, keys: Keys, path: str, body: bytes, message: str
) -> None:
    response = client.post(path, content=body, headers=basic(keys.write_key))

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_input", "message": f"{message}: nested too deep (limit 64)"},
    )


# -- what is stored ----------------------------------------------------------------------------


def test_a_batch_sent_twice_is_stored_once(client: TestClient, keys: Keys) -> None:
    batch = [track("Viewed", user_id="u-11", sku=f"TEA-{n}") for n in range(3)]

    first = client.post("/v1/batch", json={"batch": batch}, headers=basic(keys.write_key))
    second = client.post("/v1/batch", json={"batch": batch}, headers=basic(keys.write_key))

    assert (first.status_code, first.json()) == (200, _answer(3, 3))
    assert (second.status_code, second.json()) == (200, _answer(3, 0, duplicates=3))
    assert _stored_ids(client, keys, "u-11") == sorted(m["messageId"] for m in batch)


def test_a_message_repeated_within_a_batch_is_stored_once(client: TestClient, keys: Keys) -> None:
    message = track("Viewed", user_id="u-12")

    response = client.post(
        "/v1/batch", json={"batch": [message, message]}, headers=basic(keys.write_key)
    )

    assert (response.status_code, response.json()) == (200, _answer(2, 1, duplicates=1))
    assert _stored_ids(client, keys, "u-12") == [message["messageId"]]


def test_the_clock_skew_of_the_sender_is_corrected_and_its_timestamp_kept(
    client: TestClient, keys: Keys
) -> None:
    # The sender's clock is a day and five minutes behind; the message waited 5 minutes.
    message = track("Signed Up", user_id="u-13", timestamp="2024-01-01T12:00:00.000Z")
    body = {"batch": [message], "sentAt": "2024-01-01T12:05:00.000Z"}

    before = datetime.now(UTC)
    response = client.post("/v1/batch", json=body, headers=basic(keys.write_key))
    after = datetime.now(UTC)
    events = client.get("/v1/customers/u-13/timeline", headers=bearer(keys.token)).json()

    assert response.status_code == 200
    [event] = events["events"]
    skew = timedelta(minutes=5)
    assert before - skew <= parse_iso(event["occurred_at"]) <= after - skew
    assert before <= parse_iso(event["received_at"]) <= after
    assert (event["original_timestamp"], event["sent_at"]) == (
        "2024-01-01T12:00:00.000Z",
        At(datetime(2024, 1, 1, 12, 5, tzinfo=UTC)),
    )


def test_a_message_without_sent_at_keeps_its_own_time(client: TestClient, keys: Keys) -> None:
    message = track("Signed Up", user_id="u-14", timestamp="2023-06-30T08:15:00+01:00")

    response = client.post("/v1/batch", json={"batch": [message]}, headers=basic(keys.write_key))
    events = client.get("/v1/customers/u-14/timeline", headers=bearer(keys.token)).json()

    assert response.status_code == 200
    [event] = events["events"]
    assert (event["occurred_at"], event["original_timestamp"], event["sent_at"]) == (
        At(datetime(2023, 6, 30, 7, 15, tzinfo=UTC)),
        "2023-06-30T08:15:00+01:00",
        None,
    )


def test_identifiers_in_context_external_ids_and_context_traits_join_the_profile(
    client: TestClient, keys: Keys
) -> None:
    context = {
        "traits": {"email": "Dee@Example.com", "phone": "07700 900456"},
        "externalIds": [
            {"id": "CRM-77", "type": "crm_id", "collection": "users", "encoding": "none"}
        ],
    }
    message = track("Signed Up", anonymous_id="anon-77", context=context)

    response = client.post("/v1/batch", json={"batch": [message]}, headers=basic(keys.write_key))
    by_crm = client.get("/v1/customers/CRM-77", headers=bearer(keys.token)).json()
    by_email = client.get("/v1/customers/dee@example.com", headers=bearer(keys.token)).json()

    assert response.status_code == 200
    assert by_crm == by_email | {"summary": by_crm["summary"]}
    assert sorted((i["kind"], i["value"], i["source"]) for i in by_crm["identifiers"]) == [
        ("anonymous_id", "anon-77", "web-shop"),
        ("email", "dee@example.com", "web-shop"),
        ("external:crm_id", "CRM-77", "web-shop"),
        ("phone", "+447700900456", "web-shop"),
    ]


# -- throttling and what errors say ------------------------------------------------------------


def test_a_sender_over_its_rate_is_answered_429_with_retry_after(
    client_with: Callable[..., TestClient], keys: Keys
) -> None:
    client = client_with(intake=IntakeLimits(rate_per_second=1, burst=5))
    burst = [track("Viewed", user_id="u-15") for _ in range(5)]
    over = track("Viewed", user_id="u-15")

    allowed = client.post("/v1/batch", json={"batch": burst}, headers=basic(keys.write_key))
    throttled = client.post("/v1/batch", json={"batch": [over]}, headers=basic(keys.write_key))

    assert (allowed.status_code, allowed.json()) == (200, _answer(5, 5))
    assert (throttled.status_code, throttled.headers["retry-after"], throttled.json()) == (
        429,
        "1",
        {
            "code": "throttled",
            "message": "over the intake rate of 1 messages a second for this write key",
        },
    )
    assert _stored_ids(client, keys, "u-15") == sorted(m["messageId"] for m in burst)


def test_a_batch_larger_than_the_burst_passes_and_the_next_waits_longer(
    client_with: Callable[..., TestClient], keys: Keys
) -> None:
    client = client_with(intake=IntakeLimits(rate_per_second=1, burst=5))
    large = [track("Viewed", user_id="u-16") for _ in range(8)]

    allowed = client.post("/v1/batch", json={"batch": large}, headers=basic(keys.write_key))
    throttled = client.post(
        "/v1/batch",
        json={"batch": [track("Viewed", user_id="u-16")]},
        headers=basic(keys.write_key),
    )

    assert (allowed.status_code, allowed.json()) == (200, _answer(8, 8))
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "4")


SECRET = "secret.person@example.com"


def test_error_answers_never_repeat_a_value_that_was_sent(client: TestClient, keys: Keys) -> None:
    bad = [
        {"type": "identify", "userId": {"email": SECRET}},
        {"type": "track", "userId": "u-17", "event": "x", "timestamp": SECRET},
        {"type": "identify", "anonymousId": "a-17", "context": {"touchpoint": SECRET}},
        {"type": SECRET, "userId": "u-17"},
        {"type": "identify", "userId": "u-17", "traits": SECRET},
    ]
    good = identify("u-17", email=SECRET)

    answers = [
        client.post("/v1/batch", json={"batch": bad}, headers=basic(keys.write_key)),
        client.post("/v1/batch", json={"batch": [*bad, good]}, headers=basic(keys.write_key)),
        client.post("/v1/identify", json=bad[0], headers=basic(keys.write_key)),
        client.post(
            "/v1/batch",
            content=f'{{"batch": [{{"email": "{SECRET}"'.encode(),
            headers=basic(keys.write_key),
        ),
        client.post("/v1/batch", json={"batch": [good], "sentAt": SECRET}, headers=basic(SECRET)),
        client.post(
            "/v1/batch", json={"batch": [good], "sentAt": SECRET}, headers=basic(keys.write_key)
        ),
    ]

    assert [a.status_code for a in answers] == [400, 200, 400, 400, 401, 400]
    assert [len(a.json()["rejected"]) for a in answers if a.status_code == 200] == [len(bad)]
    assert [a.text for a in answers if SECRET in a.text or "secret.person" in a.text] == []


def test_a_key_revoked_by_another_process_stops_working_within_seconds(
    services: Services, owner: Caller
) -> None:
    from cornerstore.access.credentials import KEY_CACHE_SECONDS, Credentials

    now = [1000.0]
    server_side = Credentials(services.store, services.policy, clock=lambda: now[0])
    issued = server_side.create_write_key(owner, "till", "store")
    assert server_side.check_write_key(issued.secret).name == "till"
    cli = Services.build(services.settings, services.store)  # as the CLI would
    cli.credentials.revoke_write_key(owner, issued.id)

    still_cached = server_side.check_write_key(issued.secret)
    now[0] += KEY_CACHE_SECONDS + 0.1

    assert still_cached.name == "till"
    with pytest.raises(Unauthorized, match="unknown or revoked"):
        server_side.check_write_key(issued.secret)
