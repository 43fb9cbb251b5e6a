"""A message whose object keys hold sensitive values is stored without those entries."""

from __future__ import annotations

from cornerstore.access.caller import Caller
from cornerstore.intake.service import Change, Source
from cornerstore.services import Services
from tests.factories import identify, track
from tests.privacy.test_intake_firewall import everything_stored

CARD = "4111 1111 1111 1111"
IBAN = "DE89370400440532013000"


def test_a_sensitive_key_is_stored_nowhere_and_the_rest_of_the_message_is(
    services: Services, owner: Caller
) -> None:
    messages = [
        identify("u-1", email="ann@example.com", plan="gold", **{CARD: True}),
        track("Order Completed", user_id="u-1", order_id="o-1", **{IBAN: 1}),
    ]

    result = services.intake.ingest(messages, source=Source("web-shop", "web"))

    profile = services.profiles.get(owner, "u-1")
    assert result.accepted == 2
    assert sorted(result.changed, key=lambda c: c.index) == [
        Change(0, "traits", "payment_card", "dropped"),
        Change(1, "properties", "iban", "dropped"),
    ]
    assert profile.traits["plan"].value == "gold"
    assert CARD not in profile.traits
    stored = everything_stored(services)
    assert "o-1" in stored
    assert CARD not in stored and IBAN not in stored
