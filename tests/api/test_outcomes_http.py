"""Outcome metrics and follow-up surveys over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cornerstore.access.caller import system_caller
from cornerstore.services import Services
from tests.api import bearer
from tests.api.conftest import Keys, TestClient
from tests.campaigns.conftest import SmtpAnswers, campaign_services, free_port, smtp
from tests.outcomes.cases import DAY1, customer, file_case

__all__ = ["smtp"]  # the fixture, used by name


def test_staff_read_the_metrics_of_a_period_broken_down(
    services: Services, client: TestClient, keys: Keys
) -> None:
    ann = customer(services, "ann@example.com")
    file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=3))
    file_case(services, ann, DAY1 + timedelta(days=1), category="billing")
    period = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-08T00:00:00Z"}

    answer = client.get(
        "/v1/service/metrics", params={**period, "group_by": "category"}, headers=bearer(keys.token)
    )

    assert answer.status_code == 200
    body = answer.json()
    assert (body["from"], body["to"]) == ("2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z")
    assert body["overall"]["opened"] == 2
    assert body["overall"]["resolution"]["count"] == 1
    assert body["overall"]["resolution"]["n"] == 2
    assert 0 < body["overall"]["resolution"]["low"] < 0.5 < body["overall"]["resolution"]["high"]
    assert body["overall"]["time_to_resolution"]["median_hours"] == 3.0
    assert [g["key"] for g in body["groups"]] == ["billing", "delivery"]
    assert set(body["afterwards"]) == {"window_days", "after_case", "comparable"}


def test_metrics_refuse_a_backwards_period_an_unknown_breakdown_and_strangers(
    client: TestClient, keys: Keys
) -> None:
    backwards = client.get(
        "/v1/service/metrics",
        params={"from": "2026-03-08T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        headers=bearer(keys.token),
    )
    colour = client.get(
        "/v1/service/metrics", params={"group_by": "colour"}, headers=bearer(keys.token)
    )
    anonymous = client.get("/v1/service/metrics")

    assert backwards.status_code == 400
    assert "from" in backwards.json()["message"]
    assert colour.status_code in (400, 422)
    assert "colour" not in colour.text
    assert anonymous.status_code == 401


def test_a_customer_answers_the_survey_once_through_the_link(
    services: Services, client: TestClient, keys: Keys
) -> None:
    ann = customer(services, "ann@example.com")
    file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=3))
    sent = client.post("/v1/service/surveys/send", headers=bearer(keys.token)).json()
    assert [s["solicited"] for s in sent] == [False]
    token = sent[0]["url"].rsplit("/", 1)[1]

    shown = client.get(f"/v1/feedback/{token}")
    wrong = client.post(f"/v1/feedback/{token}", json={"resolved": True, "score": 9})
    first = client.post(f"/v1/feedback/{token}", json={"resolved": True, "score": 4})
    second = client.post(f"/v1/feedback/{token}", json={"resolved": False, "score": 1})
    forged = client.get(f"/v1/surveys/{token[:-2]}xx")

    assert shown.status_code == 200
    assert shown.json()["category"] == "delivery"
    assert shown.json()["answered"] is False
    assert wrong.status_code in (400, 422)
    assert "score" in wrong.text
    assert first.json()["answered"] is True
    assert second.status_code == 409
    assert forged.status_code == 404
    metrics = services.outcomes.metrics(
        system_caller(), DAY1 - timedelta(days=1), DAY1 + timedelta(days=1)
    )
    assert metrics.overall.confirmed.count == 1


def test_staff_hand_out_a_link_whose_answer_is_solicited(
    services: Services, client: TestClient, keys: Keys
) -> None:
    ann = customer(services, "ann@example.com")
    case_id = file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=3))

    handed = client.post(f"/v1/cases/{case_id}/survey-link", headers=bearer(keys.token))
    missing = client.post("/v1/cases/999999/survey-link", headers=bearer(keys.token))

    assert handed.status_code == 201
    assert handed.json()["solicited"] is True
    assert missing.status_code == 404


def _mailing_client(
    services: Services, client_with: Callable[..., TestClient], port: int
) -> tuple[TestClient, str]:
    """A client whose app mails through ``port`` (its serve sweep off, so only the request
    sends), and the root id of Ann, whose case was resolved yesterday."""
    services = campaign_services(services, port, smtp_retries=0)
    ann = customer(services, "ann@example.com")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    file_case(services, ann, yesterday, resolved=yesterday + timedelta(hours=2))
    outcomes = services.settings.outcomes.model_copy(update={"survey_email_minutes": 0.0})
    return client_with(campaigns=services.settings.campaigns, outcomes=outcomes), ann


def test_surveys_are_emailed_over_http_with_deliver_smtp_and_a_wrong_delivery_is_named(
    services: Services,
    client_with: Callable[..., TestClient],
    keys: Keys,
    smtp: tuple[SmtpAnswers, int],
) -> None:
    answers, port = smtp
    client, _ = _mailing_client(services, client_with, port)
    path = "/v1/service/surveys/send"

    sent = client.post(path, params={"deliver": "smtp"}, headers=bearer(keys.token))
    again = client.post(path, params={"deliver": "smtp"}, headers=bearer(keys.token))
    pigeon = client.post(path, params={"deliver": "pigeon"}, headers=bearer(keys.token))
    exported = client.post(path, params={"deliver": "export"}, headers=bearer(keys.token))

    assert sent.status_code == 200, sent.text
    assert sent.json() == {"made": 1, "sent": 1, "failed": 0, "no_address": 0, "failures": {}}
    assert again.json() == {"made": 0, "sent": 0, "failed": 0, "no_address": 0, "failures": {}}
    assert answers.to() == ["ann@example.com"]
    assert pigeon.status_code == 400
    assert pigeon.json()["message"].startswith("query.deliver:")
    assert "pigeon" not in pigeon.text
    assert (exported.status_code, exported.json()) == (200, [])


def test_deliver_smtp_is_409_without_an_smtp_server_and_503_when_it_cannot_be_reached(
    services: Services, client: TestClient, client_with: Callable[..., TestClient], keys: Keys
) -> None:
    unreachable, ann = _mailing_client(services, client_with, free_port())
    path = "/v1/service/surveys/send"

    unset = client.post(path, params={"deliver": "smtp"}, headers=bearer(keys.token))
    down = unreachable.post(path, params={"deliver": "smtp"}, headers=bearer(keys.token))
    pending = client.post("/v1/service/surveys/export", headers=bearer(keys.token))

    assert (unset.status_code, unset.json()["code"]) == (409, "conflict")
    assert "SMTP server" in unset.json()["message"]
    assert (down.status_code, down.json()["code"]) == (503, "unavailable")
    assert down.headers["Retry-After"] == "60"
    assert [link["customer_id"] for link in pending.json()] == [ann]  # made, left pending
