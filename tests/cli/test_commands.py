"""The CLI in-process: keys, tokens, customers; readable one-line errors and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cornerstore.intake.service import Intake, Source
from cornerstore.settings import Settings
from cornerstore.storage.database import MIGRATIONS, open_store
from tests.cli.helpers import run
from tests.factories import identify, track


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url, upgrade=True)
    intake = Intake(store, Settings(database_url=url))
    intake.ingest(
        [
            identify(
                "web-1",
                email="ann@example.com",
                firstName="Ann",
                lastName="Lee",
                address={"street": "1 Mill Lane", "city": "York"},
            ),
            track("Order Completed", user_id="web-1", total=12.5),
        ],
        source=Source("web-shop", "web"),
    )
    intake.ingest(
        [identify(anonymous_id="call-1", phone="07700900321")],
        source=Source("support-desk", "support"),
    )
    store.dispose()
    return url


def test_keys_create_prints_the_new_key_on_the_last_line(db: str) -> None:
    code, out, _ = run("keys", "create", "--name", "web-shop", "--db", db)
    code_list, listing, _ = run("keys", "list", "--json", "--db", db)

    key = out.strip().splitlines()[-1]
    assert code == code_list == 0
    assert key.startswith("csk_") and len(key) > 40
    (listed,) = json.loads(listing)
    assert (listed["name"], listed["touchpoint"], listed["revoked_at"]) == ("web-shop", "web", None)
    assert key not in listing


def test_tokens_can_be_created_listed_and_revoked(db: str) -> None:
    _, out, _ = run(
        "tokens", "create", "--name", "ops", "--role", "support", "--expires", "30d", "--db", db
    )
    token = out.strip().splitlines()[-1]
    code, _, _ = run("tokens", "revoke", "1", "--db", db)
    _, listing, _ = run("tokens", "list", "--json", "--db", db)

    (listed,) = json.loads(listing)
    assert code == 0
    assert token.startswith("cst_")
    assert listed["name"] == "ops" and listed["revoked_at"] is not None


def test_a_bad_expiry_is_one_readable_line_and_a_non_zero_exit(db: str) -> None:
    code, out, err = run(
        "tokens", "create", "--name", "ops", "--role", "support", "--expires", "soon", "--db", db
    )

    assert code == 1
    assert err == "error: expires: give a lifetime such as 12h, 30d or 2w, or never\n"
    assert "Traceback" not in out + err


def test_customers_show_json_gives_the_whole_profile(db: str) -> None:
    code, out, _ = run("customers", "show", "ANN@example.com", "--json", "--db", db)

    profile = json.loads(out)
    assert code == 0
    assert profile["traits"]["first_name"]["value"] == "Ann"
    assert profile["traits"]["first_name"]["source"] == "web-shop"
    assert profile["summary"]["by_type"] == {"identify": 1, "track": 1}
    assert sorted(i["kind"] for i in profile["identifiers"]) == ["email", "user_id"]


def test_customers_show_for_people_is_a_readable_page(db: str) -> None:
    code, out, _ = run("customers", "show", "web-1", "--db", db)

    assert code == 0
    assert "first_name" in out and "web/web-shop" in out


def test_customers_show_lists_what_a_public_key_claimed_as_unverified(db: str) -> None:
    store = open_store(db)
    Intake(store, Settings(database_url=db)).ingest(
        [identify(anonymous_id="new-browser", email="ann@example.com", address={"city": "Leeds"})],
        source=Source("web-page", "web", client_side=True),
    )
    store.dispose()

    code, out, _ = run("customers", "show", "web-1", "--db", db)

    claims = out[out.index("Unverified (claimed, not used)") :].splitlines()
    assert code == 0
    assert [line.split("│")[1:4] for line in claims if "│" in line] == [
        [" address ", ' {"city": "Leeds"} ', " web/web-page "]
    ]


def test_customers_prefill_lists_known_and_unknown_fields(db: str) -> None:
    code, out, _ = run("customers", "prefill", "web-1", "--form", "contact", "--json", "--db", db)

    filled = json.loads(out)
    assert code == 0
    assert filled["unknown"] == ["phone"]
    assert [f["field"] for f in filled["fields"] if f["known"]] == [
        "first_name",
        "last_name",
        "email",
    ]


def test_customers_timeline_json_lists_events_newest_first(db: str) -> None:
    code, out, _ = run("customers", "timeline", "web-1", "--json", "--db", db)

    page = json.loads(out)
    assert code == 0
    # Both arrived in one batch with the same time: the later message is newer.
    assert [e["type"] for e in page["events"]] == ["track", "identify"]
    assert page["next_cursor"] is None


def test_merge_and_unmerge_from_the_command_line(db: str) -> None:
    _, a, _ = run("customers", "search", "ann@example.com", "--json", "--db", db)
    _, b, _ = run("customers", "search", "07700900321", "--json", "--db", db)
    a_id, b_id = json.loads(a)[0]["id"], json.loads(b)[0]["id"]

    code_merge, merged, _ = run("customers", "merge", a_id, b_id, "--json", "--db", db)
    code_undo, undone, _ = run("customers", "unmerge", b_id, "--json", "--db", db)
    code_again, _, err = run("customers", "unmerge", b_id, "--db", db)

    assert (code_merge, code_undo, code_again) == (0, 0, 1)
    assert json.loads(merged)["loser_id"] == b_id
    assert json.loads(undone)["undone_at"] is not None
    assert err == "error: customer: was not merged into another profile\n"


def test_an_unknown_customer_is_one_line_without_the_value(db: str) -> None:
    code, out, err = run("customers", "show", "secret.person@example.com", "--db", db)

    assert code == 1
    assert err == "error: customer: no such customer\n"
    assert "secret.person" not in out + err


def test_db_upgrade_and_current_report_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"

    code, out, _ = run("db", "upgrade", "--db", url)
    _, again, _ = run("db", "upgrade", "--db", url)
    _, current, _ = run("db", "current", "--db", url)

    assert code == 0
    head = sorted(p.name[:4] for p in MIGRATIONS.glob("versions/0*.py"))[-1]
    assert out.strip().splitlines()[0] == f"database at revision {head}"
    assert again.strip() == f"database at revision {head}"
    assert current.strip() == head
