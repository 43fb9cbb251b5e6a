"""The identity review queue without a browser: decisions, undo, roles and CSRF."""

from __future__ import annotations

import re

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.services import Services
from tests.console.conftest import ConsoleClient
from tests.console.pairs import queue_pair
from tests.identity.resolution.stored import NAMED, message, move_robert, queue_robert_and_bob

HTMX = {"HX-Request": "true"}
OWNER = system_caller()


def test_the_queue_shows_both_profiles_and_every_fields_weight(
    console: ConsoleClient, shop: Services
) -> None:
    review_id, left, right = queue_pair(shop)
    console.login("support")

    page = console.http.get("/reviews")

    assert page.status_code == 200
    assert f'id="review-{review_id}"' in page.text
    assert f'href="/customers/{left}"' in page.text and f'href="/customers/{right}"' in page.text
    weights = re.findall(r'<td class="(?:for|against)">([^<]+)</td>', page.text)
    assert weights == ["+3.2", "+4.1", "+6.5", "-2.0"]


def test_the_queue_shows_the_evidence_against_from_the_customers_other_records(
    console: ConsoleClient, shop: Services
) -> None:
    for source, record_id, fields in NAMED:
        if record_id in ("robert", "bob"):
            shop.intake.ingest([message(record_id, **fields)], source=source)
    move_robert(shop)
    shop.identity.train(OWNER)
    robert, _ = queue_robert_and_bob(shop)
    console.login("support")

    page = console.http.get("/reviews")

    assert page.status_code == 200
    review = page.text.split(f'href="/customers/{robert}"')[1].split("</article>")[0]
    against = review.split("<caption>Evidence against: other records of the two disagree</caption>")
    assert len(against) == 2
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>', against[1]
    )
    assert ("address", "12 high st", "7 elm rd") in rows or (
        "address",
        "7 elm rd",
        "12 high st",
    ) in rows


def test_accepting_merges_the_pair_and_the_recent_merges_offer_its_undo(
    console: ConsoleClient, shop: Services
) -> None:
    review_id, left, right = queue_pair(shop)
    console.login("support")

    accepted = console.http.post(
        f"/reviews/{review_id}/accept", headers={**HTMX, "X-CSRF-Token": console.csrf}
    )
    merged = {shop.profiles.get(OWNER, ref).id for ref in (left, right)}
    merge_id = int(re.findall(r'action="/reviews/merges/(\d+)/undo"', accepted.text)[0])
    undone = console.http.post(
        f"/reviews/merges/{merge_id}/undo", headers={**HTMX, "X-CSRF-Token": console.csrf}
    )

    assert accepted.status_code == 200
    assert f"Pair {review_id} accepted" in accepted.text
    assert 'id="recent-merges" aria-labelledby="recent-heading" hx-swap-oob="true"' in (
        accepted.text
    )
    assert undone.status_code == 200
    assert f"Merge {merge_id} was undone" in undone.text
    assert len(merged) == 1
    assert {shop.profiles.get(OWNER, ref).id for ref in (left, right)} == {left, right}


def test_rejecting_keeps_the_two_apart(console: ConsoleClient, shop: Services) -> None:
    review_id, _, _ = queue_pair(shop)
    console.login("owner")

    rejected = console.http.post(
        f"/reviews/{review_id}/reject", data={"csrf_token": console.csrf}, follow_redirects=False
    )

    assert (rejected.status_code, rejected.headers["location"]) == (303, "/reviews")
    assert shop.identity.pending(OWNER, 10) == []


@pytest.mark.parametrize("role", ["shipping", "marketing", "analyst", "billing"])
def test_roles_without_merges_get_the_403_page_and_no_link(
    console: ConsoleClient, shop: Services, role: str
) -> None:
    review_id, _, _ = queue_pair(shop)
    console.login(role)

    page = console.http.get("/reviews")
    accept = console.http.post(f"/reviews/{review_id}/accept", data={"csrf_token": console.csrf})
    search = console.http.get("/customers")

    assert (page.status_code, accept.status_code) == (403, 403)
    assert "Not for your role" in page.text
    assert 'href="/reviews"' not in search.text
    assert len(shop.identity.pending(OWNER, 10)) == 1


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_a_decision_without_the_csrf_token_is_refused(
    console: ConsoleClient, shop: Services, action: str
) -> None:
    review_id, _, _ = queue_pair(shop)
    console.login("support")

    refused = console.http.post(f"/reviews/{review_id}/{action}", headers=HTMX)

    assert refused.status_code == 403
    assert "CSRF token missing or wrong" in refused.text
    assert len(shop.identity.pending(OWNER, 10)) == 1


def test_an_undo_without_the_csrf_token_is_refused(console: ConsoleClient, shop: Services) -> None:
    merge = shop.identity.recent_merges(OWNER, 1)[0]
    console.login("support")

    refused = console.http.post(f"/reviews/merges/{merge.id}/undo")

    assert refused.status_code == 403
    assert shop.identity.recent_merges(OWNER, 1)[0].undone_at is None


def test_a_customers_merge_history_is_listed_by_any_identifier(
    console: ConsoleClient, shop: Services
) -> None:
    merge = shop.identity.recent_merges(OWNER, 1)[0]
    console.login("support")

    page = console.http.get("/reviews", params={"customer": merge.winner_id})

    assert page.status_code == 200
    assert f'action="/reviews/merges/{merge.id}/undo"' in page.text
    assert "Merges involving this customer" in page.text


def test_deciding_a_decided_pair_answers_htmx_with_one_line_in_place(
    console: ConsoleClient, shop: Services
) -> None:
    review_id, _, _ = queue_pair(shop)
    console.login("support")
    headers = {**HTMX, "X-CSRF-Token": console.csrf}
    console.http.post(f"/reviews/{review_id}/reject", headers=headers)

    again = console.http.post(f"/reviews/{review_id}/accept", headers=headers)

    assert again.status_code == 409
    assert not again.text.lstrip().startswith("<!doctype")
    assert f"Review {review_id}: already rejected." in again.text
