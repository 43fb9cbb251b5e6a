"""The cases API: open from a web form, reply, move along, filter the queue, remedies; errors
name the field and never echo a value."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cornerstore.access.caller import Caller
from cornerstore.services import Services
from tests.api.conftest import Keys


def _staff(services: Services, owner: Caller, role: str) -> dict[str, str]:
    token = services.credentials.create_token(owner, f"{role}-app", role)
    return {"Authorization": f"Bearer {token.secret}"}


def test_a_web_form_case_is_opened_answered_resolved_and_found_by_filters(
    client: TestClient, services: Services, owner: Caller
) -> None:
    support = _staff(services, owner, "support")
    form = {
        "sender": {"email": "ann@example.com", "first_name": "Ann"},
        "channel": "web",
        "subject": "Wrong size",
        "body": "I got a small, ordered a medium. Card 4111 1111 1111 1111.",
        "category": "wrong item",
        "links": [{"kind": "order", "ref": "A-7"}],
        "reference": "form-991",
    }

    opened = client.post("/v1/cases", json=form, headers=support)
    again = client.post("/v1/cases", json=form, headers=support)
    case_id = opened.json()["case"]["id"]
    reply = client.post(
        f"/v1/cases/{case_id}/messages", json={"body": "A medium is on its way."}, headers=support
    )
    note = client.post(
        f"/v1/cases/{case_id}/messages",
        json={"body": "sent from Leeds stock", "internal": True},
        headers=support,
    )
    resolved = client.patch(f"/v1/cases/{case_id}", json={"status": "resolved"}, headers=support)

    assert (opened.status_code, again.status_code, reply.status_code, note.status_code) == (
        201,
        201,
        201,
        201,
    )
    assert again.json()["case"]["id"] == case_id
    assert opened.json()["messages"][0]["body"] == (
        "I got a small, ordered a medium. Card [removed: payment card]."
    )
    assert resolved.json()["status"] == "resolved"
    found = client.get(
        "/v1/cases",
        params={"customer": "ann@example.com", "status": "resolved", "channel": "web"},
        headers=support,
    )
    assert [c["id"] for c in found.json()] == [case_id]
    assert found.json()[0]["links"] == [{"kind": "order", "ref": "A-7"}]
    assert found.json()[0]["message_count"] == 3
    none = client.get("/v1/cases", params={"status": "open"}, headers=support)
    assert none.json() == []
    detail = client.get(f"/v1/cases/{case_id}", headers=support).json()
    assert [(m["direction"], m["internal"]) for m in detail["messages"]] == [
        ("in", False),
        ("out", False),
        ("out", True),
    ]


def test_remedies_over_http_within_limits_and_approved_by_someone_else(
    client: TestClient, services: Services, owner: Caller
) -> None:
    support = _staff(services, owner, "support")
    supervisor = _staff(services, owner, "supervisor")
    case = client.post(
        "/v1/cases",
        json={"sender": {"email": "bob@example.com"}, "channel": "phone", "subject": "Late"},
        headers=support,
    ).json()["case"]

    small = client.post(
        f"/v1/cases/{case['id']}/remedies", json={"kind": "credit", "amount": 10}, headers=support
    )
    big = client.post(
        f"/v1/cases/{case['id']}/remedies", json={"kind": "refund", "amount": 90}, headers=support
    )
    pending = client.get("/v1/remedies/pending", headers=supervisor)
    own = client.post(
        f"/v1/remedies/{big.json()['id']}/decision", json={"approve": True}, headers=support
    )
    approved = client.post(
        f"/v1/remedies/{big.json()['id']}/decision", json={"approve": True}, headers=supervisor
    )
    suggestion = client.get(f"/v1/cases/{case['id']}/remedies/suggestion", headers=support)

    assert (small.json()["status"], big.json()["status"]) == ("granted", "pending")
    assert [r["id"] for r in pending.json()] == [big.json()["id"]]
    assert own.status_code == 403
    assert approved.json()["status"] == "granted"
    assert approved.json()["decided_by"].endswith(":supervisor-app")
    assert suggestion.status_code == 200 and suggestion.json()["amount"] <= 20


def test_bad_input_is_a_4xx_naming_the_field_without_echoing_it(
    client: TestClient, services: Services, owner: Caller, keys: Keys
) -> None:
    support = _staff(services, owner, "support")
    secret_subject = "x" * 301

    bad_channel = client.post(
        "/v1/cases",
        json={"sender": {"email": "c@example.com"}, "channel": "fax", "subject": "Hi"},
        headers=support,
    )
    too_long = client.post(
        "/v1/cases",
        json={"sender": {"email": "c@example.com"}, "channel": "web", "subject": secret_subject},
        headers=support,
    )
    no_sender = client.post(
        "/v1/cases", json={"sender": {}, "channel": "web", "subject": "Hi"}, headers=support
    )
    missing = client.get("/v1/cases/999", headers=support)
    shipping = client.get("/v1/cases", headers=_staff(services, owner, "shipping"))
    write_key = client.get("/v1/cases", headers={"Authorization": f"Bearer {keys.write_key}"})

    assert bad_channel.status_code == 400 and "channel" in bad_channel.text
    assert too_long.status_code == 400 and secret_subject not in too_long.text
    assert no_sender.status_code == 400
    assert "sender: give a customer" in no_sender.text
    assert missing.status_code == 404
    assert shipping.status_code == 403
    assert write_key.status_code in (401, 403)
