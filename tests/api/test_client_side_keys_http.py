"""Who may change what the shop believes: a web shop's write key is public in every page, so
what it claims about an existing customer stays an unverified observation until a trusted
source (a server-side key, or the customer signed in) says the same."""

from __future__ import annotations

from typing import Any

import pytest

from cornerstore.access.caller import Caller
from cornerstore.services import Services
from tests.api import basic, bearer
from tests.api.conftest import TestClient
from tests.factories import group, identify, track

DEE_ADDRESS = {"street": "1 Mill Lane", "city": "York", "postalCode": "YO1 7HH", "country": "GB"}
FRAUD_LANE = {"street": "99 Fraud Lane", "city": "Leeds", "postalCode": "LS1 1AA", "country": "GB"}
# Spec traits arrive in camelCase and are stored in snake_case.
FRAUD_LANE_STORED = {
    "street": "99 Fraud Lane",
    "city": "Leeds",
    "postal_code": "LS1 1AA",
    "country": "GB",
}
SHIPPING_TO_DEE = {
    "first_name": "Dee",
    "phone": "07700 900456",
    "address.street": "1 Mill Lane",
    "address.city": "York",
    "address.postal_code": "YO1 7HH",
    "address.country": "GB",
}
SHIPPING_TO_FRAUD_LANE = {
    "first_name": "Dee",
    "phone": "07700 900999",
    "address.street": "99 Fraud Lane",
    "address.city": "Leeds",
    "address.postal_code": "LS1 1AA",
    "address.country": "GB",
}
DEE_IDENTIFIERS = [
    ("user_id", "u-dee"),
    ("email", "dee@example.com"),
    ("phone", "+447700900456"),
]


class Shop:
    """The shop's two write keys and a staff token, over one in-process app."""

    def __init__(self, client: TestClient, services: Services, owner: Caller) -> None:
        self.client = client
        make = services.credentials.create_write_key
        self.server_key = make(owner, "checkout-server", "web", "server").secret
        self.page_key = make(owner, "web-shop", "web").secret  # client-side: web's default
        self.token = services.credentials.create_token(owner, "desk", "owner").secret

    def send(self, key: str, *messages: dict[str, Any]) -> None:
        response = self.client.post("/v1/batch", json={"batch": list(messages)}, headers=basic(key))
        assert response.json()["accepted"] == len(messages), response.text

    def read(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=bearer(self.token))
        assert response.status_code == 200, response.text
        return response.json()

    def shipping_form(self, customer: str) -> dict[str, Any]:
        prefill = self.read(f"/v1/customers/{customer}/prefill", form="shipping")
        return {f["field"]: f["value"] for f in prefill["fields"] if f["known"]}

    def identifiers(self, customer: str) -> list[tuple[str, str]]:
        return [
            (i["kind"], i["value"]) for i in self.read(f"/v1/customers/{customer}")["identifiers"]
        ]

    def unverified(self, customer: str) -> list[tuple[str, Any, str]]:
        profile = self.read(f"/v1/customers/{customer}")
        return [(c["name"], c["value"], c["source"]) for c in profile["unverified"]]


@pytest.fixture
def shop(client: TestClient, services: Services, owner: Caller) -> Shop:
    """A shop where Dee signed up through the checkout server."""
    shop = Shop(client, services, owner)
    shop.send(
        shop.server_key,
        identify(
            "u-dee",
            email="dee@example.com",
            phone="07700 900456",
            firstName="Dee",
            address=DEE_ADDRESS,
        ),
    )
    return shop


def _fraud(key_holder: str = "attacker-browser") -> dict[str, Any]:
    """Someone who knows Dee's e-mail, from a new browser, with a new phone and address."""
    return identify(
        anonymous_id=key_holder, email="dee@example.com", phone="07700 900999", address=FRAUD_LANE
    )


def test_the_public_key_cannot_make_prefill_offer_99_fraud_lane(shop: Shop) -> None:
    shop.send(shop.page_key, _fraud())

    assert shop.shipping_form("u-dee") == SHIPPING_TO_DEE
    assert shop.identifiers("u-dee") == DEE_IDENTIFIERS
    assert shop.unverified("u-dee") == [
        ("phone", "07700 900999", "web-shop"),
        ("address", FRAUD_LANE_STORED, "web-shop"),
    ]


def test_the_attackers_browser_gets_a_profile_of_its_own(shop: Shop) -> None:
    shop.send(shop.page_key, _fraud())

    dee = shop.read("/v1/customers/u-dee")
    browser = shop.read("/v1/customers/attacker-browser")

    assert browser["id"] != dee["id"]
    assert shop.identifiers("attacker-browser") == [("anonymous_id", "attacker-browser")]
    assert (browser["traits"], browser["unverified"], dee["merged_profiles"]) == ({}, [], [])


def test_the_same_identify_from_the_server_key_joins_and_updates_the_customer(shop: Shop) -> None:
    shop.send(shop.server_key, _fraud("dee-new-laptop"))

    assert shop.shipping_form("u-dee") == SHIPPING_TO_FRAUD_LANE
    assert shop.identifiers("u-dee") == [
        *DEE_IDENTIFIERS,
        ("phone", "+447700900999"),
        ("anonymous_id", "dee-new-laptop"),
    ]
    assert shop.unverified("u-dee") == []


