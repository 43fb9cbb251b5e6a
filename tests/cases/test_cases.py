"""Cases attached to the right customer, their text behind the firewall, their statuses and
history, and cases from intake's Spec events; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cornerstore.access.caller import Caller, system_caller
from cornerstore.cases.model import CaseFilter, CaseLink
from cornerstore.cases.service import CaseOpening, CaseUpdate, NewMessage, Sender
from cornerstore.errors import Conflict, Forbidden, InvalidInput
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import AccessRules, RoleGrant, Settings
from tests.cases.builders import customer, staff
from tests.factories import track

OWNER = system_caller()


def _opening(sender: Sender, **fields: object) -> CaseOpening:
    values: dict[str, object] = {
        "channel": "email",
        "subject": "Parcel never came",
        "body": "Order A-1 has not arrived.",
        "category": "delivery",
    }
    values.update(fields)
    return CaseOpening(sender, **values)  # type: ignore[arg-type]


def test_a_case_from_a_known_email_lands_on_that_customer(services: Services) -> None:
    ann = customer(services, "ann@example.com", first_name="Ann")

    opened = services.cases.open(
        OWNER,
        _opening(Sender(email="ANN@example.com"), links=(CaseLink("order", "A-1"),)),
    )

    assert opened.case.customer_id == ann
    assert opened.case.links == (CaseLink("order", "A-1"),)
    assert [(m.direction, m.author_kind, m.body) for m in opened.messages] == [
        ("in", "customer", "Order A-1 has not arrived.")
    ]
    listed = services.cases.find(OWNER, CaseFilter(), customer="ann@example.com")
    assert [c.id for c in listed] == [opened.case.id]
    # The sender's contact details and the case are on the customer's timeline (support).
    timeline = services.profiles.timeline(OWNER, ann, touchpoints=["support"])
    assert [(e.type, e.name) for e in timeline.events] == [
        ("track", "Case Opened"),
        ("identify", None),
    ]


def test_a_card_number_or_password_typed_into_a_chat_is_not_stored(services: Services) -> None:
    opened = services.cases.open(
        OWNER,
        _opening(
            Sender(email="bob@example.com"),
            channel="chat",
            body="my card 4111 1111 1111 1111 was charged twice, password: hunter22",
        ),
    )
    reply = services.cases.add_message(
        OWNER, opened.case.id, NewMessage("IBAN GB82 WEST 1234 5698 7654 32 is mine", "in")
    )

    detail = services.cases.get(OWNER, opened.case.id)
    bodies = [m.body for m in detail.messages]
    assert bodies == [
        "my card [removed: payment card] was charged twice, password: [removed: secret]",
        "IBAN [removed: IBAN] is mine",
    ]
    assert reply.body == bodies[1]
    assert "4111" not in repr(detail) and "hunter22" not in repr(detail)
    kinds = sorted(e.kind for e in services.privacy_log.recent(OWNER, limit=10))
    assert kinds == ["iban", "payment_card", "secret"]


def test_statuses_move_and_every_change_is_kept(services: Services) -> None:
    opened = services.cases.open(OWNER, _opening(Sender(email="cat@example.com")))
    case_id = opened.case.id

    services.cases.update(OWNER, case_id, CaseUpdate(status="waiting"))
    services.cases.update(OWNER, case_id, CaseUpdate(status="resolved"))
    # The customer writes again: the case reopens.
    services.cases.add_message(OWNER, case_id, NewMessage("still broken", "in"))
    services.cases.update(OWNER, case_id, CaseUpdate(status="resolved", category="Damaged_Item"))
    services.cases.update(OWNER, case_id, CaseUpdate(status="closed"))

    detail = services.cases.get(OWNER, case_id)
    assert (detail.case.status, detail.case.reopened, detail.case.category) == (
        "closed",
        1,
        "damaged item",
    )
    assert detail.case.resolved_at is not None and detail.case.closed_at is not None
    assert [(c.field, c.old, c.new) for c in detail.changes] == [
        ("status", None, "open"),
        ("status", "open", "waiting"),
        ("status", "waiting", "resolved"),
        ("status", "resolved", "open"),
        ("status", "open", "resolved"),
        ("category", "delivery", "damaged item"),
        ("status", "resolved", "closed"),
    ]
    with pytest.raises(Conflict, match="closed"):
        services.cases.add_message(OWNER, case_id, NewMessage("hello again", "in"))
    with pytest.raises(Conflict, match="cannot become waiting"):
        services.cases.update(OWNER, case_id, CaseUpdate(status="waiting"))


def test_bad_input_names_the_field(services: Services) -> None:
    sender = Sender(email="dan@example.com")
    with pytest.raises(InvalidInput, match=r"^channel: must be one of"):
        services.cases.open(OWNER, _opening(sender, channel="pigeon"))
    with pytest.raises(InvalidInput, match=r"^sender: give a customer"):
        services.cases.open(OWNER, _opening(Sender(first_name="Dan")))
    with pytest.raises(InvalidInput, match=r"^owner: no such active staff user"):
        services.cases.open(OWNER, _opening(sender, owner="nobody"))
    # Nothing was half-written.
    assert services.cases.find(OWNER, CaseFilter()) == []


def test_a_case_is_reattached_and_a_merge_carries_cases_along(services: Services) -> None:
    ann = customer(services, "ann@example.com")
    other = customer(services, "ann.work@example.com")
    first = services.cases.open(OWNER, _opening(Sender(email="ann.work@example.com")))
    second = services.cases.open(OWNER, _opening(Sender(customer=ann)))

    merge = services.merges.merge(OWNER, ann, other)
    merged = {c.id for c in services.cases.find(OWNER, CaseFilter(), customer=ann)}
    services.merges.unmerge(OWNER, merge.id)
    apart = {c.id for c in services.cases.find(OWNER, CaseFilter(), customer=ann)}
    moved = services.cases.reattach(OWNER, first.case.id, ann)

    assert merged == {first.case.id, second.case.id}
    assert apart == {second.case.id}
    assert moved.customer_id == ann
    assert services.cases.find(OWNER, CaseFilter(), customer=other) == []
    assert services.cases.get(OWNER, first.case.id).changes[-1].field == "customer"


def test_roles_without_the_cases_section_read_no_case(services: Services) -> None:
    opened = services.cases.open(OWNER, _opening(Sender(email="eve@example.com")))

    for role in ("shipping", "marketing", "analyst"):
        with pytest.raises(Forbidden):
            services.cases.get(staff(role), opened.case.id)
    with pytest.raises(Forbidden):
        services.cases.open(staff("billing"), _opening(Sender(email="eve@example.com")))
    assert services.cases.get(staff("support"), opened.case.id).case.id == opened.case.id


def test_every_read_of_a_case_is_audited(services: Services) -> None:
    opened = services.cases.open(OWNER, _opening(Sender(email="fay@example.com")))
    support = staff("support", "sam")

    services.cases.get(support, opened.case.id)
    services.cases.find(support, CaseFilter(), customer=opened.case.customer_id)

    actions = [
        (e.actor, e.action)
        for e in services.audit.for_customer(opened.case.customer_id)
        if e.actor == "sam"
    ]
    assert actions == [("sam", "read_case"), ("sam", "list_cases")]


def test_spec_case_events_through_intake_become_cases_once(services: Services) -> None:
    desk = Source("support-desk", "support")
    ann = customer(services, "ann@example.com")
    at = "2026-03-01T10:00:00Z"
    events = [
        track("Case Opened", user_id=None, anonymous_id="web-ann@example.com", timestamp=at,
              case_id="ZD-7", topic="damaged_item", channel="chat", order_id="A-9",
              text="The mug arrived broken"),
        track("Case Message", anonymous_id="web-ann@example.com",
              timestamp="2026-03-01T10:05:00Z", case_id="ZD-7", text="photo attached"),
        track("Case Resolved", anonymous_id="web-ann@example.com",
              timestamp="2026-03-02T10:00:00Z", case_id="ZD-7", resolution="replacement"),
    ]  # fmt: skip

    services.intake.ingest(events, source=desk)
    services.intake.ingest(events, source=desk)  # delivered twice

    [case] = services.cases.find(OWNER, CaseFilter())
    detail = services.cases.get(OWNER, case.id)
    assert (case.customer_id, case.channel, case.category, case.status) == (
        ann,
        "chat",
        "damaged item",
        "resolved",
    )
    assert case.external_ref == "spec:ZD-7"
    assert case.links == (CaseLink("order", "A-9"),)
    assert case.opened_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert case.resolved_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert [m.body for m in detail.messages] == ["The mug arrived broken", "photo attached"]


def test_a_branch_with_older_cases_still_fills_the_page(services: Services) -> None:
    leeds = [
        services.cases.open(
            OWNER,
            _opening(Sender(email=f"lee{n}@example.com"), branch="leeds", at=_day(1 + n)),
        ).case.id
        for n in range(3)
    ]
    for n in range(5):  # newer cases of another branch, more than a page
        services.cases.open(
            OWNER, _opening(Sender(email=f"yan{n}@example.com"), branch="york", at=_day(10 + n))
        )
    clerk = Caller("lou", "support", "api", branch="leeds")

    found = services.cases.find(clerk, CaseFilter(limit=3))
    queued = services.cases.queue(clerk, CaseFilter(limit=3))

    assert [c.id for c in found] == leeds[::-1]
    assert [e.case.id for e in queued] == leeds[::-1]


def _day(n: int) -> datetime:
    return datetime(2026, 3, n, 9, 0, tzinfo=UTC)


def test_the_queue_names_each_customer_only_for_a_role_that_reads_names(
    settings: Settings, services: Services
) -> None:
    ann = customer(services, "ann@example.com", first_name="Ann", last_name="Lee")
    services.cases.open(OWNER, _opening(Sender(customer=ann)))
    services.cases.open(OWNER, _opening(Sender(email="nameless@example.com")))
    no_names = AccessRules(roles={"casework": RoleGrant(read=["cases"])})
    clerks = Services.build(settings.model_copy(update={"access": no_names}), services.store)

    named = services.cases.queue(staff("support", "sam"), CaseFilter())
    unnamed = clerks.cases.queue(Caller("ida", "casework", "api"), CaseFilter())

    assert sorted((e.case.customer_id == ann, e.name) for e in named) == [
        (False, None),
        (True, "Ann Lee"),
    ]
    assert [e.name for e in unnamed] == [None, None]
    assert [e.case for e in unnamed] == [e.case for e in named]
    # A pseudonymised role may never hold cases: the analyst has no queue at all.
    with pytest.raises(Forbidden):
        services.cases.queue(staff("analyst"), CaseFilter())
    listed = services.audit.find(OWNER, action="list_cases")
    assert [(e.actor, e.sections) for e in listed] == [
        ("sam", ["cases", "name"]),
        ("ida", ["cases"]),
    ]
