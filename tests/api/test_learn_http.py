"""What was learned, over HTTP: a customer's scores and the ranked list of those at risk."""

from __future__ import annotations

from datetime import timedelta

from cornerstore.access.caller import Caller
from cornerstore.services import Services
from tests.api import bearer
from tests.api.conftest import Keys, TestClient
from tests.factories import identify
from tests.learn.shop import NOW, WEB, shop_history, survey
from tests.learn.test_segments import REGULARS


def test_scores_and_at_risk_are_served_to_staff(
    services: Services, owner: Caller, client: TestClient, keys: Keys
) -> None:
    shop_history(services)
    services.learner.run(owner, NOW)

    scores = client.get("/v1/customers/drifting/scores", headers=bearer(keys.token))
    risky = client.get("/v1/learn/at-risk", params={"limit": 5}, headers=bearer(keys.token))

    assert scores.status_code == 200
    body = scores.json()
    assert body["profiled"] is True
    assert sorted(body["scores"]) == ["churn_risk", "loyalty", "value"]
    assert body["scores"]["value"]["model"] == "learn/1:bgnbd"
    assert body["scores"]["churn_risk"]["value"]["at_risk"] is True
    assert len(risky.json()) == 5
    values = [r["value_at_risk"] for r in risky.json()]
    assert values == sorted(values, reverse=True)
    assert all(set(r) == {"customer_id", "name", "value_at_risk", "reasons"} for r in risky.json())


def test_the_at_risk_list_gives_the_name_beside_the_id(
    services: Services, owner: Caller, client: TestClient, keys: Keys
) -> None:
    shop_history(services)
    services.intake.ingest([identify("drifting", first_name="Dora", last_name="Drift")], source=WEB)
    services.learner.run(owner, NOW)
    drifting = services.profiles.get(owner, "drifting").id

    risky = client.get("/v1/learn/at-risk", params={"limit": 1000}, headers=bearer(keys.token))

    row = next(r for r in risky.json() if r["customer_id"] == drifting)
    assert (row["name"], row["reasons"][-1]) == (
        "Dora Drift",
        "a complaint has been open for 21 days",
    )


def test_scores_need_a_staff_token_and_a_known_customer(
    services: Services, client: TestClient, keys: Keys
) -> None:
    anonymous = client.get("/v1/customers/u-1/scores")
    writer = client.get("/v1/customers/u-1/scores", headers=bearer(keys.write_key))
    unknown = client.get("/v1/customers/nobody@example.com/scores", headers=bearer(keys.token))
    bad_limit = client.get("/v1/learn/at-risk", params={"limit": 0}, headers=bearer(keys.token))

    assert (anonymous.status_code, writer.status_code, unknown.status_code) == (401, 403, 404)
    assert bad_limit.status_code in (400, 422)
    assert "limit" in bad_limit.json()["message"]


def test_segments_over_http(
    services: Services, owner: Caller, client: TestClient, keys: Keys
) -> None:
    shop_history(services)
    services.learner.run(owner, NOW)
    staff = bearer(keys.token)

    created = client.post(
        "/v1/segments", json={"name": "Regulars", "definition": REGULARS}, headers=staff
    )
    bad = client.post(
        "/v1/segments",
        json={"name": "Bad", "definition": {"score": "loyalty.orders", "op": "~"}},
        headers=staff,
    )
    listed = client.get("/v1/segments", headers=staff)
    page = client.get("/v1/segments/regulars/members", params={"limit": 1}, headers=staff)
    writer = client.get("/v1/segments", headers=bearer(keys.write_key))
    gone = client.delete("/v1/segments/regulars", headers=staff)
    missing = client.get("/v1/segments/regulars", headers=staff)

    assert created.status_code == 201 and created.json()["size"] == 2
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("definition.op: must be one of")
    assert "regulars" in [s["id"] for s in listed.json()]
    assert len(page.json()["customers"]) == 1 and page.json()["next_after"] is not None
    assert writer.status_code == 403
    assert (gone.status_code, missing.status_code) == (204, 404)


def test_say_vs_do_over_http(services: Services, client: TestClient, keys: Keys) -> None:
    services.intake.ingest([survey("u-1", NOW - timedelta(days=300), "nps", 9, False)], source=WEB)

    report = client.get("/v1/surveys/say-vs-do", params={"days": 30}, headers=bearer(keys.token))
    bad = client.get("/v1/surveys/say-vs-do", params={"days": 1}, headers=bearer(keys.token))

    assert report.status_code == 200
    assert report.json()["summaries"][0]["nps"] == 100.0
    assert bad.status_code in (400, 422) and "days" in bad.json()["message"]