def test_the_customer_signed_in_on_the_public_key_adds_a_browser_and_a_new_address(
    shop: Shop,
) -> None:
    signed_in = identify(
        "u-dee", anonymous_id="dee-new-laptop", phone="07700 900999", address=FRAUD_LANE
    )

    shop.send(shop.page_key, signed_in)

    assert shop.shipping_form("u-dee") == SHIPPING_TO_FRAUD_LANE
    assert shop.identifiers("u-dee") == [
        *DEE_IDENTIFIERS,
        ("anonymous_id", "dee-new-laptop"),
        ("phone", "+447700900999"),
    ]
    assert shop.unverified("u-dee") == []


@pytest.mark.parametrize("confirmed_by", ["server key", "customer signed in"])
def test_a_trusted_source_saying_the_same_confirms_an_unverified_address(
    shop: Shop, confirmed_by: str
) -> None:
    shop.send(shop.page_key, _fraud())
    key = shop.server_key if confirmed_by == "server key" else shop.page_key

    shop.send(key, identify("u-dee", address=FRAUD_LANE))

    assert shop.unverified("u-dee") == [("phone", "07700 900999", "web-shop")]
    assert shop.shipping_form("u-dee") == {
        **SHIPPING_TO_FRAUD_LANE,
        "phone": "07700 900456",
    }


def test_a_browser_once_signed_in_cannot_change_the_customer_without_signing_in(
    shop: Shop,
) -> None:
    shop.send(shop.page_key, identify("u-dee", anonymous_id="library-pc"))

    shop.send(shop.page_key, identify(anonymous_id="library-pc", address=FRAUD_LANE))

    assert shop.shipping_form("u-dee") == SHIPPING_TO_DEE
    assert [name for name, _, _ in shop.unverified("u-dee")] == ["address"]


def test_a_signed_in_customer_cannot_take_over_another_customer_by_her_email(
    shop: Shop,
) -> None:
    shop.send(shop.page_key, identify("u-mal", email="mal@example.com", firstName="Mal"))

    shop.send(shop.page_key, identify("u-mal", email="dee@example.com", address=FRAUD_LANE))

    assert shop.identifiers("u-dee") == DEE_IDENTIFIERS
    assert shop.identifiers("u-mal") == [("user_id", "u-mal"), ("email", "mal@example.com")]
    assert shop.shipping_form("u-dee") == SHIPPING_TO_DEE
    assert shop.unverified("u-dee") == []


def test_a_new_visitor_on_the_public_key_gets_a_profile_with_what_they_typed(shop: Shop) -> None:
    shop.send(
        shop.page_key,
        identify(anonymous_id="guest-1", email="eve@example.com", firstName="Eve"),
    )

    assert shop.identifiers("eve@example.com") == [
        ("anonymous_id", "guest-1"),
        ("email", "eve@example.com"),
    ]
    assert shop.read("/v1/customers/eve@example.com/prefill", form="contact")["unknown"] == [
        "last_name",
        "phone",
    ]
    assert shop.unverified("eve@example.com") == []


def test_the_public_key_names_a_new_company_but_cannot_rename_an_existing_one(shop: Shop) -> None:
    shop.send(shop.page_key, group("u-dee", "acme-ltd", name="Acme Ltd"))

    shop.send(shop.page_key, group("u-dee", "acme-ltd", name="Acme Refunds Dept"))

    account = shop.read("/v1/customers/acme-ltd")
    assert {name: t["value"] for name, t in account["traits"].items()} == {"name": "Acme Ltd"}
    assert [(c["name"], c["value"]) for c in account["unverified"]] == [
        ("name", "Acme Refunds Dept")
    ]


def test_a_visitor_who_browsed_first_checks_out_as_a_guest_with_what_they_typed(
    shop: Shop,
) -> None:
    shop.send(shop.page_key, track("Product Viewed", anonymous_id="guest-2", sku="MUG-1"))

    shop.send(
        shop.page_key,
        identify(
            anonymous_id="guest-2", email="fay@example.com", firstName="Fay", phone="07700 900777"
        ),
    )

    assert shop.identifiers("fay@example.com") == [
        ("anonymous_id", "guest-2"),
        ("email", "fay@example.com"),
        ("phone", "+447700900777"),
    ]
    assert shop.unverified("fay@example.com") == []


def test_a_guests_details_are_not_changed_by_their_browser_id_alone(shop: Shop) -> None:
    shop.send(
        shop.page_key,
        identify(anonymous_id="guest-3", email="gus@example.com", firstName="Gus"),
    )

    shop.send(shop.page_key, identify(anonymous_id="guest-3", firstName="Mal", address=FRAUD_LANE))

    assert shop.read("/v1/customers/gus@example.com")["traits"]["first_name"]["value"] == "Gus"
    assert [(name, value) for name, value, _ in shop.unverified("gus@example.com")] == [
        ("first_name", "Mal"),
        ("address", FRAUD_LANE_STORED),
    ]


def test_a_shared_landline_claims_nobody(shop: Shop) -> None:
    shop.send(shop.server_key, identify("u-dee", phone="0113 496 0000"))

    shop.send(
        shop.page_key,
        identify(anonymous_id="housemate", phone="0113 496 0000", firstName="Hal"),
    )

    assert shop.unverified("u-dee") == []
    assert shop.read("/v1/customers/housemate")["traits"]["first_name"]["value"] == "Hal"
