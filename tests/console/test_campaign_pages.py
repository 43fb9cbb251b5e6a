"""The campaign pages without a browser: create from the form, the funnel before sending, a
preview, the export download, recipients with states, and who may see them."""

from __future__ import annotations

import re

from cornerstore.access.caller import system_caller
from cornerstore.services import Services
from tests.console.conftest import ConsoleClient

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
            "control_percent": "20",
        },
        follow_redirects=False,
    )
    location = created.headers["location"]
    page = console.http.get(location)
    preview = console.http.get(location, params={"customer": customer})
    download = console.http.post(f"{location}/send", data={"csrf_token": console.csrf})
    after = console.http.get(location)

    assert 'href="/campaigns"' in listing.text and "New campaign" in listing.text
    assert created.status_code == 303 and re.fullmatch(r"/campaigns/\d+", location)
    assert "Winter &lt;b&gt;tea&lt;/b&gt;" in page.text
    assert "nothing is sent yet" in page.text and '<th scope="row">consent</th>' in page.text
    assert "Hello there, code PREVIEW-CODE" in preview.text
    assert download.headers["content-type"].startswith("text/csv")
    assert download.text.startswith("customer_id,email,subject,text,html,coupon,unsubscribe_url")
    assert 'id="recipients"' in after.text
    assert "<td>held_out</td>" in after.text and "<td>sent</td>" in after.text
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
