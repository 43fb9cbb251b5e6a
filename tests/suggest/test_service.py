"""Suggestions over the store (SQLite and PostgreSQL): training, reasons, consent, returns,
repeat buys, the role policy and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import Forbidden, InvalidInput, NotFound
from cornerstore.services import Services
from tests.suggest.shop import NOW, open_shop


@pytest.fixture
def shop(services: Services, owner: Caller) -> Services:
    open_shop(services)
    services.suggestions.train(owner)
    return services


def items(services: Services, owner: Caller, ref: str, n: int = 10) -> list[str]:
    found = services.suggestions.for_customer(owner, ref, n, now=NOW)
    return [s.item_id for s in found.suggestions]


def test_training_leaves_out_customers_without_consent(services: Services, owner: Caller) -> None:
    open_shop(services)

    report = services.suggestions.train(owner)

    assert (report.customers, report.left_out, report.items) == (33, 1, 4)
    assert services.audit.find(owner, action="train_suggestions")[-1].detail == (
        "33 customers, 4 products, 1 left out without consent"
    )


def test_a_due_repeat_buy_comes_first_with_its_reason(shop: Services, owner: Caller) -> None:
    found = shop.suggestions.for_customer(owner, "regular", 3, now=NOW)

    first = found.suggestions[0]
    assert (found.personal, found.note) == (True, None)
    assert (first.item_id, first.name, first.kind, first.reason) == (
        "BEANS",
        "coffee beans",
        "replenishment",
        "you buy this about every 5 weeks; last time 6 weeks ago",
    )
    assert all(s.reason for s in found.suggestions)


def test_a_repeat_buy_that_is_not_due_is_not_suggested(shop: Services, owner: Caller) -> None:
    assert "BEANS" not in items(shop, owner, "fresh")
    assert items(shop, owner, "fresh")  # the rest of the shop still is


def test_a_returned_product_is_never_suggested(shop: Services, owner: Caller) -> None:
    found = items(shop, owner, "returner")

    assert "COSY" not in found and "MUG" in found


def test_a_return_is_forgotten_after_returned_days(shop: Services, owner: Caller) -> None:
    # The tea cosy went back 25 days before NOW; returned_days is 30.
    later = shop.suggestions.for_customer(owner, "returner", 10, now=NOW + timedelta(days=6))

    assert "COSY" not in items(shop, owner, "returner")
    assert "COSY" in [s.item_id for s in later.suggestions]


def test_without_personalisation_the_suggestions_are_the_same_for_everyone_and_say_so(
    shop: Services, owner: Caller
) -> None:
    found = shop.suggestions.for_customer(owner, "private", 2, now=NOW)

    assert (found.personal, found.note) == (
        False,
        "not personal: the customer did not allow personalisation",
    )
    assert [(s.kind, s.reason) for s in found.suggestions] == [
        ("popular", "popular with customers over the last 90 days")
    ] * 2
    assert {s.item_id for s in found.suggestions} == {"POT", "COSY"}


def test_every_read_is_audited_with_its_section(shop: Services, owner: Caller) -> None:
    found = shop.suggestions.for_customer(owner, "regular", 5, now=NOW)

    entry = shop.audit.find(owner, action="read_suggestions")[-1]
    assert (entry.customer_id, entry.sections) == (found.customer_id, ["suggestions"])


def test_many_customers_at_once_get_what_each_gets_alone_with_one_audit_entry(
    shop: Services, owner: Caller
) -> None:
    refs = ["regular", "fresh", "returner", "private", "pop-3"]
    with shop.store.unit_of_work() as uow:
        roots = [shop.lookup.find_root(uow, ref, owner) for ref in refs]
    alone = {r: shop.suggestions.for_customer(owner, r, 4, now=NOW).suggestions for r in roots}
    before = len(shop.audit.find(owner, action="read_suggestions"))

    together = shop.suggestions.for_customers(owner, roots, 4, purpose="campaign 7", now=NOW)

    assert together == alone
    entries = shop.audit.find(owner, action="read_suggestions")
    assert len(entries) == before + 1
    assert (entries[-1].customer_id, entries[-1].detail, entries[-1].sections) == (
        None,
        "5 customers: campaign 7",
        ["suggestions"],
    )


def test_many_customers_at_once_need_the_same_role_as_one(shop: Services) -> None:
    with pytest.raises(Forbidden, match="your role may not read suggestions"):
        shop.suggestions.for_customers(Caller("sam", "shipping", "api"), ["x"], purpose="test")


def test_before_any_training_the_answer_says_what_to_run(services: Services, owner: Caller) -> None:
    open_shop(services)

    found = services.suggestions.for_customer(owner, "regular")

    assert (found.suggestions, found.note) == (
        [],
        "nothing to suggest yet: run `cornerstore suggest train`",
    )


def test_bad_requests_are_refused_with_what_is_wrong(shop: Services, owner: Caller) -> None:
    shipping = Caller("sam", "shipping", "api")

    with pytest.raises(NotFound):
        shop.suggestions.for_customer(owner, "nobody@example.com")
    with pytest.raises(InvalidInput, match="n: must be between 1 and 100"):
        shop.suggestions.for_customer(owner, "regular", 0)
    with pytest.raises(Forbidden, match="your role may not read suggestions"):
        shop.suggestions.for_customer(shipping, "regular")
    with pytest.raises(Forbidden):
        shop.suggestions.train(Caller("mo", "marketing", "api"))


def test_a_model_stored_by_an_older_version_asks_to_train_again(
    shop: Services, owner: Caller
) -> None:
    import io

    import numpy as np

    older = io.BytesIO()
    np.savez_compressed(older, items=np.array(["POT"]))
    with shop.store.unit_of_work(write=True) as uow:
        uow.suggestions.add_model(older.getvalue(), NOW, 1, 1, "an older version")

    found = shop.suggestions.for_customer(owner, "regular")

    assert (found.suggestions, found.note) == (
        [],
        "nothing to suggest yet: run `cornerstore suggest train`",
    )


def test_orders_are_read_whether_they_list_products_or_name_one(
    shop: Services, owner: Caller
) -> None:
    at = NOW.replace(tzinfo=None)
    events = [
        ("Order Completed", at, '{"products": [{"product_id": "POT"}, {"sku": "COSY"}]}'),
        ("Order Completed", at, '{"product_id": "MUG"}'),
        ("Order Completed", at, '{"products": "not a list", "sku": "BEANS"}'),
        ("Order Completed", at, "not json"),
        ("Order Refunded", at, '{"products": [{"product_id": "POT"}]}'),
    ]

    history = shop.suggestions._history(events, at)

    assert (sorted(history.days), history.returned) == (
        ["BEANS", "COSY", "MUG", "POT"],
        frozenset({"POT"}),
    )
