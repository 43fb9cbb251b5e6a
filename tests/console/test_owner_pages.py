"""The owner's pages without a browser: secrets shown once, audit CSV, export and erase, roles
refused and every change CSRF-protected."""

from __future__ import annotations

import csv
import io
import logging
import re

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.errors import NotFound
from cornerstore.services import Services
from tests.console.conftest import ANN, ConsoleClient

OWNER = system_caller()
OWNER_PAGES = ["/admin/users", "/admin/keys", "/admin/audit", "/admin/privacy"]
# Every change an owner page makes, with a form that would otherwise be accepted.
OWNER_CHANGES = [
    ("/admin/users", {"username": "pat", "role": "support"}),
    ("/admin/users/demo-support/grant", {"role": "billing"}),
    ("/admin/users/demo-support/disable", {}),
    ("/admin/users/demo-support/enable", {}),
    ("/admin/users/demo-support/reset", {}),
    ("/admin/keys", {"name": "till", "touchpoint": "store"}),
    ("/admin/keys/1/revoke", {}),
    ("/admin/tokens", {"name": "reports", "role": "analyst"}),
    ("/admin/tokens/1/revoke", {}),
    ("/admin/privacy/erase", {"customer": ANN.email, "confirm": ANN.email}),
]


def once(text: str) -> list[str]:
    return re.findall(r'<code class="once">([^<]+)</code>', text)


