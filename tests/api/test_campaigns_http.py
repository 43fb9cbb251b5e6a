"""Campaigns over HTTP: create, funnel, preview, export send, recipients, results, the public
one-click unsubscribe, and clear 4xx answers."""

from __future__ import annotations

import csv
import io

from cornerstore.access.caller import Caller
from cornerstore.campaigns.delivery import read_unsubscribe
from cornerstore.services import Services
from tests.api import bearer
from tests.api.conftest import Keys, TestClient
from tests.campaigns.conftest import add_customers, add_segment, campaign_services

SPEC = {
    "name": "Autumn",
    "channel": "export",
    "audience": {"segment": "everyone"},
    "subject": "Hello from {{ shop.name }}",
    "body": "Hi {{ customer.first_name }}, your code is {{ coupon.code }}",
    "offer": {"description": "5 off", "expires_days": 10},
    "control_share": 0.25,
}


def _twelve_customers(services: Services, client_with: object) -> tuple[TestClient, list[str]]:
    """A client of a campaign-ready store of 12 customers in the segment ``everyone``."""
    services = campaign_services(services)
    customers = add_customers(services, 12)
    add_segment(services, "everyone", customers)
    client = client_with(campaigns=services.settings.campaigns)  # type: ignore[operator]
    return client, customers


def test_a_campaign_goes_from_draft_to_export_with_every_recipient_accounted_for(
    services: Services, owner: Caller, client_with: object, keys: Keys
) -> None:
    client, _ = _twelve_customers(services, client_with)
    staff = bearer(keys.token)

    created = client.post("/v1/campaigns", json=SPEC, headers=staff)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    funnel = client.get(f"/v1/campaigns/{campaign_id}/audience", headers=staff).json()
    preview = client.get(
        f"/v1/campaigns/{campaign_id}/preview", params={"customer": "c003"}, headers=staff
    ).json()
    sent = client.post(f"/v1/campaigns/{campaign_id}/send", headers=staff)
    page = client.get(f"/v1/campaigns/{campaign_id}/recipients", headers=staff).json()

    assert funnel["segment"] == 12 and funnel["treatment"] + funnel["control"] == 12
    assert preview["message"]["text"] == "Hi Name003, your code is PREVIEW-CODE"
    assert sent.status_code == 200 and sent.headers["content-type"].startswith("text/csv")
    assert sent.text.count("\n") == 1 + funnel["treatment"]
    states = sorted(r["state"] for r in page["recipients"])
    assert states == ["held_out"] * funnel["control"] + ["sent"] * funnel["treatment"]
    results = client.get(f"/v1/campaigns/{campaign_id}/results", headers=staff).json()
    assert (results["treatment"], results["control"]) == (funnel["treatment"], funnel["control"])
    assert results["complete"] is False


def _unsubscribe_link(
    services: Services, client_with: object
) -> tuple[Services, TestClient, list[str], str]:
    """One customer's unsubscribe token of a draft e-mail campaign, and a client serving it."""
    services = campaign_services(services)
    customers = add_customers(services, 1)
    add_segment(services, "everyone", customers)
    client = client_with(campaigns=services.settings.campaigns)  # type: ignore[operator]
    campaign = services.campaigns.create(
        Caller("owner", "owner", "api"),
        name="x",
        purpose="marketing_email",
        channel="email",
        audience={"segment": "everyone"},
        subject="s",
        body="b",
    )
    token = services.campaigns.unsubscribe_url(campaign, customers[0]).rsplit("/", 1)[1]
    return services, client, customers, token


