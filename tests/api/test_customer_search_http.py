"""``GET /v1/customers?q=`` by name over HTTP: either order, ranked, wildcards literal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import basic, bearer
from tests.api.conftest import Keys, TestClient
from tests.factories import identify


def _send(client: TestClient, keys: Keys, *messages: dict[str, Any]) -> None:
    response = client.post(
        "/v1/batch", json={"batch": list(messages)}, headers=basic(keys.write_key)
    )
    assert response.json()["accepted"] == len(messages), response.text


def _names(client: TestClient, keys: Keys, q: str) -> tuple[int, list[tuple[str, str]]]:
    response = client.get("/v1/customers", params={"q": q}, headers=bearer(keys.token))
    return response.status_code, [(h["name"], h["matched"]) for h in response.json()["results"]]


@pytest.fixture
def shop(client: TestClient, keys: Keys) -> None:
    _send(
        client,
        keys,
        identify("u-joanne", firstName="Joanne", lastName="Hill"),
        identify("u-jo", firstName="Jo", lastName="Hill"),
        identify("u-robert", firstName="Robert", lastName="Hill"),
    )


@pytest.mark.parametrize("q", ["Joanne Hill", "hill joanne", "HILL, Joanne"])
def test_a_full_name_in_either_order_finds_the_customer_first(
    client: TestClient, keys: Keys, shop: None, q: str
) -> None:
    assert _names(client, keys, q) == (
        200,
        [("Joanne Hill", "name"), ("Jo Hill", "nickname")],
    )


def test_a_nickname_finds_the_customer_after_exact_names(
    client: TestClient, keys: Keys, shop: None
) -> None:
    assert _names(client, keys, "bob hill") == (200, [("Robert Hill", "nickname")])


def test_percent_and_underscore_are_punctuation_not_wildcards(
    client: TestClient, keys: Keys, shop: None
) -> None:
    assert [_names(client, keys, q) for q in ("__", "%", "hill%")] == [
        (200, []),
        (200, []),
        (200, [("Jo Hill", "name"), ("Joanne Hill", "name"), ("Robert Hill", "name")]),
    ]


@pytest.mark.parametrize("q", ["\x00", "hill\x00"])
def test_a_nul_character_is_a_clear_400_on_every_database(
    client: TestClient, keys: Keys, shop: None, q: str
) -> None:
    response = client.get("/v1/customers", params={"q": q}, headers=bearer(keys.token))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert response.json()["message"].startswith("query.q:")
