"""Logging in and out of the console without a browser: redirects, cookies, CSRF, CSP."""

from __future__ import annotations

import re

import pytest

from cornerstore.console.deps import CONTENT_SECURITY_POLICY
from tests.console.conftest import ConsoleClient


def test_the_root_sends_a_visitor_to_the_login_page(console: ConsoleClient) -> None:
    response = console.http.get("/", follow_redirects=False)

    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_the_root_sends_a_logged_in_user_to_the_customer_search(console: ConsoleClient) -> None:
    console.login("support")

    response = console.http.get("/", follow_redirects=False)

    assert (response.status_code, response.headers["location"]) == (303, "/customers")


def test_a_page_asks_a_visitor_to_log_in_and_returns_there(console: ConsoleClient) -> None:
    response = console.http.get("/customers?q=ann", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/customers"


def test_logging_in_sets_the_same_session_cookies_as_the_api(console: ConsoleClient) -> None:
    response = console.login("support")

    assert (response.status_code, response.headers["location"]) == (303, "/customers")
    assert console.http.get("/v1/session").json()["user"]["username"] == "demo-support"


@pytest.mark.parametrize("path", ["/login", "/customers"])
def test_every_page_carries_the_content_security_policy(console: ConsoleClient, path: str) -> None:
    console.login("support")

    response = console.http.get(path)

    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert CONTENT_SECURITY_POLICY.startswith("default-src 'self';")
    assert "<script>" not in response.text and "style=" not in response.text


def test_a_wrong_password_shows_one_line_and_no_session(console: ConsoleClient) -> None:
    response = console.login("support", password="not-the-password")

    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert "cs_session" not in response.cookies


def test_repeated_wrong_passwords_make_the_login_wait(console: ConsoleClient) -> None:
    for _ in range(5):
        console.login("support", password="not-the-password")

    response = console.login("support")

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Too many failed logins. Try again in" in response.text


def test_a_login_form_from_another_site_is_refused(console: ConsoleClient) -> None:
    response = console.http.post(
        "/login",
        data={"username": "demo-support", "password": "demo-support-password"},
        follow_redirects=False,
    )

    assert response.status_code == 400
    assert "cs_session" not in response.cookies


def test_logging_out_without_the_csrf_token_is_refused(console: ConsoleClient) -> None:
    console.login("support")

    refused = console.http.post("/logout", follow_redirects=False)
    done = console.http.post("/logout", data={"csrf_token": console.csrf}, follow_redirects=False)

    assert refused.status_code == 403
    assert "CSRF token missing or wrong" in refused.text
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    assert console.http.get("/v1/session").status_code == 401


def test_a_one_time_password_must_be_replaced_before_any_page(console: ConsoleClient) -> None:
    from cornerstore.access.caller import system_caller

    staff = console.http.app.state.services.staff  # type: ignore[attr-defined]
    temporary = staff.reset_password(system_caller(), "demo-support").password

    first = console.login("support", password=temporary)
    blocked = console.http.get("/customers", follow_redirects=False)
    changed = console.http.post(
        "/password",
        data={
            "csrf_token": console.csrf,
            "current_password": temporary,
            "new_password": "a-new-long-password",
            "repeat_password": "a-new-long-password",
        },
        follow_redirects=False,
    )

    assert first.headers["location"] == "/password"
    assert blocked.headers["location"] == "/password"
    assert changed.headers["location"] == "/customers"
    assert console.http.get("/customers").status_code == 200


def test_an_unknown_customer_is_a_readable_404_page(console: ConsoleClient) -> None:
    console.login("support")

    response = console.http.get("/customers/cus_0000000000000000")

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert "Customer: no such customer." in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_every_asset_a_page_links_is_served_by_cornerstore(console: ConsoleClient) -> None:
    page = console.http.get("/login").text

    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert "/static/favicon.svg" in linked
    assert [(path, console.http.get(path).status_code) for path in linked] == [
        (path, 200) for path in linked
    ]
