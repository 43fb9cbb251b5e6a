"""Customer reads over HTTP: tokens, search, the 360 profile, timeline, prefill, merge, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from cornerstore.access.caller import Caller
from cornerstore.api.routes import customers
from cornerstore.services import Services
from tests.api import At, basic, bearer, expire_token
from tests.api.conftest import Keys, TestClient
from tests.factories import identify, track

T = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _send(client: TestClient, keys: Keys, *messages: dict[str, Any]) -> None:
    response = client.post(
        "/v1/batch", json={"batch": list(messages)}, headers=basic(keys.write_key)
    )
    assert response.json()["accepted"] == len(messages), response.text


def _read(client: TestClient, keys: Keys, path: str, **params: Any) -> httpx.Response:
    return client.get(path, params=params, headers=bearer(keys.token))


def _ann(client: TestClient, keys: Keys) -> None:
    """Ann: identified on the web shop at T, then an order in the store an hour later."""
    message = identify(
        "u-ann",
        email="Ann.Lee@Example.com",
        phone="07700 900123",
        firstName="Ann",
        lastName="Lee",
    )
    order = track("Order Completed", user_id="u-ann", total=18.5, context={"touchpoint": "store"})
    _send(
        client,
        keys,
        message | {"timestamp": _stamp(T)},
        order | {"timestamp": _stamp(T + timedelta(hours=1))},
    )


# -- who may read -----------------------------------------------------------------------------


def test_every_customer_route_refuses_a_request_without_a_token(client: TestClient) -> None:
    routes = sorted(
        (method, route.path)
        for route in customers.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )

    answers = {
        (method, path): client.request(
            method,
            path.format(customer_id="u-1", name="email", merge_id=1),
            params={"q": "ann", "form": "contact"},
            json={"other": "cus_0"},
        )
        for method, path in routes
    }

    assert len(routes) == 7
    assert {key: (a.status_code, a.json()) for key, a in answers.items()} == dict.fromkeys(
        routes,
        (
            401,
            {
                "code": "unauthorized",
                "message": "an API token is required: Authorization: Bearer <token>",
            },
        ),
    )


@pytest.mark.parametrize(
    ("credential", "status", "body"),
    [
        (
            "write key",
            403,
            {
                "code": "forbidden",
                "message": "this credential may only send events; reading needs a staff API token",
            },
        ),
        ("unknown token", 401, {"code": "unauthorized", "message": "the API token is unknown"}),
        ("expired token", 401, {"code": "unauthorized", "message": "the API token has expired"}),
        ("revoked token", 401, {"code": "unauthorized", "message": "the API token was revoked"}),
        ("write key as basic", 401, None),
    ],
)
def test_reading_customers_needs_a_valid_staff_token(
    client: TestClient,
    services: Services,
    owner: Caller,
    keys: Keys,
    credential: str,
    status: int,
    body: dict[str, str] | None,
) -> None:
    _ann(client, keys)
    expired = services.credentials.create_token(owner, "temp", "owner", "1h")
    expire_token(services, expired.id)
    revoked = services.credentials.create_token(owner, "gone", "owner")
    services.credentials.revoke_token(owner, revoked.id)
    headers = {
        "write key": bearer(keys.write_key),
        "unknown token": bearer("cst_unknown"),
        "expired token": bearer(expired.secret),
        "revoked token": bearer(revoked.secret),
        "write key as basic": basic(keys.write_key),
    }[credential]

    response = client.get("/v1/customers/u-ann", headers=headers)

    assert (response.status_code, response.json()) == (
        status,
        body
        or {
            "code": "unauthorized",
            "message": "an API token is required: Authorization: Bearer <token>",
        },
    )


# -- finding and reading ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "matched"),
    [
        ("ANN.LEE@example.COM", "email"),
        ("+44 7700 900123", "phone"),
        ("(07700) 900-123", "phone"),
        ("lee", "name"),
        ("u-ann", "user_id"),
    ],
)
def test_search_finds_a_customer_by_any_form_of_an_identifier_or_by_name(
    client: TestClient, keys: Keys, q: str, matched: str
) -> None:
    _ann(client, keys)
    _send(client, keys, identify("u-bob", email="bob@example.com", firstName="Bob"))
    ann = _read(client, keys, "/v1/customers/u-ann").json()

    response = _read(client, keys, "/v1/customers", q=q)

    assert (response.status_code, response.json()) == (
        200,
        {
            "results": [
                {
                    "id": ann["id"],
                    "kind": "person",
                    "name": "Ann Lee",
                    "email": "ann.lee@example.com",
                    "phone": "+447700900123",
                    "matched": matched,
                }
            ]
        },
    )


def test_search_without_a_match_returns_no_results(client: TestClient, keys: Keys) -> None:
    _ann(client, keys)

    response = _read(client, keys, "/v1/customers", q="nobody@example.com")

    assert (response.status_code, response.json()) == (200, {"results": []})


def test_a_customer_reads_as_one_whole_profile(client: TestClient, keys: Keys) -> None:
    _ann(client, keys)

    response = _read(client, keys, "/v1/customers/ann.lee@example.com")

    profile = response.json()
    cid = profile["id"]
    seen = {"source": "web-shop", "touchpoint": "web", "first_seen_at": At(T), "profile": cid}
    trait = {"touchpoint": "web", "source": "web-shop", "observed_at": At(T), "observations": 1}
    assert response.status_code == 200
    assert profile == {
        "id": cid,
        "kind": "person",
        "created_at": At(T),
        "merged_profiles": [],
        "identifiers": [
            {"kind": "user_id", "value": "u-ann", **seen},
            {"kind": "email", "value": "ann.lee@example.com", **seen},
            {"kind": "phone", "value": "+447700900123", **seen},
        ],
        "traits": {
            "email": {"value": "Ann.Lee@Example.com", **trait},
            "phone": {"value": "07700 900123", **trait},
            "first_name": {"value": "Ann", **trait},
            "last_name": {"value": "Lee", **trait},
        },
        "unverified": [],
        "summary": {
            "events": 2,
            "by_touchpoint": {"web": 1, "store": 1},
            "by_type": {"identify": 1, "track": 1},
            "first_seen_at": At(T),
            "last_seen_at": At(T + timedelta(hours=1)),
        },
        "accounts": [],
        "members": [],
        "household": [],
        "merges": [],
        "sections": [
            "accounts",
            "addresses",
            "contact",
            "delivery_preferences",
            "identifiers",
            "merges",
            "name",
            "payment",
            "summary",
            "traits",
        ],
    }
    assert cid.startswith("cus_")


def test_an_unknown_customer_is_answered_404(client: TestClient, keys: Keys) -> None:
    paths = [
        "/v1/customers/nobody@example.com",
        "/v1/customers/cus_0000000000000000/timeline",
        "/v1/customers/u-nobody/prefill?form=contact",
        "/v1/customers/u-nobody/traits/email",
    ]

    answers = [client.get(path, headers=bearer(keys.token)) for path in paths]

    assert [(a.status_code, a.json()) for a in answers] == [
        (404, {"code": "not_found", "message": "customer: no such customer"})
    ] * len(paths)


def test_the_trait_history_lists_every_observation_oldest_first(
    client: TestClient, keys: Keys
) -> None:
    first = identify("u-cy", city="Leeds") | {"timestamp": _stamp(T)}
    later = identify("u-cy", city="York") | {
        "timestamp": _stamp(T + timedelta(days=30)),
        "context": {"touchpoint": "store"},
    }
    _send(client, keys, later, first)
    cid = _read(client, keys, "/v1/customers/u-cy").json()["id"]

    response = _read(client, keys, "/v1/customers/u-cy/traits/city")

    assert (response.status_code, response.json()) == (
        200,
        [
            {
                "value": "Leeds",
                "touchpoint": "web",
                "source": "web-shop",
                "observed_at": At(T),
                "message_id": first["messageId"],
                "profile": cid,
            },
            {
                "value": "York",
                "touchpoint": "store",
                "source": "web-shop",
                "observed_at": At(T + timedelta(days=30)),
                "message_id": later["messageId"],
                "profile": cid,
            },
        ],
    )


# -- the timeline -----------------------------------------------------------------------------


def _history(client: TestClient, keys: Keys) -> list[dict[str, Any]]:
    """Nine events of u-dee, two of them at the same instant; returns them newest first."""
    messages = [
        identify("u-dee", firstName="Dee") | {"timestamp": _stamp(T)},
        *[
            track("Product Viewed", user_id="u-dee", sku=f"S-{n}")
            | {"timestamp": _stamp(T + timedelta(minutes=n))}
            for n in range(1, 6)
        ],
        track("Product Viewed", user_id="u-dee", sku="S-5b")
        | {"timestamp": _stamp(T + timedelta(minutes=5))},
        {
            "type": "page",
            "userId": "u-dee",
            "name": "Till",
            "messageId": "m-till-page",
            "timestamp": _stamp(T + timedelta(minutes=7)),
            "context": {"touchpoint": "store"},
        },
        track("Order Completed", user_id="u-dee", context={"touchpoint": "store"})
        | {"timestamp": _stamp(T + timedelta(minutes=8))},
    ]
    _send(client, keys, *messages)
    # Newest first; of two at the same instant the one stored later comes first.
    order = sorted(
        enumerate(messages), key=lambda item: (item[1]["timestamp"], item[0]), reverse=True
    )
    return [message for _, message in order]


def test_the_timeline_pages_with_a_cursor_over_every_event_once_newest_first(
    client: TestClient, keys: Keys
) -> None:
    expected = _history(client, keys)

    pages = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = _read(client, keys, "/v1/customers/u-dee/timeline", **params).json()
        pages.append([e["message_id"] for e in page["events"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == [
        [m["messageId"] for m in expected[start : start + 2]] for start in range(0, 9, 2)
    ]


def test_the_timeline_filters_by_touchpoint_and_by_type(client: TestClient, keys: Keys) -> None:
    expected = _history(client, keys)

    in_store = _read(client, keys, "/v1/customers/u-dee/timeline", touchpoint="store").json()
    identify_or_page = _read(
        client, keys, "/v1/customers/u-dee/timeline", type=["identify", "page"]
    ).json()
    store_tracks = _read(
        client, keys, "/v1/customers/u-dee/timeline", touchpoint="store", type="track"
    ).json()

    def ids(page: dict[str, Any]) -> list[str]:
        return [e["message_id"] for e in page["events"]]

    assert ids(in_store) == [expected[0]["messageId"], "m-till-page"]
    assert ids(identify_or_page) == ["m-till-page", expected[-1]["messageId"]]
    assert ids(store_tracks) == [expected[0]["messageId"]]
    assert (in_store["next_cursor"], identify_or_page["next_cursor"]) == (None, None)


def test_the_timeline_page_size_defaults_to_the_setting(
    client_with: Callable[..., TestClient], keys: Keys
) -> None:
    client = client_with(timeline_page_size=3)
    expected = _history(client, keys)

    page = _read(client, keys, "/v1/customers/u-dee/timeline").json()

    assert [e["message_id"] for e in page["events"]] == [m["messageId"] for m in expected[:3]]
    assert page["next_cursor"] is not None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cursor": "not-a-cursor"}, "cursor: not a cursor returned by this timeline"),
        (
            {"touchpoint": "moon"},
            "touchpoint: must be one of store, web, app, support, billing, shipping, survey, other",
        ),
        ({"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_timeline_parameter_is_answered_400(
    client: TestClient, keys: Keys, params: dict[str, Any], message: str
) -> None:
    _ann(client, keys)

    response = _read(client, keys, "/v1/customers/u-ann/timeline", **params)

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_input", "message": message},
    )


# -- prefill ----------------------------------------------------------------------------------


def test_prefill_gives_each_known_field_with_source_and_age_and_lists_the_unknown(
    client: TestClient, keys: Keys
) -> None:
    told = datetime.now(UTC) - timedelta(days=10)
    address = {"street": "1 Mill Lane", "city": "York", "postalCode": "YO1 7HH", "country": "GB"}
    message = identify(
        "u-eve", firstName="Eve", lastName="Moss", phone="07700 900789", address=address
    )
    _send(client, keys, message | {"timestamp": told.isoformat()})
    cid = _read(client, keys, "/v1/customers/u-eve").json()["id"]

    response = _read(client, keys, "/v1/customers/u-eve/prefill", form="shipping")

    known = {"known": True, "touchpoint": "web", "source": "web-shop", "observed_at": At(told)}
    unknown = {
        "value": None,
        "known": False,
        "touchpoint": None,
        "source": None,
        "observed_at": None,
        "age_days": None,
    }
    assert (response.status_code, response.json()) == (
        200,
        {
            "customer_id": cid,
            "form": "shipping",
            "fields": [
                {"field": "first_name", "value": "Eve", **known, "age_days": 10.0},
                {"field": "last_name", "value": "Moss", **known, "age_days": 10.0},
                {"field": "phone", "value": "07700 900789", **known, "age_days": 10.0},
                {"field": "address.street", "value": "1 Mill Lane", **known, "age_days": 10.0},
                {"field": "address.city", "value": "York", **known, "age_days": 10.0},
                {"field": "address.postal_code", "value": "YO1 7HH", **known, "age_days": 10.0},
                {"field": "address.state", **unknown},
                {"field": "address.country", "value": "GB", **known, "age_days": 10.0},
                {"field": "delivery_instructions", **unknown},
                {"field": "learned.delivery_window", **unknown},
            ],
            "unknown": ["address.state", "delivery_instructions", "learned.delivery_window"],
        },
    )


def test_prefill_of_an_unknown_form_is_answered_404_listing_the_forms(
    client: TestClient, keys: Keys
) -> None:
    _ann(client, keys)

    response = _read(client, keys, "/v1/customers/u-ann/prefill", form="gift")

    assert (response.status_code, response.json()) == (
        404,
        {
            "code": "not_found",
            "message": "form: no such form; forms are: contact, order, returns, shipping",
        },
    )


# -- merge and undo ---------------------------------------------------------------------------


def test_a_merge_undone_restores_both_profiles_exactly(client: TestClient, keys: Keys) -> None:
    _ann(client, keys)
    browse = track("Product Viewed", anonymous_id="anon-ann", sku="TEA-1")
    _send(client, keys, browse | {"timestamp": _stamp(T - timedelta(days=1))})
    ann_before = _read(client, keys, "/v1/customers/u-ann").json()
    anon_before = _read(client, keys, "/v1/customers/anon-ann").json()
    anon_timeline_before = _read(client, keys, "/v1/customers/anon-ann/timeline").json()

    merged = client.post(
        f"/v1/customers/{ann_before['id']}/merge",
        json={"other": anon_before["id"]},
        headers=bearer(keys.token),
    )
    ann_merged = _read(client, keys, "/v1/customers/u-ann").json()
    anon_merged = _read(client, keys, "/v1/customers/anon-ann").json()
    undone = client.post(f"/v1/merges/{merged.json()['id']}/undo", headers=bearer(keys.token))
    ann_after = _read(client, keys, "/v1/customers/u-ann").json()
    anon_after = _read(client, keys, "/v1/customers/anon-ann").json()
    anon_timeline_after = _read(client, keys, "/v1/customers/anon-ann/timeline").json()

    # The older profile survives, whichever side asked: the anonymous one is a day older.
    record = {
        "id": merged.json()["id"],
        "winner_id": anon_before["id"],
        "loser_id": ann_before["id"],
        "members": [ann_before["id"]],
        "reason": "manual",
        "evidence": [],
        "message_id": None,
        "created_at": At.recent(),
        "created_by": f"token:{keys.token_id}:tests",
        "undone_at": None,
        "undone_by": None,
    }
    assert (merged.status_code, merged.json()) == (200, record)
    assert anon_merged == ann_merged
    assert (ann_merged["id"], ann_merged["merged_profiles"], ann_merged["summary"]["events"]) == (
        anon_before["id"],
        [ann_before["id"]],
        3,
    )
    undone_record = record | {"undone_at": At.recent(), "undone_by": record["created_by"]}
    assert (undone.status_code, undone.json()) == (200, undone_record)
    # Each profile is as it was; its history now names the merge and its undoing.
    assert ann_after == ann_before | {"merges": [undone_record]}
    assert anon_after == anon_before | {"merges": [undone_record]}
    assert anon_timeline_after == anon_timeline_before


def test_undoing_a_merge_twice_is_answered_409(client: TestClient, keys: Keys) -> None:
    _ann(client, keys)
    _send(client, keys, track("Product Viewed", anonymous_id="anon-ann"))
    ann = _read(client, keys, "/v1/customers/u-ann").json()["id"]
    anon = _read(client, keys, "/v1/customers/anon-ann").json()["id"]
    merge = client.post(
        f"/v1/customers/{ann}/merge", json={"other": anon}, headers=bearer(keys.token)
    ).json()
    client.post(f"/v1/merges/{merge['id']}/undo", headers=bearer(keys.token))

    again = client.post(f"/v1/merges/{merge['id']}/undo", headers=bearer(keys.token))

    assert (again.status_code, again.json()) == (
        409,
        {"code": "conflict", "message": f"merge {merge['id']}: was already undone"},
    )


def test_merging_two_customers_with_different_user_ids_is_refused_with_422(
    client: TestClient, keys: Keys
) -> None:
    _ann(client, keys)
    _send(client, keys, identify("u-bob", email="bob@example.com"))
    ann = _read(client, keys, "/v1/customers/u-ann").json()
    bob = _read(client, keys, "/v1/customers/u-bob").json()

    response = client.post(
        f"/v1/customers/{ann['id']}/merge", json={"other": bob["id"]}, headers=bearer(keys.token)
    )

    assert (response.status_code, response.json()["code"]) == (422, "refused")
    assert _read(client, keys, "/v1/customers/u-ann").json() == ann


def test_merging_with_an_unknown_customer_is_answered_404(client: TestClient, keys: Keys) -> None:
    _ann(client, keys)
    ann = _read(client, keys, "/v1/customers/u-ann").json()

    response = client.post(
        f"/v1/customers/{ann['id']}/merge",
        json={"other": "cus_0000000000000000"},
        headers=bearer(keys.token),
    )

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert _read(client, keys, "/v1/customers/u-ann").json() == ann


def test_merging_with_an_e_mail_instead_of_an_id_does_not_repeat_the_e_mail(
    client: TestClient, keys: Keys
) -> None:
    _ann(client, keys)
    ann = _read(client, keys, "/v1/customers/u-ann").json()

    response = client.post(
        f"/v1/customers/{ann['id']}/merge",
        json={"other": "someone.else@example.com"},
        headers=bearer(keys.token),
    )

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert "someone.else" not in response.text


# -- audit ------------------------------------------------------------------------------------


def test_every_profile_read_writes_an_audit_row(
    client: TestClient, services: Services, keys: Keys
) -> None:
    _ann(client, keys)
    cid = _read(client, keys, "/v1/customers/u-ann").json()["id"]

    _read(client, keys, f"/v1/customers/{cid}/timeline")
    _read(client, keys, f"/v1/customers/{cid}/prefill", form="contact")
    _read(client, keys, f"/v1/customers/{cid}/traits/email")
    with services.store.unit_of_work() as uow:
        rows = uow.audit.for_customer(cid)

    actor = f"token:{keys.token_id}:tests"
    assert [row[1:] for row in rows] == [
        (actor, "read_profile", "api", None),
        (actor, "read_timeline", "api", None),
        (actor, "prefill", "api", "contact"),
        (actor, "read_traits", "api", "email"),
    ]


def test_a_token_revoked_by_another_process_stops_working_within_seconds(
    services: Services, owner: Caller
) -> None:
    from cornerstore.access.credentials import KEY_CACHE_SECONDS, Credentials
    from cornerstore.errors import Unauthorized

    now = [1000.0]
    server_side = Credentials(services.store, clock=lambda: now[0])
    issued = server_side.create_token(owner, "ops", "owner")
    assert server_side.authenticate(issued.secret).role == "owner"
    Credentials(services.store).revoke_token(owner, issued.id)  # as the CLI would

    still_cached = server_side.authenticate(issued.secret)
    now[0] += KEY_CACHE_SECONDS + 0.1

    assert still_cached.role == "owner"
    with pytest.raises(Unauthorized, match="revoked"):
        server_side.authenticate(issued.secret)
