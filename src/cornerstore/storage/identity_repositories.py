"""What identity resolution reads from the store and keeps in it: the person profiles' matching
fields, trained models (one active) and the review queue of candidate pairs with decisions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from cornerstore.identity.model import (
    PersonIdentifier,
    PersonTrait,
    ReviewRecord,
    StoredModel,
    StoredRelation,
)
from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert, chunks
from cornerstore.storage.repositories import Repository

_FETCH = 50_000


def _among(conn: Connection, column: Any) -> Any:
    """``column`` is one of the ids bound as ``:roots`` (see :func:`_bound`)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("roots", type_=ARRAY(String)))
    return column.in_(
        select(literal_column("value")).select_from(func.json_each(bindparam("roots")))
    )


def _bound(conn: Connection, ids: Sequence[str]) -> Any:
    """The ids as the one parameter :func:`_among` binds: a list (an array) on PostgreSQL,
    JSON text elsewhere."""
    return list(ids) if conn.dialect.name == "postgresql" else orjson.dumps(list(ids)).decode()


def _parts(ids: Sequence[str] | None) -> list[Sequence[str] | None]:
    """``[None]`` (no filter) for None, else the ids in slices short enough for an IN list."""
    return [None] if ids is None else list(chunks(list(ids)))


# Asked after every intake batch that brings customers with matching traits (placement): built
# once, since building the statement cost more than running it.
_ACTIVE_MODEL_ID = (
    select(t.identity_models.c.id)
    .where(t.identity_models.c.active.is_(True))
    .order_by(t.identity_models.c.id.desc())
    .limit(1)
)


