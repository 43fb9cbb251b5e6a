"""Follow-up surveys e-mailed by the system through the campaigns' SMTP delivery, to a real
SMTP server on loopback (aiosmtpd): service messages, sent once, failures left pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cornerstore.access.caller import system_caller
from cornerstore.api.app import create_app
from cornerstore.errors import Conflict, Unavailable
from cornerstore.intake.service import Source
from cornerstore.outcomes.sweep import SurveySweep
from cornerstore.services import Services
from cornerstore.settings import Settings
from tests.campaigns.conftest import SmtpAnswers, campaign_services, free_port, smtp
from tests.factories import identify
from tests.outcomes.cases import DAY1, SUPPORT, customer, file_case

__all__ = ["smtp"]  # the fixture, used by name


def _mailing(
    services: Services, smtp: tuple[SmtpAnswers, int], **campaigns: Any
) -> tuple[Services, SmtpAnswers, str]:
    """The services mailing through the loopback server, its answers, and Ann's root id."""
    answers, port = smtp
    services = campaign_services(services, port, **campaigns)
    return services, answers, customer(services, "ann@example.com")


def test_resolved_cases_get_one_survey_email_each_and_a_refused_one_stays_pending(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    services, answers, ann = _mailing(services, smtp, smtp_retries=0)
    bob = customer(services, "bob@example.com")
    open_one = customer(services, "cat@example.com")
    ann_case = file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=2))
    file_case(services, bob, DAY1, resolved=DAY1 + timedelta(hours=3))
    file_case(services, open_one, DAY1)  # not resolved: no survey
    handed = services.outcomes.hand_out(SUPPORT, ann_case, now=DAY1)
    answers.gone.add("bob@example.com")

    first = services.outcomes.deliver_surveys(system_caller(), now=DAY1 + timedelta(days=1))
    answers.gone.clear()
    second = services.outcomes.deliver_surveys(system_caller(), now=DAY1 + timedelta(days=1))
    third = services.outcomes.deliver_surveys(system_caller(), now=DAY1 + timedelta(days=1))

    assert (first.made, first.sent, first.failed, first.no_address) == (2, 1, 1, 0)
    assert first.failures == {"smtp 550": 1}
    assert (second.made, second.sent, second.failed) == (0, 1, 0)
    assert (third.made, third.sent, third.failed) == (0, 0, 0)
    assert answers.to() == ["ann@example.com", "bob@example.com"]
    mail = next(m for m in answers.received if m["To"] == "ann@example.com")
    body = mail.get_payload(decode=True).decode()
    assert mail["Subject"] == f"Was your problem solved? (case {ann_case})"
    assert "where is my parcel" not in body  # the customer's own text is not quoted
    assert "List-Unsubscribe" not in mail  # a service message, not marketing
    # The link in the mail is the system's survey, not the one staff handed out.
    token = next(w for w in body.split() if w.startswith("http")).rsplit("/", 1)[1]
    survey = services.outcomes.answer(token, resolved=True, score=4, now=DAY1 + timedelta(days=2))
    assert (survey.case_id, survey.solicited) == (ann_case, False)
    assert handed.solicited and handed.url.rsplit("/", 1)[1] != token
    contacts = services.contacts.contacts_of([ann, bob], DAY1)
    assert sorted((c.customer_id == ann, c.channel, c.purpose) for c in contacts) == [
        (False, "email", "service"),
        (True, "email", "service"),
    ]
    audited = [e.action for e in services.audit.for_customer(ann)]
    assert audited.count("service_survey_email") == 1


