"""The review queue, segments and the owner's pages in a real browser (Debian's Chromium)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.errors import NotFound
from tests.console.conftest import ANN, LiveConsole, check_accessibility, login, screenshot
from tests.console.pairs import queue_pair
from tests.console.test_segment_pages import forget_learning

OWNER = system_caller()


def test_a_merge_accepted_from_the_review_queue_can_be_undone(page: Any, live: LiveConsole) -> None:
    review_id, left, right = queue_pair(live.services)
    login(page, "support")

    page.get_by_role("link", name="Review").click()
    page.get_by_role("heading", name="Identity review").wait_for()
    screenshot(page, "reviews")
    problems = check_accessibility(page)
    card = page.locator(f"#review-{review_id}")
    card.get_by_role("button", name="Accept: one person").click()
    page.get_by_text(f"Pair {review_id} accepted").wait_for()
    merged = {live.services.profiles.get(OWNER, ref).id for ref in (left, right)}
    page.locator("#recent-merges tbody tr").first.get_by_role("button", name="Undo").click()
    page.get_by_text("was undone: both profiles are back").wait_for()

    assert problems == []
    assert len(merged) == 1
    assert {live.services.profiles.get(OWNER, ref).id for ref in (left, right)} == {left, right}


def test_the_owner_exports_and_then_erases_a_customer(
    page: Any, live: LiveConsole, tmp_path: Path
) -> None:
    customer = live.services.profiles.get(OWNER, ANN.email).id
    login(page, "owner")
    page.get_by_role("link", name="Owner").click()
    page.get_by_role("link", name="Privacy").click()
    page.get_by_role("heading", name="Privacy", exact=True).wait_for()
    screenshot(page, "admin-privacy")
    privacy_problems = check_accessibility(page)

    page.get_by_label("Customer id, e-mail or phone").fill(ANN.email)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the export").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    page.goto("/admin/privacy")
    page.get_by_label("Customer id", exact=True).fill(customer)
    page.get_by_role("button", name="Erase…").click()
    page.get_by_role("heading", name=f"Erase {customer}?").wait_for()
    confirm_problems = check_accessibility(page)
    screenshot(page, "admin-erase")
    page.get_by_label("Type the customer id").fill(customer)
    page.get_by_role("button", name="Erase for good").click()
    page.get_by_role("heading", name="Customer erased").wait_for()

    assert (privacy_problems, confirm_problems) == ([], [])
    assert json.loads(saved.read_text())["customer"]["id"] == customer
    assert page.get_by_text(f"{customer} is erased.").is_visible()
    with pytest.raises(NotFound):
        live.services.profiles.get(OWNER, customer)


def test_the_owner_creates_a_user_and_a_token_and_sees_each_secret_once(
    page: Any, live: LiveConsole
) -> None:
    login(page, "owner")
    page.get_by_role("link", name="Owner").click()
    page.get_by_role("heading", name="Users and roles").wait_for()
    users_problems = check_accessibility(page)

    page.get_by_label("Username").fill("pat")
    page.get_by_label("Display name").fill("Pat at the counter")
    page.get_by_label("Role", exact=True).select_option("support")
    page.get_by_role("button", name="Create the user").click()
    page.locator("code.once").wait_for()
    password = page.locator("code.once").inner_text()
    screenshot(page, "admin-users")
    # Post, redirect, get: reloading reads the page again, without the secret, and sends
    # nothing (pat is created once; the password shown still works below).
    page.reload()
    page.get_by_role("heading", name="Users and roles").wait_for()
    reloaded_secrets = page.locator("code.once").count()
    page.get_by_role("link", name="Keys and tokens").click()
    page.get_by_role("heading", name="Write keys and API tokens").wait_for()
    keys_problems = check_accessibility(page)
    page.get_by_label("Name", exact=True).nth(1).fill("reports")
    page.get_by_label("Role", exact=True).select_option("analyst")
    page.get_by_role("button", name="Create an API token").click()
    page.locator("code.once").wait_for()
    secret = page.locator("code.once").inner_text()
    screenshot(page, "admin-keys")
    page.goto("/admin/keys")

    assert (users_problems, keys_problems, reloaded_secrets) == ([], [], 0)
    assert [u.username for u in live.services.staff.list(OWNER)].count("pat") == 1
    assert live.services.staff.login("pat", password, None).user.role == "support"
    assert live.services.credentials.authenticate(secret).role == "analyst"
    assert page.locator("code.once").count() == 0
    assert (
        secret not in page.content()
        and page.get_by_role("cell", name="reports", exact=True).is_visible()
    )


def test_the_owner_learns_from_the_empty_segments_page_and_reads_the_audit_log(
    page: Any, live: LiveConsole
) -> None:
    forget_learning(live.services)
    login(page, "owner")
    page.get_by_role("link", name="Segments").click()
    page.get_by_role("heading", name="Nothing learned yet").wait_for()
    empty_problems = check_accessibility(page)
    page.get_by_role("button", name="Learn now").click()
    page.get_by_role("heading", name="Value by segment").wait_for()
    screenshot(page, "segments")
    segments_problems = check_accessibility(page)
    page.goto("/admin/audit?action=learn")
    page.get_by_role("heading", name="Audit log").wait_for()
    screenshot(page, "admin-audit")
    audit_problems = check_accessibility(page)

    assert (empty_problems, segments_problems, audit_problems) == ([], [], [])
    last = page.locator("tbody tr").last.locator("td").all_inner_texts()
    assert (last[1], last[2]) == ("user:demo-owner", "learn")
    assert live.services.learner.overview(OWNER).customers > 0


def test_the_analyst_reads_segments_with_pseudonyms_and_no_owner_link(
    page: Any, live: LiveConsole
) -> None:
    segment = next(s for s in live.services.segments.list(OWNER) if s.size)
    login(page, "analyst")

    page.get_by_role("link", name="Segments").click()
    page.get_by_role("link", name=segment.name).click()
    members = page.locator(".members li").all_inner_texts()
    segments_problems = check_accessibility(page)
    page.get_by_role("link", name=members[0]).click()
    page.wait_for_url(f"**/customers/{members[0]}")

    assert members and all(m.startswith("psn_") for m in members)
    assert page.get_by_role("link", name="Owner").count() == 0
    assert page.get_by_role("link", name="Review").count() == 0
    # The member's page, under the pseudonym the analyst was shown.
    assert page.locator("code", has_text=members[0]).count() == 1
    assert "Timeline" in [h.strip() for h in page.locator("h2").all_inner_texts()]
    assert (segments_problems, check_accessibility(page)) == ([], [])
