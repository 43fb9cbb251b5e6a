"""The segments and value page without a browser: before and after learning, per role."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.services import Services
from tests.console.conftest import ConsoleClient

OWNER = system_caller()


def forget_learning(services: Services) -> None:
    """Back to a shop where nothing was learned yet (the demo shop is learned once built)."""
    with services.store.unit_of_work(write=True) as uow:
        uow.learning.replace_scores([], datetime.now(UTC))


def test_before_learning_the_owner_is_offered_learn_now_and_it_runs(
    console: ConsoleClient, shop: Services
) -> None:
    forget_learning(shop)
    console.login("owner")

    before = console.http.get("/segments")
    learned = console.http.post(
        "/segments/learn", data={"csrf_token": console.csrf}, follow_redirects=False
    )
    after = console.http.get("/segments")

    assert "Nothing learned yet" in before.text and 'action="/segments/learn"' in before.text
    assert (learned.status_code, learned.headers["location"]) == (303, "/segments")
    assert shop.learner.overview(OWNER).customers > 0
    assert "Value by segment" in after.text and "Nothing learned yet" not in after.text


def test_before_learning_the_analyst_is_told_to_ask_the_owner(
    console: ConsoleClient, shop: Services
) -> None:
    forget_learning(shop)
    console.login("analyst")

    page = console.http.get("/segments")

    assert "Ask the owner to press <strong>Learn now</strong>" in page.text
    assert 'action="/segments/learn"' not in page.text


def test_the_charts_carry_a_title_a_description_and_their_figures(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("marketing")

    page = console.http.get("/segments")

    titles = re.findall(r'<title id="(chart-[a-z]+)-title">', page.text)
    assert titles == ["chart-alive", "chart-tiers", "chart-retention"]
    assert page.text.count('role="img"') == 3 and page.text.count("<desc id=") == 3
    tiers = shop.learner.overview(OWNER).tiers
    for tier in tiers:
        assert f"<tr><td>{tier.label}</td><td>{tier.customers}</td></tr>" in page.text


def test_the_analyst_sees_members_as_pseudonyms_only(
    console: ConsoleClient, shop: Services
) -> None:
    segment = next(s for s in shop.segments.list(OWNER) if s.size)
    real = shop.segments.members(OWNER, segment.id, 1000).customers
    console.login("analyst")

    page = console.http.get("/segments", params={"segment": segment.id})

    shown = re.findall(r'<li><a href="/customers/(psn_[0-9a-f]+)">\1</a></li>', page.text)
    assert len(shown) == min(segment.size, 50)
    assert not any(customer in page.text for customer in real)
    assert page.text.count('href="/customers/') == len(shown)
    # Each member's link opens their page, under the same pseudonym.
    opened = console.http.get(f"/customers/{shown[0]}")
    assert opened.status_code == 200 and f"<code>{shown[0]}</code>" in opened.text


def test_learn_now_without_the_csrf_token_is_refused(
    console: ConsoleClient, shop: Services
) -> None:
    forget_learning(shop)
    console.login("owner")

    refused = console.http.post("/segments/learn")

    assert refused.status_code == 403
    assert shop.learner.overview(OWNER).customers == 0


@pytest.mark.parametrize("role", ["support", "shipping", "billing"])
def test_roles_without_scores_get_the_403_page_and_no_link(
    console: ConsoleClient, role: str
) -> None:
    console.login(role)

    page = console.http.get("/segments")
    learn = console.http.post("/segments/learn", data={"csrf_token": console.csrf})

    assert (page.status_code, learn.status_code) == (403, 403)
    assert 'href="/segments"' not in console.http.get("/customers").text
