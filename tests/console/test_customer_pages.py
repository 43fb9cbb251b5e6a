"""The customer pages without a browser: what each role's HTML holds (and does not hold at
all), search by the query's shape, escaping, the sections' time budget, audit and forms."""

from __future__ import annotations

import re

import pytest

from cornerstore.access.caller import Caller, system_caller
from cornerstore.errors import OverBudget
from cornerstore.services import Services
from tests.console.conftest import ANN, CASE_TEXT, MALLORY, SUPPORT_SECTIONS, ConsoleClient
from tests.console.test_sections import SlowRead


def ann_id(shop: Services) -> str:
    return shop.profiles.get(system_caller(), ANN.email).id


def headings(html: str) -> list[str]:
    return re.findall(r'<h2 id="[^"]+">([^<]+)</h2>', html)


def test_support_sees_the_whole_story_but_no_scores(console: ConsoleClient, shop: Services) -> None:
    console.login("support")

    html = console.http.get(f"/customers/{ann_id(shop)}").text

    assert headings(html) == SUPPORT_SECTIONS
    assert all(text in html for text in (ANN.first_name, ANN.email, "Order Completed", CASE_TEXT))


def test_shipping_sees_names_addresses_and_shipments_but_no_purchase_or_case(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("shipping")

    html = console.http.get(f"/customers/{ann_id(shop)}").text

    assert headings(html) == ["Who they are", "Timeline"]
    assert all(text in html for text in (ANN.first_name, "Kirkgate", "Shipment Dispatched"))
    assert not any(
        text in html for text in ("Order Completed", "Case Opened", CASE_TEXT, ANN.email, "42.5")
    )


def test_the_analyst_sees_a_pseudonym_and_no_name_or_contact(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("analyst")

    html = console.http.get(f"/customers/{ann_id(shop)}").text

    assert re.search(r"<code>psn_[0-9a-f]+</code>", html)
    assert not any(
        text in html
        for text in (ANN.first_name, ANN.last_name, ANN.email, ANN.phone, "Kirkgate", ANN.user_id)
    )


def test_the_analyst_opens_a_customer_by_the_pseudonym_shown_and_the_read_is_audited(
    console: ConsoleClient, shop: Services
) -> None:
    ann = ann_id(shop)
    console.login("analyst")
    by_id = console.http.get(f"/customers/{ann}").text
    [shown] = re.findall(r"<code>(psn_[0-9a-f]+)</code>", by_id)
    before = {e.id for e in shop.audit.for_customer(ann)}

    opened = console.http.get(f"/customers/{shown}")
    typed = console.http.get("/customers", params={"q": f" {shown} "})

    assert opened.status_code == 200 and typed.url.path == f"/customers/{shown}"
    assert headings(opened.text) == headings(by_id) and "Timeline" in headings(opened.text)
    assert f"<code>{shown}</code>" in opened.text
    assert ANN.first_name not in opened.text and ANN.email not in opened.text
    reads = [
        (e.actor, e.action, e.customer_id)
        for e in shop.audit.for_customer(ann)
        if e.id not in before and e.action == "read_customer_page"
    ]
    assert reads == [("user:demo-analyst", "read_customer_page", ann)] * 2


def test_a_pseudonym_opens_nothing_for_a_role_that_sees_real_ids(
    console: ConsoleClient, shop: Services
) -> None:
    analyst = Caller("ana", "analyst", "console")
    shown = shop.profiles.get(analyst, ann_id(shop)).id
    console.login("support")

    answer = console.http.get(f"/customers/{shown}")

    assert shown.startswith("psn_")
    assert answer.status_code == 404 and ANN.first_name not in answer.text


def test_marketing_sees_traits_only_of_customers_who_allow_personalisation(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("marketing")

    ann = console.http.get(f"/customers/{ann_id(shop)}").text
    mallory = console.http.get(f"/customers/{shop.profiles.get(system_caller(), MALLORY.email).id}")

    assert "loose-leaf tea" in ann
    assert "filter coffee" not in mallory.text
    assert ANN.first_name not in ann and ANN.email not in ann


def test_a_timeline_fragment_holds_only_what_the_role_may_read(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("shipping")
    fragment = {"HX-Request": "true"}

    events = console.http.get(f"/customers/{ann_id(shop)}/timeline", headers=fragment)
    refused = console.http.get(
        f"/customers/{ann_id(shop)}/timeline?touchpoint=web", headers=fragment
    )

    assert "<html" not in events.text and "Shipment Dispatched" in events.text
    assert "Order Completed" not in events.text
    assert refused.status_code == 403 and "Order Completed" not in refused.text


@pytest.mark.parametrize(
    ("query", "found_by"),
    [
        (ANN.email.upper(), "email"),
        ("+44 7700 900461", "phone"),
        ("Anabel Whitfeld", "similar name"),
    ],
)
def test_search_looks_where_the_query_s_shape_points(
    console: ConsoleClient, shop: Services, query: str, found_by: str
) -> None:
    console.login("support")

    response = console.http.get("/customers", params={"q": query}, headers={"HX-Request": "true"})

    assert response.status_code == 200 and "<html" not in response.text
    assert f'href="/customers/{ann_id(shop)}"' in response.text
    assert f"found by {found_by}" in response.text


def test_back_to_a_search_htmx_swapped_in_gets_the_whole_page(
    console: ConsoleClient, shop: Services
) -> None:
    # The search box pushes its URL; Back to it, when htmx's history cache misses, asks for
    # the page again with HX-History-Restore-Request and swaps the answer in as the body.
    console.login("support")
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

    response = console.http.get("/customers", params={"q": ANN.email}, headers=restore)

    assert response.status_code == 200 and "<html" in response.text
    assert f'href="/customers/{ann_id(shop)}"' in response.text


def test_a_customer_name_made_of_markup_shows_as_text(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("support")
    mallory = shop.profiles.get(system_caller(), MALLORY.email).id

    hits = console.http.get("/customers", params={"q": MALLORY.email}).text
    page = console.http.get(f"/customers/{mallory}").text

    for html in (hits, page):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_section_over_its_time_budget_shows_unavailable_and_its_query_is_stopped(
    shop: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from cornerstore.api import create_app

    settings = shop.settings.model_copy(update={"console_section_ms": 300})
    services = Services.build(settings, shop.store)
    slow = SlowRead(shop.store)
    monkeypatch.setattr(services.learner, "scores", lambda *args, **kwargs: slow())
    with TestClient(create_app(settings, services), base_url="https://testserver") as client:
        console = ConsoleClient(client)
        console.login("owner")
        html = client.get(f"/customers/{ann_id(shop)}").text

    value = html[html.index('id="value"') : html.index('id="activity"')]
    assert "Unavailable right now" in value
    assert ANN.first_name in html
    assert slow.ended.wait(60) and slow.raised == [OverBudget]


def test_a_page_view_is_one_audit_entry_with_its_sections_and_the_reason(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("shipping")
    customer = ann_id(shop)

    console.http.get(f"/customers/{customer}", params={"reason": "parcel returned"})

    entries = [e for e in shop.audit.for_customer(customer) if e.actor == "user:demo-shipping"]
    [read] = entries
    assert read.action == "read_customer_page"
    assert read.sections == ["addresses", "delivery_preferences", "name", "timeline.shipping"]
    assert read.reason == "parcel returned" and read.via == "console"


def test_a_form_without_the_csrf_token_is_refused_and_records_nothing(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("owner")
    customer = ann_id(shop)
    before = shop.profiles.timeline(system_caller(), customer, limit=1).events[0].id

    response = console.http.post(f"/customers/{customer}/forms/contact", data={"note": "hi"})

    assert response.status_code == 403
    assert shop.profiles.timeline(system_caller(), customer, limit=1).events[0].id == before


def test_a_submitted_form_reaches_the_timeline_through_intake_without_the_card_number(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("owner")
    customer = ann_id(shop)

    form = console.http.get(f"/customers/{customer}/forms/contact").text
    response = console.http.post(
        f"/customers/{customer}/forms/contact",
        data={
            "csrf_token": console.csrf,
            "note": "Asked about her order, paid with 4111 1111 1111 1111",
        },
        follow_redirects=False,
    )
    page = console.http.get(response.headers["location"]).text

    assert ANN.email in form and "web-shop" in form  # known, with its source
    assert response.status_code == 303
    event = shop.profiles.timeline(system_caller(), customer, limit=1).events[0]
    assert (event.name, event.touchpoint, event.source) == (
        "Customer Contacted",
        "store",
        "console",
    )
    assert "4111" not in str(event.properties)
    assert "Customer Contacted" in page and "The contact form was recorded" in page


JO_EMAIL = "ann.at.the.till@example.com"


def merge_a_second_profile_into_ann(shop: Services) -> tuple[str, str, int]:
    """A profile the till made for Ann under another e-mail, merged into hers by hand:
    Ann's id, the till profile's id and the merge's id."""
    from cornerstore.intake.service import Source
    from tests.factories import identify

    till = Source("till", "store")
    shop.intake.ingest([identify(anonymous_id="till-7", email=JO_EMAIL)], source=till)
    ann, jo = ann_id(shop), shop.profiles.get(system_caller(), JO_EMAIL).id
    record = shop.merges.merge(system_caller(), ann, jo)
    return ann, jo, record.id


def test_support_undoes_a_merge_from_the_customer_page(
    console: ConsoleClient, shop: Services
) -> None:
    ann, jo, merge_id = merge_a_second_profile_into_ann(shop)
    console.login("support")

    page = console.http.get(f"/customers/{ann}").text
    undone = console.http.post(
        f"/customers/{ann}/merges/{merge_id}/undo",
        data={"csrf_token": console.csrf},
        follow_redirects=False,
    )

    assert f'action="/customers/{ann}/merges/{merge_id}/undo"' in page
    assert undone.status_code == 303
    assert shop.profiles.get(system_caller(), JO_EMAIL).id == jo
    assert "was undone" in console.http.get(undone.headers["location"]).text


def test_shipping_is_offered_no_undo_and_refused_one(
    console: ConsoleClient, shop: Services
) -> None:
    ann, _, merge_id = merge_a_second_profile_into_ann(shop)
    console.login("shipping")

    page = console.http.get(f"/customers/{ann}").text
    refused = console.http.post(
        f"/customers/{ann}/merges/{merge_id}/undo", data={"csrf_token": console.csrf}
    )

    assert "/undo" not in page
    assert refused.status_code == 403
    assert shop.profiles.get(system_caller(), JO_EMAIL).id == ann


@pytest.mark.usefixtures("fast_hashing")
def test_each_role_s_page_holds_only_its_sections_on_sqlite_and_postgresql(
    services: Services,
) -> None:
    from fastapi.testclient import TestClient

    from cornerstore.api import create_app
    from cornerstore.demo.staff import add_demo_staff
    from tests.console.conftest import add_known_shoppers

    add_known_shoppers(services)
    add_demo_staff(services.staff)
    ann = ann_id(services)
    seen = {}
    with TestClient(create_app(services.settings, services), base_url="https://testserver") as c:
        console = ConsoleClient(c)
        for role in ("support", "shipping", "analyst"):
            console.login(role)
            html = c.get(f"/customers/{ann}").text
            seen[role] = (headings(html), ANN.first_name in html, CASE_TEXT in html)

    assert seen == {
        "support": (
            SUPPORT_SECTIONS,
            True,
            True,
        ),
        "shipping": (["Who they are", "Timeline"], True, False),
        "analyst": (
            [
                "Who they are",
                "Value, loyalty and churn risk",
                "Activity",
                "Recent moments",
                "Segments",
                "Timeline",
            ],
            False,
            False,
        ),
    }


def test_an_email_shaped_query_finds_the_email_s_owner_not_an_id_that_looks_alike(
    shop: Services,
) -> None:
    from cornerstore.intake.service import Source
    from tests.factories import identify

    # A careless system used Ann's e-mail as another customer's user id.
    shop.intake.ingest([identify(ANN.email)], source=Source("old-till", "store"))

    hits = shop.profiles.search(system_caller(), ANN.email)

    assert [(h.id, h.matched) for h in hits] == [(ann_id(shop), "email")]
