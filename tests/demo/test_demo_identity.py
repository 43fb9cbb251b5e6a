"""The demo business shows identity resolution: after `identity learn` and `identity resolve`
some customers are merged, some pairs wait for review, and a guest order joins its customer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.demo.cast import Person
from cornerstore.demo.generate import DEFAULT_END, Business
from cornerstore.demo.load import load_demo
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage import open_store

# The smallest demo whose stored customers still hold merges and a grey zone.
CUSTOMERS, SEED = 400, 1


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    store = open_store(url, upgrade=True)
    services = Services.build(Settings(database_url=url), store)
    load_demo(services.intake, customers=CUSTOMERS, seed=SEED)
    yield services
    store.dispose()


def customer_with_email(services: Services, email: str) -> str:
    """The customer an e-mail address belongs to now."""
    normalised = services.intake.normaliser.email(email)
    assert normalised is not None
    with services.store.unit_of_work() as uow:
        [(_, root)] = uow.identifiers.find_by_value(normalised, ["email"])
    return root


def a_guest_with_their_name_and_address() -> Person:
    """The first person of the demo who ordered once as a guest under their own name and home
    address, and whose web account knows that address: one person as two customers."""
    people = Business(customers=CUSTOMERS, seed=SEED, end=DEFAULT_END, years=2.0).people
    return next(
        p
        for p in people
        if p.guest_order is not None
        and p.guest_order.first == p.first
        and p.guest_order.last == p.last
        and p.guest_order.gives_address
        and p.user_id is not None
        and p.email is not None
        and p.household is None
        and p.moved_at is None
    )


def test_the_demo_after_learning_and_resolving_merges_some_people_and_queues_some(
    demo: Services,
) -> None:
    owner = system_caller()
    guest = a_guest_with_their_name_and_address()
    assert guest.guest_order is not None and guest.email is not None
    apart = {customer_with_email(demo, e) for e in (guest.email, guest.guest_order.email)}

    demo.identity.train(owner)
    resolved = demo.identity.resolve(owner)

    together = {customer_with_email(demo, e) for e in (guest.email, guest.guest_order.email)}
    assert len(apart) == 2
    assert len(together) == 1
    assert resolved.merged > 0
    assert resolved.queued > 0
    assert len(demo.identity.pending(owner, limit=100)) == resolved.queued
