"""Suggestions over HTTP: one customer's products with reasons, and what a bad request gets."""

from __future__ import annotations

from cornerstore.access.caller import Caller
from cornerstore.services import Services
from tests.api import bearer
from tests.api.conftest import Keys, TestClient
from tests.suggest.shop import open_shop, return_yesterday


def test_a_customers_suggestions_come_with_reasons(
    services: Services, owner: Caller, client: TestClient, keys: Keys
) -> None:
    open_shop(services)
    services.suggestions.train(owner)
    return_yesterday(services, "returner", "COSY")  # the route answers as of now

    found = client.get(
        "/v1/customers/returner/suggestions", params={"n": 2}, headers=bearer(keys.token)
    )
    private = client.get("/v1/customers/private/suggestions", headers=bearer(keys.token))

    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["personal"], body["note"], len(body["suggestions"])) == (True, None, 2)
    assert "COSY" not in [s["item_id"] for s in body["suggestions"]]
    assert all(s["reason"] and s["kind"] for s in body["suggestions"])
    assert (private.json()["personal"], private.json()["note"]) == (
        False,
        "not personal: the customer did not allow personalisation",
    )


def test_bad_requests_get_a_clear_4xx(services: Services, client: TestClient, keys: Keys) -> None:
    open_shop(services)
    staff = bearer(keys.token)

    unknown = client.get("/v1/customers/nobody@example.com/suggestions", headers=staff)
    too_many = client.get("/v1/customers/regular/suggestions", params={"n": 101}, headers=staff)
    none = client.get("/v1/customers/regular/suggestions", params={"n": 0}, headers=staff)
    writer = client.get("/v1/customers/regular/suggestions", headers=bearer(keys.write_key))

    assert (unknown.status_code, too_many.status_code, none.status_code) == (404, 400, 400)
    assert writer.status_code == 403
    assert "nobody" not in unknown.text
    assert too_many.json()["message"].startswith("query.n: ")