def test_creating_a_user_shows_the_one_time_password_once(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("owner")

    created = console.http.post(
        "/admin/users",
        data={"csrf_token": console.csrf, "username": "pat", "role": "shipping", "branch": ""},
    )
    later = console.http.get("/admin/users")

    [password] = once(created.text)
    assert created.status_code == 200
    assert shop.staff.login("pat", password, None).user.must_change_password
    assert once(later.text) == [] and password not in later.text


def held(shop: Services) -> int:
    """How many users, write keys and API tokens there are."""
    return sum(
        len(found)
        for found in (
            shop.staff.list(OWNER),
            shop.credentials.list_write_keys(OWNER),
            shop.credentials.list_tokens(OWNER),
        )
    )


def secret_works(shop: Services, action: str, secret: str) -> bool:
    if action == "/admin/users":
        return shop.staff.login("pat", secret, None).user.username == "pat"
    if action == "/admin/users/demo-support/reset":
        return shop.staff.login("demo-support", secret, None).user.username == "demo-support"
    if action == "/admin/keys":
        return shop.credentials.check_write_key(secret).name == "till"
    return shop.credentials.authenticate(secret).role == "analyst"


@pytest.mark.parametrize(
    ("action", "form", "page", "new"),
    [
        ("/admin/users", {"username": "pat", "role": "shipping"}, "/admin/users", 1),
        ("/admin/users/demo-support/reset", {}, "/admin/users", 0),
        ("/admin/keys", {"name": "till", "touchpoint": "store"}, "/admin/keys", 1),
        ("/admin/tokens", {"name": "reports", "role": "analyst"}, "/admin/keys", 1),
    ],
)
def test_a_create_redirects_so_a_reload_never_sends_it_again_and_the_secret_shows_once(
    console: ConsoleClient,
    shop: Services,
    caplog: pytest.LogCaptureFixture,
    action: str,
    form: dict[str, str],
    page: str,
    new: int,
) -> None:
    console.login("owner")
    caplog.set_level(logging.DEBUG)
    before = held(shop)

    answer = console.http.post(
        action, data={"csrf_token": console.csrf, **form}, follow_redirects=False
    )
    shown = console.http.get(answer.headers["location"])
    reloaded = console.http.get(answer.headers["location"])

    [secret] = once(shown.text)
    assert (answer.status_code, answer.headers["location"]) == (303, page)
    assert secret not in answer.text and secret not in answer.headers["location"]
    assert once(reloaded.text) == [] and secret not in reloaded.text
    # The reload changed nothing: made once, and the secret shown is still the one that works.
    assert held(shop) == before + new
    assert secret_works(shop, action, secret)
    assert not any(secret in r.getMessage() for r in caplog.records)


def test_a_secret_waits_only_for_the_session_that_made_it(
    console: ConsoleClient, shop: Services
) -> None:
    from fastapi.testclient import TestClient

    console.login("owner")
    answer = console.http.post(
        "/admin/tokens",
        data={"csrf_token": console.csrf, "name": "reports", "role": "analyst"},
        follow_redirects=False,
    )
    app = console.http.app
    with TestClient(app, base_url="https://testserver") as other_client:
        other = ConsoleClient(other_client)
        other.login("owner")
        elsewhere = other.http.get(answer.headers["location"])
    mine = console.http.get(answer.headers["location"])

    assert once(elsewhere.text) == [] and len(once(mine.text)) == 1


def test_granting_disabling_and_resetting_change_the_user(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("owner")
    form = {"csrf_token": console.csrf}

    console.http.post("/admin/users/demo-support/grant", data={**form, "role": "billing"})
    console.http.post("/admin/users/demo-support/disable", data=form)
    reset = console.http.post("/admin/users/demo-support/reset", data=form)

    user = shop.staff.get(OWNER, "demo-support")
    assert (user.role, user.disabled_at is not None, user.must_change_password) == (
        "billing",
        True,
        True,
    )
    assert len(once(reset.text)) == 1


def test_creating_a_token_shows_its_secret_once_and_it_works(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("owner")

    created = console.http.post(
        "/admin/tokens", data={"csrf_token": console.csrf, "name": "reports", "role": "analyst"}
    )
    later = console.http.get("/admin/keys")

    [secret] = once(created.text)
    assert shop.credentials.authenticate(secret).role == "analyst"
    assert secret not in later.text and "reports" in later.text


def test_creating_and_revoking_a_write_key(console: ConsoleClient, shop: Services) -> None:
    console.login("owner")

    created = console.http.post(
        "/admin/keys", data={"csrf_token": console.csrf, "name": "till", "touchpoint": "store"}
    )
    [secret] = once(created.text)
    key = shop.credentials.check_write_key(secret)
    console.http.post(f"/admin/keys/{key.key_id}/revoke", data={"csrf_token": console.csrf})

    assert (key.name, key.touchpoint) == ("till", "store")
    assert [k.revoked_at is not None for k in shop.credentials.list_write_keys(OWNER)] == [True]


def test_the_audit_log_filters_and_downloads_the_same_entries_as_csv(
    console: ConsoleClient,
) -> None:
    console.login("owner")

    page = console.http.get("/admin/audit", params={"action": "login"})
    download = console.http.get("/admin/audit", params={"action": "login", "format": "csv"})

    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert page.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="audit.csv"'
    assert rows and {r["action"] for r in rows} == {"login"}
    assert 'href="/admin/audit?action=login&amp;format=csv"' in page.text


def test_an_export_downloads_everything_held_as_json_or_html(
    console: ConsoleClient,
) -> None:
    console.login("owner")

    as_json = console.http.get("/admin/privacy/export", params={"customer": ANN.email})
    as_html = console.http.get(
        "/admin/privacy/export", params={"customer": ANN.email, "format": "html"}
    )

    customer = as_json.json()["customer"]["id"]
    assert as_json.headers["content-disposition"] == (
        f'attachment; filename="{customer}-export.json"'
    )
    assert as_html.headers["content-type"].startswith("text/html")
    assert ANN.email in as_html.text


def test_erasing_asks_for_the_id_again_and_refuses_a_mistyped_one(
    console: ConsoleClient, shop: Services
) -> None:
    customer = shop.profiles.get(OWNER, ANN.email).id
    console.login("owner")

    question = console.http.get("/admin/privacy/erase", params={"customer": customer})
    mistyped = console.http.post(
        "/admin/privacy/erase",
        data={"csrf_token": console.csrf, "customer": customer, "confirm": customer[:-1]},
    )
    still_there = shop.profiles.get(OWNER, customer).id
    erased = console.http.post(
        "/admin/privacy/erase",
        data={"csrf_token": console.csrf, "customer": customer, "confirm": customer},
    )

    assert f"Type the customer id <code>{customer}</code> to confirm" in question.text
    assert mistyped.status_code == 400
    assert "Confirm: type the customer id exactly as above to erase." in mistyped.text
    assert still_there == customer
    assert erased.status_code == 200 and f"{customer} is erased." in erased.text
    with pytest.raises(NotFound):
        shop.profiles.get(OWNER, customer)


def test_the_privacy_page_shows_the_retention_preview_and_privacy_events(
    console: ConsoleClient,
) -> None:
    console.login("owner")

    page = console.http.get("/admin/privacy")

    assert page.status_code == 200
    assert "Retention preview" in page.text and "Privacy events" in page.text


@pytest.mark.parametrize("role", ["support", "shipping", "billing", "marketing", "analyst"])
def test_other_roles_get_403_pages_and_no_link_to_the_owner_pages(
    console: ConsoleClient, role: str
) -> None:
    console.login(role)

    pages = [console.http.get(path) for path in OWNER_PAGES]
    export = console.http.get("/admin/privacy/export", params={"customer": ANN.email})
    search = console.http.get("/customers")

    assert [p.status_code for p in pages] == [403] * len(OWNER_PAGES)
    assert export.status_code == 403 and ANN.email not in export.text
    assert "Only the owner may do this." in pages[0].text
    assert 'href="/admin' not in search.text


@pytest.mark.parametrize("role", ["support", "analyst"])
@pytest.mark.parametrize(("path", "form"), OWNER_CHANGES)
def test_other_roles_cannot_change_anything_on_the_owner_pages(
    console: ConsoleClient, shop: Services, role: str, path: str, form: dict[str, str]
) -> None:
    console.login(role)

    refused = console.http.post(path, data={"csrf_token": console.csrf, **form})

    assert refused.status_code == 403
    assert shop.staff.get(OWNER, "demo-support").role == "support"
    assert shop.profiles.get(OWNER, ANN.email)


@pytest.mark.parametrize(("path", "form"), OWNER_CHANGES)
def test_owner_changes_without_the_csrf_token_are_refused(
    console: ConsoleClient, shop: Services, path: str, form: dict[str, str]
) -> None:
    console.login("owner")

    refused = console.http.post(path, data=form)

    assert refused.status_code == 403
    assert "CSRF token missing or wrong" in refused.text
    assert [u.username for u in shop.staff.list(OWNER) if u.username == "pat"] == []
    assert shop.staff.get(OWNER, "demo-support").role == "support"
    assert shop.profiles.get(OWNER, ANN.email)


@pytest.mark.parametrize(
    "path",
    [f"/admin/tokens/{2**31}/revoke", f"/admin/keys/{2**31}/revoke", f"/reviews/{2**63}/accept"],
)
def test_an_id_too_large_for_its_table_is_refused_with_a_page_not_a_failure(
    console: ConsoleClient, path: str
) -> None:
    console.login("owner")

    answer = console.http.post(path, data={"csrf_token": console.csrf})

    assert answer.status_code == 400
    assert "internal error" not in answer.text
