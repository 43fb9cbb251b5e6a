"""Consent per purpose: from intake (RudderStack and Segment shapes), from staff, and ``may``."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import permutations

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import InvalidInput, NotFound
from cornerstore.intake.service import Source
from cornerstore.privacy.answers import granted
from cornerstore.privacy.consent import consent_from_context
from cornerstore.privacy.model import ConsentRecord
from cornerstore.services import Services
from cornerstore.settings import PrivacyPolicy
from tests.factories import alias, identify, track

WEB = Source("web-shop", "web")
CATEGORIES = PrivacyPolicy().consent_categories


def test_rudderstack_consent_management_grants_and_denies_by_category() -> None:
    context = {
        "consentManagement": {
            "provider": "oneTrust",
            "allowedConsentIds": ["Personalization", "analytics"],
            "deniedConsentIds": ["marketing", "C0004"],
            "resolutionStrategy": "and",
        }
    }

    assert consent_from_context(context, CATEGORIES) == {
        "personalisation": True,
        "profiling": True,
        "marketing_email": False,
        "marketing_sms": False,
    }


def test_segment_consent_category_preferences_map_to_purposes() -> None:
    context = {"consent": {"categoryPreferences": {"Advertising": False, "email": True, "x": 1}}}

    assert consent_from_context(context, CATEGORIES) == {"sharing": False, "marketing_email": True}


def test_a_purpose_both_granted_and_denied_in_one_message_is_withdrawn() -> None:
    context = {
        "consentManagement": {"allowedConsentIds": ["email"], "deniedConsentIds": ["marketing"]}
    }

    assert consent_from_context(context, CATEGORIES)["marketing_email"] is False


def test_purposes_never_asked_take_the_defaults(services: Services) -> None:
    services.intake.ingest([identify("u-1")], source=WEB)

    assert services.consents.may("u-1", "profiling") is True
    assert services.consents.may("u-1", "marketing_email") is False


def test_intake_records_consent_and_a_later_withdrawal_stops_the_use(
    services: Services, owner: Caller
) -> None:
    granted = {"consentManagement": {"allowedConsentIds": ["marketing_email"]}}
    withdrawn = {"consent": {"categoryPreferences": {"marketing_email": False}}}
    services.intake.ingest(
        [track("Signed Up", user_id="u-1", context=granted, timestamp="2026-01-01T10:00:00Z")],
        source=WEB,
    )
    assert services.consents.may("u-1", "marketing_email") is True

    services.intake.ingest(
        [track("Unsubscribed", user_id="u-1", context=withdrawn, timestamp="2026-02-01T10:00:00Z")],
        source=Source("mailer", "web"),
    )

    assert services.consents.may("u-1", "marketing_email") is False
    view = services.consents.get(owner, "u-1")
    email = next(s for s in view.consents if s.purpose == "marketing_email")
    assert (email.granted, email.asked, email.source) == (False, True, "mailer")
    assert email.at == datetime(2026, 2, 1, 10, tzinfo=UTC)


def test_repeated_consent_context_is_stored_once_and_an_older_replay_changes_nothing(
    services: Services, owner: Caller
) -> None:
    denied = {"consentManagement": {"deniedConsentIds": ["sharing"]}}
    allowed = {"consentManagement": {"allowedConsentIds": ["sharing"]}}
    pages = [
        track(f"Viewed {i}", user_id="u-1", context=denied, timestamp=f"2026-03-0{i}T10:00:00Z")
        for i in range(1, 6)
    ]
    services.intake.ingest(pages, source=WEB)
    services.intake.ingest(
        [track("Old", user_id="u-1", context=allowed, timestamp="2025-01-01T10:00:00Z")],
        source=WEB,
    )

    view = services.consents.get(owner, "u-1")
    assert [(r.purpose, r.granted) for r in view.history] == [("sharing", False)]
    assert services.consents.may("u-1", "sharing") is False


def test_staff_record_consent_and_may_follows_it(services: Services, owner: Caller) -> None:
    services.intake.ingest([identify("u-1", email="ann@example.com")], source=WEB)

    view = services.consents.change(
        owner, "ann@example.com", {"marketing_sms": True}, touchpoint="store"
    )

    assert services.consents.may("u-1", "marketing_sms") is True
    sms = next(s for s in view.consents if s.purpose == "marketing_sms")
    assert (sms.granted, sms.touchpoint, sms.source) == (True, "store", "staff:test-owner")
    assert [e.action for e in services.audit.for_customer(view.customer_id)][-1] == (
        "change_consents"
    )


def test_anonymous_please_withdraws_profiling_and_personalisation_but_keeps_the_customer(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("u-1", email="ann@example.com")], source=WEB)

    view = services.consents.set_anonymous(owner, "u-1", True)

    assert view.anonymous is True
    assert services.consents.may("u-1", "profiling") is False
    assert services.consents.may("u-1", "personalisation") is False
    # Still recognised: new events join the same profile, and staff still find them.
    result = services.intake.ingest([track("Order Completed", user_id="u-1")], source=WEB)
    assert (result.accepted, result.profiles_created) == (1, 0)
    assert services.profiles.get(owner, "ann@example.com").id == view.customer_id
    assert services.consents.set_anonymous(owner, "u-1", False).anonymous is False


def test_consent_follows_a_merge_and_allowed_answers_in_bulk(
    services: Services, owner: Caller
) -> None:
    denied = {"consentManagement": {"deniedConsentIds": ["profiling"]}}
    services.intake.ingest(
        [track("Browsed", anonymous_id="anon-9", context=denied), identify("u-2")], source=WEB
    )
    services.intake.ingest([alias("anon-9", "u-1")], source=WEB)
    root = services.profiles.get(owner, "u-1").id
    other = services.profiles.get(owner, "u-2").id

    assert services.consents.may("anon-9", "profiling") is False
    assert services.consents.allowed([root, other], "profiling") == {other}


def test_answers_given_at_the_same_moment_resolve_to_the_withdrawal_in_either_order(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("u-1"), identify("u-2")], source=WEB)
    moment = datetime(2026, 5, 1, 12, tzinfo=UTC)
    services.consents.change(owner, "u-1", {"profiling": True}, at=moment)
    services.consents.change(owner, "u-1", {"profiling": False}, at=moment)
    services.consents.change(owner, "u-2", {"profiling": False}, at=moment)
    services.consents.change(owner, "u-2", {"profiling": True}, at=moment)
    roots = [services.profiles.get(owner, ref).id for ref in ("u-1", "u-2")]

    answers = [services.consents.may(ref, "profiling") for ref in ("u-1", "u-2")]
    views = [services.consents.get(owner, ref).anonymous for ref in ("u-1", "u-2")]

    assert answers == [False, False]
    assert services.consents.allowed(roots, "profiling") == set()
    assert services.consents.refused(roots, "profiling") == set(roots)
    assert views == [False, False]  # personalisation is still granted by default


def test_asking_for_thousands_of_customers_at_once_gives_each_the_same_answer(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("u-1"), identify("u-2")], source=WEB)
    services.consents.change(owner, "u-1", {"profiling": False})
    roots = [services.profiles.get(owner, ref).id for ref in ("u-1", "u-2")]
    others = [f"c{n:031d}" for n in range(3000)]  # no such customers: the default applies

    few = services.consents.refused(roots, "profiling")
    many = services.consents.refused([*roots, *others], "profiling")

    assert (few, many) == ({roots[0]}, {roots[0]})


def test_the_current_answer_does_not_depend_on_the_order_answers_are_read() -> None:
    noon = datetime(2026, 5, 1, 12, tzinfo=UTC)
    history = [
        ConsentRecord("c1", "profiling", False, noon, "web", "shop", None),
        ConsentRecord("c1", "profiling", True, noon, "web", "shop", None),
        ConsentRecord("c2", "profiling", False, noon.replace(hour=9), "web", "shop", None),
        ConsentRecord("c2", "profiling", True, noon.replace(hour=14), "web", "shop", None),
    ]

    found = {
        (tuple(granted(h, "profiling", {}) for h in (ordered[:2], ordered[2:])))
        for ordered in (
            [*tie, *later]
            for tie in permutations(history[:2])
            for later in permutations(history[2:])
        )
    }

    assert found == {(False, True)}


def test_unknown_purposes_and_customers_are_refused_clearly(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("u-1")], source=WEB)

    with pytest.raises(InvalidInput, match="purpose: 'newsletters' is not one of marketing_email"):
        services.consents.may("u-1", "newsletters")
    with pytest.raises(InvalidInput, match="touchpoint: must be one of"):
        services.consents.change(owner, "u-1", {"profiling": False}, touchpoint="moon")
    with pytest.raises(NotFound, match="customer: no such customer"):
        services.consents.may("nobody@example.com", "profiling")


def test_settings_refuse_unknown_purposes_in_defaults_and_categories() -> None:
    with pytest.raises(ValueError, match="unknown purposes"):
        PrivacyPolicy(consent_defaults={"newsletters": True})
    with pytest.raises(ValueError, match="category 'ads': unknown purposes"):
        PrivacyPolicy(consent_categories={"ads": ["adverts"]})


def test_a_purpose_that_holds_a_number_is_not_echoed_in_the_error(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("u-1")], source=WEB)

    with pytest.raises(InvalidInput) as refused:
        services.consents.change(owner, "u-1", {"4111 1111 1111 1111": True})

    assert refused.value.message == (
        "purpose: is not one of marketing_email, marketing_sms, personalisation, profiling, sharing"
    )
