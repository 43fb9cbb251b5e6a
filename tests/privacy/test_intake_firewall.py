"""Nothing sensitive reaches the database or the logs, whichever entrance it comes through.

Each test sends sensitive values, then searches every table (and on SQLite the database files
themselves) and the captured logs for them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from cornerstore.access.caller import Caller
from cornerstore.api.app import create_app
from cornerstore.intake.files import import_rows
from cornerstore.intake.rows import ImportSpec
from cornerstore.intake.service import Change, Source
from cornerstore.services import Services
from cornerstore.settings import PrivacyPolicy
from cornerstore.storage.tables import metadata
from tests.factories import identify, track

CARD = "4111 1111 1111 1111"
CARD_DIGITS = "4111111111111111"
SSN = "123-45-6789"
IBAN = "GB82 WEST 1234 5698 7654 32"
PASSWORD = "hunter2-correct-horse"
BIRTHDAY = "1985-03-12"
SECRETS = [CARD, CARD_DIGITS, SSN, IBAN, IBAN.replace(" ", ""), PASSWORD, BIRTHDAY]


def everything_stored(services: Services) -> str:
    """Every value of every table as text (and the SQLite files' bytes)."""
    parts: list[str] = []
    with services.store.unit_of_work() as uow:
        for name in metadata.tables:
            for row in uow.conn.execute(text(f"SELECT * FROM {name}")):
                parts.append(" ".join(str(v) for v in row))
    url = services.settings.database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for file in path.parent.glob(path.name + "*"):
            parts.append(file.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def sensitive_messages() -> list[dict[str, object]]:
    return [
        identify(
            "u-1",
            email="ann@example.com",
            password=PASSWORD,
            birthday=BIRTHDAY,
            note=f"please use card {CARD} for the deposit",
        ),
        track(
            "Case Opened",
            user_id="u-1",
            comment=f"my SSN is {SSN} and IBAN {IBAN}",
            context={"traits": {"email": "ann@example.com", "dob": BIRTHDAY}},
        ),
    ]


def assert_nothing_sensitive(haystack: str) -> None:
    assert [s for s in SECRETS if s in haystack] == []


def test_the_library_intake_stores_no_sensitive_value_and_says_what_it_removed(
    services: Services, owner: Caller, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    result = services.intake.ingest(sensitive_messages(), source=Source("web-shop", "web"))

    profile = services.profiles.get(owner, "u-1")
    assert result.accepted == 2
    assert sorted(result.changed, key=lambda c: (c.index, c.field, c.kind)) == [
        Change(0, "traits.birthday", "birth_date", "dropped"),
        Change(0, "traits.note", "payment_card", "redacted"),
        Change(0, "traits.password", "secret", "dropped"),
        Change(1, "context.traits.dob", "birth_date", "dropped"),
        Change(1, "properties.comment", "iban", "redacted"),
        Change(1, "properties.comment", "national_id", "redacted"),
    ]
    assert profile.traits["note"].value == "please use card [removed: payment card] for the deposit"
    assert "password" not in profile.traits and "birthday" not in profile.traits
    assert_nothing_sensitive(everything_stored(services))
    assert_nothing_sensitive(caplog.text)


def test_the_http_intake_stores_no_sensitive_value_and_never_echoes_one(
    services: Services, owner: Caller, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = services.credentials.create_write_key(owner, "web-shop", "web").secret
    client = TestClient(create_app(services=services))

    response = client.post("/v1/batch", json={"batch": sensitive_messages()}, auth=(key, ""))

    assert response.status_code == 200
    assert {c["field"] for c in response.json()["changed"]} == {
        "traits.birthday",
        "traits.note",
        "traits.password",
        "context.traits.dob",
        "properties.comment",
    }
    assert_nothing_sensitive(response.text)
    assert_nothing_sensitive(everything_stored(services))
    assert_nothing_sensitive(caplog.text)


def test_a_kind_the_policy_rejects_refuses_the_message_naming_only_the_field(
    services: Services,
) -> None:
    services.settings.privacy = PrivacyPolicy(reject=["payment_card"])

    result = services.intake.ingest(sensitive_messages(), source=Source("web-shop", "web"))

    assert result.accepted == 1
    assert [(r.index, r.reason) for r in result.rejected] == [
        (0, "batch[0].traits.note: holds a payment card; the privacy policy refuses such messages")
    ]
    assert_nothing_sensitive(everything_stored(services))


def test_a_birthday_glued_to_its_date_is_refused_when_the_policy_rejects_birth_dates(
    services: Services,
) -> None:
    services.settings.privacy = PrivacyPolicy(reject=["birth_date"])
    messages = [
        track("Order Completed", user_id="u-1", note="Geboren1985-03-12"),
        track("Order Completed", user_id="u-1", note="delivered 1985-03-12"),
    ]

    result = services.intake.ingest(messages, source=Source("web-shop", "web"))

    assert result.accepted == 1
    assert [(r.index, r.reason) for r in result.rejected] == [
        (
            0,
            "batch[0].properties.note: holds a birth date; "
            "the privacy policy refuses such messages",
        )
    ]
    assert "Geboren1985" not in everything_stored(services)


def test_a_message_nested_deeper_than_the_limit_is_refused_and_the_others_are_stored(
    services: Services,
) -> None:
    deep: list[object] = []
    for _ in range(5_000):
        deep = [deep]
    messages = [identify("web-1", tags=deep), identify("web-2", email="bo@example.com")]

    result = services.intake.ingest(messages, source=Source("web-shop", "web"))

    assert result.accepted == 1
    assert [(r.index, r.reason) for r in result.rejected] == [
        (0, "batch[0]: nested too deep (limit 64)")
    ]


def removals(services: Services) -> list[tuple[str, str, str, str, str]]:
    with services.store.unit_of_work() as uow:
        events = uow.privacy_events.recent(limit=100)
    return sorted((e.entrance, e.source, e.field, e.kind, e.action) for e in events)


def test_every_removal_is_recorded_as_a_privacy_event_without_the_value(
    services: Services,
) -> None:
    services.intake.ingest(sensitive_messages(), source=Source("web-shop", "web"))

    assert removals(services) == [
        ("intake", "web-shop", "context.traits.dob", "birth_date", "dropped"),
        ("intake", "web-shop", "properties.comment", "iban", "redacted"),
        ("intake", "web-shop", "properties.comment", "national_id", "redacted"),
        ("intake", "web-shop", "traits.birthday", "birth_date", "dropped"),
        ("intake", "web-shop", "traits.note", "payment_card", "redacted"),
        ("intake", "web-shop", "traits.password", "secret", "dropped"),
    ]


def test_a_refused_message_is_recorded_even_when_nothing_in_the_batch_is_stored(
    services: Services,
) -> None:
    services.settings.privacy = PrivacyPolicy(reject=["secret"])

    result = services.intake.ingest(sensitive_messages()[:1], source=Source("till", "store"))

    assert (result.accepted, len(result.rejected)) == (0, 1)
    assert ("intake", "till", "traits.password", "secret", "rejected") in removals(services)
    assert_nothing_sensitive(everything_stored(services))


def test_a_kind_the_policy_drops_takes_the_whole_free_text_field(
    services: Services, owner: Caller
) -> None:
    services.settings.privacy = PrivacyPolicy(drop=["payment_card"])

    result = services.intake.ingest(sensitive_messages(), source=Source("web-shop", "web"))

    assert Change(0, "traits.note", "payment_card", "dropped") in result.changed
    assert "note" not in services.profiles.get(owner, "u-1").traits
    assert_nothing_sensitive(everything_stored(services))


def test_a_file_import_stores_no_sensitive_value(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        f'E-Mail,Vorname,Notiz,Geburtstag\nann@example.com,Ann,"Karte {CARD} bitte",{BIRTHDAY}\n',
        encoding="utf-8",
    )
    spec = ImportSpec(
        path,
        "store",
        {"email": "E-Mail", "first_name": "Vorname", "note": "Notiz", "birthday": "Geburtstag"},
        "customers.csv",
    )

    summary = import_rows(services.intake, spec, rejects_path=tmp_path / "rejects.jsonl")

    assert (summary.accepted, summary.rejected) == (1, 0)
    assert_nothing_sensitive(everything_stored(services))
    assert ("import", "customers.csv", "traits.birthday", "birth_date", "dropped") in removals(
        services
    )
