"""The campaign pages without a browser: create from the form, the funnel before sending, a
preview, the export download, recipients with states, and who may see them."""

from __future__ import annotations

import json
import re

from cornerstore.access.caller import system_caller
from cornerstore.api import create_app
from cornerstore.services import Services
from tests.campaigns.conftest import campaign_services, free_port
from tests.console.conftest import ConsoleClient, TestClient

OWNER = system_caller()


def test_marketing_creates_previews_and_exports_a_campaign_from_the_console(
    console: ConsoleClient, shop: Services
) -> None:
    segment = max(shop.segments.list(OWNER), key=lambda s: s.size)
    members = shop.segments.members(OWNER, segment.id, 1000).customers
    for member in members:
        shop.consents.change(OWNER, member, {"marketing_email": True})
    customer = members[0]
    console.login("marketing")

    listing = console.http.get("/campaigns")
    created = console.http.post(
        "/campaigns",
        data={
            "csrf_token": console.csrf,
            "name": "Winter <b>tea</b>",
            "segment": segment.id,
            "purpose": "marketing_email",
            "channel": "export",
            "subject": "Tea at {{ shop.name }}",
            "body": "Hello {{ customer.first_name or 'there' }}, code {{ coupon.code }}",
            "offer": "a free cake",
            # Half held out: with this segment's ~17 reachable customers, a smaller share can
            # leave the control group empty for some installation keys.
            "control_percent": "50",
        },
        follow_redirects=False,
    )
    location = created.headers["location"]
    page = console.http.get(location)
    preview = console.http.get(location, params={"customer": customer})
    download = console.http.post(f"{location}/send", data={"csrf_token": console.csrf})
    after = console.http.get(location)
    held_out = console.http.get(location, params={"state": "held_out"})
    sent = console.http.get(location, params={"state": "sent"})
    funnel = shop.campaigns.audience(OWNER, int(location.rsplit("/", 1)[1]))

    assert 'href="/campaigns"' in listing.text and "New campaign" in listing.text
    assert created.status_code == 303 and re.fullmatch(r"/campaigns/\d+", location)
    assert "Winter &lt;b&gt;tea&lt;/b&gt;" in page.text
    assert "nothing is sent yet" in page.text and '<th scope="row">consent</th>' in page.text
    assert "Hello there, code PREVIEW-CODE" in preview.text
    assert download.headers["content-type"].startswith("text/csv")
    assert download.text.startswith("customer_id,email,subject,text,html,coupon,unsubscribe_url")
    assert 'id="recipients"' in after.text
    assert "<td>held_out</td>" in after.text or "<td>sent</td>" in after.text
    assert funnel.control > 0 and funnel.treatment > 0
    assert held_out.text.count("<td>held_out</td>") == funnel.control
    assert "<td>sent</td>" not in held_out.text
    assert sent.text.count("<td>sent</td>") == funnel.treatment
    assert "<td>held_out</td>" not in sent.text
    assert "Results" in after.text


def test_a_role_without_campaigns_sees_no_link_and_is_refused(console: ConsoleClient) -> None:
    console.login("shipping")

    home = console.http.get("/customers")
    page = console.http.get("/campaigns")

    assert 'href="/campaigns"' not in home.text
    assert page.status_code == 403


def test_creating_without_the_csrf_token_is_refused(console: ConsoleClient, shop: Services) -> None:
    segment = shop.segments.list(OWNER)[0]
    console.login("marketing")

    refused = console.http.post(
        "/campaigns",
        data={"name": "x", "segment": segment.id, "subject": "s", "body": "b"},
    )

    assert refused.status_code == 403
    assert shop.campaigns.list(OWNER) == []


RULE = '{"all": [{"score": "loyalty.orders", "op": ">=", "value": 2}]}'


def _form(console: ConsoleClient, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": console.csrf,
        "name": "Regulars",
        "audience_kind": "rule",
        "purpose": "marketing_email",
        "channel": "export",
        "subject": "For you",
        "body": "Hello {{ customer.first_name or 'there' }}",
        **fields,
    }


