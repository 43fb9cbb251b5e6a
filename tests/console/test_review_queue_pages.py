"""The review queue a page at a time without a browser: twenty pairs a page with the count
waiting, next and previous links, a decision that keeps the reviewer on the page (with and
without htmx), the empty queue, escaped names and a bad cursor."""

from __future__ import annotations

import html
import re

from cornerstore.services import Services
from tests.console.conftest import ConsoleClient
from tests.identity.resolution.queued import WEIGHTS, queue_pairs

HTMX = {"HX-Request": "true"}
DASH = "\N{EN DASH}"


def shown(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="section review" id="review-(\d+)"', text)]


def link(text: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" id="queue-\w+" rel="{rel}"', text)
    return html.unescape(found.group(1)) if found else None


def test_the_queue_shows_twenty_pairs_a_page_the_count_and_the_way_on(
    console: ConsoleClient, shop: Services
) -> None:
    expected = queue_pairs(shop, WEIGHTS)
    console.login("support")

    first = console.http.get("/reviews")
    next_url = link(first.text, "next")
    assert next_url is not None
    second = console.http.get(next_url)
    previous_url = link(second.text, "prev")
    assert previous_url is not None
    back = console.http.get(previous_url)

    assert (first.status_code, second.status_code, back.status_code) == (200, 200, 200)
    assert shown(first.text) == expected[:20]
    assert f"<strong>26 pairs waiting</strong>; these are 1{DASH}20, strongest first." in first.text
    assert link(first.text, "prev") is None
    assert shown(second.text) == expected[20:]
    assert f"<strong>26 pairs waiting</strong>; these are 21{DASH}26, strongest" in second.text
    assert link(second.text, "next") is None
    assert shown(back.text) == expected[:20]


def test_a_decision_on_the_second_page_without_javascript_returns_to_that_page(
    console: ConsoleClient, shop: Services
) -> None:
    expected = queue_pairs(shop, WEIGHTS * 2)
    console.login("support")
    next_url = link(console.http.get("/reviews").text, "next")
    assert next_url is not None
    after = next_url.removeprefix("/reviews?after=")
    page = console.http.get(next_url)
    first = shown(page.text)[0]
    form = page.text.split(f'action="/reviews/{first}/reject"')[1].split("</form>")[0]

    rejected = console.http.post(
        f"/reviews/{first}/reject",
        data={"csrf_token": console.csrf, "after": after},
        follow_redirects=False,
    )
    again = console.http.get(rejected.headers["location"])

    assert f'<input type="hidden" name="after" value="{after}">' in form
    assert (rejected.status_code, rejected.headers["location"]) == (303, next_url)
    assert shown(again.text) == expected[21:41]
    assert f"<strong>51 pairs waiting</strong>; these are 21{DASH}40, strongest" in again.text


def test_paging_with_htmx_swaps_in_the_queue_alone_and_a_decision_updates_the_count(
    console: ConsoleClient, shop: Services
) -> None:
    expected = queue_pairs(shop, WEIGHTS)
    console.login("support")
    next_url = link(console.http.get("/reviews").text, "next")
    assert next_url is not None

    swapped = console.http.get(next_url, headers=HTMX)
    restored = console.http.get(next_url, headers={**HTMX, "HX-History-Restore-Request": "true"})
    decided = console.http.post(
        f"/reviews/{expected[20]}/reject", headers={**HTMX, "X-CSRF-Token": console.csrf}
    )

    assert swapped.text.lstrip().startswith('<section id="queue"')
    assert '<h2 id="queue-heading" tabindex="-1" autofocus>' in swapped.text
    assert shown(swapped.text) == expected[20:] and "Recent merges" not in swapped.text
    assert restored.text.lstrip().startswith("<!doctype html>") and "Recent merges" in restored.text
    assert '<p id="queue-summary" hx-swap-oob="true"><strong>25 pairs waiting</strong>.</p>' in (
        decided.text
    )


def test_the_empty_queue_says_nothing_is_waiting(console: ConsoleClient, shop: Services) -> None:
    console.login("support")

    page = console.http.get("/reviews")

    assert page.status_code == 200
    assert "Nothing is waiting. New pairs arrive as customers do." in page.text
    assert shown(page.text) == [] and 'class="pager"' not in page.text


def test_customer_names_on_a_page_are_text_never_markup(
    console: ConsoleClient, shop: Services
) -> None:
    queue_pairs(shop, [1.0, 2.0], name="<img src=x onerror=alert(1)>")
    console.login("support")

    page = console.http.get("/reviews")

    assert "&lt;img src=x onerror=alert(1)&gt;0" in page.text
    assert "<img src=x" not in page.text


def test_a_cursor_the_queue_did_not_give_is_a_400_page_that_does_not_repeat_it(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("support")

    forged = console.http.get("/reviews", params={"after": "MS41LzkyMjMzNzIwMzY4NTQ3NzU4MDg"})
    malformed = console.http.get("/reviews", params={"before": "<b>x</b>"})

    assert (forged.status_code, malformed.status_code) == (400, 400)
    assert "After: not a cursor of the review queue." in forged.text
    assert "MS41LzkyMjMzNzIwMzY4NTQ3NzU4MDg" not in forged.text
    assert "&lt;b&gt;" not in malformed.text and "<b>x</b>" not in malformed.text
