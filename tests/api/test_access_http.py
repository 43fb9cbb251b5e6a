"""Staff access over real HTTP (uvicorn): every role x endpoint x section, guessing ids, tokens
with roles, console sessions with CSRF, login back-off, and the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cornerstore.access.caller import Caller
from cornerstore.services import Services
from tests.access import ROLES, add_dee
from tests.access.test_sections import PREFILL, PROFILE, SEARCH, TIMELINE, TRAIT_READERS
from tests.api import bearer, expire_token, parse_iso
from tests.api.conftest import LiveServer

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _cheap_hashes(fast_hashing: None) -> None:
    """Staff log in many times here; the real argon2id cost is tested in tests/access."""


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def role_token(services: Services, owner: Caller, role: str) -> str:
    return services.credentials.create_token(owner, f"{role}-desk", role).secret


def cookies_of(response: httpx.Response) -> dict[str, str]:
    """Cookie name -> its whole Set-Cookie line (the client is not a browser: cookies are
    marked Secure and the test server speaks plain HTTP, so the test carries them itself)."""
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


def value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1].strip('"')


class Console:
    """A logged-in browser: its session cookie and CSRF token."""

    def __init__(self, http: httpx.Client, username: str, password: str = PASSWORD) -> None:
        self.http = http
        response = http.post("/v1/session", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.login = response
        self.session = value(cookies_of(response)["cs_session"])
        self.csrf = response.json()["csrf_token"]

    def request(
        self, method: str, path: str, csrf: str | None = "", **kwargs: Any
    ) -> httpx.Response:
        headers = {"Cookie": f"cs_session={self.session}"}
        token = self.csrf if csrf == "" else csrf
        if token is not None:
            headers["X-CSRF-Token"] = token
        return self.http.request(method, path, headers=headers, **kwargs)


# -- the matrix -------------------------------------------------------------------------------


def _answers(http: httpx.Client, token: str, cid: str) -> dict[str, Any]:
    """What one token gets from every customer endpoint, reduced to what tells sections apart."""
    headers = bearer(token)
    out: dict[str, Any] = {}
    profile = http.get(f"/v1/customers/{cid}", headers=headers)
    out["profile"] = (
        (
            profile.json()["sections"],
            sorted(set(profile.json()) - {"id", "kind", "created_at", "sections"}),
        )
        if profile.status_code == 200
        else profile.status_code
    )
    timeline = http.get(f"/v1/customers/{cid}/timeline", headers=headers)
    out["timeline"] = (
        [e["touchpoint"] for e in timeline.json()["events"]]
        if timeline.status_code == 200
        else timeline.status_code
    )
    out["traits"] = {
        trait: http.get(f"/v1/customers/{cid}/traits/{trait}", headers=headers).status_code
        for trait in sorted(TRAIT_READERS)
    }
    prefill = http.get(f"/v1/customers/{cid}/prefill", params={"form": "shipping"}, headers=headers)
    out["prefill"] = (
        [
            f["field"]
            for f in prefill.json()["fields"]
            if f["field"] in ("phone", "delivery_instructions")
        ]
        if prefill.status_code == 200
        else prefill.status_code
    )
    search = http.get("/v1/customers", params={"q": "fox"}, headers=headers)
    out["search"] = (
        [list(hit) for hit in search.json()["results"]]
        if search.status_code == 200
        else search.status_code
    )
    return out


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_over_http_exactly_what_the_service_layer_allows(
    http: httpx.Client, services: Services, owner: Caller, role: str
) -> None:
    cid = add_dee(services)
    token = role_token(services, owner, role)

    answers = _answers(http, token, cid)

    sections, parts, _, _ = PROFILE[role]
    search_keys = SEARCH[role][0]
    assert answers == {
        "profile": (sections, sorted(parts)),
        "timeline": TIMELINE[role] if TIMELINE[role] is not None else 403,
        "traits": {t: 200 if role in readers else 403 for t, readers in TRAIT_READERS.items()},
        "prefill": PREFILL[role] if PREFILL[role] is not None else 403,
        "search": [search_keys] if search_keys is not None else 403,
    }


@pytest.mark.parametrize("role", ROLES)
def test_only_roles_that_may_change_merges_can_merge_over_http(
    http: httpx.Client, services: Services, owner: Caller, role: str
) -> None:
    cid = add_dee(services)
    token = role_token(services, owner, role)

    response = http.post(
        f"/v1/customers/{cid}/merge", json={"other": "cus_0000000000000000"}, headers=bearer(token)
    )

    expected = (404, "not_found") if role in ("owner", "support") else (403, "forbidden")
    assert (response.status_code, response.json()["code"]) == expected


# -- guessing ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("shipping", "/v1/customers/{cid}/traits/email"),
        ("marketing", "/v1/customers/{cid}/timeline"),
        ("analyst", "/v1/customers/{cid}/prefill?form=contact"),
        ("billing", "/v1/customers/{cid}/timeline?touchpoint=support"),
    ],
)
def test_a_role_that_may_not_look_cannot_tell_whether_a_customer_exists(
    http: httpx.Client, services: Services, owner: Caller, role: str, path: str
) -> None:
    cid = add_dee(services)
    token = role_token(services, owner, role)

    real = http.get(path.format(cid=cid), headers=bearer(token))
    guessed = http.get(path.format(cid="cus_0123456789abcdef"), headers=bearer(token))

    assert real.status_code == guessed.status_code == 403
    assert real.json() == guessed.json()


def test_a_role_without_contact_details_finds_nobody_by_e_mail(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    add_dee(services)
    token = role_token(services, owner, "shipping")

    known = http.get("/v1/customers/dee.fox@example.com", headers=bearer(token))
    unknown = http.get("/v1/customers/nobody@example.com", headers=bearer(token))

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.json() == {"code": "not_found", "message": "customer: no such customer"}


# -- tokens with roles ------------------------------------------------------------------------


def test_a_personal_token_acts_as_its_user_and_stops_when_the_user_is_disabled(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    cid = add_dee(services)
    user = services.staff.create(owner, "sam", "shipping", password=PASSWORD).user
    token = services.credentials.create_token(owner, "sam-laptop", user_id=user.id).secret

    before = http.get(f"/v1/customers/{cid}", headers=bearer(token))
    services.staff.grant(owner, "sam", "billing")
    services.credentials._token_cache.clear()  # as after the five-second cache
    regranted = http.get(f"/v1/customers/{cid}", headers=bearer(token))
    services.staff.disable(owner, "sam")
    services.credentials._token_cache.clear()
    disabled = http.get(f"/v1/customers/{cid}", headers=bearer(token))

    assert before.json()["sections"] == ["addresses", "delivery_preferences", "name"]
    assert regranted.json()["sections"] == ["addresses", "contact", "name", "payment"]
    assert (disabled.status_code, disabled.json()) == (
        401,
        {"code": "unauthorized", "message": "the API token's user is disabled"},
    )


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_revoked_or_expired_role_token_is_refused(
    http: httpx.Client, services: Services, owner: Caller, state: str
) -> None:
    cid = add_dee(services)
    issued = services.credentials.create_token(owner, "temp", "support", "1h")
    if state == "revoked":
        services.credentials.revoke_token(owner, issued.id)
    else:
        expire_token(services, issued.id)

    response = http.get(f"/v1/customers/{cid}", headers=bearer(issued.secret))

    message = {"revoked": "the API token was revoked", "expired": "the API token has expired"}
    assert (response.status_code, response.json()) == (
        401,
        {"code": "unauthorized", "message": message[state]},
    )


def test_a_write_key_still_only_sends_events(
    http: httpx.Client, services: Services, server: LiveServer
) -> None:
    cid = add_dee(services)

    response = http.get(f"/v1/customers/{cid}", headers=bearer(server.write_key))
    audit = http.get("/v1/audit", headers=bearer(server.write_key))

    assert [response.status_code, audit.status_code] == [403, 403]


# -- console sessions -------------------------------------------------------------------------


def test_login_sets_a_secure_http_only_same_site_session_cookie(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    services.staff.create(owner, "ann", "support", password=PASSWORD)

    console = Console(http, "ann")

    cookies = cookies_of(console.login)
    session = [a.strip().lower() for a in cookies["cs_session"].split(";")[1:]]
    csrf = [a.strip().lower() for a in cookies["cs_csrf"].split(";")[1:]]
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= set(session)
    assert {"secure", "samesite=strict"} <= set(csrf) and "httponly" not in csrf
    assert console.login.headers["cache-control"] == "no-store"
    assert console.login.json()["user"] == {
        "username": "ann",
        "display_name": "ann",
        "role": "support",
        "branch": None,
        "must_change_password": False,
    }
    assert value(cookies["cs_csrf"]) == console.csrf


def test_a_session_reads_customers_with_its_users_role(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    cid = add_dee(services)
    services.staff.create(owner, "sam", "shipping", branch="Leeds", password=PASSWORD)
    console = Console(http, "sam")

    profile = console.request("GET", f"/v1/customers/{cid}", csrf=None)
    me = console.request("GET", "/v1/session", csrf=None)

    assert profile.json()["sections"] == ["addresses", "delivery_preferences", "name"]
    assert (me.json()["user"]["branch"], me.json()["sections"]) == (
        "Leeds",
        ["addresses", "delivery_preferences", "name", "shipments", "timeline.shipping"],
    )


def test_a_login_that_is_not_json_is_refused(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    services.staff.create(owner, "ann", "support", password=PASSWORD)

    form = http.post("/v1/session", data={"username": "ann", "password": PASSWORD})
    plain = http.post(
        "/v1/session",
        content=f'{{"username": "ann", "password": "{PASSWORD}"}}',
        headers={"Content-Type": "text/plain"},
    )

    assert [form.status_code, plain.status_code] == [400, 400]
    assert "set-cookie" not in form.headers and "set-cookie" not in plain.headers


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/v1/session", None),
        ("PUT", "/v1/session/password", {"current_password": PASSWORD, "new_password": "x" * 20}),
        ("POST", "/v1/me/tokens", {"name": "laptop"}),
        ("POST", "/v1/customers/{cid}/merge", {"other": "cus_0000000000000000"}),
    ],
)
@pytest.mark.parametrize("csrf", [None, "forged-token"])
def test_a_cookie_request_that_changes_something_needs_the_csrf_token(
    http: httpx.Client,
    services: Services,
    owner: Caller,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    csrf: str | None,
) -> None:
    cid = add_dee(services)
    services.staff.create(owner, "ann", "support", password=PASSWORD)
    console = Console(http, "ann")

    refused = console.request(method, path.format(cid=cid), csrf=csrf, json=body)
    still = console.request("GET", "/v1/session", csrf=None)

    assert (refused.status_code, refused.json()) == (
        403,
        {
            "code": "forbidden",
            "message": "the CSRF token is missing or wrong: send the session's X-CSRF-Token",
        },
    )
    assert still.status_code == 200


def test_logout_with_the_csrf_token_ends_the_session(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    services.staff.create(owner, "ann", "support", password=PASSWORD)
    console = Console(http, "ann")

    out = console.request("DELETE", "/v1/session")
    after = console.request("GET", "/v1/session", csrf=None)

    assert out.status_code == 204
    assert {"cs_session", "cs_csrf"} <= set(cookies_of(out))
    assert (after.status_code, after.json()["message"]) == (
        401,
        "the session has ended; log in again",
    )


def test_a_session_id_planted_before_login_is_never_used(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    services.staff.create(owner, "ann", "support", password=PASSWORD)
    earlier = Console(http, "ann")
    planted = "attacker-chosen-session-id"

    login = http.post(
        "/v1/session",
        json={"username": "ann", "password": PASSWORD},
        headers={"Cookie": f"cs_session={planted}"},
    )
    relogin = http.post(
        "/v1/session",
        json={"username": "ann", "password": PASSWORD},
        headers={"Cookie": f"cs_session={earlier.session}"},
    )

    issued = value(cookies_of(login)["cs_session"])
    assert issued not in (planted, earlier.session)
    assert value(cookies_of(relogin)["cs_session"]) not in (issued, earlier.session)
    for stale in (planted, earlier.session):
        answer = http.get("/v1/session", headers={"Cookie": f"cs_session={stale}"})
        assert answer.status_code == 401


def test_a_one_time_password_must_be_changed_before_reading_customers(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    cid = add_dee(services)
    made = services.staff.create(owner, "ann", "support")
    console = Console(http, "ann", made.password)

    blocked = console.request("GET", f"/v1/customers/{cid}", csrf=None)
    changed = console.request(
        "PUT",
        "/v1/session/password",
        json={"current_password": made.password, "new_password": "my own passphrase"},
    )
    allowed = console.request("GET", f"/v1/customers/{cid}", csrf=None)

    assert (blocked.status_code, blocked.json()["message"]) == (
        403,
        "change the one-time password first: PUT /v1/session/password",
    )
    assert changed.json()["must_change_password"] is False
    assert allowed.status_code == 200


def test_guessing_passwords_gets_the_same_answer_then_a_wait_and_leaks_nothing(
    http: httpx.Client, services: Services, owner: Caller, caplog: pytest.LogCaptureFixture
) -> None:
    services.staff.create(owner, "ann", "support", password=PASSWORD)
    guesses = [f"guess-number-{n}" for n in range(5)]

    wrong = [http.post("/v1/session", json={"username": "ann", "password": g}) for g in guesses]
    unknown = http.post("/v1/session", json={"username": "nobody", "password": "guess-x"})
    waiting = http.post("/v1/session", json={"username": "ann", "password": PASSWORD})

    assert {(r.status_code, r.text) for r in [*wrong, unknown]} == {
        (401, '{"code":"unauthorized","message":"wrong username or password"}')
    }
    assert (waiting.status_code, waiting.json()["code"]) == (429, "throttled")
    assert int(waiting.headers["retry-after"]) == 30
    said = " ".join(r.text for r in [*wrong, unknown, waiting]) + caplog.text
    assert not any(secret in said for secret in [*guesses, PASSWORD, "guess-x"])


# -- personal tokens from the console ---------------------------------------------------------


def test_a_user_creates_lists_and_revokes_their_personal_tokens(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    cid = add_dee(services)
    services.staff.create(owner, "bea", "billing", password=PASSWORD)
    console = Console(http, "bea")

    made = console.request("POST", "/v1/me/tokens", json={"name": "laptop", "expires": "30d"})
    token = made.json()["token"]
    read = http.get(f"/v1/customers/{cid}", headers=bearer(token))
    listed = console.request("GET", "/v1/me/tokens", csrf=None)
    revoked = console.request("DELETE", f"/v1/me/tokens/{made.json()['id']}")
    after = http.get(f"/v1/customers/{cid}", headers=bearer(token))

    assert made.status_code == 201 and token.startswith("cst_")
    assert read.json()["sections"] == ["addresses", "contact", "name", "payment"]
    assert [(t["name"], t["role"]) for t in listed.json()] == [("laptop", "billing")]
    assert token not in listed.text
    assert revoked.status_code == 204
    assert after.status_code == 401


@pytest.mark.parametrize(
    ("expires", "status", "answer"),
    [
        (None, 201, 90),
        ("never", 201, None),
        (
            "0h",
            400,
            {
                "code": "invalid_input",
                "message": "expires: a token must live at least 1h; use never for no expiry",
            },
        ),
    ],
)
def test_a_personal_token_lives_90_days_unless_told_and_never_only_when_asked(
    http: httpx.Client,
    services: Services,
    owner: Caller,
    expires: str | None,
    status: int,
    answer: Any,
) -> None:
    services.staff.create(owner, "bea", "billing", password=PASSWORD)
    console = Console(http, "bea")
    body = {"name": "laptop"} | ({"expires": expires} if expires else {})

    made = console.request("POST", "/v1/me/tokens", json=body)

    if status == 201:
        expires_at = made.json()["expires_at"]
        lifetime = (parse_iso(expires_at) - datetime.now(UTC)).days + 1 if expires_at else None
        assert (made.status_code, lifetime) == (201, answer)
    else:
        assert (made.status_code, made.json()) == (status, answer)


def test_a_user_cannot_revoke_someone_elses_token(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    services.staff.create(owner, "bea", "billing", password=PASSWORD)
    other = services.credentials.create_token(owner, "ops", "support")
    console = Console(http, "bea")

    response = console.request("DELETE", f"/v1/me/tokens/{other.id}")

    assert (response.status_code, response.json()["message"]) == (
        404,
        f"token {other.id}: no such active token",
    )


def test_the_owner_revokes_only_their_own_token_under_me_and_any_under_tokens(
    http: httpx.Client, services: Services, owner: Caller, server: LiveServer
) -> None:
    cid = add_dee(services)
    other = services.credentials.create_token(owner, "ops", "support")
    owner_token = {"Authorization": f"Bearer {server.token}"}

    under_me = http.delete(f"/v1/me/tokens/{other.id}", headers=owner_token)
    still = http.get(f"/v1/customers/{cid}", headers=bearer(other.secret))
    listed = http.get("/v1/tokens", headers=owner_token)
    under_tokens = http.delete(f"/v1/tokens/{other.id}", headers=owner_token)
    services.credentials._token_cache.clear()  # as after the five-second cache
    after = http.get(f"/v1/customers/{cid}", headers=bearer(other.secret))
    own = http.get("/v1/audit", headers=owner_token)

    assert under_me.status_code == 404
    assert still.status_code == 200
    assert "ops" in [t["name"] for t in listed.json()] and other.secret not in listed.text
    assert under_tokens.status_code == 204
    assert after.status_code == 401
    assert own.status_code == 200


def test_only_the_owner_lists_and_revokes_others_tokens(
    http: httpx.Client, services: Services, owner: Caller
) -> None:
    other = services.credentials.create_token(owner, "ops", "support")
    billing = role_token(services, owner, "billing")

    listed = http.get("/v1/tokens", headers=bearer(billing))
    revoked = http.delete(f"/v1/tokens/{other.id}", headers=bearer(billing))

    assert listed.status_code == 403
    assert revoked.status_code == 404


# -- the audit trail --------------------------------------------------------------------------


def test_the_audit_trail_records_who_what_sections_where_and_why(
    http: httpx.Client, services: Services, owner: Caller, server: LiveServer
) -> None:
    cid = add_dee(services)
    issued = services.credentials.create_token(owner, "shipping-desk", "shipping")
    http.get(
        f"/v1/customers/{cid}", headers={**bearer(issued.secret), "X-Reason": "parcel returned"}
    )

    answer = http.get("/v1/audit", params={"customer": cid}, headers=bearer(server.token))

    (entry,) = answer.json()["entries"]
    assert {k: v for k, v in entry.items() if k not in ("id", "at")} == {
        "actor": f"token:{issued.id}:shipping-desk",
        "action": "read_profile",
        "customer_id": cid,
        "sections": ["addresses", "delivery_preferences", "name"],
        "via": "api",
        "remote": "127.0.0.1",
        "branch": None,
        "reason": "parcel returned",
        "detail": None,
    }


@pytest.mark.parametrize("role", ["support", "shipping", "billing", "marketing", "analyst"])
def test_only_the_owner_reads_the_audit_trail(
    http: httpx.Client, services: Services, owner: Caller, role: str
) -> None:
    response = http.get("/v1/audit", headers=bearer(role_token(services, owner, role)))

    assert (response.status_code, response.json()) == (
        403,
        {"code": "forbidden", "message": "only the owner may do this"},
    )


@pytest.mark.parametrize("how", ["query", "accept"])
def test_the_audit_trail_exports_as_csv(
    http: httpx.Client, services: Services, owner: Caller, server: LiveServer, how: str
) -> None:
    cid = add_dee(services)
    services.profiles.get(owner.because("=HYPERLINK(evil)"), cid)

    response = http.get(
        "/v1/audit",
        params={"customer": cid, **({"format": "csv"} if how == "query" else {})},
        headers={**bearer(server.token), **({"Accept": "text/csv"} if how == "accept" else {})},
    )

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert response.headers["content-type"].startswith("text/csv")
    assert [(r["actor"], r["action"], r["customer_id"], r["reason"]) for r in rows] == [
        ("test-owner", "read_profile", cid, "'=HYPERLINK(evil)")
    ]


def test_no_route_can_change_or_delete_the_audit_trail(http: httpx.Client) -> None:
    from fastapi.routing import APIRoute

    from cornerstore.api.routes import audit

    methods = {m for r in audit.router.routes if isinstance(r, APIRoute) for m in r.methods}

    assert methods == {"GET"}
    assert http.delete("/v1/audit").status_code == 405


@pytest.mark.parametrize(
    ("role", "has_ids"),
    [
        ("owner", True),
        ("support", True),
        ("shipping", False),
        ("billing", False),
        ("analyst", False),
    ],
)
def test_events_carry_ids_and_context_only_for_roles_that_read_identifiers(
    http: httpx.Client, services: Services, owner: Caller, role: str, has_ids: bool
) -> None:
    cid = add_dee(services)
    token = role_token(services, owner, role)

    events = http.get(f"/v1/customers/{cid}/timeline", headers=bearer(token)).json()["events"]

    withheld = {"user_id", "anonymous_id", "context", "integrations"}
    assert events
    assert {bool(withheld & set(e)) for e in events} == {has_ids}
    assert ("u-dee" in str(events)) is has_ids
