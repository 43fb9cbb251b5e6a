"""The paged review queue in a real browser (Debian's Chromium): paging with htmx by keyboard,
a decision on the second page that keeps the reviewer there, the same without JavaScript,
and axe-core on the pages' states (first, second, past the end, empty)."""

from __future__ import annotations

from typing import Any

from cornerstore.access.caller import system_caller
from cornerstore.identity.resolution.review import Place
from tests.console.conftest import (
    DESKTOP,
    LiveConsole,
    Recorder,
    check_accessibility,
    login,
    screenshot,
)
from tests.identity.resolution.queued import WEIGHTS, queue_pairs

DASH = "\N{EN DASH}"
OWNER = system_caller()


def cards(page: Any) -> list[int]:
    ids = page.locator("article.review:not(.decided)").evaluate_all("els => els.map(e => e.id)")
    return [int(i.removeprefix("review-")) for i in ids]


def test_a_reviewer_pages_by_keyboard_decides_on_the_second_page_and_goes_back(
    page: Any, live: LiveConsole
) -> None:
    expected = queue_pairs(live.services, WEIGHTS, name="<b>Ann</b>")
    login(page, "support")
    page.goto("/reviews")

    page.get_by_role("link", name="Next pairs").focus()
    page.keyboard.press("Enter")
    page.get_by_text(f"these are 21{DASH}26").wait_for()
    focused = page.evaluate("document.activeElement.id")
    second_url = page.url
    page.locator(f"#review-{expected[20]}").get_by_role("button", name="Reject: two people").click()
    page.get_by_text(f"Pair {expected[20]} rejected").wait_for()
    # Settled: htmx gives the swapped-in card its own class a moment after the swap.
    page.locator(f"#review-{expected[20]}.decided").wait_for()
    page.get_by_text("25 pairs waiting").wait_for()

    assert focused == "queue-heading"
    assert "after=" in second_url and page.url == second_url
    assert cards(page) == expected[21:]
    # The names are shown as typed, never read as markup.
    assert page.get_by_text("<b>Ann</b>2").count() >= 1
    assert page.locator("main b").count() == 0
    page.go_back()
    page.get_by_text(f"these are 1{DASH}20").wait_for()
    assert cards(page) == expected[:20]


def test_the_first_and_second_pages_have_no_serious_accessibility_problem(
    page: Any, live: LiveConsole
) -> None:
    queue_pairs(live.services, WEIGHTS)
    login(page, "support")
    page.goto("/reviews")
    first = check_accessibility(page)
    screenshot(page, "reviews-page-1")

    page.get_by_role("link", name="Next pairs").click()
    page.get_by_text(f"these are 21{DASH}26").wait_for()
    second = check_accessibility(page)
    screenshot(page, "reviews-page-2")

    assert (first, second) == ([], [])


def test_without_javascript_a_decision_on_the_second_page_returns_to_it(
    browser: Any, live: LiveConsole
) -> None:
    expected = queue_pairs(live.services, WEIGHTS * 2)
    context = browser.new_context(
        base_url=live.base_url, viewport=DESKTOP, java_script_enabled=False
    )
    recorder = Recorder()
    context.route("**/*", recorder.route)
    page = context.new_page()
    try:
        login(page, "support")
        page.goto("/reviews")
        page.get_by_role("link", name="Next pairs").click()
        page.get_by_text(f"these are 21{DASH}40").wait_for()
        second_url = page.url
        page.locator(f"#review-{expected[20]}").get_by_role(
            "button", name="Reject: two people"
        ).click()
        page.get_by_text(f"these are 21{DASH}40").wait_for()

        assert page.url == second_url
        assert cards(page) == expected[21:41]
        page.get_by_role("link", name="Previous pairs").click()
        page.get_by_text(f"these are 1{DASH}20").wait_for()
        assert cards(page) == expected[:20]
    finally:
        context.close()
    assert recorder.problems == []


def test_the_empty_queue_and_a_page_past_the_end_read_well(page: Any, live: LiveConsole) -> None:
    login(page, "support")
    page.goto("/reviews")
    page.get_by_text("Nothing is waiting. New pairs arrive as customers do.").wait_for()
    empty_problems = check_accessibility(page)
    screenshot(page, "reviews-empty")
    stronger, weaker = queue_pairs(live.services, [2.0, 1.0])
    live.services.identity.decide(OWNER, weaker, accept=False)

    page.goto(f"/reviews?after={Place(2.0, stronger).cursor()}")
    page.get_by_text("No pairs past this point.").wait_for()
    past_problems = check_accessibility(page)
    screenshot(page, "reviews-past-the-end")
    page.get_by_role("link", name="Previous pairs").click()
    page.get_by_text(f"these are 1{DASH}1").wait_for()

    assert empty_problems == [] and past_problems == []
    assert page.get_by_text("1 pair waiting").count() == 1
    assert cards(page) == [stronger]
