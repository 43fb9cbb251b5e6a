"""The console in a real browser (Debian's Chromium): what a member of staff sees and does.

Every test's page fails it on a request that leaves 127.0.0.1, a CSP violation or a script
error (see the ``page`` fixture).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.settings import AccessRules
from tests.console.conftest import (
    ANN,
    CASE_TEXT,
    DEMO_ROLES,
    DESKTOP,
    SUPPORT_SECTIONS,
    LiveConsole,
    Recorder,
    check_accessibility,
    login,
    screenshot,
)


def ann_page(live: LiveConsole) -> str:
    return f"/customers/{live.services.profiles.get(system_caller(), ANN.email).id}"


def h2s(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("h2").all_inner_texts()]


@pytest.mark.parametrize("role", DEMO_ROLES)
def test_each_role_logs_in_and_lands_on_the_customer_search(page: Any, role: str) -> None:
    login(page, role)

    assert page.url.endswith("/customers")
    assert page.get_by_role("heading", name="Customers").is_visible()
    assert page.get_by_text(f"Demo {role}").is_visible()


@pytest.mark.parametrize("query", [ANN.email, ANN.phone, "Anabel Whitfeld"])
def test_search_as_you_type_finds_ann_by_email_phone_and_a_misspelt_name(
    page: Any, query: str
) -> None:
    login(page, "support")

    page.get_by_label("Find a customer").press_sequentially(query, delay=20)

    # The address follows the box, so the back button and a bookmark keep the search; a
    # search typed on replaces the one in flight (hx-sync), so a slow answer to an earlier
    # prefix never lands last.
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query) == {"q": [query]})
    hit = page.locator("#results").get_by_role("link", name=f"{ANN.first_name} {ANN.last_name}")
    hit.wait_for()
    page.wait_for_load_state("networkidle")
    assert parse_qs(urlsplit(page.url).query) == {"q": [query]}
    assert hit.is_visible()


def test_support_opens_ann_and_sees_her_story(page: Any, live: LiveConsole) -> None:
    login(page, "support")
    page.goto("/customers?q=" + ANN.email)
    page.get_by_role("link", name=f"{ANN.first_name} {ANN.last_name}").click()

    page.get_by_role("heading", level=1).wait_for()
    assert h2s(page) == SUPPORT_SECTIONS
    # The support event on the timeline, and the case it opened in the Cases section.
    assert page.locator("#timeline-events").get_by_text(CASE_TEXT).is_visible()
    assert page.locator("#cases").get_by_text(CASE_TEXT).is_visible()
    screenshot(page, "customer-support")
    assert check_accessibility(page) == []


def test_shipping_sees_the_shipment_and_no_purchase_or_case(page: Any, live: LiveConsole) -> None:
    login(page, "shipping")
    page.goto(ann_page(live))

    assert h2s(page) == ["Who they are", "Timeline"]
    assert page.get_by_text("Shipment Dispatched").is_visible()
    html = page.content()
    assert "Order Completed" not in html and CASE_TEXT not in html and ANN.email not in html


def test_the_timeline_filter_swaps_in_one_department(page: Any, live: LiveConsole) -> None:
    login(page, "owner")
    page.goto(ann_page(live))

    page.get_by_label("Department", exact=True).select_option("shipping")

    from playwright.sync_api import expect

    events = page.locator("#timeline-events")
    expect(events).not_to_contain_text("Order Completed")
    expect(events.locator("tbody tr")).to_have_count(1)
    assert events.get_by_text("Shipment Dispatched").is_visible()


def test_a_prefilled_form_asks_only_what_is_unknown_and_lands_on_the_timeline(
    page: Any, live: LiveConsole
) -> None:
    login(page, "owner")
    page.goto(ann_page(live))
    page.get_by_role("link", name="Return").click()

    assert page.get_by_text(ANN.email).is_visible()  # known: shown, not asked
    assert page.get_by_label("Refund method").is_visible()  # unknown: asked
    screenshot(page, "form-returns")
    assert check_accessibility(page) == []
    page.get_by_label("Refund method").fill("store credit")
    page.get_by_label("Order number").fill("o-web-ann")
    page.get_by_label("Note").fill("Lid does not close")
    page.get_by_role("button", name="Record it").click()

    page.get_by_role("status").wait_for()
    timeline = page.locator("#timeline-events")
    assert timeline.get_by_text("Return Requested").first.is_visible()
    assert timeline.get_by_text("Lid does not close").is_visible()


def test_a_wrong_password_is_refused_and_repeated_ones_make_the_login_wait(page: Any) -> None:
    for _ in range(5):
        login(page, "support", password="not-the-password")
        assert page.get_by_role("alert").inner_text() == "Wrong username or password."

    login(page, "support")

    assert page.get_by_role("alert").inner_text().startswith("Too many failed logins.")
    assert page.url.endswith("/login")


def test_a_session_that_expires_sends_the_user_back_to_the_login(
    browser: Any, live_with: Any
) -> None:
    live = live_with(access=AccessRules(session_hours=2 / 3600))
    context = browser.new_context(base_url=live.base_url, viewport=DESKTOP)
    recorder = Recorder()
    context.route("**/*", recorder.route)
    page = context.new_page()
    login(page, "support")
    assert page.url.endswith("/customers")

    time.sleep(2.5)
    page.goto(ann_page(live))

    assert "/login?next=/customers/" in page.url
    login(page, "support")
    context.close()
    assert recorder.problems == []


def test_keyboard_only_from_login_to_search_to_customer_to_form(
    page: Any, live: LiveConsole
) -> None:
    page.goto("/login")
    page.keyboard.type("demo-owner")  # the username field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type("demo-owner-password")
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers")

    page.keyboard.press("Tab")  # skip link
    while page.evaluate("document.activeElement.id") != "q":
        page.keyboard.press("Tab")
    page.keyboard.type(ANN.email)
    # The last search's answer swaps the results in: wait for it, not an earlier prefix's.
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query) == {"q": [ANN.email]})
    page.wait_for_load_state("networkidle")
    page.locator("#results a").first.wait_for()
    page.keyboard.press("Tab")  # the Search button
    page.keyboard.press("Tab")  # the first hit
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers/cus_*")

    while page.evaluate("document.activeElement.textContent.trim()") != "Contact":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/forms/contact")
    while page.evaluate("document.activeElement.name") != "note":
        page.keyboard.press("Tab")
    page.keyboard.type("Phoned about opening hours")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    page.get_by_role("status").wait_for()
    assert page.locator("#timeline-events").get_by_text("Phoned about opening hours").is_visible()


@pytest.mark.parametrize("role", ["owner", "analyst"])
def test_the_pages_have_no_serious_accessibility_problem(
    page: Any, live: LiveConsole, role: str
) -> None:
    page.goto("/")
    assert page.url.endswith("/login")
    assert check_accessibility(page) == []
    screenshot(page, "login")
    login(page, role)
    if role == "owner":
        page.get_by_label("Find a customer").fill("Whitfield")
        page.locator("#results a").first.wait_for()
    screenshot(page, f"customers-{role}")
    assert check_accessibility(page) == []
    page.goto(ann_page(live))
    screenshot(page, f"customer-{role}")
    assert check_accessibility(page) == []


def test_a_request_for_another_host_is_stopped_and_would_fail_the_test(page: Any) -> None:
    page.goto("/login")

    with pytest.raises(Exception, match="ERR_FAILED"):
        page.goto("http://example.com/")

    assert page.recorder.problems == ["request left 127.0.0.1: http://example.com/"]
    page.recorder.problems.clear()  # seen; the fixture's own check would fail the test
