"""The next best action on the customer page in a real browser (Debian's Chromium)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cornerstore.access.caller import system_caller
from tests.console.conftest import ANN, LiveConsole, check_accessibility, login, screenshot


def test_support_sees_the_call_a_customer_with_an_open_complaint_needs(
    page: Any, live: LiveConsole
) -> None:
    customer = live.services.profiles.get(system_caller(), ANN.email).id
    at = datetime.now(UTC)
    with live.services.store.unit_of_work(write=True) as uow:
        uow.cases.add(
            {
                "customer_id": customer,
                "channel": "phone",
                "status": "open",
                "category": "delivery",
                "priority": "normal",
                "subject": "parcel late",
                "opened_at": at,
                "updated_at": at,
                "reopened": 0,
                "created_by": "test",
            }
        )
    login(page, "support")

    page.goto(f"{live.base_url}/customers/{customer}")
    section = page.locator("#next-actions")
    section.get_by_text("unresolved delivery complaint").wait_for()
    screenshot(page, "customer-next-action")
    problems = check_accessibility(page)

    assert section.locator("li").first.inner_text().startswith("call by phone: ")
    assert problems == []
