"""The contact log and frequency caps, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.campaigns.contacts import ContactLog
from cornerstore.campaigns.model import Contact
from cornerstore.errors import InvalidInput
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import FrequencyCap
from tests.factories import identify

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _customers(services: Services, *user_ids: str) -> list[str]:
    services.intake.ingest([identify(u) for u in user_ids], source=Source("shop", "web"))
    with services.store.unit_of_work() as uow:
        return [services.lookup.find_root(uow, u, system_caller()) for u in user_ids]


def _contact(
    customer: str, days_ago: float, channel: str = "email", purpose: str = "marketing_email"
) -> Contact:
    return Contact(customer, channel, purpose, NOW - timedelta(days=days_ago), "campaign:1", 1)


def test_a_customer_at_the_email_cap_is_capped_with_the_reason(services: Services) -> None:
    ann, bob = _customers(services, "ann", "bob")
    services.contacts.record([_contact(ann, 1), _contact(ann, 5), _contact(bob, 2)])

    capped = services.contacts.capped([ann, bob], "email", NOW)

    assert list(capped) == [ann]
    assert capped[ann].reason == "contacted 2 times by email in the last 7 days (at most 2)"


def test_contacts_on_every_channel_count_for_the_shared_cap(services: Services) -> None:
    ann, bob = _customers(services, "ann", "bob")
    services.contacts.record(
        [
            *[
                _contact(ann, 3, "sms", "marketing_sms"),
                _contact(ann, 10),
                _contact(ann, 20, "phone"),
            ],
            *[_contact(bob, 3, "sms", "marketing_sms"), _contact(bob, 40), _contact(bob, 45)],
        ]
    )

    capped = services.contacts.capped([ann, bob], "post", NOW)

    assert list(capped) == [ann]
    assert capped[ann].reason == "contacted 3 times in all in the last 30 days (at most 3)"


def test_service_messages_are_logged_and_counted_but_never_cap(services: Services) -> None:
    (ann,) = _customers(services, "ann")
    services.contacts.record([_contact(ann, d, purpose="service") for d in (1, 2, 3)])

    assert services.contacts.capped([ann], "email", NOW) == {}
    assert services.contacts.count([ann], NOW - timedelta(days=30), NOW) == {ann: 3}


def test_counts_are_per_window_and_channel(services: Services) -> None:
    ann, bob = _customers(services, "ann", "bob")
    services.contacts.record([_contact(ann, 1), _contact(ann, 10, "sms"), _contact(ann, 40)])

    month = NOW - timedelta(days=30)
    assert services.contacts.count([ann, bob], month, NOW) == {ann: 2}
    assert services.contacts.count([ann, bob], month, NOW, channel="sms") == {ann: 1}
    assert services.contacts.count([ann], NOW - timedelta(days=60), NOW - timedelta(days=20)) == {
        ann: 1
    }


def test_a_merged_away_profiles_contacts_count_for_the_survivor(services: Services) -> None:
    (ann,) = _customers(services, "ann")
    services.intake.ingest([identify(anonymous_id="till-7")], source=Source("till", "store"))
    with services.store.unit_of_work() as uow:
        at_till = services.lookup.find_root(uow, "till-7", system_caller())
    services.contacts.record([_contact(ann, 1), _contact(at_till, 2)])

    services.merges.merge(system_caller(), ann, at_till)

    with services.store.unit_of_work() as uow:
        survivor = services.lookup.find_root(uow, "ann", system_caller())
    assert list(services.contacts.capped([survivor], "email", NOW)) == [survivor]


def test_a_cap_of_zero_closes_the_channel_to_marketing(services: Services) -> None:
    ann, bob = _customers(services, "ann", "bob")
    settings = services.settings.model_copy(deep=True)
    settings.campaigns.frequency_caps = [FrequencyCap(channel="sms", max_contacts=0, days=1)]
    log = ContactLog(services.store, settings)

    assert set(log.capped([ann, bob], "sms", NOW)) == {ann, bob}
    assert log.capped([ann, bob], "email", NOW) == {}


def test_an_unknown_channel_is_refused_naming_the_known_ones(services: Services) -> None:
    (ann,) = _customers(services, "ann")

    with pytest.raises(InvalidInput, match="channel: must be one of email, sms"):
        services.contacts.record([_contact(ann, 1, "pigeon")])
    assert services.contacts.count([ann], NOW - timedelta(days=9), NOW) == {}