class IdentityRepository(Repository):
    # -- what matching reads -----------------------------------------------------------------
    def person_traits_of(self, names: Sequence[str], roots: Sequence[str]) -> Iterator[PersonTrait]:
        """Observations of these traits on the customers ``roots`` (root ids, a slice of a few
        thousand), every profile row read as part of the customer it belongs to, each
        customer's in the order of :meth:`person_traits_in_order`."""
        r = t.traits
        rows = self._of_roots(
            r,
            [r.c.name, r.c.value, r.c.observed_at, r.c.message_id],
            r.c.name.in_(list(names)),
            [r.c.observed_at, r.c.id],
            roots,
        )
        for root_id, name, value, at, message_id in rows:
            yield PersonTrait(root_id, name, orjson.loads(value), at, message_id)

    def person_identifiers_of(
        self, kinds: Sequence[str], roots: Sequence[str]
    ) -> Iterator[PersonIdentifier]:
        """Identifiers of these kinds on the customers ``roots`` (root ids, a slice of a few
        thousand), each customer's oldest first."""
        i = t.identifiers
        rows = self._of_roots(
            i, [i.c.kind, i.c.value], i.c.kind.in_(list(kinds)), [i.c.first_seen_at, i.c.id], roots
        )
        for root_id, kind, value in rows:
            yield PersonIdentifier(root_id, kind, value)

    def _of_roots(
        self, table: Any, columns: list[Any], where: Any, then: list[Any], roots: Sequence[str]
    ) -> Iterator[Any]:
        """Rows of ``table`` (a profile's, by ``customer_id``) on the person profiles of the
        customers ``roots``, as the root id and ``columns``, ordered by ``then``.

        The ids are one parameter, whatever their number: an array on PostgreSQL
        (``root_id = ANY(:roots)``), a JSON array on SQLite (``IN (SELECT value FROM
        json_each(:roots))``); the plan is a nested loop of index look-ups, the customers by
        ``root_id``, then their rows by ``customer_id``, so a read costs what it reads.
        """
        c = t.customers
        query = (
            select(c.c.root_id, *columns)
            .join(c, c.c.id == table.c.customer_id)
            .where(_among(self.conn, c.c.root_id), where, c.c.kind == "person")
            .order_by(*then)
        )
        postgresql = self.conn.dialect.name == "postgresql"
        if postgresql:
            # Left to itself, PostgreSQL costs twenty thousand index look-ups above one scan
            # of the whole table (a 1M store: a parallel scan of all 4M traits and a hash
            # join, each slice), and a sample of 250,000 is thirteen slices: thirteen scans
            # of the store, as reading a million by IN lists of 900 did (18 minutes).
            # Ids in a temporary table joined instead cost the server twice the CPU (26 s
            # against 11-12 s for that sample). The rows come to the client whole at
            # ``execute``, so the setting is back before anything else runs.
            self.conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        try:
            result = self.conn.execute(query, {"roots": _bound(self.conn, roots)})
        finally:
            if postgresql:
                self.conn.exec_driver_sql("RESET enable_seqscan")
        while rows := result.fetchmany(_FETCH):
            yield from rows

    def person_traits_in_order(self, names: Sequence[str]) -> Iterator[PersonTrait]:
        """Observations of these traits on every person profile, customer by customer in the
        order of :meth:`person_roots` (a customer's rows together), streamed from one query.

        Reading the customers a slice at a time by their ids made PostgreSQL scan a whole
        table for each slice of an IN list: the cost grew with the square of the store.
        """
        r = t.traits
        rows = self._in_root_order(
            r,
            [r.c.name, r.c.value, r.c.observed_at, r.c.message_id],
            r.c.name.in_(list(names)),
            [r.c.observed_at, r.c.id],
        )
        for root_id, name, value, at, message_id in rows:
            yield PersonTrait(root_id, name, orjson.loads(value), at, message_id)

    def person_identifiers_in_order(self, kinds: Sequence[str]) -> Iterator[PersonIdentifier]:
        """Identifiers of these kinds on every person profile, customer by customer in the
        order of :meth:`person_roots`, each customer's oldest first, streamed from one query."""
        i = t.identifiers
        rows = self._in_root_order(
            i, [i.c.kind, i.c.value], i.c.kind.in_(list(kinds)), [i.c.first_seen_at, i.c.id]
        )
        for root_id, kind, value in rows:
            yield PersonIdentifier(root_id, kind, value)

    def _in_root_order(
        self, table: Any, columns: list[Any], where: Any, then: list[Any]
    ) -> Iterator[Any]:
        """Rows of ``table`` (a profile's, by ``customer_id``) on person profiles, as the root
        id and ``columns``, customer by customer in the order of :meth:`person_roots` and by
        ``then`` within a customer, fetched :data:`_FETCH` at a time from a server-side cursor."""
        c = t.customers
        root = aliased(c)
        query = (
            select(c.c.root_id, *columns)
            .join(c, c.c.id == table.c.customer_id)
            .join(root, root.c.id == c.c.root_id)
            .where(where, c.c.kind == "person")
            .order_by(root.c.created_at, root.c.id, *then)
        )
        result = self.conn.execute(query, execution_options={"yield_per": _FETCH})
        for rows in result.partitions():
            yield from rows

    def person_count(self) -> int:
        """How many person customers (root profiles) there are."""
        c = t.customers
        query = select(func.count()).where(c.c.kind == "person", c.c.id == c.c.root_id)
        return int(self.conn.execute(query).scalar_one())

    def person_roots(self, roots: Sequence[str] | None = None) -> list[str]:
        """Every person customer (root profile ids), oldest first; of ``roots``, those that
        are still person customers."""
        c = t.customers
        query = (
            select(c.c.id)
            .where(c.c.kind == "person", c.c.id == c.c.root_id)
            .order_by(c.c.created_at, c.c.id)
        )
        if roots is None:
            return list(self.conn.execute(query).scalars())
        # The ids are one parameter (see _among): IN lists of 900 were a statement each,
        # about 280 for a sample of 250,000, and gave the oldest-first order slice by slice.
        found = self.conn.execute(
            query.where(_among(self.conn, c.c.id)), {"roots": _bound(self.conn, roots)}
        )
        return list(found.scalars())

    def name_word_counts(self) -> list[tuple[str, int]]:
        """Every stored name word, with how many profile rows it names."""
        n = t.name_words
        query = select(n.c.word, func.count()).group_by(n.c.word)
        return [(word, count) for word, count in self.conn.execute(query)]

    def person_roots_named(self, words: Sequence[str]) -> list[str]:
        """The person customers (root ids, oldest first) one of whose profile rows any of
        ``words`` names."""
        n, c = t.name_words, t.customers
        roots: set[str] = set()
        for part in chunks(list(words)):
            query = (
                select(c.c.root_id)
                .join(n, n.c.customer_id == c.c.id)
                .where(n.c.word.in_(part))
                .distinct()
            )
            roots.update(self.conn.execute(query).scalars())
        return self.person_roots(sorted(roots))

    # -- models ------------------------------------------------------------------------------
    def add_model(
        self, version: int, trained_at: datetime, records: int, model: str, created_by: str
    ) -> StoredModel:
        """Store a model and make it the active one."""
        m = t.identity_models
        self.conn.execute(update(m).where(m.c.active.is_(True)).values(active=False))
        new_id = self.conn.execute(
            m.insert()
            .values(
                version=version,
                trained_at=trained_at,
                records=records,
                model=model,
                active=True,
                created_by=created_by,
            )
            .returning(m.c.id)
        ).scalar_one()
        return StoredModel(int(new_id), version, trained_at, records, model, True, created_by)

    def active_model_id(self) -> int | None:
        """The id of the active model (without reading the model itself), None before one."""
        found = self.conn.execute(_ACTIVE_MODEL_ID).scalar()
        return int(found) if found is not None else None

    def active_model(self) -> StoredModel | None:
        m = t.identity_models
        row = self.conn.execute(
            select(m).where(m.c.active.is_(True)).order_by(m.c.id.desc()).limit(1)
        ).first()
        if row is None:
            return None
        return StoredModel(
            row.id, row.version, row.trained_at, row.records, row.model, row.active, row.created_by
        )

    # -- the review queue --------------------------------------------------------------------
    def _review(self, row: Any) -> ReviewRecord:
        return ReviewRecord(
            id=int(row.id),
            left_id=row.left_id,
            right_id=row.right_id,
            match_probability=float(row.match_probability),
            match_weight=float(row.match_weight),
            fields=orjson.loads(row.fields),
            status=row.status,
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
        )

    def reviewed_pairs(self) -> dict[tuple[str, str], str]:
        """Every pair ever queued, (left id, right id) in sorted order -> its status."""
        r = t.identity_reviews
        return {
            (left, right): status
            for left, right, status in self.conn.execute(
                select(r.c.left_id, r.c.right_id, r.c.status)
            )
        }

    def decided_reviews(self) -> list[ReviewRecord]:
        """Every pair staff accepted or rejected, oldest decision first."""
        r = t.identity_reviews
        query = (
            select(r)
            .where(r.c.status.in_(["accepted", "rejected"]))
            .order_by(r.c.decided_at, r.c.id)
        )
        return [self._review(row) for row in self.conn.execute(query)]

    def reviewed_pairs_involving(self, profile_ids: Sequence[str]) -> dict[tuple[str, str], str]:
        """The queued pairs one of whose profiles is among ``profile_ids`` -> their status."""
        r = t.identity_reviews
        out: dict[tuple[str, str], str] = {}
        for part in chunks(list(profile_ids)):
            query = select(r.c.left_id, r.c.right_id, r.c.status).where(
                or_(r.c.left_id.in_(part), r.c.right_id.in_(part))
            )
            out.update({(left, right): status for left, right, status in self.conn.execute(query)})
        return out

    def undone_merges(self, profile_ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(winner id, loser id) of every merge staff undid (that involved ``profile_ids``):
        pairs, like the keys of :meth:`reviewed_pairs`, since an undone merge counts as a
        rejected pair."""
        m = t.merges
        query = select(m.c.winner_id, m.c.loser_id).where(m.c.undone_at.is_not(None))
        out: list[tuple[str, str]] = []
        for part in _parts(profile_ids):
            found = query
            if part is not None:
                found = query.where(or_(m.c.winner_id.in_(part), m.c.loser_id.in_(part)))
            out += [(winner, loser) for winner, loser in self.conn.execute(found)]
        return out

    # -- relations ---------------------------------------------------------------------------
    def add_relations(
        self, pairs: Sequence[tuple[str, str]], kind: str, found_by: str, at: datetime
    ) -> int:
        """Record relations of ``kind`` between profile pairs not related so before (in either
        order); returns how many were new."""
        r = t.customer_relations
        wanted = {(a, b) if a <= b else (b, a) for a, b in pairs if a != b}
        if not wanted:
            return 0
        ids = sorted({x for pair in wanted for x in pair})
        known: set[tuple[str, str]] = set()
        for part in chunks(ids):
            query = select(r.c.customer_id, r.c.other_id).where(
                r.c.kind == kind, r.c.customer_id.in_(part)
            )
            known.update((a, b) for a, b in self.conn.execute(query))
        rows = [
            {"customer_id": a, "other_id": b, "kind": kind, "found_by": found_by, "created_at": at}
            for a, b in sorted(wanted - known)
        ]
        if rows:
            bulk_insert(self.conn, r, rows)
        return len(rows)

    def relations_involving(self, profile_ids: Sequence[str]) -> list[StoredRelation]:
        """Relations one of whose profiles is among ``profile_ids``, oldest first."""
        r = t.customer_relations
        found: dict[int, StoredRelation] = {}
        for part in chunks(list(profile_ids)):
            query = select(r).where(or_(r.c.customer_id.in_(part), r.c.other_id.in_(part)))
            for row in self.conn.execute(query):
                found[int(row.id)] = StoredRelation(
                    int(row.id),
                    row.customer_id,
                    row.other_id,
                    row.kind,
                    row.found_by,
                    row.created_at,
                )
        return [found[k] for k in sorted(found)]

    def add_reviews(self, rows: list[dict[str, Any]]) -> None:
        """Queue pairs: dicts with left_id, right_id (sorted), match_probability, match_weight,
        fields (a list, stored as JSON), created_at; each starts pending."""
        if rows:
            bulk_insert(
                self.conn,
                t.identity_reviews,
                [
                    {**row, "fields": orjson.dumps(row["fields"]).decode(), "status": "pending"}
                    for row in rows
                ],
            )

    def pending(
        self,
        limit: int,
        *,
        after: tuple[float, int] | None = None,
        before: tuple[float, int] | None = None,
    ) -> list[ReviewRecord]:
        """Pending pairs in queue order, strongest first (match weight descending, then id):
        the first ``limit``, the first ``limit`` after the place ``after`` or the last
        ``limit`` before the place ``before`` (a place is a (match weight, id); it need not be
        a pending pair's, so a page stays put while pairs ahead of it are decided)."""
        r = t.identity_reviews
        weight, ids = r.c.match_weight, r.c.id
        query = select(r).where(r.c.status == "pending")
        if after is not None:
            w, i = after
            query = query.where(or_(weight < w, and_(weight == w, ids > i)))
        if before is not None:
            w, i = before
            query = query.where(or_(weight > w, and_(weight == w, ids < i)))
            # Read backwards from ``before``, then turned round into queue order.
            backwards = query.order_by(weight, ids.desc()).limit(limit)
            return [self._review(row) for row in self.conn.execute(backwards)][::-1]
        query = query.order_by(weight.desc(), ids).limit(limit)
        return [self._review(row) for row in self.conn.execute(query)]

    def count_pending(self, before: tuple[float, int] | None = None) -> int:
        """How many pairs are pending (of them, how many come before the place ``before``)."""
        r = t.identity_reviews
        query = select(func.count()).select_from(r).where(r.c.status == "pending")
        if before is not None:
            w, i = before
            weight = r.c.match_weight
            query = query.where(or_(weight > w, and_(weight == w, r.c.id < i)))
        return int(self.conn.execute(query).scalar_one())

    def get_review(self, review_id: int) -> ReviewRecord | None:
        r = t.identity_reviews
        row = self.conn.execute(select(r).where(r.c.id == review_id)).first()
        return self._review(row) if row is not None else None

    def decide(self, review_id: int, status: str, by: str, at: datetime) -> None:
        r = t.identity_reviews
        self.conn.execute(
            update(r).where(r.c.id == review_id).values(status=status, decided_by=by, decided_at=at)
        )
