"""What suggestions read from the store (one customer's purchases and returns) and the trained
models they keep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cornerstore.storage import tables as t
from cornerstore.storage.batches import chunks
from cornerstore.storage.repositories import Repository


@dataclass(frozen=True)
class StoredModel:
    id: int
    trained_at: datetime
    buyers: int
    items: int
    model: bytes


class SuggestionRepository(Repository):
    def track_events_of(
        self, customer_ids: Sequence[str], names: Sequence[str]
    ) -> list[tuple[str, datetime, str | None]]:
        """(name, occurred_at, properties as JSON text) of these profile rows' track events
        with these names, oldest first."""
        e = t.events
        query = (
            select(e.c.name, e.c.occurred_at, e.c.properties)
            .where(
                e.c.customer_id.in_(list(customer_ids)),
                e.c.type == "track",
                e.c.name.in_(list(names)),
            )
            .order_by(e.c.occurred_at)
        )
        return [(r[0], r[1], r[2]) for r in self.conn.execute(query)]

    def track_events_of_roots(
        self, roots: Sequence[str], names: Sequence[str]
    ) -> list[tuple[str, str, datetime, str | None]]:
        """(root, name, occurred_at, properties as JSON text) of the track events with these
        names of every profile of these roots, oldest first: many customers' purchases in a few
        queries (a campaign's batch)."""
        c, e = t.customers, t.events
        root_of: dict[str, str] = {}
        for part in chunks(list(roots)):
            query = select(c.c.id, c.c.root_id).where(c.c.root_id.in_(part))
            root_of.update({a: b for a, b in self.conn.execute(query)})
        out: list[tuple[str, str, datetime, str | None]] = []
        for part in chunks(list(root_of)):
            query = select(e.c.customer_id, e.c.name, e.c.occurred_at, e.c.properties).where(
                e.c.customer_id.in_(part), e.c.type == "track", e.c.name.in_(list(names))
            )
            out += [(root_of[r[0]], r[1], r[2], r[3]) for r in self.conn.execute(query)]
        out.sort(key=lambda row: row[2])
        return out

    def add_model(
        self, model: bytes, trained_at: datetime, buyers: int, items: int, created_by: str
    ) -> int:
        """Store a trained model; the newest serves. Older ones are deleted."""
        m = t.suggestion_models
        self.conn.execute(m.delete())
        result = self.conn.execute(
            m.insert().values(
                model=model,
                trained_at=trained_at,
                buyers=buyers,
                items=items,
                created_by=created_by[:160],
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def latest_id(self) -> int | None:
        """The id of the newest model (a cheap check whether a cached model is current)."""
        m = t.suggestion_models
        return self.conn.execute(select(m.c.id).order_by(m.c.id.desc()).limit(1)).scalar()

    def latest(self) -> StoredModel | None:
        m = t.suggestion_models
        row = self.conn.execute(select(m).order_by(m.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return StoredModel(row.id, row.trained_at, row.buyers, row.items, bytes(row.model))
