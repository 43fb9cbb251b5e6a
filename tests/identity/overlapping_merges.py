"""The overlapping-merge scenario: W absorbs X while X absorbs Y, for many people at once.

Each person starts as three profiles, W (a userId), X (an anonymous id, an e-mail and a phone)
and Y (an anonymous id), created in that order so the older survives each merge. One writer
sends, per person, the identify that makes W absorb X (by X's e-mail); another, at the same
moment, the one that makes X absorb Y (by X's e-mail too, or by its phone, so the two messages
share no identifier). Done one after the other this gives one customer per person; done at
once it must too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cornerstore.storage.database import Store
from tests.factories import identify

Message = dict[str, Any]


def phone(person: int) -> str:
    return f"+4477009{person:05d}"


def keys_of(person: int) -> list[tuple[str, str]]:
    """The identifiers of W, X and Y of one person (as stored)."""
    return [
        ("user_id", f"w{person}"),
        ("email", f"x{person}@example.com"),
        ("anonymous_id", f"y{person}"),
    ]


def three_profiles_each(store: Store, people: int, send: Callable[[list[Message]], object]) -> None:
    """W, then X, then Y of every person, as three profiles."""
    for make in (
        lambda p: identify(f"w{p}"),
        lambda p: identify(anonymous_id=f"x{p}", email=f"x{p}@example.com", phone=phone(p)),
        lambda p: identify(anonymous_id=f"y{p}"),
    ):
        send([make(p) for p in range(people)])
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 3 * people


def w_absorbs_x(person: int) -> Message:
    return identify(f"w{person}", email=f"x{person}@example.com")


def x_absorbs_y_by_email(person: int) -> Message:
    return identify(anonymous_id=f"y{person}", email=f"x{person}@example.com")


def x_absorbs_y_by_phone(person: int) -> Message:
    return identify(anonymous_id=f"y{person}", phone=phone(person))


def outcome(store: Store, people: int) -> dict[str, int]:
    """How many people ended as more than one customer (``split``), and how many of the roots
    their identifiers lead to were themselves merged away (``chained``)."""
    with store.unit_of_work() as uow:
        found = uow.identifiers.lookup([k for p in range(people) for k in keys_of(p)])
        roots = uow.customers.roots_of(sorted({root for _, root in found.values()}))
    split = sum(len({found[k][1] for k in keys_of(p)}) != 1 for p in range(people))
    chained = sum(roots[root] != root for root in roots)
    return {"split": split, "chained": chained}
