"""The staff commands: users, roles, tokens with roles, the audit trail, acting as a user."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from cornerstore.access.caller import Caller, system_caller
from cornerstore.demo.staff import DEMO_ROLES, add_demo_staff, demo_password
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import describe_database, open_store
from tests.access import add_dee
from tests.cli.helpers import run

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _cheap_hashes(fast_hashing: None) -> None:
    """Every command here hashes or checks a password; the real cost is tested elsewhere."""


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    open_store(url, upgrade=True).dispose()
    return url


@pytest.fixture
def services(db: str) -> Services:
    settings = Settings(database_url=db)
    return Services.build(settings, open_store(db, upgrade=True))


def test_the_first_db_upgrade_prints_a_one_time_owner_password_that_logs_in(
    db: str, services: Services
) -> None:
    code, out, _ = run("db", "upgrade", "--db", db)

    password = out.strip().splitlines()[-1]
    assert code == 0
    login = services.staff.login("owner", password)
    assert (login.user.role, login.user.must_change_password) == ("owner", True)


def test_users_create_prints_a_one_time_password_last_and_list_never_shows_one(
    db: str, services: Services
) -> None:
    code, out, _ = run(
        "users", "create", "sam", "--role", "shipping", "--branch", "Leeds", "--db", db
    )
    listed_code, listing, _ = run("users", "list", "--json", "--db", db)

    password = out.strip().splitlines()[-1]
    assert (code, listed_code) == (0, 0)
    assert services.staff.login("sam", password).user.branch == "Leeds"
    (user,) = json.loads(listing)
    assert {k: user[k] for k in ("username", "role", "branch", "must_change_password")} == {
        "username": "sam",
        "role": "shipping",
        "branch": "Leeds",
        "must_change_password": True,
    }
    assert password not in listing and "hash" not in listing


def test_users_create_reads_a_chosen_password_from_stdin(db: str, services: Services) -> None:
    code, out, _ = run(
        "users",
        "create",
        "ann",
        "--role",
        "support",
        "--password-stdin",
        "--db",
        db,
        stdin=PASSWORD + "\n",
    )

    assert (code, out.strip()) == (0, "user ann (support, every branch) created")
    assert services.staff.login("ann", PASSWORD).user.must_change_password is False


def test_users_grant_disable_enable_reset_and_unlock(db: str, services: Services) -> None:
    run(
        "users",
        "create",
        "ann",
        "--role",
        "support",
        "--password-stdin",
        "--db",
        db,
        stdin=PASSWORD,
    )

    granted = run("users", "grant", "ann", "billing", "--branch", "York", "--db", db)
    disabled = run("users", "disable", "ann", "--db", db)
    enabled = run("users", "enable", "ann", "--db", db)
    reset = run("users", "reset-password", "ann", "--db", db)
    unlocked = run("users", "unlock", "ann", "--db", db)

    assert [r[0] for r in (granted, disabled, enabled, reset, unlocked)] == [0] * 5
    assert granted[1].strip() == "user ann is billing (York)"
    login = services.staff.login("ann", reset[1].strip().splitlines()[-1])
    assert (login.user.role, login.user.branch) == ("billing", "York")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "create", "ann", "--role", "intern"], "error: role: must be one of"),
        (["users", "grant", "nobody", "support"], "error: user: no such user"),
        (["tokens", "create", "--name", "x", "--role", "intern"], "error: role: must be one of"),
        (["tokens", "create", "--name", "x", "--user", "nobody"], "error: user: no such user"),
        (["audit", "--since", "yesterday"], "error: since: give an ISO 8601 date or time"),
        (["customers", "show", "u-dee", "--as", "nobody"], "error: user: no such user"),
    ],
)
def test_a_wrong_staff_command_fails_with_one_readable_line(
    db: str, services: Services, args: list[str], message: str
) -> None:
    code, _, err = run(*args, "--db", db)

    assert code == 1
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_tokens_create_with_a_role_prints_the_token_last_and_it_reads_with_that_role(
    db: str, services: Services
) -> None:
    code, out, _ = run(
        "tokens", "create", "--name", "desk", "--role", "billing", "--expires", "30d", "--db", db
    )
    _, listing, _ = run("tokens", "list", "--json", "--db", db)

    token = out.strip().splitlines()[-1]
    assert code == 0 and token.startswith("cst_")
    assert services.credentials.authenticate(token).role == "billing"
    (listed,) = json.loads(listing)
    assert (listed["name"], listed["role"], listed["user"]) == ("desk", "billing", None)
    assert listed["expires_at"] is not None and token not in listing


def test_tokens_create_for_a_user_acts_as_that_user(db: str, services: Services) -> None:
    run("users", "create", "sam", "--role", "shipping", "--db", db)

    code, out, _ = run("tokens", "create", "--name", "sam-phone", "--user", "sam", "--db", db)

    caller = services.credentials.authenticate(out.strip().splitlines()[-1])
    assert code == 0
    assert (caller.actor, caller.role) == ("user:sam", "shipping")


def test_a_personal_token_takes_its_role_from_its_user_not_from_role(db: str) -> None:
    run("users", "create", "sam", "--role", "shipping", "--db", db)

    code, out, err = run(
        "tokens", "create", "--name", "x", "--user", "sam", "--role", "owner", "--db", db
    )

    assert (code, out, err) == (
        1,
        "",
        "error: role: a personal token acts with its user's role; give no role\n",
    )


def test_roles_lists_every_role_with_what_it_reads(db: str) -> None:
    code, out, _ = run("roles", "--json", "--db", db)

    roles = {r["role"]: r for r in json.loads(out)}
    assert code == 0
    assert sorted(roles) == [
        "analyst",
        "billing",
        "marketing",
        "owner",
        "shipping",
        "supervisor",
        "support",
    ]
    assert roles["shipping"]["read"] == [
        "name",
        "addresses",
        "delivery_preferences",
        "shipments",
        "timeline.shipping",
    ]
    assert roles["analyst"]["pseudonymised"] is True


def test_the_cli_acting_as_a_user_gives_the_same_answer_as_the_service(
    db: str, services: Services
) -> None:
    cid = add_dee(services)
    user = services.staff.create(system_caller(), "sam", "shipping", password=PASSWORD).user
    from cornerstore.access.users import user_caller

    code, out, _ = run("customers", "show", cid, "--as", "sam", "--json", "--db", db)

    expected = services.profiles.get(user_caller(user, "cli", None), cid).visible()
    shown = json.loads(out)
    assert code == 0
    assert (
        sorted(shown)
        == sorted(expected)
        == [
            "created_at",
            "id",
            "kind",
            "sections",
            "traits",
            "unverified",
        ]
    )
    assert shown["sections"] == ["addresses", "delivery_preferences", "name"]


def test_audit_lists_a_customers_reads_with_reasons_as_json_and_csv(
    db: str, services: Services
) -> None:
    cid = add_dee(services)
    run("customers", "show", cid, "--reason", "call about a parcel", "--db", db)
    run("customers", "timeline", cid, "--db", db)

    code, out, _ = run("audit", "--customer", cid, "--json", "--db", db)
    csv_code, exported, _ = run("audit", "--customer", cid, "--csv", "--db", db)
    table_code, table, _ = run("audit", "--customer", cid, "--db", db)

    entries = json.loads(out)
    assert (code, csv_code, table_code) == (0, 0, 0)
    assert [(e["action"], e["via"], e["reason"]) for e in entries] == [
        ("read_profile", "cli", "call about a parcel"),
        ("read_timeline", "cli", None),
    ]
    assert entries[1]["sections"] == [
        f"timeline.{tp}"
        for tp in sorted(
            ["store", "web", "app", "support", "billing", "shipping", "survey", "other"]
        )
    ]
    rows = list(csv.DictReader(io.StringIO(exported)))
    # Reading a customer's trail is itself a read of that customer, recorded.
    assert [r["action"] for r in rows] == ["read_profile", "read_timeline", "read_audit"]
    assert "actor" in table and "reason" in table


def test_audit_prune_removes_only_old_entries_and_records_itself(
    db: str, services: Services
) -> None:
    cid = add_dee(services)
    services.profiles.get(system_caller(), cid)

    code, out, _ = run("audit", "prune", "--older-than", "30d", "--db", db)

    assert (code, out.strip()) == (0, "0 audit entries removed")
    entries = services.audit.find(system_caller())
    assert [e.action for e in entries] == ["read_profile", "prune_audit"]


def test_the_demo_adds_one_user_per_role_with_the_documented_passwords(
    services: Services,
) -> None:
    made = add_demo_staff(services.staff)
    again = add_demo_staff(services.staff)

    assert made == [f"demo-{role}" for role in DEMO_ROLES] and again == []
    for role in DEMO_ROLES:
        login = services.staff.login(f"demo-{role}", demo_password(role))
        assert login.user.role == role


def test_audit_filters_by_time_and_branch(db: str, services: Services) -> None:
    cid = add_dee(services)
    services.profiles.get(Caller("t", "support", "api", branch="York"), cid)
    services.profiles.get(system_caller(), cid)

    _, york, _ = run("audit", "--branch", "York", "--since", "2000-01-01", "--json", "--db", db)
    _, future, _ = run("audit", "--since", "2999-01-01T00:00:00Z", "--json", "--db", db)

    assert [(e["actor"], e["branch"]) for e in json.loads(york)] == [("t", "York")]
    assert json.loads(future) == []


def test_serve_refuses_a_postgresql_schema_behind_the_newest_migration(pg_url: str) -> None:
    from alembic import command

    from cornerstore.storage.database import _alembic_config

    store = open_store(pg_url)
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0002")
    store.dispose()

    code, _, err = run("serve", "--db", pg_url)

    assert (code, err.strip()) == (
        1,
        f"error: the database schema at {describe_database(pg_url)} is at revision 0002, "
        "older than this cornerstore: run `cornerstore db upgrade`",
    )


# -- how long tokens live, where write keys stand ---------------------------------------------


def test_tokens_create_without_a_role_names_the_roles_to_choose_from(db: str) -> None:
    code, out, err = run("tokens", "create", "--name", "desk", "--db", db)

    assert (code, out, err) == (
        1,
        "",
        "error: role: a token needs a role, one of analyst, billing, marketing, owner, "
        "shipping, supervisor, support\n",
    )


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("0h", "expires: a token must live at least 1h; use never for no expiry"),
        ("-1d", "expires: give a lifetime such as 12h, 30d or 2w, or never"),
        ("soon", "expires: give a lifetime such as 12h, 30d or 2w, or never"),
        ("20y", "expires: give a lifetime such as 12h, 30d or 2w, or never"),
        ("3654d", "expires: at most 10 years (3653d); use never for no expiry"),
        ("99999w", "expires: at most 10 years (3653d); use never for no expiry"),
    ],
)
def test_tokens_create_refuses_a_lifetime_that_makes_no_sense(
    db: str, services: Services, expires: str, message: str
) -> None:
    code, out, err = run(
        "tokens", "create", "--name", "desk", "--role", "support", "--expires", expires, "--db", db
    )

    assert (code, out, err) == (1, "", f"error: {message}\n")
    assert services.credentials.list_tokens(system_caller()) == []


def test_a_token_lives_90_days_unless_told_and_never_only_when_asked(
    db: str, services: Services
) -> None:
    _, default, _ = run("tokens", "create", "--name", "desk", "--role", "support", "--db", db)
    _, forever, _ = run(
        "tokens", "create", "--name", "kiosk", "--role", "shipping", "--expires", "never",
        "--db", db,
    )  # fmt: skip

    desk, kiosk = services.credentials.list_tokens(system_caller())
    assert desk.expires_at is not None
    assert (desk.expires_at - desk.created_at).days == 90
    assert kiosk.expires_at is None
    assert default.splitlines()[0] == (
        f"API token 1 'desk' (support, expires {desk.expires_at:%Y-%m-%d %H:%M}); "
        "store it now, it is not shown again:"
    )
    assert forever.splitlines()[0] == (
        "API token 2 'kiosk' (shipping, never expires); store it now, it is not shown again:"
    )


def test_a_write_key_is_client_side_for_web_and_app_and_server_side_otherwise(
    db: str, services: Services
) -> None:
    runs = [
        run("keys", "create", "--name", "web-shop", "--db", db),
        run("keys", "create", "--name", "app", "--touchpoint", "app", "--db", db),
        run("keys", "create", "--name", "till", "--touchpoint", "store", "--db", db),
        run("keys", "create", "--name", "checkout", "--source", "server", "--db", db),
    ]
    _, listing, _ = run("keys", "list", "--json", "--db", db)

    assert [out.splitlines()[0] for _, out, _ in runs] == [
        "write key 1 'web-shop' (web, client-side); store it now, it is shown once:",
        "write key 2 'app' (app, client-side); store it now, it is shown once:",
        "write key 3 'till' (store, server-side); store it now, it is shown once:",
        "write key 4 'checkout' (web, server-side); store it now, it is shown once:",
    ]
    assert [(k["name"], k["touchpoint"], k["source"]) for k in json.loads(listing)] == [
        ("web-shop", "web", "client"),
        ("app", "app", "client"),
        ("till", "store", "server"),
        ("checkout", "web", "server"),
    ]


def test_keys_create_refuses_an_unknown_source(db: str, services: Services) -> None:
    code, out, err = run("keys", "create", "--name", "x", "--source", "browser", "--db", db)

    assert (code, out, err) == (1, "", "error: source: must be one of client, server\n")
    assert services.credentials.list_write_keys(system_caller()) == []


def test_privacy_and_score_commands_record_the_reason_and_act_as_the_staff_user(
    db: str, services: Services
) -> None:
    cid = add_dee(services)
    add_demo_staff(services.staff)

    for args in (
        ["export", cid, "--reason", "subject access request"],
        ["consents", cid, "--reason", "caller asked"],
        ["consent", cid, "marketing_sms", "--grant", "--reason", "said yes on the phone"],
        ["anonymous", cid, "--reason", "asked at the till"],
        ["scores", cid, "--reason", "retention call"],
    ):
        code, _, err = run("customers", *args, "--db", db)
        assert (code, err) == (0, "")
    refused, _, refusal = run("customers", "export", cid, "--as", "demo-shipping", "--db", db)

    code, out, _ = run("audit", "--customer", cid, "--json", "--db", db)
    reasons = [e["reason"] for e in json.loads(out) if e["reason"]]
    assert reasons == [
        "subject access request",
        "caller asked",
        "said yes on the phone",
        "asked at the till",
        "retention call",
    ]
    assert (refused, refusal.startswith("error: ")) == (1, True)


def test_at_risk_records_the_reason_with_the_read(db: str, services: Services) -> None:
    add_dee(services)

    code, _, err = run("customers", "at-risk", "--reason", "weekly retention list", "--db", db)

    _, out, _ = run("audit", "--action", "read_at_risk", "--json", "--db", db)
    assert (code, err) == (0, "")
    assert [e["reason"] for e in json.loads(out)] == ["weekly retention list"]
