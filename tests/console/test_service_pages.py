"""The service dashboard and the public survey page: in-process, and in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from cornerstore.access.caller import system_caller
from cornerstore.services import Services
from tests.console.conftest import (
    ConsoleClient,
    LiveConsole,
    check_accessibility,
    login,
    screenshot,
)
from tests.outcomes.cases import customer, file_case

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
PERIOD = "from=2026-03-01&to=2026-03-29"


def three_weeks_of_cases(services: Services) -> None:
    ann = customer(services, "ann.outcomes@example.com")
    bob = customer(services, "bob.outcomes@example.com")
    for week in range(3):
        opened = MONDAY + timedelta(weeks=week)
        file_case(services, ann, opened, resolved=opened + timedelta(hours=4 + week))
        file_case(services, bob, opened + timedelta(days=1), category="<b>billing</b>")


def test_support_sees_the_outcomes_their_intervals_the_breakdown_and_the_trend(
    console: ConsoleClient, shop: Services
) -> None:
    three_weeks_of_cases(shop)
    console.login("support")

    page = console.http.get(f"/service?{PERIOD}&by=category")

    assert page.status_code == 200
    assert 'href="/service"' in page.text  # in the navigation
    assert "First-contact resolution" in page.text
    assert "<strong>50%</strong>" in page.text  # 3 of 6 resolved
    assert "&lt;b&gt;billing&lt;/b&gt;" in page.text and "<b>billing</b>" not in page.text
    assert page.text.count("<polyline") == 2  # resolution and first contact, by week
    assert "Response time (reported, not a goal)" in page.text


def test_roles_without_the_figures_get_no_link_and_a_refusal(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("shipping")

    home = console.http.get("/customers")
    page = console.http.get("/service")

    assert 'href="/service"' not in home.text
    assert page.status_code == 403
    assert "service_metrics" in page.text


def test_a_wrong_date_or_breakdown_is_a_400_page_naming_the_field(console: ConsoleClient) -> None:
    console.login("owner")

    date = console.http.get("/service?from=yesterday")
    by = console.http.get("/service?by=colour")

    assert date.status_code == by.status_code == 400
    assert "rom: a date such as 2026-03-01" in date.text
    assert "y: must be one of" in by.text and "colour" not in by.text


def test_a_customer_answers_through_the_link_without_logging_in(
    console: ConsoleClient, shop: Services
) -> None:
    three_weeks_of_cases(shop)
    links = shop.outcomes.send_surveys(system_caller())
    path = "/" + links[0].url.split("/", 3)[3]

    form = console.http.get(path)
    sent = console.http.post(path, data={"resolved": "yes", "score": "5"})
    again = console.http.get(path)
    forged = console.http.get(path[:-2] + "xx")

    assert form.status_code == 200 and "Was your problem resolved?" in form.text
    assert sent.status_code == 200 and "Thank you: your answer is with us." in sent.text
    assert "answered already" in again.text
    assert forged.status_code == 404


def test_the_dashboard_in_a_browser_has_no_serious_accessibility_problem(
    page: Any, live: LiveConsole
) -> None:
    three_weeks_of_cases(live.services)
    (link,) = [s for s in live.services.outcomes.send_surveys(system_caller()) if s.case_id][:1]
    login(page, "support")

    page.get_by_role("link", name="Service").click()
    page.get_by_role("heading", name="Service outcomes").wait_for()
    page.get_by_label("Cases opened from").fill("2026-03-01")
    page.get_by_label("to", exact=True).fill("2026-03-29")
    page.get_by_label("Broken down by").select_option("week")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name="By week", exact=True).wait_for()
    screenshot(page, "service")
    dashboard = check_accessibility(page)
    page.goto(re.sub(r"^https?://[^/]+", "", link.url))
    page.get_by_label("Yes").check()
    page.get_by_label("How satisfied").select_option("4")
    survey = check_accessibility(page)
    screenshot(page, "feedback")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Thank you: your answer is with us.").wait_for()

    assert dashboard == [] and survey == []
