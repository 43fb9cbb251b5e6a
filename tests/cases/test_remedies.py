"""Remedies within limits, approval by someone else, timeline and audit, and the suggested
remedy; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.cases.model import CaseLink
from cornerstore.cases.service import CaseOpening, CaseUpdate, Sender
from cornerstore.cases.suggestion import RemedyFacts, suggest_remedy
from cornerstore.errors import Conflict, Forbidden, InvalidInput
from cornerstore.services import Services
from tests.cases.builders import SHOP, customer, staff
from tests.factories import track

OWNER = system_caller()
SAM = staff("support", "sam", user_id=None)
SUE = staff("supervisor", "sue")
SID = staff("supervisor", "sid")


def _case(services: Services, category: str = "damaged item", order: str | None = "A-1") -> int:
    links = (CaseLink("order", order),) if order else ()
    opening = CaseOpening(
        Sender(email="ann@example.com"), "phone", "Mug broken", category=category, links=links
    )
    return services.cases.open(OWNER, opening).case.id


def test_within_the_limit_a_remedy_is_granted_at_once(services: Services) -> None:
    case_id = _case(services)

    remedy = services.remedies.grant(SAM, case_id, "credit", 20)

    assert (remedy.status, remedy.amount, remedy.order_ref, remedy.decided_by) == (
        "granted",
        20.0,
        "A-1",
        "sam",
    )


def test_above_the_limit_a_supervisor_approves_and_nobody_approves_their_own(
    services: Services,
) -> None:
    case_id = _case(services)
    asked = services.remedies.grant(SAM, case_id, "refund", 45.5)
    big = services.remedies.grant(SUE, case_id, "refund", 250)

    assert (asked.status, big.status) == ("pending", "pending")
    assert [r.id for r in services.remedies.pending(SUE)] == [asked.id, big.id]
    with pytest.raises(Forbidden, match="their own"):
        services.remedies.decide(SUE, big.id, approve=True)
    with pytest.raises(Forbidden, match=r"above your limit of 200\.00"):
        services.remedies.decide(SID, big.id, approve=True)
    with pytest.raises(Forbidden, match=r"above your limit of 20\.00"):
        services.remedies.decide(staff("support", "tim"), asked.id, approve=True)

    approved = services.remedies.decide(SUE, asked.id, approve=True)
    refused = services.remedies.decide(SID, big.id, approve=False)

    assert (approved.status, approved.decided_by) == ("granted", "sue")
    assert (refused.status, refused.decided_by) == ("refused", "sid")
    with pytest.raises(Conflict, match="granted already"):
        services.remedies.decide(SID, asked.id, approve=False)


def test_every_remedy_is_on_the_timeline_linked_to_case_and_order_and_audited(
    services: Services,
) -> None:
    case_id = _case(services)
    asked = services.remedies.grant(SAM, case_id, "replacement", 30)
    services.remedies.decide(SUE, asked.id, approve=True)
    customer_id = services.cases.get(OWNER, case_id).case.customer_id

    timeline = services.profiles.timeline(OWNER, customer_id, touchpoints=["support"])
    remedies = [
        (e.name, e.properties) for e in timeline.events if (e.name or "").startswith("Remedy")
    ]
    expected = {"case_id": str(case_id), "remedy": "replacement", "amount": 30.0, "order_id": "A-1"}
    assert remedies == [("Remedy Granted", expected), ("Remedy Requested", expected)]
    actions = [e.action for e in services.audit.for_customer(customer_id) if "remedy" in e.action]
    assert actions == ["request_remedy", "decide_remedy"]


def test_bad_remedies_are_refused_with_the_field_named(services: Services) -> None:
    case_id = _case(services)
    with pytest.raises(InvalidInput, match=r"^kind: must be one of"):
        services.remedies.grant(SAM, case_id, "hug", 5)
    with pytest.raises(InvalidInput, match=r"^amount: give a positive amount"):
        services.remedies.grant(SAM, case_id, "credit", -5)
    with pytest.raises(Forbidden):
        services.remedies.grant(staff("shipping"), case_id, "credit", 5)


def test_the_suggestion_follows_what_resolved_similar_cases_and_stays_within_the_limit(
    services: Services,
) -> None:
    ann = customer(services, "ann@example.com")
    services.intake.ingest(
        [track("Order Completed", anonymous_id="web-ann@example.com", order_id="A-1", total=42.5)],
        source=SHOP,
    )
    for amount in (10, 12, 14):
        earlier = _case(services, order=None)
        services.remedies.grant(OWNER, earlier, "credit", amount)
        services.cases.update(OWNER, earlier, CaseUpdate(status="resolved"))
    case_id = _case(services)

    for_sam = services.remedies.suggest(SAM, case_id)
    for_owner = services.remedies.suggest(OWNER, case_id)

    assert services.cases.get(OWNER, case_id).case.customer_id == ann
    assert (for_owner.kind, for_owner.amount, for_owner.capped) == ("credit", 12.0, False)
    assert for_owner.reason.startswith(
        "A damaged item case on order A-1 (42.50): similar cases were resolved with a credit"
        " (3 of 3), median 12.00."
    )
    assert for_sam.amount == 12.0


def test_a_valuable_customer_slipping_away_gets_more_but_never_above_the_limit() -> None:
    facts = RemedyFacts("delivery", order_value=80.0, order_ref="B-2", clv=400.0,
                        probability_alive=0.3, limit=20.0)  # fmt: skip

    suggestion = suggest_remedy(facts)

    assert (suggestion.kind, suggestion.amount, suggestion.capped) == ("credit", 16.0, False)
    assert "slipping away (P(alive) 0.30): doubled to keep them, 16.00" in suggestion.reason
    capped = suggest_remedy(RemedyFacts("refund", order_value=80.0, limit=20.0))
    assert (capped.kind, capped.amount, capped.capped) == ("refund", 20.0, True)
    assert capped.reason.endswith("Capped at your limit of 20.00; a supervisor can approve more.")


def test_a_role_that_may_not_read_scores_gets_the_reason_without_the_figures() -> None:
    facts = RemedyFacts("delivery", order_value=80.0, clv=400.0, probability_alive=0.3,
                        show_value=False)  # fmt: skip

    reason = suggest_remedy(facts).reason

    assert "400" not in reason and "0.30" not in reason
    assert "worth a lot over the next year but slipping away: doubled" in reason
