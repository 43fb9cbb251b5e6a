"""Every console page in a real browser: axe-core finds no serious or critical problem, for
each role that may open it, and each is photographed at desktop and tablet width (open the
screenshots folder and look). The ``page`` fixture fails a test whose page reached for another
host, broke the CSP or threw."""

from __future__ import annotations

from typing import Any

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.profiles.forms import FORM_QUESTIONS
from tests.console.conftest import (
    ANN,
    DESKTOP,
    LiveConsole,
    Recorder,
    check_accessibility,
    login,
    screenshot,
)
from tests.console.pairs import queue_pair

OWNER = system_caller()


def visit_all(page: Any, pages: dict[str, str], prefix: str) -> dict[str, list[Any]]:
    """Open each page, photograph it and run axe; the serious problems found, by page."""
    problems = {}
    for name, path in pages.items():
        answer = page.goto(path)
        assert answer is not None and answer.status < 500, (name, answer and answer.status)
        page.locator("main").wait_for()
        screenshot(page, f"{prefix}-{name}")
        problems[name] = check_accessibility(page)
    return problems


def test_every_owner_page_has_no_serious_accessibility_problem(
    page: Any, live: LiveConsole
) -> None:
    queue_pair(live.services)
    ann = live.services.profiles.get(OWNER, ANN.email).id
    pages = {
        "search": f"/customers?q={ANN.last_name}",
        "customer": f"/customers/{ann}",
        "timeline-filtered": f"/customers/{ann}?touchpoint=web#timeline",
        **{f"form-{form}": f"/customers/{ann}/forms/{form}" for form in sorted(FORM_QUESTIONS)},
        "reviews": f"/reviews?customer={ann}",
        "segments": "/segments",
        "users": "/admin/users",
        "keys": "/admin/keys",
        "audit": "/admin/audit",
        "privacy": "/admin/privacy",
        "erase": f"/admin/privacy/erase?customer={ann}",
        "not-found": "/customers/cus_0000000000000000",
    }
    login(page, "owner")

    problems = visit_all(page, pages, "owner")

    assert problems == {name: [] for name in pages}


@pytest.mark.parametrize("role", ["support", "shipping", "marketing", "analyst"])
def test_each_role_s_pages_have_no_serious_accessibility_problem(
    page: Any, live: LiveConsole, role: str
) -> None:
    ann = live.services.profiles.get(OWNER, ANN.email).id
    pages = {"customers": "/customers", "customer": f"/customers/{ann}"}
    if role == "analyst":
        pages["segments"] = "/segments"
    login(page, role)

    problems = visit_all(page, pages, role)

    assert problems == {name: [] for name in pages}


def test_the_first_login_page_asks_for_a_new_password_accessibly(
    browser: Any, live: LiveConsole
) -> None:
    issued = live.services.staff.create(OWNER, "pat", "support")
    context = browser.new_context(base_url=live.base_url, viewport=DESKTOP)
    recorder = Recorder()
    context.route("**/*", recorder.route)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password").fill(issued.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/password")

    screenshot(page, "password")
    problems = check_accessibility(page)
    context.close()

    assert problems == [] and recorder.problems == []
