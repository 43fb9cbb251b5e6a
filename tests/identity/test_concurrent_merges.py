"""Overlapping merges at the same moment, from two writers: no merge is lost.

Each person starts as three profiles, W (a userId), X (an e-mail and a phone) and Y (an
anonymous id), created in that order. One writer sends, per person, the identify that makes W
absorb X (by X's e-mail); the other, at the same moment, the one that makes X absorb Y (by X's
e-mail too, or by its phone, so the two messages share no identifier). Whatever the
interleaving, each person must end as one customer whose profiles all point at one root.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from tests.factories import identify

WEB = Source("web-shop", "web")
PEOPLE = 120
BATCH = 10


def keys_of(person: int) -> list[tuple[str, str]]:
    """The identifiers of W, X and Y of one person."""
    return [
        ("user_id", f"w{person}"),
        ("email", f"x{person}@example.com"),
        ("anonymous_id", f"y{person}"),
    ]


def three_profiles_each(store: Store, send: Callable[[list[dict[str, Any]]], object]) -> None:
    """W, then X, then Y of every person, as three profiles (the older survives a merge)."""
    for make in (
        lambda p: identify(f"w{p}"),
        lambda p: identify(anonymous_id=f"x{p}", email=f"x{p}@example.com", phone=phone(p)),
        lambda p: identify(anonymous_id=f"y{p}"),
    ):
        send([make(p) for p in range(PEOPLE)])
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 3 * PEOPLE


def phone(person: int) -> str:
    return f"+4477009{person:05d}"


def w_absorbs_x(person: int) -> dict[str, Any]:
    return identify(f"w{person}", email=f"x{person}@example.com")


def x_absorbs_y_by_email(person: int) -> dict[str, Any]:
    return identify(anonymous_id=f"y{person}", email=f"x{person}@example.com")


def x_absorbs_y_by_phone(person: int) -> dict[str, Any]:
    return identify(anonymous_id=f"y{person}", phone=phone(person))


def outcome(store: Store, people: int) -> dict[str, int]:
    """How many people ended as more than one customer, and how many profiles point at a root
    that was itself merged away."""
    with store.unit_of_work() as uow:
        found = uow.identifiers.lookup([k for p in range(people) for k in keys_of(p)])
        roots = uow.customers.roots_of(sorted({root for _, root in found.values()}))
    split = sum(len({found[k][1] for k in keys_of(p)}) != 1 for p in range(people))
    chained = sum(roots[root] != root for root in roots)
    return {"split": split, "chained": chained}


@pytest.mark.parametrize("x_absorbs_y", [x_absorbs_y_by_email, x_absorbs_y_by_phone])
def test_overlapping_merges_from_two_writers_leave_one_customer_per_person(
    settings: Settings, store: Store, x_absorbs_y: Callable[[int], dict[str, Any]]
) -> None:
    first, second = Services.build(settings, store), Services.build(settings, store)
    three_profiles_each(store, lambda batch: first.intake.ingest(batch, source=WEB))
    errors: list[str] = []
    start = threading.Barrier(2)

    def send(services: Services, make: Callable[[int], dict[str, Any]]) -> None:
        start.wait()
        try:
            for low in range(0, PEOPLE, BATCH):
                services.intake.ingest([make(p) for p in range(low, low + BATCH)], source=WEB)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    writers = [
        threading.Thread(target=send, args=(first, w_absorbs_x)),
        threading.Thread(target=send, args=(second, x_absorbs_y)),
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)

    assert errors == []
    assert outcome(store, PEOPLE) == {"split": 0, "chained": 0}
