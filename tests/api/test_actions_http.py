"""Next best actions over HTTP: the ranked list with reasons, roles and bad requests."""

from __future__ import annotations

from cornerstore.access.caller import Caller
from cornerstore.services import Services
from tests.actions.shop import open_action_shop, vip_due_for_a_teapot_today
from tests.api import bearer
from tests.api.conftest import Keys, TestClient


def test_a_customers_next_actions_come_ranked_with_reasons(
    services: Services, owner: Caller, client: TestClient, keys: Keys
) -> None:
    open_action_shop(services)
    vip_due_for_a_teapot_today(services)

    found = client.get("/v1/customers/vip/next-actions", headers=bearer(keys.token))

    assert found.status_code == 200, found.text
    body = found.json()
    assert [(a["action"], a["channel"], a["purpose"], a["reasons"]) for a in body["actions"]] == [
        (
            "call",
            "phone",
            "service",
            ["high value", "slipping away", "unresolved delivery complaint"],
        )
    ]
    assert body["actions"][0]["summary"] == (
        "call: high value, slipping away, unresolved delivery complaint"
    )
    assert [h["why"] for h in body["held_back"]] == [
        "a complaint is open: no marketing until it is resolved"
    ]
    assert body["customer_id"].startswith("cus_")


def test_bad_requests_and_other_roles_get_a_clear_4xx(
    services: Services, owner: Caller, client: TestClient, keys: Keys
) -> None:
    open_action_shop(services)
    shipping = services.credentials.create_token(owner, "parcels", "shipping").secret

    unknown = client.get(
        "/v1/customers/nobody@example.com/next-actions", headers=bearer(keys.token)
    )
    refused = client.get("/v1/customers/vip/next-actions", headers=bearer(shipping))
    writer = client.get("/v1/customers/vip/next-actions", headers=bearer(keys.write_key))

    assert (unknown.status_code, refused.status_code, writer.status_code) == (404, 403, 403)
    assert "nobody" not in unknown.text
    assert refused.json()["message"] == "your role may not read next_actions"
