"""Follow-up surveys e-mailed by the system through the campaigns' SMTP delivery, to a real
SMTP server on loopback (aiosmtpd): service messages, sent once, failures left pending."""

from __future__ import annotations

from datetime import timedelta

from cornerstore.access.caller import system_caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from tests.campaigns.conftest import SmtpAnswers, campaign_services, smtp
from tests.factories import identify
from tests.outcomes.test_service import DAY1, SUPPORT, customer, file_case

__all__ = ["smtp"]  # the fixture, used by name


def test_resolved_cases_get_one_survey_email_each_and_a_refused_one_stays_pending(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    services = campaign_services(services, port, smtp_retries=0)
    ann = customer(services, "ann@example.com")
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
