"""The Spec as Segment's and RudderStack's docs write it, sent over HTTP and read back.

Payloads follow the examples of Segment's HTTP Tracking API docs
(https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/) and the Spec's
common fields (https://segment.com/docs/connections/spec/common/).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api import At, basic, bearer, parse_iso
from tests.api.conftest import Keys, TestClient


def _timeline(client: TestClient, keys: Keys, customer: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/customers/{customer}/timeline", headers=bearer(keys.token))
    return sorted(response.json()["events"], key=lambda e: e["message_id"])


def test_a_batch_s_own_context_and_integrations_are_merged_into_each_message(
    client: TestClient, keys: Keys
) -> None:
    body = {
        "batch": [
            {
                "type": "identify",
                "messageId": "m-1",
                "userId": "019mr8mf4r",
                "traits": {"email": "jake@yahoo.com", "name": "Jake Peterson", "age": 26},
                "timestamp": "2012-12-02T00:30:08.276Z",
            },
            {
                "type": "track",
                "messageId": "m-2",
                "userId": "019mr8mf4r",
                "event": "Song Played",
                "properties": {"name": "Fallin for You", "artist": "Dan Cong"},
                "context": {"ip": "8.8.8.8", "device": {"type": "tablet"}},
                "integrations": {"Mixpanel": False},
                "timestamp": "2012-12-02T00:30:12.984Z",
            },
        ],
        "context": {"device": {"type": "phone", "name": "Apple iPhone 6"}},
        "integrations": {"All": False, "Mixpanel": True},
    }

    response = client.post("/v1/batch", json=body, headers=basic(keys.write_key))
    events = _timeline(client, keys, "019mr8mf4r")

    assert (response.status_code, response.json()["accepted"]) == (200, 2)
    assert [(e["message_id"], e["context"], e["integrations"]) for e in events] == [
        (
            "m-1",
            {"device": {"type": "phone", "name": "Apple iPhone 6"}},
            {"All": False, "Mixpanel": True},
        ),
        # The message's own keys win, whole: its device replaces the batch's.
        ("m-2", {"device": {"type": "tablet"}, "ip": "8.8.8.8"}, {"All": False, "Mixpanel": False}),
    ]


def test_segment_s_oauth_form_is_accepted_by_the_write_key_in_the_body(
    client: TestClient, keys: Keys
) -> None:
    body = {
        "writeKey": keys.write_key,
        "batch": [{"type": "track", "userId": "u-30", "event": "Signed Up", "messageId": "m-30"}],
    }
    oauth = bearer("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzb3VyY2UifQ.c2lnbmF0dXJl")

    accepted = client.post("/v1/batch", json=body, headers=oauth)
    unknown = client.post("/v1/batch", json=body | {"writeKey": "csk_unknown"}, headers=oauth)
    alone = client.post("/v1/batch", json={"batch": body["batch"]}, headers=oauth)

    assert (accepted.status_code, accepted.json()["accepted"]) == (200, 1)
    assert [e["message_id"] for e in _timeline(client, keys, "u-30")] == ["m-30"]
    assert [(r.status_code, r.json()) for r in (unknown, alone)] == [
        (401, {"code": "unauthorized", "message": "the write key is unknown or revoked"}),
        (401, {"code": "unauthorized", "message": "the write key is unknown or revoked"}),
    ]


def test_timestamp_given_with_original_timestamp_is_the_event_time_and_both_are_kept(
    client: TestClient, keys: Keys
) -> None:
    # The fields of Segment's timestamps example: the device stamped originalTimestamp, sent at
    # sentAt, and the sender set timestamp itself.
    message = {
        "type": "track",
        "messageId": "m-40",
        "userId": "u-40",
        "event": "Order Completed",
        "originalTimestamp": "2015-12-12T19:11:01.249Z",
        "sentAt": "2015-12-12T19:11:01.169Z",
        "timestamp": "2015-12-12T19:11:01.259Z",
    }
    device_only = {
        "type": "track",
        "messageId": "m-41",
        "userId": "u-40",
        "event": "Order Completed",
        "originalTimestamp": "2015-12-12T19:11:01.249Z",
        "sentAt": "2015-12-12T19:11:01.169Z",
    }

    response = client.post(
        "/v1/batch", json={"batch": [message, device_only]}, headers=basic(keys.write_key)
    )
    events = _timeline(client, keys, "u-40")

    assert response.json()["accepted"] == 2
    received = parse_iso(events[1]["received_at"])
    assert [(e["occurred_at"], e["original_timestamp"]) for e in events] == [
        (At(datetime(2015, 12, 12, 19, 11, 1, 259000, tzinfo=UTC)), "2015-12-12T19:11:01.249Z"),
        # Alone, originalTimestamp is the device time: receivedAt - (sentAt - originalTimestamp).
        (At(received + timedelta(milliseconds=80)), "2015-12-12T19:11:01.249Z"),
    ]


def test_an_alias_joining_two_signed_in_customers_answers_why_it_was_refused(
    client: TestClient, keys: Keys
) -> None:
    earlier = [
        {"type": "identify", "userId": "u-old", "traits": {"email": "ann@example.com"}},
        {"type": "identify", "userId": "u-new", "traits": {"email": "ann.lee@example.com"}},
    ]
    client.post("/v1/batch", json={"batch": earlier}, headers=basic(keys.write_key))
    alias = {"type": "alias", "previousId": "u-old", "userId": "u-new", "messageId": "m-50"}
    anonymous = {"type": "alias", "previousId": "anon-50", "userId": "u-new"}

    response = client.post(
        "/v1/batch", json={"batch": [alias, anonymous]}, headers=basic(keys.write_key)
    )
    profiles = [
        client.get(f"/v1/customers/{c}", headers=bearer(keys.token)).json()["id"]
        for c in ("u-old", "u-new")
    ]

    assert (response.json()["accepted"], response.json()["refused"]) == (
        2,
        [
            {
                "index": 0,
                "reason": "merge refused: a profile may hold at most 1 user_id identifier(s)",
            }
        ],
    )
    assert profiles[0] != profiles[1]


def test_the_spec_s_push_token_reserved_trait_id_channel_and_version_are_kept(
    client: TestClient, keys: Keys
) -> None:
    token = "ff15bc0c20c4aa6cd50854ff165fd265c838e5405bfeb9571066395b8c9da449"
    message = {
        "type": "identify",
        "messageId": "m-60",
        "userId": "u-60",
        "channel": "mobile",
        "version": 1.1,
        "traits": {"id": "crm-60", "name": "Ann Lee", "token": "a secret"},
        "context": {"device": {"type": "ios", "token": token}, "traits": {"apiToken": "x"}},
    }

    response = client.post("/v1/identify", json=message, headers=basic(keys.write_key))
    profile = client.get("/v1/customers/u-60", headers=bearer(keys.token)).json()
    (event,) = _timeline(client, keys, "u-60")

    # Only the Spec's own path is excused: a token anywhere else is still a secret.
    assert response.json()["changed"] == [
        {"index": 0, "field": "traits.token", "kind": "secret", "action": "dropped"},
        {"index": 0, "field": "context.traits.apiToken", "kind": "secret", "action": "dropped"},
    ]
    assert {name: t["value"] for name, t in profile["traits"].items()} == {
        "id": "crm-60",
        "name": "Ann Lee",
    }
    assert (event["context"], event["channel"], event["version"]) == (
        {"device": {"type": "ios", "token": token}, "traits": {}},
        "mobile",
        "1.1",
    )
