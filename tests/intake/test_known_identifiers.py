"""Intake keeps the identifiers it stitched between batches (SQLite): what it stores is the same
as when every batch looks them up, and a write by anyone else makes it look them up again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from cornerstore.identity.known import KnownIdentifiers
from cornerstore.intake.service import Intake, Source
from cornerstore.settings import Settings
from cornerstore.storage.database import Store, open_store
from cornerstore.storage.unit_of_work import WriteMark
from tests.factories import alias, identify, track

WEB = Source("web", "web")


def _root_of_event(store: Store, message_id: str) -> tuple[str, str]:
    """The profile an event was filed under, and that profile's current root."""
    with store.unit_of_work() as uow:
        row = uow.conn.execute(
            text(
                "SELECT e.customer_id, c.root_id FROM events e JOIN customers c "
                "ON c.id = e.customer_id WHERE e.message_id = :mid"
            ),
            {"mid": message_id},
        ).one()
    return row[0], row[1]


def _profile_of(store: Store, kind: str, value: str) -> str:
    with store.unit_of_work() as uow:
        return uow.identifiers.lookup([(kind, value)])[(kind, value)].root_id


def test_a_merge_by_another_process_moves_the_next_batch_to_the_surviving_profile(
    settings: Settings, store: Store
) -> None:
    # Two writers on one database, as two server processes are (each its own connection).
    first = Intake(store, settings)
    other_store = open_store(settings.database_url)
    other = Intake(other_store, settings)
    try:
        other.ingest([identify("u2", email="ann@example.com")], source=WEB)
        first.ingest([track("Viewed", anonymous_id="a1")], source=WEB)  # a1 is kept
        # The other process learns that a1 is u2's device: a1's profile merges into u2's.
        other.ingest([identify("u2", "a1")], source=WEB)

        later = track("Viewed", anonymous_id="a1")
        first.ingest([later], source=WEB)

        survivor = _profile_of(store, "user_id", "u2")
        assert _root_of_event(store, later["messageId"]) == (survivor, survivor)
    finally:
        other_store.dispose()


def test_a_change_through_the_same_connection_outside_intake_is_seen(
    settings: Settings, store: Store
) -> None:
    intake = Intake(store, settings)
    intake.ingest([identify("u1"), track("Viewed", anonymous_id="a1")], source=WEB)
    u1, a1 = _profile_of(store, "user_id", "u1"), _profile_of(store, "anonymous_id", "a1")
    # Another part of the same process merges a1's profile into u1's (as an undo or a review
    # would), through the same writer connection.
    with store.unit_of_work(write=True) as uow:
        uow.customers.set_root([a1], u1)

    later = track("Viewed", anonymous_id="a1")
    intake.ingest([later], source=WEB)

    assert _root_of_event(store, later["messageId"]) == (u1, u1)


def _stored(store: Store) -> dict[str, Any]:
    """Every event, identifier and trait, each profile named by its identifiers (profile ids
    are random)."""
    with store.unit_of_work() as uow:
        conn = uow.conn
        members: dict[str, set[str]] = {}
        for _cid, root, kind, value in conn.execute(
            text(
                "SELECT c.id, c.root_id, i.kind, i.value FROM customers c "
                "LEFT JOIN identifiers i ON i.customer_id = c.id"
            )
        ):
            members.setdefault(root, set())
            if kind is not None:
                members[root].add(f"{kind}:{value}")
        roots = dict(conn.execute(text("SELECT id, root_id FROM customers")).all())

        def person(customer_id: str) -> tuple[str, ...]:
            return tuple(sorted(members[roots[customer_id]]))

        events = sorted(
            (mid, person(cid), kind, props)
            for mid, cid, kind, props in conn.execute(
                text("SELECT message_id, customer_id, type, properties FROM events")
            )
        )
        traits = sorted(
            (person(cid), name, value, mid)
            for cid, name, value, mid in conn.execute(
                text("SELECT customer_id, name, value, message_id FROM traits")
            )
        )
        people = sorted(tuple(sorted(ids)) for root, ids in members.items() if roots[root] == root)
    return {"events": events, "traits": traits, "people": people}


def _mixed_batches() -> list[list[dict[str, Any]]]:
    """Returning customers, new visitors, sign-ins joining devices, and aliases."""
    batches = []
    for round_ in range(4):
        batch: list[dict[str, Any]] = []
        for i in range(12):
            batch.append(track("Viewed", user_id=f"u{i}", anonymous_id=f"a{i}", n=round_))
            batch.append(track("Viewed", anonymous_id=f"visitor{round_}-{i}"))
        batch.append(identify(f"u{round_}", f"visitor{round_}-0", email=f"p{round_}@example.com"))
        batch.append(alias(f"visitor{round_}-1", f"u{round_ + 5}"))
        batch.append(identify(f"new{round_}", f"a{round_ + 8}"))  # a device seen before
        batches.append(batch)
    return batches


def test_keeping_identifiers_between_batches_stores_the_same_rows_as_looking_them_up(
    tmp_path: Any,
) -> None:
    settings = Settings(_env_file=None, secret_key="test-secret")
    batches = _mixed_batches()
    stored = []
    for keep in (True, False):
        url = f"sqlite:///{tmp_path / f'keep-{keep}.db'}"
        store = open_store(url, upgrade=True)
        intake = Intake(store, settings)
        if not keep:
            intake._known.learn = lambda *args: None  # type: ignore[method-assign]
        for batch in batches:
            result = intake.ingest(batch, source=WEB)
            assert not result.rejected
        if keep:
            assert intake._known.owners  # the batches did take identifiers from it
        stored.append(_stored(store))
        store.dispose()

    assert stored[0] == stored[1]
    assert len(stored[0]["events"]) == 4 * 27


def test_past_its_limit_intake_keeps_only_what_the_last_batch_saw() -> None:
    known = KnownIdentifiers(limit=3)
    mark = WriteMark(object(), 1, 1)

    known.learn({("user_id", "u1"): "c1", ("user_id", "u2"): "c2"}, {"c1": "c1", "c2": "c1"}, mark)
    known.learn({("user_id", "u3"): "c3", ("user_id", "u4"): "c4"}, {"c3": "c3", "c4": "c4"}, mark)

    assert (known.owners, known.roots) == (
        {("user_id", "u3"): "c3", ("user_id", "u4"): "c4"},
        {"c3": "c3", "c4": "c4"},
    )