def test_the_unsubscribe_link_needs_no_login_and_withdraws_consent(
    services: Services, client_with: object
) -> None:
    services, client, customers, token = _unsubscribe_link(services, client_with)
    assert read_unsubscribe(b"test-key", token)[1] == customers[0]

    page = client.get(f"/v1/unsubscribe/{token}")
    assert services.consents.may(customers[0], "marketing_email")  # opening changes nothing
    first = client.post(
        f"/v1/unsubscribe/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    second = client.post(f"/v1/unsubscribe/{token}")
    forged = client.post(f"/v1/unsubscribe/{token[:-3]}xyz")

    assert page.status_code == 200 and "<form method='post'>" in page.text
    assert (first.status_code, first.json()) == (
        200,
        {"purpose": "marketing_email", "changed": True},
    )
    assert second.json()["changed"] is False
    assert not services.consents.may(customers[0], "marketing_email")
    assert forged.status_code == 400
    assert forged.json()["message"] == "token: not a valid unsubscribe link"


def test_the_unsubscribe_button_answers_a_browser_with_a_page_not_json(
    services: Services, client_with: object
) -> None:
    services, client, customers, token = _unsubscribe_link(services, client_with)
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

    clicked = client.post(f"/v1/unsubscribe/{token}", headers=browser)
    forged = client.post(f"/v1/unsubscribe/{token[:-3]}xyz", headers=browser)

    assert clicked.status_code == 200
    assert clicked.headers["content-type"].startswith("text/html")
    assert "Done: you will get no more of these messages." in clicked.text
    assert not services.consents.may(customers[0], "marketing_email")
    assert forged.status_code == 400
    assert forged.headers["content-type"].startswith("text/html")
    assert "This unsubscribe link is not valid." in forged.text


def test_bad_campaign_requests_get_a_clear_4xx(
    services: Services, client: TestClient, keys: Keys
) -> None:
    add_segment(services, "everyone", [])
    staff = bearer(keys.token)

    bad_template = client.post("/v1/campaigns", json={**SPEC, "body": "{{ oops"}, headers=staff)
    unknown = client.get("/v1/campaigns/999", headers=staff)
    too_big = client.get(f"/v1/campaigns/{2**40}", headers=staff)
    anonymous = client.get("/v1/campaigns")
    not_sent = client.post("/v1/campaigns", json=SPEC, headers=staff).json()["id"]
    early = client.get(f"/v1/campaigns/{not_sent}/results", headers=staff)

    assert bad_template.status_code == 400
    assert bad_template.json()["message"].startswith("body: template error on line 1")
    assert (unknown.status_code, unknown.json()["message"]) == (404, "campaign: no such campaign")
    assert too_big.status_code in (400, 422)
    assert anonymous.status_code == 401
    assert early.status_code == 400
    assert early.json()["message"] == "campaign: not sent yet; results start with the first send"


def test_a_till_is_told_at_once_when_a_coupon_is_refused(
    services: Services, owner: Caller, client_with: object, keys: Keys
) -> None:
    client, customers = _twelve_customers(services, client_with)
    staff = bearer(keys.token)
    campaign_id = client.post("/v1/campaigns", json=SPEC, headers=staff).json()["id"]
    sent = client.post(f"/v1/campaigns/{campaign_id}/send", headers=staff)
    row = next(csv.DictReader(io.StringIO(sent.text)))
    customer, code = row["customer_id"], row["coupon"]
    ref = f"c{customers.index(customer):03d}"
    till = bearer(keys.write_key)

    def redeem(user: str) -> dict[str, object]:
        order = {"userId": user, "event": "Order Completed", "properties": {"coupon": code}}
        answer = client.post("/v1/track", json=order, headers=till)
        assert answer.status_code == 200, answer.text
        return answer.json()

    first, again, stranger = redeem(ref), redeem(ref), redeem("c999")

    assert first["coupons"] == [{"index": 0, "code": code, "redeemed": True, "reason": None}]
    assert again["coupons"] == [{"index": 0, "code": code, "redeemed": False, "reason": "used"}]
    assert stranger["coupons"] == [
        {"index": 0, "code": code, "redeemed": False, "reason": "not_theirs"}
    ]
    assert (first["accepted"], again["accepted"], stranger["accepted"]) == (1, 1, 1)
