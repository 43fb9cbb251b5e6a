"""The contact centre in a real browser: support takes a case from the queue, replies, asks
for a refund above their limit; the supervisor approves it in one click."""

from __future__ import annotations

from typing import Any

from cornerstore.access.caller import system_caller
from cornerstore.cases.model import CaseFilter
from tests.console.conftest import (
    ANN,
    CASE_TEXT,
    LiveConsole,
    check_accessibility,
    login,
    screenshot,
)


def test_support_answers_a_case_and_a_supervisor_approves_the_refund(
    page: Any, live: LiveConsole
) -> None:
    [case] = live.services.cases.find(system_caller(), CaseFilter(), customer=ANN.email)
    login(page, "support")

    page.get_by_role("link", name="Cases").click()
    page.get_by_role("heading", name="Cases", level=1).wait_for()
    assert check_accessibility(page) == []
    screenshot(page, "cases-queue")
    page.get_by_role("button", name=f"Take case {case.id}").click()
    page.get_by_role("link", name=f"#{case.id}").click()
    page.get_by_role("heading", name="Conversation").wait_for()
    assert page.locator("#conversation").get_by_text(CASE_TEXT).is_visible()
    assert page.get_by_text(ANN.email).is_visible()
    page.get_by_label("Write").fill("Sorry about the kettle: a refund is on its way.")
    page.get_by_role("button", name="Add").click()
    page.get_by_text("Sorry about the kettle").wait_for()
    page.get_by_label("Remedy").select_option("refund")
    page.get_by_label("Amount").fill("42.50")
    page.get_by_role("button", name="Give it").click()
    page.get_by_text("waiting for a supervisor").wait_for()
    assert check_accessibility(page) == []
    screenshot(page, "case-support")
    page.get_by_role("button", name="Log out").click()

    login(page, "supervisor")
    page.goto("/cases")
    page.get_by_role("button", name=f"Approve refund 42.50 on case {case.id}").click()
    page.get_by_role("heading", name="Cases", level=1).wait_for()
    page.goto(f"/cases/{case.id}")

    assert page.get_by_text("granted by demo-supervisor").is_visible()
    assert page.get_by_role("heading", name="Value, loyalty and churn risk").is_visible()
    screenshot(page, "case-supervisor")
    detail = live.services.cases.get(system_caller(), case.id)
    assert [(r.kind, r.amount, r.status) for r in detail.remedies] == [("refund", 42.5, "granted")]
    assert detail.case.owner == "demo-support"
