"""``cornerstore customers export|erase|consents|consent|anonymous`` and
``cornerstore privacy events|retention``, run as a user runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cornerstore.intake.service import Intake, Source
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.cli.helpers import run
from tests.factories import identify, track

OLD = (datetime.now(UTC) - timedelta(days=400)).isoformat()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url, upgrade=True)
    Intake(store, Settings(database_url=url)).ingest(
        [
            identify("web-1", email="ann@example.com", firstName="Ann", password="hunter2-pass"),
            track("Page Seen", user_id="web-1", timestamp=OLD),
            track("Order Completed", user_id="web-1", total=12.5),
        ],
        source=Source("web-shop", "web"),
    )
    store.dispose()
    return url


def test_export_prints_json_and_writes_a_readable_page(db: str, tmp_path: Path) -> None:
    code, out, _ = run("customers", "export", "ann@example.com", "--db", db)
    page = tmp_path / "ann.html"
    code_html, said, _ = run("customers", "export", "web-1", "--html", "-o", str(page), "--db", db)

    assert code == code_html == 0
    data = json.loads(out)
    assert data["current_traits"] == {"email": "ann@example.com", "first_name": "Ann"}
    assert len(data["events"]) == 3
    assert said.startswith(f"export of {data['customer']['id']} written to")
    assert "What Corner Store holds about you" in page.read_text()


def test_erase_asks_for_yes_without_a_terminal_then_erases(db: str) -> None:
    code, out, err = run("customers", "erase", "ann@example.com", "--db", db)
    kept, _, _ = run("customers", "show", "ann@example.com", "--db", db)

    assert (code, err) == (1, "error: erasure cannot be undone: add --yes to confirm\n")
    assert kept == 0

    code, out, _ = run("customers", "erase", "ann@example.com", "--yes", "--json", "--db", db)
    gone, _, err_after = run("customers", "show", "ann@example.com", "--db", db)

    report = json.loads(out)
    assert code == 0
    assert (report["profiles"], report["events"], report["suppressed_identifiers"]) == (1, 3, 2)
    assert (gone, err_after) == (1, "error: customer: no such customer\n")


def test_consent_anonymous_and_consents_agree(db: str) -> None:
    code, _, _ = run("customers", "consent", "web-1", "marketing_sms", "--grant", "--db", db)
    code_anon, _, _ = run("customers", "anonymous", "web-1", "--touchpoint", "store", "--db", db)
    _, out, _ = run("customers", "consents", "web-1", "--json", "--db", db)
    _, table, _ = run("customers", "consents", "web-1", "--db", db)

    view = json.loads(out)
    states = {c["purpose"]: c["granted"] for c in view["consents"]}
    assert code == code_anon == 0
    assert view["anonymous"] is True
    assert states == {
        "marketing_email": False,
        "marketing_sms": True,
        "personalisation": False,
        "profiling": False,
        "sharing": False,
    }
    assert "not profiled" in table


def test_an_unknown_purpose_is_one_readable_line(db: str) -> None:
    code, out, err = run("customers", "consent", "web-1", "spam", "--grant", "--db", db)

    assert code == 1
    assert err.startswith("error: purpose: 'spam' is not one of marketing_email")
    assert "Traceback" not in out + err


def test_privacy_events_list_what_the_firewall_removed(db: str) -> None:
    code, out, _ = run("privacy", "events", "--json", "--db", db)

    assert code == 0
    assert [(e["field"], e["kind"], e["action"]) for e in json.loads(out)] == [
        ("traits.password", "secret", "dropped")
    ]
    assert "hunter2" not in out


def test_privacy_events_of_an_unknown_kind_is_one_line_not_an_empty_list(db: str) -> None:
    code, out, err = run("privacy", "events", "--kind", "passwords", "--db", db)

    assert (code, out) == (1, "")
    assert err == (
        "error: kind: must be one of bank_account, birth_date, iban, national_id, "
        "payment_card, secret\n"
    )


def test_retention_shows_first_and_removes_with_apply(db: str) -> None:
    env = {"CORNERSTORE_PRIVACY": json.dumps({"retention": {"track": "365d"}})}

    code, shown, _ = run("privacy", "retention", "--json", "--db", db, env=env)
    still, before, _ = run("customers", "timeline", "web-1", "--json", "--db", db)
    code_apply, applied, _ = run("privacy", "retention", "--apply", "--json", "--db", db, env=env)
    _, after, _ = run("customers", "timeline", "web-1", "--json", "--db", db)

    assert code == code_apply == still == 0
    assert [(r["event_type"], r["events"]) for r in json.loads(shown)] == [("track", 1)]
    assert [(r["event_type"], r["events"]) for r in json.loads(applied)] == [("track", 1)]
    assert len(json.loads(before)["events"]) == 3
    assert [e["name"] for e in json.loads(after)["events"]] == ["Order Completed", None]


def test_retention_without_settings_says_everything_is_kept(db: str) -> None:
    code, out, _ = run("privacy", "retention", "--db", db)

    assert code == 0
    assert out.startswith("no retention set: every event is kept")
