"""Outcome metrics and follow-up surveys over HTTP."""

from __future__ import annotations

from datetime import timedelta

from cornerstore.access.caller import system_caller
from cornerstore.services import Services
from tests.api import bearer
from tests.api.conftest import Keys, TestClient
from tests.outcomes.test_service import DAY1, customer, file_case


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
