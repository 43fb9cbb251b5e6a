"""The contact centre in the console, in-process: the queue, the case page with the customer's
story, replies, assignment and remedies, each for the roles that may."""

from __future__ import annotations

import re

from cornerstore.access.caller import system_caller
from cornerstore.cases.model import CaseFilter
from cornerstore.cases.service import CaseUpdate
from cornerstore.services import Services
from tests.console.conftest import ANN, CASE_TEXT, MALLORY, ConsoleClient


def _ann_case(shop: Services) -> int:
    [case] = shop.cases.find(system_caller(), CaseFilter(), customer=ANN.email)
    return case.id


def test_the_queue_lists_the_open_and_waiting_cases_of_every_channel(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("support")
    case_id = _ann_case(shop)
    shop.cases.update(system_caller(), case_id, CaseUpdate(status="waiting"))

    page = console.http.get("/cases")
    resolved_only = console.http.get("/cases", params={"status": "resolved"})

    assert page.status_code == 200
    assert f'href="/cases/{case_id}"' in page.text
    assert f'href="/cases/{case_id}"' not in resolved_only.text
    # Customer data is text, never markup.
    assert "<script>alert(1)</script>" not in page.text
    nav = re.findall(r'<li><a href="(/[a-z]+)"', page.text)
    assert "/cases" in nav


def test_the_case_page_shows_the_story_and_a_reply_lands_on_the_case(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("support")
    case_id = _ann_case(shop)

    page = console.http.get(f"/cases/{case_id}")
    sent = console.http.post(
        f"/cases/{case_id}/messages",
        data={"body": "A new kettle is on its way", "kind": "reply", "csrf_token": console.csrf},
        follow_redirects=False,
    )
    taken = console.http.post(
        f"/cases/{case_id}/update",
        data={"take": "1", "csrf_token": console.csrf},
        follow_redirects=False,
    )

    assert page.status_code == 200
    for heading in ("Conversation", "Customer", "Make it right", "Their cases"):
        assert f">{heading}</h2>" in page.text
    assert CASE_TEXT in page.text and ANN.email in page.text
    # Support does not read scores: no value section.
    assert "Value, loyalty and churn risk" not in page.text
    assert (sent.status_code, taken.status_code) == (303, 303)
    detail = shop.cases.get(system_caller(), case_id)
    assert detail.messages[-1].body == "A new kettle is on its way"
    assert detail.case.owner == "demo-support"


def test_a_change_without_the_csrf_token_is_refused(console: ConsoleClient, shop: Services) -> None:
    console.login("support")
    case_id = _ann_case(shop)

    refused = console.http.post(f"/cases/{case_id}/messages", data={"body": "hi"})

    assert refused.status_code == 403
    assert len(shop.cases.get(system_caller(), case_id).messages) == 1


def test_support_asks_above_the_limit_and_the_supervisor_approves_in_one_click(
    console: ConsoleClient, shop: Services
) -> None:
    case_id = _ann_case(shop)
    console.login("support")
    console.http.post(
        f"/cases/{case_id}/remedies",
        data={"kind": "refund", "amount": "42.50", "csrf_token": console.csrf},
    )
    console.http.post("/logout", data={"csrf_token": console.csrf})
    console.login("supervisor")

    queue = console.http.get("/cases")
    [remedy] = shop.remedies.pending(system_caller())
    approved = console.http.post(
        f"/remedies/{remedy.id}/approve",
        data={"csrf_token": console.csrf, "back": "queue"},
        follow_redirects=False,
    )
    page = console.http.get(f"/cases/{case_id}")

    assert "Remedies waiting for approval" in queue.text
    assert approved.status_code == 303
    assert shop.remedies.pending(system_caller()) == []
    assert "Value, loyalty and churn risk" in page.text
    assert "refund 42.50" in page.text and "granted" in page.text


def test_roles_without_cases_get_no_queue(console: ConsoleClient, shop: Services) -> None:
    console.login("shipping")

    page = console.http.get("/cases")
    case = console.http.get(f"/cases/{_ann_case(shop)}")

    assert page.status_code == 403 and case.status_code == 403
    assert MALLORY.email not in page.text


def test_the_queue_names_the_customer_and_the_case_page_is_one_audit_entry(
    console: ConsoleClient, shop: Services
) -> None:
    console.login("supervisor")
    case_id = _ann_case(shop)
    root = shop.cases.get(system_caller(), case_id, audit=False).case.customer_id
    before = len(shop.audit.for_customer(root))

    queue = console.http.get("/cases")
    page = console.http.get(f"/cases/{case_id}")

    assert f">{ANN.first_name} {ANN.last_name}</a>" in queue.text
    assert page.status_code == 200
    entries = shop.audit.for_customer(root)[before:]
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("user:demo-supervisor", "read_case", f"case {case_id}")
    ]
    assert {"cases", "name", "contact", "scores", "timeline.web"} <= set(entries[0].sections)
