"""The next best action on the customer page: for the roles that may read it, in words."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from cornerstore.api import create_app
from cornerstore.demo.staff import add_demo_staff
from cornerstore.services import Services
from tests.actions.shop import open_action_shop, root_of, vip_due_for_a_teapot_today
from tests.console.conftest import ConsoleClient


def section(html: str) -> str | None:
    found = re.search(r'<section class="section" id="next-actions".*?</section>', html, re.S)
    return found.group(0) if found else None


@pytest.mark.usefixtures("fast_hashing")
def test_the_customer_page_shows_the_next_best_action_to_the_roles_that_may_read_it(
    services: Services,
) -> None:
    open_action_shop(services)
    vip_due_for_a_teapot_today(services)
    add_demo_staff(services.staff)
    vip = root_of(services, "vip")
    pages = {}
    with TestClient(create_app(services.settings, services), base_url="https://testserver") as c:
        console = ConsoleClient(c)
        for role in ("support", "marketing", "shipping"):
            console.login(role)
            pages[role] = c.get(f"/customers/{vip}").text

    support, marketing = section(pages["support"]), section(pages["marketing"])
    assert support is not None and marketing is not None
    assert (
        '<b>call</b> <span class="muted">by phone</span>: high value, slipping away, '
        "unresolved delivery complaint" in support
    )
    assert "a complaint is open: no marketing until it is resolved" in support
    # Marketing may not read cases: the complaint is there, its category is not.
    assert "high value, slipping away, unresolved complaint" in marketing
    assert "delivery" not in marketing
    assert section(pages["shipping"]) is None and "Next best action" not in pages["shipping"]
