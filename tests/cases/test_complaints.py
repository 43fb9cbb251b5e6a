"""The one open-complaint rule campaigns and the next best action share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cornerstore.access.caller import system_caller
from cornerstore.cases.complaints import customers_with_open_complaint
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import CaseSettings
from tests.factories import identify

AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _customer(services: Services, email: str) -> str:
    services.intake.ingest(
        [identify(anonymous_id="a-" + email, email=email)], source=Source("test", "support")
    )
    with services.store.unit_of_work() as uow:
        return services.lookup.find_root(uow, email, system_caller())


def _file_case(services: Services, customer_id: str, category: str, status: str) -> None:
    row: dict[str, Any] = {
        "customer_id": customer_id,
        "channel": "email",
        "status": status,
        "category": category,
        "priority": "normal",
        "subject": "about my order",
        "opened_at": AT,
        "updated_at": AT,
        "reopened": 0,
        "created_by": "test",
    }
    with services.store.unit_of_work(write=True) as uow:
        uow.cases.add(row)


def test_only_open_cases_of_a_complaint_category_count(services: Services) -> None:
    ann = _customer(services, "ann@example.com")
    bob = _customer(services, "bob@example.com")
    cat = _customer(services, "cat@example.com")
    dan = _customer(services, "dan@example.com")
    _file_case(services, ann, "damaged item", "open")
    _file_case(services, bob, "delivery", "waiting")
    _file_case(services, cat, "product question", "open")  # a question, not a complaint
    _file_case(services, dan, "complaint", "resolved")

    with services.store.unit_of_work() as uow:
        asked = customers_with_open_complaint(uow, [ann, bob, cat, dan, "nobody"])
        everyone = customers_with_open_complaint(uow)

    assert asked == {ann, bob}
    assert everyone == {ann, bob}


def test_complaint_categories_come_from_settings(services: Services) -> None:
    cat = _customer(services, "cat@example.com")
    _file_case(services, cat, "product question", "open")
    rules = CaseSettings(complaint_categories=["Product Question"])

    with services.store.unit_of_work() as uow:
        assert customers_with_open_complaint(uow, [cat], rules) == {cat}


def test_a_merge_carries_the_complaint_to_the_customer_and_an_unmerge_takes_it_back(
    services: Services,
) -> None:
    ann = _customer(services, "ann@example.com")
    other = _customer(services, "ann.lee@example.com")
    _file_case(services, other, "refund", "open")
    caller = system_caller()

    merge = services.merges.merge(caller, ann, other)
    with services.store.unit_of_work() as uow:
        merged = customers_with_open_complaint(uow, [ann, other])
    services.merges.unmerge(caller, merge.id)
    with services.store.unit_of_work() as uow:
        apart = customers_with_open_complaint(uow, [ann, other])

    assert merged == {ann, other}
    assert apart == {other}
