"""One bad message never loses a batch: what cannot be stored is rejected by index, the rest is
stored, and no log line carries a customer value. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.storage.database import Store
from tests.api import basic, intake_answer, stored_message_ids
from tests.api.conftest import Keys, TestClient
from tests.factories import identify, track


def test_messages_no_database_can_store_are_rejected_by_index_and_the_rest_stored(
    client: TestClient, keys: Keys
) -> None:
    good = [identify("u-10", email="ann@example.com"), track("Signed Up", user_id="u-10")]
    batch = [
        good[0],
        {"type": "track", "event": "Opened", "userId": "u-1\u00000"},
        identify("u-11", **{"nick\u0000name": "Al"}),
        {
            "type": "track",
            "event": "Opened",
            "userId": "u-12",
            "timestamp": "9999-06-01T00:00:00Z",
            "sentAt": "1970-01-01T00:00:00Z",
        },
        track("Opened", user_id="u-13", timestamp="0001-01-01T00:00:00+01:00"),
        track("Opened", user_id="u-14", context={"page": {"title": "Ba\u0000sket"}}),
        good[1],
    ]

    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(keys.write_key))

    assert (response.status_code, response.json()) == (
        200,
        intake_answer(
            7,
            2,
            rejected=[
                {"index": 1, "reason": "batch[1].userId: contains a NUL character (\\u0000)"},
                {
                    "index": 2,
                    "reason": "batch[2].traits: a field name contains a NUL character (\\u0000)",
                },
                {
                    "index": 3,
                    "reason": "batch[3].timestamp: corrected for clock skew with sentAt, "
                    "out of range (years 0001 to 9999)",
                },
                {"index": 4, "reason": "batch[4].timestamp: out of range (years 0001 to 9999)"},
                {
                    "index": 5,
                    "reason": "batch[5].context.page.title: contains a NUL character (\\u0000)",
                },
            ],
        ),
    )
    assert stored_message_ids(client, keys.token, "u-10") == sorted(m["messageId"] for m in good)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            float("nan"),
            "batch[0].properties.total: not a finite number (NaN and Infinity are not JSON)",
        ),
        (
            float("inf"),
            "batch[0].properties.total: not a finite number (NaN and Infinity are not JSON)",
        ),
        (2**64, "batch[0].properties.total: integer out of range (beyond 64 bits)"),
        (-(2**70), "batch[0].properties.total: integer out of range (beyond 64 bits)"),
    ],
)
def test_numbers_json_cannot_carry_are_rejected_naming_the_field(
    services: Services, value: float, reason: str
) -> None:
    batch = [
        track("Paid", user_id="u-15", total=value),
        track("Paid", user_id="u-15", total=2**64 - 1),
    ]

    result = services.intake.ingest(batch, source=Source("till", "store"))

    assert (result.accepted, [(r.index, r.reason) for r in result.rejected]) == (1, [(0, reason)])


def _refuse_events_named_poison(store: Store) -> None:
    """A trigger that makes the database itself refuse one message as bad data, as PostgreSQL
    refuses text with a NUL character (SQLSTATE 22021) or SQLite a value too big."""
    with store.engine.begin() as conn:
        if store.backend == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_poison BEFORE INSERT ON events "
                    "WHEN NEW.name = 'Poison' BEGIN SELECT zeroblob(2000000000); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.name = 'Poison' THEN "
                    "RAISE EXCEPTION 'refused' USING ERRCODE = 'data_exception'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_poison BEFORE INSERT ON events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
                )
            )


def test_a_message_the_database_refuses_is_rejected_and_the_batch_is_stored_without_logging_values(
    client: TestClient, keys: Keys, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    _refuse_events_named_poison(store)
    customers = [
        identify("u-20", email="zoe.quill@example.com", phone="+44 7700 900461"),
        identify("u-21", email="yann.rook@example.com", phone="+44 7700 900462"),
    ]
    poison = track("Poison", user_id="u-20")
    # Everything at DEBUG, the drivers' and SQLAlchemy's loggers too (SQLAlchemy keeps its own
    # at WARNING unless asked): the statements are logged, their parameters must not be.
    for name in (None, "sqlalchemy", "psycopg"):
        caplog.set_level(logging.DEBUG, logger=name)

    response = client.post(
        "/v1/batch",
        json={"batch": [customers[0], poison, customers[1]]},
        headers=basic(keys.write_key),
    )

    assert (response.status_code, response.json()) == (
        200,
        intake_answer(
            3,
            2,
            rejected=[
                {
                    "index": 1,
                    "reason": "batch[1]: the database cannot store a value of this message",
                }
            ],
        ),
    )
    assert (
        stored_message_ids(client, keys.token, "u-20"),
        stored_message_ids(client, keys.token, "u-21"),
    ) == (
        [customers[0]["messageId"]],
        [customers[1]["messageId"]],
    )
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    values = ["zoe.quill", "yann.rook", "900461", "900462", "7700"]
    # The lookup of the batch's identifiers binds the e-mails and phones: it was logged.
    assert "FROM identifiers" in logged
    assert [v for v in values if v in logged] == []