def test_a_customer_without_an_email_address_is_left_for_the_export(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    services = campaign_services(services, port)
    walk_in = identify(anonymous_id="walk-in", phone="07700 900123")
    services.intake.ingest([walk_in], source=Source("till", "store"))
    with services.store.unit_of_work() as uow:
        root = services.lookup.find_root(uow, "walk-in", system_caller())
    case_id = file_case(services, root, DAY1, resolved=DAY1 + timedelta(hours=1))

    report = services.outcomes.deliver_surveys(system_caller(), now=DAY1 + timedelta(days=1))
    exported = services.outcomes.export_pending(system_caller())

    assert (report.made, report.sent, report.no_address) == (1, 0, 1)
    assert answers.received == []
    assert [link.case_id for link in exported] == [case_id]


def test_the_sweep_serve_runs_emails_the_survey_of_a_resolved_case(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    services, answers, ann = _mailing(services, smtp)
    yesterday = datetime.now(UTC) - timedelta(days=1)  # the sweep runs on the clock
    file_case(services, ann, yesterday, resolved=yesterday + timedelta(hours=2))
    sweep = SurveySweep(services.outcomes, minutes=60)

    sweep.start()
    sweep.stop()

    assert sweep.runs == 1
    assert answers.to() == ["ann@example.com"]
    assert services.outcomes.export_pending(system_caller()) == []


def test_a_case_resolved_long_ago_is_not_emailed_and_stays_for_the_export(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    services, answers, ann = _mailing(services, smtp)
    bob = customer(services, "bob@example.com")
    old = file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=2))
    file_case(services, bob, DAY1 + timedelta(days=40), resolved=DAY1 + timedelta(days=41))

    report = services.outcomes.deliver_surveys(system_caller(), now=DAY1 + timedelta(days=42))
    exported = services.outcomes.export_pending(system_caller())

    assert (report.made, report.sent) == (2, 1)
    assert answers.to() == ["bob@example.com"]
    assert [link.case_id for link in exported] == [old]


def _served(services: Services, **outcomes: Any) -> None:
    """Start and stop the app as `cornerstore serve` does (its lifespan), with ``outcomes``
    settings changed; a sweep started at start-up has finished its first run on stop."""
    settings = services.settings
    if outcomes:
        changed = settings.outcomes.model_copy(update=outcomes)
        settings = settings.model_copy(update={"outcomes": changed})
    with TestClient(create_app(settings, Services.build(settings, services.store))):
        pass


def test_serve_emails_the_surveys_by_default_once_an_smtp_server_is_configured(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    services, answers, ann = _mailing(services, smtp)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    file_case(services, ann, yesterday, resolved=yesterday + timedelta(hours=2))

    _served(services)

    assert services.settings.survey_email_every == 15.0
    assert answers.to() == ["ann@example.com"]


def test_an_explicit_zero_keeps_the_serve_sweep_off_even_with_smtp(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    services, answers, ann = _mailing(services, smtp)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    case_id = file_case(services, ann, yesterday, resolved=yesterday + timedelta(hours=2))

    _served(services, survey_email_minutes=0.0)

    assert answers.received == []
    assert [link.case_id for link in services.outcomes.send_surveys(system_caller())] == [case_id]


def test_without_an_smtp_server_serve_mails_nothing_and_the_export_is_the_way(
    services: Services,
) -> None:
    ann = customer(services, "ann@example.com")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    case_id = file_case(services, ann, yesterday, resolved=yesterday + timedelta(hours=2))

    _served(services)
    _served(services, survey_email_minutes=5.0)  # no server to mail through: still nothing
    with pytest.raises(Conflict, match="SMTP server"):
        services.outcomes.deliver_surveys(system_caller())
    made = services.outcomes.send_surveys(system_caller())

    assert services.settings.survey_email_every == 0.0
    assert Settings(outcomes={"survey_email_minutes": 5}).survey_email_every == 0.0
    assert [link.case_id for link in made] == [case_id]  # serve made none before
    assert [link.case_id for link in services.outcomes.export_pending(system_caller())] == [case_id]


def test_an_unreachable_smtp_server_is_unavailable_and_the_surveys_stay_pending(
    services: Services,
) -> None:
    services = campaign_services(services, free_port(), smtp_retries=0)
    ann = customer(services, "ann@example.com")
    case_id = file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=2))

    with pytest.raises(Unavailable, match="could not be reached; 1 survey stays pending"):
        services.outcomes.deliver_surveys(system_caller(), now=DAY1 + timedelta(days=1))

    assert [link.case_id for link in services.outcomes.export_pending(system_caller())] == [case_id]