def test_a_rule_audience_is_created_from_the_form_and_its_funnel_shown_before_sending(
    console: ConsoleClient, shop: Services
) -> None:
    same = shop.campaigns.create(
        OWNER,
        name="The same rule through the library",
        purpose="marketing_email",
        channel="export",
        audience={"rule": json.loads(RULE)},
        subject="s",
        body="b",
    )
    expected = shop.campaigns.audience(OWNER, same.id).steps()
    console.login("marketing")

    created = console.http.post(
        "/campaigns", data=_form(console, rule=RULE), follow_redirects=False
    )
    location = created.headers["location"]
    page = console.http.get(location)

    assert created.status_code == 303 and re.fullmatch(r"/campaigns/\d+", location)
    campaign = shop.campaigns.get(OWNER, int(location.rsplit("/", 1)[1]))
    assert (campaign.audience, campaign.status) == ({"rule": json.loads(RULE)}, "draft")
    assert expected[0][1] > 0
    shown = re.findall(r'<tr><th scope="row">(\w+)</th><td>(\d+)</td></tr>', page.text)
    assert [(step, int(n)) for step, n in shown][:4] == expected[:4]
    assert "nothing is sent yet" in page.text


def test_a_bad_rule_comes_back_in_the_form_with_what_is_wrong_and_what_was_typed(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("marketing")
    broken = '{"all": [{"score": "loyalty.orders", "op": ">="'
    unknown = '{"score": "no such thing <b>", "op": ">", "value": 1}'

    not_json = console.http.post("/campaigns", data=_form(console, rule=broken))
    not_a_rule = console.http.post("/campaigns", data=_form(console, rule=unknown))
    no_rule = console.http.post("/campaigns", data=_form(console, rule="  "))
    no_segment = console.http.post(
        "/campaigns", data=_form(console, audience_kind="segment", segment="nope")
    )

    assert not_json.status_code == 400
    assert "audience rule: not valid JSON (line 1, column 48)" in not_json.text
    assert 'id="new-campaign"' in not_json.text
    assert "&#34;op&#34;: &#34;&gt;=&#34;</textarea>" in not_json.text  # kept, escaped
    assert 'value="rule" checked' in not_json.text
    assert not_a_rule.status_code == 400
    assert "audience.rule.score: must name a learned figure" in not_a_rule.text
    assert "no such thing &lt;b&gt;" in not_a_rule.text and "<b>" not in not_a_rule.text
    assert "audience rule: give a condition as JSON" in no_rule.text
    assert no_segment.status_code == 404
    assert "audience.segment: no such segment" in no_segment.text
    assert shop.campaigns.list(OWNER) == []


def test_previewing_a_customer_typed_wrong_keeps_the_campaign_page_and_says_why(
    console: ConsoleClient, shop: Services
) -> None:
    segment = max(shop.segments.list(OWNER), key=lambda s: s.size)
    campaign = shop.campaigns.create(
        OWNER,
        name="Autumn",
        purpose="marketing_email",
        channel="email",
        audience={"segment": segment.id},
        subject="Autumn",
        body="Hello",
    )
    console.login("marketing")

    page = console.http.get(f"/campaigns/{campaign.id}", params={"customer": "nobody@nowhere"})

    assert page.status_code == 200
    assert "Autumn" in page.text and '<th scope="row">consent</th>' in page.text
    assert re.search(r'id="preview-error">[^<]*no such customer', page.text)
    assert 'value="nobody@nowhere"' in page.text


def test_sending_from_the_console_says_what_the_send_did_and_why_it_stopped(
    shop: Services,
) -> None:
    services = campaign_services(shop, free_port())  # no SMTP server there
    segment = max(services.segments.list(OWNER), key=lambda s: s.size)
    for member in services.segments.members(OWNER, segment.id, 1000).customers:
        services.consents.change(OWNER, member, {"marketing_email": True})
    campaign = services.campaigns.create(
        OWNER,
        name="Winter",
        purpose="marketing_email",
        channel="email",
        audience={"segment": segment.id},
        subject="Winter",
        body="Hello",
        control_share=0.5,
    )
    app = create_app(services.settings, services)
    with TestClient(app, base_url="https://testserver") as client:
        console = ConsoleClient(client)
        console.login("marketing")

        page = console.http.post(
            f"/campaigns/{campaign.id}/send", data={"csrf_token": console.csrf}
        )
        again = console.http.get(f"/campaigns/{campaign.id}")

    funnel = services.campaigns.audience(OWNER, campaign.id)
    said = re.search(r'<p class="done" role="status">([^<]*)</p>', page.text)
    warned = re.search(r'<p class="warning" role="alert">([^<]*)</p>', page.text)
    assert said is not None and warned is not None
    assert said.group(1) == (
        f"Sent: 0 sent, {funnel.treatment} failed, 0 sent before; {funnel.treatment} treatment, "
        f"{funnel.control} control."
    )
    assert warned.group(1) == (
        "Stopped: cannot reach the SMTP server 127.0.0.1:"
        f"{services.settings.campaigns.smtp_port} (connection refused); send again once it "
        "answers."
    )
    assert 'role="status"' not in again.text and 'role="alert"' not in again.text  # said once
