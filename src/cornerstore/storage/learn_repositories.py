"""What learning reads from the store (as Polars frames, by customer) and the scores it writes.

Every frame is keyed by the customer's current root profile, so a customer merged from several
departments' records is learned about once. JSON properties are picked apart by Polars, not by
Python loops, so a million customers' history loads in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import delete, select

from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert
from cornerstore.storage.repositories import Repository

if TYPE_CHECKING:
    import polars as pl

_FETCH = 50_000


class LearningRepository(Repository):
    def _frame(self, query: Any, schema: dict[str, Any]) -> pl.DataFrame:
        import polars as pl

        result = self.conn.execute(query)
        parts = []
        while rows := result.fetchmany(_FETCH):
            parts.append(pl.DataFrame(rows, schema=list(schema), orient="row"))
        if not parts:
            return pl.DataFrame(schema=schema)
        frame = pl.concat(parts, how="vertical_relaxed")
        return frame.cast(schema)  # type: ignore[arg-type]

    def track_events(self, names: Sequence[str]) -> pl.DataFrame:
        """Track events with these names: customer_id (root), at, touchpoint, name, properties."""
        import polars as pl

        e, c = t.events, t.customers
        query = (
            select(c.c.root_id, e.c.occurred_at, e.c.touchpoint, e.c.name, e.c.properties)
            .join(c, c.c.id == e.c.customer_id)
            .where(e.c.type == "track", e.c.name.in_(list(names)), c.c.kind == "person")
        )
        return self._frame(
            query,
            {
                "customer_id": pl.String,
                "at": pl.Datetime("us", "UTC"),
                "touchpoint": pl.String,
                "name": pl.String,
                "properties": pl.String,
            },
        )

    def activity(self) -> pl.DataFrame:
        """Per customer: events and distinct touchpoints over the whole history."""
        import polars as pl

        e, c = t.events, t.customers
        query = (
            select(c.c.root_id, e.c.touchpoint)
            .join(c, c.c.id == e.c.customer_id)
            .where(c.c.kind == "person")
            .group_by(c.c.root_id, e.c.touchpoint)
        )
        pairs = self._frame(query, {"customer_id": pl.String, "touchpoint": pl.String})
        return pairs.group_by("customer_id").agg(pl.len().alias("touchpoints"))

    def page_views(self) -> pl.DataFrame:
        """Page and screen views on the web shop or app: customer_id (root), at."""
        import polars as pl

        e, c = t.events, t.customers
        query = (
            select(c.c.root_id, e.c.occurred_at)
            .join(c, c.c.id == e.c.customer_id)
            .where(
                e.c.type.in_(["page", "screen"]),
                e.c.touchpoint.in_(["web", "app"]),
                c.c.kind == "person",
            )
        )
        return self._frame(query, {"customer_id": pl.String, "at": pl.Datetime("us", "UTC")})

    def remove_events_from(self, source: str, roots: Sequence[str]) -> int:
        """Delete the events of ``source`` (learned moments) of these customers' profiles."""
        e, c = t.events, t.customers
        removed = 0
        for start in range(0, len(roots), 500):
            members = select(c.c.id).where(c.c.root_id.in_(list(roots[start : start + 500])))
            result = self.conn.execute(
                delete(e).where(e.c.source == source, e.c.customer_id.in_(members))
            )
            removed += int(result.rowcount or 0)
        return removed

    def trait_changes(self, names: Sequence[str]) -> pl.DataFrame:
        """Observations of these traits: customer_id (root), name, value (JSON), observed_at."""
        import polars as pl

        r, c = t.traits, t.customers
        query = (
            select(c.c.root_id, r.c.name, r.c.value, r.c.observed_at)
            .join(c, c.c.id == r.c.customer_id)
            .where(r.c.name.in_(list(names)), c.c.kind == "person")
        )
        return self._frame(
            query,
            {
                "customer_id": pl.String,
                "name": pl.String,
                "value": pl.String,
                "observed_at": pl.Datetime("us", "UTC"),
            },
        )

    def people(self) -> list[str]:
        c = t.customers
        query = select(c.c.id).where(c.c.kind == "person", c.c.id == c.c.root_id)
        return list(self.conn.execute(query).scalars())

    def consent_answers(self, purpose: str) -> pl.DataFrame:
        """Every answer for ``purpose``: customer_id (root), granted, at."""
        import polars as pl

        k, c = t.consents, t.customers
        query = (
            select(c.c.root_id, k.c.granted, k.c.at)
            .join(c, c.c.id == k.c.customer_id)
            .where(k.c.purpose == purpose)
        )
        return self._frame(
            query,
            {"customer_id": pl.String, "granted": pl.Boolean, "at": pl.Datetime("us", "UTC")},
        )

    # -- scores ------------------------------------------------------------------------------
    def replace_scores(self, rows: list[dict[str, Any]]) -> None:
        """Replace every stored score with ``rows`` (customer_id, name, value, computed_at,
        model): one run's answer is the whole answer."""
        self.conn.execute(delete(t.scores))
        for start in range(0, len(rows), _FETCH):
            bulk_insert(self.conn, t.scores, rows[start : start + _FETCH])

    def scores_of(self, customer_ids: Sequence[str]) -> list[tuple[str, str, Any, datetime, str]]:
        """(customer_id, name, value, computed_at, model) of these profiles."""
        s = t.scores
        query = select(s.c.customer_id, s.c.name, s.c.value, s.c.computed_at, s.c.model).where(
            s.c.customer_id.in_(list(customer_ids))
        )
        return [(r[0], r[1], orjson.loads(r[2]), r[3], r[4]) for r in self.conn.execute(query)]

    def scores_named(self, name: str) -> list[tuple[str, Any]]:
        """(customer_id, value) of every stored score called ``name``."""
        s = t.scores
        query = select(s.c.customer_id, s.c.value).where(s.c.name == name)
        return [(r[0], orjson.loads(r[1])) for r in self.conn.execute(query)]
