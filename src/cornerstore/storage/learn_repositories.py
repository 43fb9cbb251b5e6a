"""What learning reads from the store (as Polars frames, by customer) and the scores it writes.

Every frame is keyed by the customer's current root profile, so a customer merged from several
departments' records is learned about once. JSON properties are picked apart by Polars, not by
Python loops, so a million customers' history loads in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import and_, delete, func, select, update

from cornerstore.learn.model import CustomerScore, SegmentRecord, StoredScore
from cornerstore.storage import tables as t
from cornerstore.storage.batches import insert_values
from cornerstore.storage.repositories import Repository

if TYPE_CHECKING:
    import polars as pl

_FETCH = 50_000
# SQLite's text form of a timestamp, as SQLAlchemy and intake write it: "2026-06-01 09:30:00.000123"
# (UTC, no offset; the fraction may be missing).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.f"


#: The first and last root id of a slice of customers, both included, as :meth:`people` lists
#: them (in the database's own order, so a range in its collation holds exactly that slice).
RootRange = tuple[str, str]


def _within(query: Any, roots: RootRange | None) -> Any:
    """``query`` (which reads ``customers`` as the root) limited to the customers in ``roots``."""
    if roots is None:
        return query
    c = t.customers
    return query.where(c.c.root_id >= roots[0], c.c.root_id <= roots[1])


class LearningRepository(Repository):
    def _frame(self, query: Any, schema: dict[str, Any]) -> pl.DataFrame:
        """The rows of ``query`` as a frame of ``schema``, read from the driver's cursor.

        Rows are taken as the driver gives them, not through SQLAlchemy's result rows: its
        conversion of each timestamp to a ``datetime`` cost more than the rest of reading the
        history. SQLite's timestamps (text, as SQLAlchemy writes them, in UTC) are parsed by
        Polars a batch at a time; PostgreSQL's arrive as ``datetime`` already.
        """
        import polars as pl

        times = [name for name, dtype in schema.items() if isinstance(dtype, pl.Datetime)]
        result = self.conn.execute(query)
        try:
            cursor = result.cursor
            parts = []
            while rows := cursor.fetchmany(_FETCH):
                part = pl.DataFrame(rows, schema=list(schema), orient="row")
                text = [name for name in times if part.schema[name] == pl.String]
                if text:
                    part = part.with_columns(
                        pl.col(name).str.to_datetime(_SQLITE_TIME, time_unit="us", time_zone="UTC")
                        for name in text
                    )
                parts.append(part.cast(schema))  # type: ignore[arg-type]
        finally:
            result.close()
        if not parts:
            return pl.DataFrame(schema=schema)
        return pl.concat(parts, how="vertical")

    def track_events(self, names: Sequence[str], roots: RootRange | None = None) -> pl.DataFrame:
        """Track events with these names: customer_id (root), at, touchpoint, name, properties;
        of the customers in ``roots`` only, when given."""
        import polars as pl

        e, c = t.events, t.customers
        query = (
            select(c.c.root_id, e.c.occurred_at, e.c.touchpoint, e.c.name, e.c.properties)
            .join(c, c.c.id == e.c.customer_id)
            .where(e.c.type == "track", e.c.name.in_(list(names)), c.c.kind == "person")
        )
        return self._frame(
            _within(query, roots),
            {
                "customer_id": pl.String,
                "at": pl.Datetime("us", "UTC"),
                "touchpoint": pl.String,
                "name": pl.String,
                "properties": pl.String,
            },
        )

    def activity(
        self, roots: RootRange | None = None, leave_out_source: str | None = None
    ) -> pl.DataFrame:
        """Per customer (of ``roots`` when given): distinct touchpoints over the whole history,
        the events from ``leave_out_source`` (learning's own moments) left out."""
        import polars as pl

        e, c = t.events, t.customers
        query = select(c.c.root_id, e.c.touchpoint).join(c, c.c.id == e.c.customer_id)
        query = query.where(c.c.kind == "person")
        if leave_out_source is not None:
            query = query.where(e.c.source != leave_out_source)
        query = _within(query, roots).group_by(c.c.root_id, e.c.touchpoint)
        pairs = self._frame(query, {"customer_id": pl.String, "touchpoint": pl.String})
        return pairs.group_by("customer_id").agg(pl.len().alias("touchpoints"))

    def page_views(self, roots: RootRange | None = None) -> pl.DataFrame:
        """Page and screen views on the web shop or app: customer_id (root), at; of the
        customers in ``roots`` only, when given."""
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
        return self._frame(
            _within(query, roots), {"customer_id": pl.String, "at": pl.Datetime("us", "UTC")}
        )

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

    def trait_changes(self, names: Sequence[str], roots: RootRange | None = None) -> pl.DataFrame:
        """Observations of these traits: customer_id (root), name, value (JSON), observed_at;
        of the customers in ``roots`` only, when given."""
        import polars as pl

        r, c = t.traits, t.customers
        query = (
            select(c.c.root_id, r.c.name, r.c.value, r.c.observed_at)
            .join(c, c.c.id == r.c.customer_id)
            .where(r.c.name.in_(list(names)), c.c.kind == "person")
        )
        return self._frame(
            _within(query, roots),
            {
                "customer_id": pl.String,
                "name": pl.String,
                "value": pl.String,
                "observed_at": pl.Datetime("us", "UTC"),
            },
        )

    def current_traits(self, names: Sequence[str]) -> pl.DataFrame:
        """The latest observation of each named trait per customer (root): customer_id, name,
        value (JSON text)."""

        changes = self.trait_changes(names)
        return (
            changes.sort("observed_at")
            .group_by("customer_id", "name")
            .last()
            .select("customer_id", "name", "value")
        )

    def event_counts(
        self, name: str | None, type: str | None, touchpoint: str | None, since: datetime
    ) -> pl.DataFrame:
        """Per customer (root), how many events match since ``since``: customer_id, count."""
        import polars as pl

        e, c = t.events, t.customers
        conditions = [e.c.occurred_at >= since, c.c.kind == "person"]
        if name is not None:
            conditions.append(e.c.name == name)
        if type is not None:
            conditions.append(e.c.type == type)
        if touchpoint is not None:
            conditions.append(e.c.touchpoint == touchpoint)
        query = (
            select(c.c.root_id, func.count())
            .join(c, c.c.id == e.c.customer_id)
            .where(and_(*conditions))
            .group_by(c.c.root_id)
        )
        return self._frame(query, {"customer_id": pl.String, "count": pl.Int64})

    def cluster_members(self) -> pl.DataFrame:
        """Each customer's cluster: customer_id, segment (the cluster's name)."""
        import polars as pl

        m, s = t.segment_members, t.segments
        query = (
            select(m.c.customer_id, s.c.name)
            .join(s, s.c.id == m.c.segment_id)
            .where(s.c.kind == "cluster")
        )
        return self._frame(query, {"customer_id": pl.String, "segment": pl.String})

    def people(self) -> list[str]:
        """Every person customer (root profile), in the database's order of ids: consecutive
        ones make the ranges (:data:`RootRange`) learning reads a slice at a time."""
        c = t.customers
        query = select(c.c.id).where(c.c.kind == "person", c.c.id == c.c.root_id).order_by(c.c.id)
        return list(self.conn.execute(query).scalars())

    def add_moments(
        self, moments: Sequence[tuple[str, str, str, datetime, str]], source: str, now: datetime
    ) -> None:
        """Add learned moments to the timeline: track events from ``source``, received
        ``now``, each given as (message_id, customer_id, name, occurred_at, properties as
        JSON text), touchpoint ``other``."""
        columns = (
            "message_id",
            "customer_id",
            "type",
            "name",
            "touchpoint",
            "source",
            "occurred_at",
            "received_at",
            "properties",
        )
        rows = [
            (message_id, customer, "track", name, "other", source, at, now, properties)
            for message_id, customer, name, at, properties in moments
        ]
        insert_values(self.conn, t.events, columns, rows)

    # -- scores ------------------------------------------------------------------------------
    def replace_scores(self, frames: Iterable[pl.DataFrame], computed_at: datetime) -> None:
        """Replace every stored score with those in ``frames`` (customer_id, name, value as
        JSON text, model): one run's answer is the whole answer. Written in slices, so memory
        stays flat however many customers there are."""
        self.conn.execute(delete(t.scores))
        columns = ("customer_id", "name", "value", "computed_at", "model")
        for frame in frames:
            for start in range(0, frame.height, _FETCH):
                rows = (
                    frame.slice(start, _FETCH)
                    .select("customer_id", "name", "value", "model")
                    .iter_rows()
                )
                insert_values(
                    self.conn, t.scores, columns, [(c, n, v, computed_at, m) for c, n, v, m in rows]
                )

    def scores_of(self, customer_ids: Sequence[str]) -> list[StoredScore]:
        """Every stored score of these profiles."""
        s = t.scores
        query = select(s.c.customer_id, s.c.name, s.c.value, s.c.computed_at, s.c.model).where(
            s.c.customer_id.in_(list(customer_ids))
        )
        return [
            StoredScore(customer, name, orjson.loads(value), at, model)
            for customer, name, value, at, model in self.conn.execute(query)
        ]

    def last_computed_at(self) -> datetime | None:
        """When the stored scores were computed (None before the first learning run)."""
        return self.conn.execute(select(func.max(t.scores.c.computed_at))).scalar()

    def scores_named(self, name: str) -> list[CustomerScore]:
        """Every stored score called ``name``, by customer."""
        s = t.scores
        query = select(s.c.customer_id, s.c.value).where(s.c.name == name)
        return [
            CustomerScore(customer, orjson.loads(value))
            for customer, value in self.conn.execute(query)
        ]


class SegmentRepository(Repository):
    def _record(self, row: Any) -> SegmentRecord:
        return SegmentRecord(
            id=row.id,
            name=row.name,
            kind=row.kind,
            definition=orjson.loads(row.definition) if row.definition else None,
            description=row.description,
            created_at=row.created_at,
            created_by=row.created_by,
            computed_at=row.computed_at,
            size=row.size,
            clv_sum=row.clv_sum,
            clv_mean=row.clv_mean,
        )

    def all(self, kind: str | None = None) -> list[SegmentRecord]:
        s = t.segments
        query = select(s).order_by(s.c.kind.desc(), s.c.id)
        if kind:
            query = query.where(s.c.kind == kind)
        return [self._record(row) for row in self.conn.execute(query)]

    def get(self, segment_id: str) -> SegmentRecord | None:
        row = self.conn.execute(select(t.segments).where(t.segments.c.id == segment_id)).first()
        return self._record(row) if row else None

    def add(self, row: dict[str, Any]) -> None:
        self.conn.execute(t.segments.insert().values(**row))

    def delete(self, segment_ids: Sequence[str]) -> None:
        ids = list(segment_ids)
        if ids:
            self.conn.execute(
                delete(t.segment_members).where(t.segment_members.c.segment_id.in_(ids))
            )
            self.conn.execute(delete(t.segments).where(t.segments.c.id.in_(ids)))

    def set_members(
        self,
        segment_id: str,
        customer_ids: Sequence[str] | pl.Series,
        computed_at: datetime,
        clv_sum: float | None,
        clv_mean: float | None,
    ) -> None:
        m = t.segment_members
        self.conn.execute(delete(m).where(m.c.segment_id == segment_id))
        # Rows built a slice at a time: a segment of millions never becomes millions of dicts.
        for start in range(0, len(customer_ids), _FETCH):
            rows = [(segment_id, c) for c in list(customer_ids[start : start + _FETCH])]
            insert_values(self.conn, m, ("segment_id", "customer_id"), rows)
        self.conn.execute(
            update(t.segments)
            .where(t.segments.c.id == segment_id)
            .values(
                computed_at=computed_at,
                size=len(customer_ids),
                clv_sum=clv_sum,
                clv_mean=clv_mean,
            )
        )

    def members(self, segment_id: str, after: str | None, limit: int) -> list[str]:
        """Member ids in id order, after ``after`` (keyset paging)."""
        m = t.segment_members
        query = select(m.c.customer_id).where(m.c.segment_id == segment_id)
        if after:
            query = query.where(m.c.customer_id > after)
        return list(self.conn.execute(query.order_by(m.c.customer_id).limit(limit)).scalars())

    def of_customers(self, customer_ids: Sequence[str]) -> list[str]:
        m = t.segment_members
        query = select(m.c.segment_id).where(m.c.customer_id.in_(list(customer_ids)))
        return sorted(set(self.conn.execute(query).scalars()))
