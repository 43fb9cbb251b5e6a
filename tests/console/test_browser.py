"""The console in a real browser (Debian's Chromium): what a member of staff sees and does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import DEMO_ROLES, check_accessibility, login, screenshot


@pytest.mark.parametrize("role", DEMO_ROLES)
def test_each_role_logs_in_and_lands_on_the_customer_search(page: Any, role: str) -> None:
    login(page, role)

    assert page.url.endswith("/customers")
    assert page.get_by_role("heading", name="Customers").is_visible()
    assert page.get_by_text(f"Demo {role}").is_visible()


def test_the_login_page_has_no_serious_accessibility_problem(page: Any) -> None:
    page.goto("/")
    screenshot(page, "login")

    assert page.url.endswith("/login")
    assert check_accessibility(page) == []
