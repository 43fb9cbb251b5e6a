"""Identity resolution over HTTP: the review queue, decisions and explanations for staff."""

from __future__ import annotations

import pytest

from cornerstore.access.caller import Caller
from cornerstore.services import Services
from tests.api import bearer
from tests.api.conftest import Keys, TestClient
from tests.identity.resolution.stored import ingest_shop, root_of


@pytest.fixture
def resolved(services: Services, owner: Caller) -> Services:
    ingest_shop(services)
    services.identity.train(owner)
    services.identity.resolve(owner)
    return services


def test_staff_review_the_grey_zone_side_by_side_and_decide(
    resolved: Services, client: TestClient, keys: Keys
) -> None:
    listed = client.get("/v1/identity/reviews", params={"limit": 2}, headers=bearer(keys.token))
    assert listed.status_code == 200
    first, second = listed.json()
    assert first["match_weight"] >= second["match_weight"]
    assert first["left"]["traits"] and first["right"]["traits"]
    assert [f["field"] for f in first["fields"]] == [
        c.name for c in resolved.identity.active_model().comparisons
    ]

    rejected = client.post(f"/v1/identity/reviews/{first['id']}/reject", headers=bearer(keys.token))
    accepted = client.post(
        f"/v1/identity/reviews/{second['id']}/accept", headers=bearer(keys.token)
    )
    again = client.post(f"/v1/identity/reviews/{first['id']}/accept", headers=bearer(keys.token))

    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    left = client.get(f"/v1/customers/{second['left']['id']}", headers=bearer(keys.token))
    right = client.get(f"/v1/customers/{second['right']['id']}", headers=bearer(keys.token))
    assert left.json()["id"] == right.json()["id"]


def test_explain_gives_each_fields_weight_for_two_customers(
    resolved: Services, client: TestClient, keys: Keys
) -> None:
    response = client.get(
        "/v1/identity/explain",
        params={"a": root_of(resolved, "john"), "b": root_of(resolved, "mary")},
        headers=bearer(keys.token),
    )

    assert response.status_code == 200
    body = response.json()
    by_field = {f["field"]: f for f in body["fields"]}
    assert (by_field["last_name"]["level"], by_field["postcode"]["level"]) == ("exact", "exact")
    assert body["match_weight"] == pytest.approx(
        body["prior_weight"] + sum(f["weight"] for f in body["fields"])
    )


def test_roles_without_the_merges_section_get_403(
    resolved: Services, owner: Caller, client: TestClient
) -> None:
    shipping = resolved.credentials.create_token(owner, "parcels", role="shipping").secret
    marketing = resolved.credentials.create_token(owner, "campaigns", role="marketing").secret

    answers = [
        client.get("/v1/identity/reviews", headers=bearer(token)).status_code
        for token in (shipping, marketing)
    ] + [
        client.post("/v1/identity/reviews/1/accept", headers=bearer(shipping)).status_code,
        client.post("/v1/identity/reviews/1/reject", headers=bearer(marketing)).status_code,
        client.get(
            "/v1/identity/explain", params={"a": "bob", "b": "robert"}, headers=bearer(shipping)
        ).status_code,
    ]

    assert answers == [403] * 5


def test_a_review_needs_a_staff_token_and_an_existing_review(
    resolved: Services, client: TestClient, keys: Keys
) -> None:
    anonymous = client.get("/v1/identity/reviews")
    writer = client.get("/v1/identity/reviews", headers=bearer(keys.write_key))
    unknown = client.post("/v1/identity/reviews/999999/accept", headers=bearer(keys.token))

    assert (anonymous.status_code, writer.status_code) == (401, 403)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


def test_a_customers_household_is_part_of_the_profile_for_roles_that_read_accounts(
    resolved: Services, client: TestClient, keys: Keys
) -> None:
    john, mary = root_of(resolved, "john"), root_of(resolved, "mary")

    profile = client.get(f"/v1/customers/{john}", headers=bearer(keys.token))

    assert profile.status_code == 200
    assert profile.json()["household"] == [mary]
    assert "accounts" in profile.json()["sections"]


def test_staff_place_one_customer_over_http(
    services: Services, owner: Caller, client: TestClient, keys: Keys
) -> None:
    ingest_shop(services)
    services.identity.train(owner)
    robert = root_of(services, "robert")

    placed = client.post(
        f"/v1/identity/place/{root_of(services, 'bob')}", headers=bearer(keys.token)
    )
    unknown = client.post("/v1/identity/place/cus_nobody", headers=bearer(keys.token))

    assert placed.status_code == 200
    assert (placed.json()["decision"], placed.json()["other_id"]) == ("merged", robert)
    assert root_of(services, "bob") == robert
    assert unknown.status_code == 404
