"""Privacy over HTTP on a real server: consent from the official clients and from staff,
"anonymous, please", export as JSON and HTML, erasure that keeps replays out, the firewall's record.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api import basic, bearer
from tests.api.conftest import LiveServer
from tests.api.test_official_clients import Analytics, _official_client
from tests.factories import identify, track


@pytest.fixture
def staff(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=bearer(server.token), timeout=30) as client:
        yield client


@pytest.fixture
def shop(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, headers=basic(server.write_key), timeout=30
    ) as client:
        yield client


@pytest.fixture(params=["segment", "rudderstack"])
def analytics(request: pytest.FixtureRequest, server: LiveServer) -> Iterator[Analytics]:
    sender = _official_client(request.param, server.base_url, server.write_key)
    yield sender
    sender.client.join()


def _send(shop: httpx.Client, *messages: dict[str, object]) -> dict[str, object]:
    response = shop.post("/v1/batch", json={"batch": list(messages)})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _states(body: dict[str, object]) -> dict[str, tuple[bool, bool]]:
    consents = body["consents"]
    assert isinstance(consents, list)
    return {c["purpose"]: (c["granted"], c["asked"]) for c in consents}


def test_consent_sent_by_an_official_client_is_recorded_per_purpose(
    analytics: Analytics, staff: httpx.Client
) -> None:
    if analytics.name == "segment":
        context = {"consent": {"categoryPreferences": {"Advertising": False, "email": True}}}
    else:
        context = {
            "consentManagement": {
                "allowedConsentIds": ["email"],
                "deniedConsentIds": ["advertising"],
            }
        }

    analytics.client.track("u-7", "Newsletter Signed Up", {}, context=context)
    assert analytics.flush() == []
    body = staff.get("/v1/customers/u-7/consents").json()

    states = _states(body)
    assert states["marketing_email"] == (True, True)
    assert states["sharing"] == (False, True)
    assert states["marketing_sms"] == (False, False)  # never asked: the default
    assert body["anonymous"] is False


def test_staff_change_consent_and_ask_for_anonymity(
    shop: httpx.Client, staff: httpx.Client
) -> None:
    _send(shop, identify("u-1", email="ann@example.com"))

    changed = staff.put(
        "/v1/customers/ann@example.com/consents",
        json={"consents": {"marketing_sms": True, "profiling": False}, "touchpoint": "store"},
    )
    anonymous = staff.put("/v1/customers/u-1/anonymous", json={"anonymous": True})

    assert changed.status_code == 200
    assert _states(changed.json())["marketing_sms"] == (True, True)
    assert changed.json()["history"][0]["touchpoint"] == "store"
    assert anonymous.json()["anonymous"] is True
    assert _states(anonymous.json())["personalisation"] == (False, True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"consents": {"newsletters": True}}, "purpose: 'newsletters' is not one of"),
        ({"consents": {"profiling": False}, "touchpoint": "moon"}, "touchpoint: must be one of"),
        ({"consents": {}}, "consents"),
    ],
)
def test_bad_consent_changes_are_refused_with_the_field_named(
    shop: httpx.Client, staff: httpx.Client, body: dict[str, object], message: str
) -> None:
    _send(shop, identify("u-1"))

    response = staff.put("/v1/customers/u-1/consents", json=body)

    assert 400 <= response.status_code < 500
    assert message in response.json()["message"]
    # Nothing half-written: the purposes in a refused change stay unasked.
    assert all(not c["asked"] for c in staff.get("/v1/customers/u-1/consents").json()["consents"])


def test_export_as_json_and_as_a_readable_page(shop: httpx.Client, staff: httpx.Client) -> None:
    _send(
        shop,
        identify("u-1", email="ann@example.com", firstName="Ann"),
        track("Order Completed", user_id="u-1", total=12),
    )

    as_json = staff.get("/v1/customers/ann@example.com/export")
    as_html = staff.get("/v1/customers/u-1/export", headers={"Accept": "text/html"})
    forced = staff.get("/v1/customers/u-1/export", params={"format": "html"})

    assert as_json.headers["content-type"] == "application/json"
    assert "attachment" in as_json.headers["content-disposition"]
    data = as_json.json()
    assert data["current_traits"]["first_name"] == "Ann"
    assert [e["name"] for e in data["events"]] == [None, "Order Completed"]
    assert as_html.headers["content-type"].startswith("text/html")
    assert "What Corner Store holds about you" in as_html.text
    assert forced.headers["content-type"].startswith("text/html")
    assert "<td>First name</td><td>Ann</td>" in forced.text


def test_erasure_over_http_removes_the_customer_and_replays_are_suppressed(
    shop: httpx.Client, staff: httpx.Client
) -> None:
    _send(shop, identify("u-1", email="ann@example.com"), track("Viewed", user_id="u-1"))

    erased = staff.delete("/v1/customers/ann@example.com")
    again = staff.delete("/v1/customers/ann@example.com")
    replay = _send(shop, track("Viewed", user_id="u-1"))

    assert erased.status_code == 200
    assert erased.json() | {"customer_id": "-"} == {
        "customer_id": "-",
        "profiles": 1,
        "identifiers": 2,
        "traits": 1,
        "events": 2,
        "consents": 0,
        "merges": 0,
        "suppressed_identifiers": 2,
    }
    assert again.status_code == 404
    assert again.json() == {"code": "not_found", "message": "customer: no such customer"}
    assert (replay["accepted"], replay["suppressed"]) == (0, 1)
    assert staff.get("/v1/customers/u-1").status_code == 404


def test_write_keys_can_neither_read_nor_erase(shop: httpx.Client, server: LiveServer) -> None:
    _send(shop, identify("u-1", email="ann@example.com"))

    with httpx.Client(
        base_url=server.base_url, headers=bearer(server.write_key), timeout=30
    ) as sender:
        codes = [
            sender.delete("/v1/customers/u-1").status_code,
            sender.get("/v1/customers/u-1/export").status_code,
            sender.put("/v1/customers/u-1/anonymous", json={"anonymous": True}).status_code,
        ]

    assert all(code in (401, 403) for code in codes)


def test_the_firewall_record_names_kind_and_field_never_the_value(
    shop: httpx.Client, staff: httpx.Client
) -> None:
    answer = _send(shop, identify("u-1", note="card 4111 1111 1111 1111 please", pin="1234"))

    events = staff.get("/v1/privacy/events").json()
    only_cards = staff.get("/v1/privacy/events", params={"kind": "payment_card"}).json()

    assert sorted((c["field"], c["kind"], c["action"]) for c in answer["changed"]) == [
        ("traits.note", "payment_card", "redacted"),
        ("traits.pin", "secret", "dropped"),
    ]
    assert sorted((e["field"], e["kind"], e["action"], e["entrance"]) for e in events) == [
        ("traits.note", "payment_card", "redacted", "intake"),
        ("traits.pin", "secret", "dropped", "intake"),
    ]
    assert [e["kind"] for e in only_cards] == ["payment_card"]
    assert "4111" not in str(events) and "1234" not in str(events)


def test_an_unknown_kind_of_removal_is_refused_not_listed_as_none(staff: httpx.Client) -> None:
    answer = staff.get("/v1/privacy/events", params={"kind": "credit_card"})

    assert answer.status_code == 400
    assert answer.json()["message"] == (
        "kind: must be one of bank_account, birth_date, iban, national_id, payment_card, secret"
    )
