"""The identifiers intake reads from a message: a returning customer's userId and anonymousId
are normalised once, and a message that carries more than them is read in full each time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cornerstore.intake.messages import Message, parse_message
from cornerstore.intake.service import Intake
from cornerstore.settings import IdentityRules, Settings
from cornerstore.storage.database import Store
from tests.factories import track

RECEIVED = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _message(raw: dict[str, Any]) -> Message:
    return parse_message(
        raw,
        where="batch[0]",
        received_at=RECEIVED,
        batch_sent_at=None,
        default_touchpoint="web",
        max_message_bytes=32_768,
    )


def _counting_plain(intake: Intake) -> list[object]:
    """The raw values intake's normaliser is asked to take as plain ids, from now on."""
    asked: list[object] = []
    plain = intake.normaliser.plain

    def counted(raw: object) -> str | None:
        asked.append(raw)
        return plain(raw)

    intake.normaliser.plain = counted  # type: ignore[method-assign]
    return asked


def test_a_returning_customers_ids_are_normalised_once(settings: Settings, store: Store) -> None:
    intake = Intake(store, settings)
    asked = _counting_plain(intake)
    first = _message(track("Product Viewed", user_id=" u1 ", anonymous_id="a1"))
    again = _message(track("Order Completed", user_id=" u1 ", anonymous_id="a1"))

    keys = [intake.identifiers(first), intake.identifiers(again)]

    assert keys == [[("user_id", "u1"), ("anonymous_id", "a1")]] * 2
    assert asked == [" u1 ", "a1"]


def test_identifiers_in_the_context_are_read_though_the_ids_came_before(
    settings: Settings, store: Store
) -> None:
    intake = Intake(store, settings)
    plain = _message(track("Product Viewed", user_id="u1", anonymous_id="a1"))
    with_traits = _message(
        track(
            "Order Completed",
            user_id="u1",
            anonymous_id="a1",
            context={
                "traits": {"email": "Ann@Example.com"},
                "externalIds": [{"type": "crm_id", "id": "c-7"}],
            },
        )
    )

    keys = [intake.identifiers(plain), intake.identifiers(with_traits)]

    assert keys == [
        [("user_id", "u1"), ("anonymous_id", "a1")],
        [
            ("user_id", "u1"),
            ("anonymous_id", "a1"),
            ("email", "ann@example.com"),
            ("external:crm_id", "c-7"),
        ],
    ]


def test_a_blocked_id_stays_blocked_when_it_comes_again(database_url: str, store: Store) -> None:
    settings = Settings(
        database_url=database_url,
        secret_key="test-secret",
        identity=IdentityRules(blocked_values=["guest"]),
    )
    intake = Intake(store, settings)
    messages = [_message(track("Product Viewed", user_id="guest", anonymous_id="a9"))] * 2

    keys = [intake.identifiers(m) for m in messages]

    assert keys == [[("anonymous_id", "a9")]] * 2


def test_the_identifiers_given_are_the_callers_to_change(settings: Settings, store: Store) -> None:
    intake = Intake(store, settings)
    message = _message(track("Product Viewed", user_id="u1", anonymous_id="a1"))
    intake.identifiers(message).append(("email", "someone@example.com"))

    assert intake.identifiers(message) == [("user_id", "u1"), ("anonymous_id", "a1")]
