"""Repositories of profile data: customers, identifiers, traits, events, accounts, merges, search.

Repositories never return ORM rows or bare tuples. Records come back as the named records of
:mod:`cornerstore.profiles.model` (profile rows, identifiers and their owners, trait
observations, events and their counts, merges, refusals, name matches, search hits); the rest as
ids, counts, or sets, lists and dicts of them. They work inside one transaction; obtain them from
a :class:`~cornerstore.storage.unit_of_work.UnitOfWork`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    update,
)

from cornerstore.profiles.model import (
    Event,
    EventGroup,
    FoundIdentifier,
    Identifier,
    IdentifierOwner,
    MergeRecord,
    NameMatch,
    ProfileRow,
    RefusalRecord,
    SearchHit,
    TraitObservation,
)
from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert, chunks, insert_values, sqlite_rows
from cornerstore.storage.profile_read import ProfileRead, read_profile, read_profile_of


def _loads(text: str | None) -> Any:
    return orjson.loads(text) if text else {}


def upsert_into(conn: Connection, table: t.Table) -> Any:
    """The backend's INSERT into ``table``, which knows ON CONFLICT. Only the dialect in use is
    imported: PostgreSQL's costs every SQLite command a tenth of a second."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def _lock_hash(kind: str, value: str) -> int:
    """A signed 64-bit number for an identifier (PostgreSQL's advisory lock key)."""
    digest = hashlib.blake2b(f"{kind}\0{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Repository:
    """Base of the repositories: the transaction's connection and an insert that skips conflicts."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert_ignore(self, table: t.Table) -> Any:
        return upsert_into(self.conn, table).on_conflict_do_nothing()


class CustomerRepository(Repository):
    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Insert profiles: dicts with id, kind, root_id, created_at, message_id."""
        if rows:
            bulk_insert(self.conn, t.customers, rows)

    def count(self, roots_only: bool = True) -> int:
        query = select(func.count()).select_from(t.customers)
        if roots_only:
            query = query.where(t.customers.c.root_id == t.customers.c.id)
        return int(self.conn.execute(query).scalar_one())

    def get(self, customer_id: str) -> ProfileRow | None:
        """One profile row, merged or not."""
        row = self.conn.execute(
            select(
                t.customers.c.id,
                t.customers.c.kind,
                t.customers.c.root_id,
                t.customers.c.created_at,
            ).where(t.customers.c.id == customer_id)
        ).first()
        return ProfileRow(*row) if row else None

    def get_many(self, customer_ids: Collection[str]) -> dict[str, ProfileRow]:
        """:meth:`get` of many profile rows in a few statements (missing ids left out)."""
        c = t.customers
        found: dict[str, ProfileRow] = {}
        for chunk in chunks(sorted(set(customer_ids))):
            query = select(c.c.id, c.c.kind, c.c.root_id, c.c.created_at).where(c.c.id.in_(chunk))
            found.update((row[0], ProfileRow(*row)) for row in self.conn.execute(query))
        return found

    def members(self, root_id: str) -> list[str]:
        """Ids of every profile row that currently belongs to ``root_id`` (itself first)."""
        ids = self.conn.execute(
            select(t.customers.c.id).where(t.customers.c.root_id == root_id)
        ).scalars()
        return sorted(ids, key=lambda i: (i != root_id, i))

    def with_members(self, root_id: str) -> tuple[ProfileRow | None, list[str]]:
        """The root's profile row and the ids of every profile row that belongs to it now
        (itself first, as :meth:`members`), in one statement."""
        c = t.customers
        rows = self.conn.execute(
            select(c.c.id, c.c.kind, c.c.root_id, c.c.created_at).where(c.c.root_id == root_id)
        ).all()
        root = next((ProfileRow(*row) for row in rows if row[0] == root_id), None)
        return root, sorted((row[0] for row in rows), key=lambda i: (i != root_id, i))

    def profile(self, root_id: str) -> ProfileRead | None:
        """Everything a profile shows of the customer whose root profile is ``root_id``, and
        its consent answers, in one statement (:mod:`cornerstore.storage.profile_read`);
        None when it is no root."""
        return read_profile(self.conn, root_id)

    def profile_of(self, profile_id: str) -> ProfileRead | None:
        """As :meth:`profile`, for the customer the profile row ``profile_id`` (a root or a
        merged profile) belongs to now; None for an unknown id."""
        return read_profile_of(self.conn, profile_id)

    def members_of_roots(self, roots: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for chunk in chunks(list(roots)):
            for member, root in self.conn.execute(
                select(t.customers.c.id, t.customers.c.root_id).where(
                    t.customers.c.root_id.in_(chunk)
                )
            ):
                found.setdefault(root, []).append(member)
        return found

    def lock(self, customer_ids: Collection[str], wait: bool = True) -> dict[str, str]:
        """Lock these profile rows until the transaction ends and return each one's current
        root_id (a missing id is left out).

        Every change of a profile's root happens with its old and new root locked, so a
        locked root's members stay its members until the transaction ends. PostgreSQL locks
        the rows in id order, so writers locking overlapping sets in one call never wait on
        each other in a cycle; without ``wait`` a row another transaction holds fails the
        unit of work at once (a :class:`~cornerstore.errors.WriteConflict`). SQLite writers
        hold the whole database already (BEGIN IMMEDIATE), where the read alone is enough.
        """
        c = t.customers
        # Byte order, as Python sorts: the one order every writer locks in, whatever the
        # database's collation.
        order = c.c.id.collate("C") if self.conn.dialect.name == "postgresql" else c.c.id
        found: dict[str, str] = {}
        for chunk in chunks(sorted(set(customer_ids))):
            query = (
                select(c.c.id, c.c.root_id)
                .where(c.c.id.in_(chunk))
                .order_by(order)
                .with_for_update(nowait=not wait)
            )
            found.update((cid, root) for cid, root in self.conn.execute(query))
        return found

    def lock_for_merging(
        self, customer_ids: Collection[str], *, roots: bool, wait: bool = True
    ) -> set[str]:
        """Lock these profile rows for a batch of merges until the transaction ends; the ids
        locked. With ``roots`` only rows that are still roots are locked (a row merged away
        meanwhile is left out, not held), waiting for each in id order as :meth:`lock` does;
        without, every row is taken, failing at once (``wait=False``) when another writer
        holds one (a :class:`~cornerstore.errors.WriteConflict`).

        The lock (``FOR NO KEY UPDATE``) excludes every writer that would move the rows'
        members or lock them for a merge, but not rows added beside them (an event or an
        identifier of the customer): a batch never waits on those, nor they on it.
        SQLite writers hold the whole database already (BEGIN IMMEDIATE).
        """
        c = t.customers
        order = c.c.id.collate("C") if self.conn.dialect.name == "postgresql" else c.c.id
        locked: set[str] = set()
        for chunk in chunks(sorted(set(customer_ids))):
            query = select(c.c.id).where(c.c.id.in_(chunk))
            if roots:
                query = query.where(c.c.root_id == c.c.id)
            query = query.order_by(order).with_for_update(nowait=not wait, key_share=True)
            locked.update(self.conn.execute(query).scalars())
        return locked

    def set_root(self, member_ids: Sequence[str], root_id: str) -> None:
        for chunk in chunks(list(member_ids)):
            self.conn.execute(
                update(t.customers).where(t.customers.c.id.in_(chunk)).values(root_id=root_id)
            )

    def set_roots(self, roots: Mapping[str, str]) -> None:
        """Point each profile row of ``roots`` at its new root (profile id -> root id), all in
        one ``executemany`` (a batch of merges' moves, written together)."""
        if not roots:
            return
        c = t.customers
        statement = update(c).where(c.c.id == bindparam("moved")).values(root_id=bindparam("to"))
        self.conn.execute(statement, [{"moved": m, "to": r} for m, r in roots.items()])

    def roots_of(self, customer_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunks(list(customer_ids)):
            for cid, root in self.conn.execute(
                select(t.customers.c.id, t.customers.c.root_id).where(t.customers.c.id.in_(chunk))
            ):
                found[cid] = root
        return found

    def ids(self) -> list[str]:
        """The id of every profile row, merged ones included."""
        return list(self.conn.execute(select(t.customers.c.id)).scalars())

    def root_ids(self, kind: str | None = None, limit: int | None = None) -> list[str]:
        query = select(t.customers.c.id).where(t.customers.c.root_id == t.customers.c.id)
        if kind:
            query = query.where(t.customers.c.kind == kind)
        query = query.order_by(t.customers.c.created_at, t.customers.c.id)
        if limit:
            query = query.limit(limit)
        return list(self.conn.execute(query).scalars())


class IdentifierRepository(Repository):
    def lookup(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IdentifierOwner]:
        """Map (kind, value) to the profile holding it, for the identifiers already known."""
        found: dict[tuple[str, str], IdentifierOwner] = {}
        if not keys:
            return found
        i, c = t.identifiers, t.customers
        wanted = set(keys)
        # value IN (...) uses the (value, kind) index on every backend; SQLite scans the whole
        # table for a row-value IN, so the kind is checked here instead.
        values = list(dict.fromkeys(v for _, v in wanted))
        sqlite = self.conn.dialect.name == "sqlite"
        for chunk in chunks(values):
            rows: Iterable[Any]
            if sqlite:
                rows = self._lookup_sqlite(chunk)
            elif self.conn.dialect.name == "postgresql":
                # One array parameter: no statement compiled or parameters processed a batch.
                rows = self.conn.exec_driver_sql(
                    "SELECT i.kind, i.value, i.customer_id, c.root_id FROM identifiers i "
                    "JOIN customers c ON c.id = i.customer_id WHERE i.value = ANY(%s)",
                    (list(chunk),),
                ).all()
            else:
                rows = self.conn.execute(
                    select(i.c.kind, i.c.value, i.c.customer_id, c.c.root_id)
                    .join(c, c.c.id == i.c.customer_id)
                    .where(i.c.value.in_(chunk))
                )
            for kind, value, customer_id, root_id in rows:
                if (kind, value) in wanted:
                    found[(kind, value)] = IdentifierOwner(customer_id, root_id)
        return found

    def _lookup_sqlite(self, values: Sequence[str]) -> list[tuple[str, str, str, str]]:
        """(kind, value, customer_id, root_id) of the identifiers with these values.

        Intake's hot path: the driver's own cursor, rows fetched at once, is several times
        faster than Core and its result rows here. The identifiers and their profiles' roots
        are read in two statements, each profile once (a batch's identifiers share profiles):
        cheaper on SQLite than the join, which reads a profile row for every identifier.
        """
        owned = sqlite_rows(
            self.conn,
            "SELECT kind, value, customer_id FROM identifiers WHERE value IN "
            f"({','.join('?' * len(values))})",
            tuple(values),
        )
        if not owned:
            return []
        owners = list({customer_id for _, _, customer_id in owned})
        roots: dict[str, str] = {}
        for chunk in chunks(owners):
            roots.update(
                sqlite_rows(
                    self.conn,
                    f"SELECT id, root_id FROM customers WHERE id IN ({','.join('?' * len(chunk))})",
                    tuple(chunk),
                )
            )
        # An identifier always has its profile row (a foreign key), in the same transaction.
        return [(kind, value, cid, roots[cid]) for kind, value, cid in owned]

    def lock_keys(self, keys: Collection[tuple[str, str]]) -> None:
        """Hold these identifiers until the transaction ends, so a concurrent writer about the
        same identifiers waits for this one's commit and then finds what it stored, rather
        than storing the same new identifier too.

        PostgreSQL takes one transaction-level advisory lock per identifier (a 64-bit hash of
        kind and value), all in one statement and in hash order, so two writers never wait on
        each other in a cycle; a hash shared by two identifiers only makes one writer wait.
        SQLite writers hold the whole database already (BEGIN IMMEDIATE).
        """
        if self.conn.dialect.name != "postgresql" or not keys:
            return
        hashes = sorted({_lock_hash(kind, value) for kind, value in keys})
        # Through the driver: intake locks every batch's identifiers, and a compiled text()
        # statement costs more than the lock.
        self.conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(h) FROM unnest(CAST(%s AS bigint[])) AS h ORDER BY h",
            (hashes,),
        ).all()

    def find_by_value(
        self, value: str, kinds: Sequence[str] | None = None
    ) -> list[FoundIdentifier]:
        """Every identifier with this exact normalised value."""
        i, c = t.identifiers, t.customers
        query = (
            select(i.c.kind, c.c.root_id)
            .join(c, c.c.id == i.c.customer_id)
            .where(i.c.value == value)
        )
        if kinds:
            query = query.where(i.c.kind.in_(list(kinds)))
        return [FoundIdentifier(kind, root) for kind, root in self.conn.execute(query)]

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Insert identifiers: dicts with customer_id, kind, value, source, touchpoint,
        first_seen_at, message_id."""
        if rows:
            bulk_insert(self.conn, t.identifiers, rows)

    def kind_counts(self, roots: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per root, how many identifiers of each kind its whole cluster holds."""
        i, c = t.identifiers, t.customers
        counts: dict[str, dict[str, int]] = {root: {} for root in roots}
        for chunk in chunks(list(roots)):
            query = (
                select(c.c.root_id, i.c.kind, func.count())
                .join(c, c.c.id == i.c.customer_id)
                .where(c.c.root_id.in_(chunk))
                .group_by(c.c.root_id, i.c.kind)
            )
            for root, kind, n in self.conn.execute(query):
                counts[root][kind] = int(n)
        return counts

    def of_customers(self, customer_ids: Sequence[str]) -> list[Identifier]:
        i = t.identifiers
        query = (
            select(
                i.c.kind, i.c.value, i.c.source, i.c.touchpoint, i.c.first_seen_at, i.c.customer_id
            )
            .where(i.c.customer_id.in_(list(customer_ids)))
            .order_by(i.c.first_seen_at, i.c.id)
        )
        return [Identifier(*row) for row in self.conn.execute(query)]


class TraitRepository(Repository):
    """Trait observations: the trusted ones (``traits``), or with ``table`` the unverified
    claims of client-side sources (``unverified_traits``), which have the same columns."""

    def __init__(self, conn: Connection, table: t.Table = t.traits) -> None:
        super().__init__(conn)
        self.table = table

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Insert observations: dicts with customer_id, name, value (JSON text), touchpoint,
        source, observed_at, message_id."""
        if rows:
            bulk_insert(self.conn, self.table, rows)

    def of_customers(self, customer_ids: Sequence[str]) -> list[TraitObservation]:
        """Every observation of these profile rows, oldest first."""
        tr = self.table
        query = (
            select(
                tr.c.name,
                tr.c.value,
                tr.c.touchpoint,
                tr.c.source,
                tr.c.observed_at,
                tr.c.message_id,
                tr.c.customer_id,
            )
            .where(tr.c.customer_id.in_(list(customer_ids)))
            .order_by(tr.c.observed_at, tr.c.id)
        )
        return [
            TraitObservation(name, orjson.loads(value), tp, src, at, mid, cid)
            for name, value, tp, src, at, mid, cid in self.conn.execute(query)
        ]

    def latest_of_customers(
        self, customer_ids: Sequence[str], names: Sequence[str]
    ) -> list[TraitObservation]:
        """The latest observation of each of the traits ``names`` of these profile rows: the
        one :func:`~cornerstore.profiles.service.current_traits` keeps (the last observed, and
        of those observed at the same time the last stored).

        Intake reads the current names of a batch's customers this way: the database picks
        the latest rows, so a customer's long history never reaches Python. The statement
        goes straight to the driver, as the identifier lookup does.
        """
        if not customer_ids or not names:
            return []
        table = self.table.name
        columns = "name, value, touchpoint, source, observed_at, message_id, customer_id"
        latest = (
            "row_number() OVER (PARTITION BY customer_id, name ORDER BY observed_at DESC, id DESC)"
        )
        sqlite = self.conn.dialect.name == "sqlite"
        rows: list[Any] = []
        for chunk in chunks(list(customer_ids)):
            if sqlite:
                where = (
                    f"customer_id IN ({','.join('?' * len(chunk))}) "
                    f"AND name IN ({','.join('?' * len(names))})"
                )
                params: tuple[Any, ...] = (*chunk, *names)
            else:
                where = "customer_id = ANY(%s) AND name = ANY(%s)"
                params = (list(chunk), list(names))
            sql = (
                f"SELECT {columns} FROM (SELECT {columns}, {latest} AS newest FROM {table} "
                f"WHERE {where}) AS observed WHERE newest = 1"
            )
            if sqlite:
                # Straight to the driver, as the identifier lookup: SQLAlchemy's result rows
                # cost more than the statement here.
                rows += sqlite_rows(self.conn, sql, params)
            else:
                rows += self.conn.exec_driver_sql(sql, params).all()
        return [
            TraitObservation(
                name,
                orjson.loads(value),
                tp,
                src,
                _read_sqlite_time(at) if sqlite else at,
                mid,
                cid,
            )
            for name, value, tp, src, at, mid, cid in rows
        ]


def _read_sqlite_time(text: str) -> datetime:
    """A time as SQLAlchemy's SQLite DateTime stores it (UTC, no zone), zone-aware again."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class EventRepository(Repository):
    def existing_message_ids(self, message_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        sqlite = self.conn.dialect.name == "sqlite"
        for chunk in chunks(list(message_ids)):
            if sqlite:
                found.update(
                    row[0]
                    for row in sqlite_rows(
                        self.conn,
                        "SELECT message_id FROM events WHERE message_id IN "
                        f"({','.join('?' * len(chunk))})",
                        tuple(chunk),
                    )
                )
            elif self.conn.dialect.name == "postgresql":
                found.update(
                    row[0]
                    for row in self.conn.exec_driver_sql(
                        "SELECT message_id FROM events WHERE message_id = ANY(%s)", (list(chunk),)
                    )
                )
            else:
                found.update(
                    self.conn.execute(
                        select(t.events.c.message_id).where(t.events.c.message_id.in_(chunk))
                    ).scalars()
                )
        return found

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Append events: dicts with every column of ``events`` but id (JSON as text)."""
        if rows:
            bulk_insert(self.conn, t.events, rows)

    def add_values(self, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Append events given as tuples of ``columns``' values (intake's rows, built without
        a dict each)."""
        insert_values(self.conn, t.events, columns, rows)

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.events)).scalar_one())

    def summary(self, customer_ids: Sequence[str]) -> list[EventGroup]:
        """The events of these profile rows, by touchpoint and type."""
        e = t.events
        query = (
            select(
                e.c.touchpoint,
                e.c.type,
                func.count(),
                func.min(e.c.occurred_at),
                func.max(e.c.occurred_at),
            )
            .where(e.c.customer_id.in_(list(customer_ids)))
            .group_by(e.c.touchpoint, e.c.type)
        )
        out = []
        for tp, typ, n, first, last in self.conn.execute(query):
            # Aggregates lose the column type on SQLite; convert through it again.
            if isinstance(first, str):
                first, last = _read_sqlite_time(first), _read_sqlite_time(last)
            out.append(EventGroup(tp, typ, int(n), first, last))
        return out

    def page(
        self,
        customer_ids: Sequence[str],
        *,
        account_id: str | None = None,
        touchpoints: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        before: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[Event]:
        """Events of these profile rows, newest first, after the keyset cursor ``before``."""
        e = t.events
        owner: ColumnElement[bool] = e.c.customer_id.in_(list(customer_ids))
        if account_id is not None:
            owner = or_(owner, e.c.account_id == account_id)
        query = select(e).where(owner)
        if touchpoints:
            query = query.where(e.c.touchpoint.in_(list(touchpoints)))
        if types:
            query = query.where(e.c.type.in_(list(types)))
        if before is not None:
            at, event_id = before
            query = query.where(
                or_(e.c.occurred_at < at, and_(e.c.occurred_at == at, e.c.id < event_id))
            )
        query = query.order_by(e.c.occurred_at.desc(), e.c.id.desc()).limit(limit)
        return [
            Event(
                id=row.id,
                message_id=row.message_id,
                customer_id=row.customer_id,
                account_id=row.account_id,
                type=row.type,
                name=row.name,
                touchpoint=row.touchpoint,
                source=row.source,
                user_id=row.user_id,
                anonymous_id=row.anonymous_id,
                occurred_at=row.occurred_at,
                original_timestamp=row.original_timestamp,
                sent_at=row.sent_at,
                received_at=row.received_at,
                properties=_loads(row.properties),
                context=_loads(row.context),
                integrations=_loads(row.integrations),
                channel=row.channel,
                version=row.version,
            )
            for row in self.conn.execute(query)
        ]


class AccountRepository(Repository):
    def add_members(self, rows: list[dict[str, Any]]) -> None:
        """Link people to accounts: dicts with account_id, customer_id, since, message_id."""
        if rows:
            self.conn.execute(self._insert_ignore(t.account_members), rows)

    def accounts_of(self, customer_ids: Sequence[str]) -> list[str]:
        m, c = t.account_members, t.customers
        query = (
            select(c.c.root_id)
            .join(c, c.c.id == m.c.account_id)
            .where(m.c.customer_id.in_(list(customer_ids)))
            .distinct()
        )
        return sorted(self.conn.execute(query).scalars())

    def members_of(self, account_ids: Sequence[str]) -> list[str]:
        m, c = t.account_members, t.customers
        query = (
            select(c.c.root_id)
            .join(c, c.c.id == m.c.customer_id)
            .where(m.c.account_id.in_(list(account_ids)))
            .distinct()
        )
        return sorted(self.conn.execute(query).scalars())


class MergeRepository(Repository):
    def add(
        self,
        *,
        winner_id: str,
        loser_id: str,
        members: list[str],
        reason: str,
        evidence: list[dict[str, str]],
        message_id: str | None,
        created_at: datetime,
        created_by: str,
    ) -> int:
        result = self.conn.execute(
            t.merges.insert().values(
                winner_id=winner_id,
                loser_id=loser_id,
                members=orjson.dumps(members).decode(),
                reason=reason,
                evidence=orjson.dumps(evidence).decode(),
                message_id=message_id,
                created_at=created_at,
                created_by=created_by,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def add_many(self, merges: list[dict[str, Any]]) -> None:
        """Record merges (dicts of :meth:`add`'s arguments) in one statement, in order."""
        rows = [
            {
                **m,
                "members": orjson.dumps(m["members"]).decode(),
                "evidence": orjson.dumps(m["evidence"]).decode(),
            }
            for m in merges
        ]
        bulk_insert(self.conn, t.merges, rows)

    def add_refusals(self, rows: list[dict[str, Any]]) -> None:
        """Record refusals (dicts with created_at, message_id, reason, profiles); a refusal of
        the same profiles for the same reason only counts up and moves ``last_at``."""
        merged: dict[str, dict[str, Any]] = {}
        for row in rows:
            profiles = sorted(row["profiles"])
            key = hashlib.sha256(("|".join(profiles) + "|" + row["reason"]).encode()).hexdigest()
            if key in merged:
                merged[key]["times"] += 1
                merged[key]["last_at"] = max(merged[key]["last_at"], row["created_at"])
                continue
            merged[key] = {
                "refusal_key": key,
                "created_at": row["created_at"],
                "last_at": row["created_at"],
                "times": 1,
                "message_id": row["message_id"],
                "reason": row["reason"],
                "profiles": orjson.dumps(profiles).decode(),
            }
        if not merged:
            return
        r = t.merge_refusals
        insert = upsert_into(self.conn, r)
        statement = insert.on_conflict_do_update(
            index_elements=[r.c.refusal_key],
            set_={
                "times": r.c.times + insert.excluded.times,
                "last_at": insert.excluded.last_at,
            },
        )
        self.conn.execute(statement, list(merged.values()))

    def refusals(self, limit: int = 100) -> list[RefusalRecord]:
        """The most recent refusals, newest first."""
        r = t.merge_refusals
        query = (
            select(r.c.created_at, r.c.last_at, r.c.times, r.c.message_id, r.c.reason, r.c.profiles)
            .order_by(r.c.last_at.desc(), r.c.id.desc())
            .limit(limit)
        )
        return [
            RefusalRecord(first, last, int(times), mid, reason, orjson.loads(profiles))
            for first, last, times, mid, reason, profiles in self.conn.execute(query)
        ]

    def _record(self, row: Any) -> MergeRecord:
        return MergeRecord(
            id=row.id,
            winner_id=row.winner_id,
            loser_id=row.loser_id,
            members=orjson.loads(row.members),
            reason=row.reason,
            evidence=orjson.loads(row.evidence),
            message_id=row.message_id,
            created_at=row.created_at,
            created_by=row.created_by,
            undone_at=row.undone_at,
            undone_by=row.undone_by,
        )

    def get(self, merge_id: int) -> MergeRecord | None:
        row = self.conn.execute(select(t.merges).where(t.merges.c.id == merge_id)).first()
        return self._record(row) if row else None

    def involving(self, customer_ids: Sequence[str]) -> list[MergeRecord]:
        m = t.merges
        ids = list(customer_ids)
        query = select(m).where(or_(m.c.winner_id.in_(ids), m.c.loser_id.in_(ids))).order_by(m.c.id)
        return [self._record(row) for row in self.conn.execute(query)]

    def recent(self, limit: int) -> list[MergeRecord]:
        """The latest merges, undone ones included, newest first."""
        query = select(t.merges).order_by(t.merges.c.id.desc()).limit(limit)
        return [self._record(row) for row in self.conn.execute(query)]

    def active_with_loser(self, loser_id: str) -> MergeRecord | None:
        m = t.merges
        row = self.conn.execute(
            select(m)
            .where(m.c.loser_id == loser_id, m.c.undone_at.is_(None))
            .order_by(m.c.id.desc())
            .limit(1)
        ).first()
        return self._record(row) if row else None

    def active_with_losers(self, loser_ids: Sequence[str]) -> dict[str, MergeRecord]:
        """:meth:`active_with_loser` of many profiles in a few statements: loser id -> its
        latest merge not undone (profiles absorbed by none are left out)."""
        m = t.merges
        found: dict[str, MergeRecord] = {}
        for chunk in chunks(sorted(set(loser_ids))):
            query = (
                select(m).where(m.c.loser_id.in_(chunk), m.c.undone_at.is_(None)).order_by(m.c.id)
            )
            for row in self.conn.execute(query):
                found[row.loser_id] = self._record(row)  # the latest wins
        return found

    def active_after(self, merge_id: int) -> list[MergeRecord]:
        m = t.merges
        query = select(m).where(m.c.id > merge_id, m.c.undone_at.is_(None)).order_by(m.c.id)
        return [self._record(row) for row in self.conn.execute(query)]

    def set_members(self, merge_id: int, members: list[str]) -> None:
        self.conn.execute(
            update(t.merges)
            .where(t.merges.c.id == merge_id)
            .values(members=orjson.dumps(members).decode())
        )

    def mark_undone(self, merge_id: int, at: datetime, by: str) -> None:
        self.conn.execute(
            update(t.merges).where(t.merges.c.id == merge_id).values(undone_at=at, undone_by=by)
        )


def _within(column: Any, name: str) -> Any:
    """``column IN (:name)`` as one cached statement whatever the list's length: SQLAlchemy
    would otherwise coerce each value of a literal list on every call."""
    return column.in_(bindparam(name, expanding=True))


_n, _c, _i, _tr = t.name_words, t.customers, t.identifiers, t.traits
_NAME_WORDS_BETWEEN = (
    select(_n.c.word)
    .where(_n.c.word >= bindparam("low"), _n.c.word < bindparam("high"))
    .distinct()
    .order_by(_n.c.word)
)
# The same, keeping only the words one typo from a word of ``near`` letters (one letter more or
# less) or that begin with ``near``: the rest could never match, so they are not sent back.
_NEAR_WORDS_BETWEEN = _NAME_WORDS_BETWEEN.where(
    or_(
        func.length(_n.c.word).between(bindparam("shortest"), bindparam("longest")),
        and_(_n.c.word >= bindparam("near"), _n.c.word < bindparam("after_near")),
    )
)
_KINDS = select(_c.c.id, _c.c.kind).where(_within(_c.c.id, "ids"))
_MEMBERS = select(_c.c.id, _c.c.root_id).where(_within(_c.c.root_id, "ids"))
_CONTACTS = (
    select(_i.c.customer_id, _i.c.kind, _i.c.value)
    .where(_within(_i.c.customer_id, "ids"), _i.c.kind.in_(["email", "phone"]))
    .order_by(_i.c.id)
)
_NAMES = (
    select(_tr.c.customer_id, _tr.c.name, _tr.c.value)
    .where(_within(_tr.c.customer_id, "ids"), _tr.c.name.in_(["first_name", "last_name", "name"]))
    .order_by(_tr.c.observed_at)
)


# The candidates of a name search come as one parameter whatever their number, so each statement
# is parsed, compiled and planned once (a VALUES list of a thousand rows costs more to prepare
# than to run, and each length would be another statement): PostgreSQL takes three arrays,
# SQLite one JSON array of [word, query word, distance]. A candidate word is looked up in the
# index of words (a nested loop of index look-ups).
_CANDIDATES = {
    "postgresql": (
        "SELECT * FROM unnest(CAST(:words AS text[]), CAST(:qis AS int[]), CAST(:dists AS int[]))"
    ),
    "sqlite": (
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
        " json_extract(value, '$[2]') FROM json_each(:candidates)"
    ),
}


@lru_cache(maxsize=512)
def _rows_matching_sql(dialect: str, words: int) -> Any:
    """The statement of :meth:`SearchRepository.rows_matching` in ``dialect`` for ``words``
    query words (built once for each).

    One pass groups the matching index entries by profile row, keeping per query word the
    smallest distance (``d0``, ``d1``, ...); a row missing a query word has a NULL there. Only
    the best ``:limit`` rows are joined to their customers.
    """
    marks = _CANDIDATES[dialect]
    per_word = ", ".join(
        f"min(CASE WHEN cand.qi = {i} THEN cand.dist END) AS d{i}" for i in range(words)
    )
    every = " AND ".join(f"d{i} IS NOT NULL" for i in range(words))
    total = " + ".join(f"d{i}" for i in range(words))
    distances = ", ".join(f"b.d{i}" for i in range(words))
    order = "tier, distance, spaces, name_key, customer_id"
    return text(
        f"WITH cand (word, qi, dist) AS ({marks}), "
        f"per_row AS (SELECT n.customer_id, n.name_key, {per_word}"
        " FROM name_words n JOIN cand ON n.word = cand.word"
        " GROUP BY n.customer_id, n.name_key), "
        f"matching AS (SELECT *, {total} AS distance FROM per_row WHERE {every}), "
        "best AS (SELECT *,"
        " CASE WHEN distance = 0 AND name_key = :exact THEN 0"
        " WHEN distance = 0 THEN 1 ELSE 2 END AS tier,"
        " length(name_key) - length(replace(name_key, ' ', '')) AS spaces"
        f" FROM matching ORDER BY {order} LIMIT :limit) "
        f"SELECT c.root_id, b.customer_id, b.name_key, b.distance, {distances} "
        "FROM best b JOIN customers c ON c.id = b.customer_id "
        f"ORDER BY {', '.join('b.' + column for column in order.split(', '))}"
    )


@lru_cache(maxsize=512)
def _entries_sql(dialect: str, rows: bool) -> Any:
    """How many index entries each query word's candidates have (``rows`` False), or the
    profile rows holding a candidate of one query word with the closest distance (``rows``
    True), in ``dialect``."""
    marks = _CANDIDATES[dialect]
    if not rows:
        return text(
            f"WITH cand (word, qi, dist) AS ({marks}) SELECT cand.qi, count(*)"
            " FROM cand JOIN name_words n ON n.word = cand.word GROUP BY cand.qi"
        )
    return text(
        f"WITH cand (word, qi, dist) AS ({marks}) SELECT n.customer_id, n.name_key,"
        " min(cand.dist) FROM cand JOIN name_words n ON n.word = cand.word"
        " GROUP BY n.customer_id, n.name_key"
    )


class SearchRepository(Repository):
    def replace_name_words(
        self, words_by_row: dict[str, tuple[str, ...]], new: Collection[str] = ()
    ) -> None:
        """Index each profile row by these name words (sorted), instead of its earlier ones;
        rows in ``new`` have none yet, so nothing of theirs is deleted (a bulk import of new
        customers then never searches the index for old words)."""
        n = t.name_words
        for chunk in chunks([cid for cid in words_by_row if cid not in new]):
            self.conn.execute(delete(n).where(n.c.customer_id.in_(chunk)))
        rows = [
            {"word": word, "customer_id": cid, "name_key": " ".join(words)}
            for cid, words in words_by_row.items()
            for word in words
        ]
        bulk_insert(self.conn, n, rows)

    def name_words_between(self, low: str, high: str, near: str | None = None) -> list[str]:
        """The distinct stored name words from ``low`` up to (not including) ``high``; with
        ``near``, only those that begin with it or whose length is within one of its."""
        if near is None:
            return list(
                self.conn.execute(_NAME_WORDS_BETWEEN, {"low": low, "high": high}).scalars()
            )
        params = {
            "low": low,
            "high": high,
            "shortest": len(near) - 1,
            "longest": len(near) + 1,
            "near": near,
            "after_near": near[:-1] + chr(ord(near[-1]) + 1),
        }
        return list(self.conn.execute(_NEAR_WORDS_BETWEEN, params).scalars())

    def rows_matching(
        self, candidates: Sequence[tuple[str, int, int]], words: int, exact_key: str, limit: int
    ) -> list[NameMatch]:
        """The ``limit`` best profile rows whose words match each of the ``words`` query words.

        ``candidates`` are (stored word, query word number, distance). A row's distance for a
        query word is that of its closest matching word; rows rank by: the exact full name
        (every distance 0 and ``name_key`` equal to ``exact_key``), then every distance 0, then
        the rest; then the summed distance, fewer words, the name key and the row id.
        """
        if not candidates:
            return []
        dialect, params = self._bind(candidates)
        params |= {"exact": exact_key, "limit": limit}
        sql = _rows_matching_sql(dialect, words)
        return [
            NameMatch(root, cid, key, int(distance), max(int(d) for d in per_word))
            for root, cid, key, distance, *per_word in self.conn.execute(sql, params)
        ]

    def entries_per_word(self, candidates: Sequence[tuple[str, int, int]]) -> dict[int, int]:
        """How many index entries (profile rows) hold a candidate of each query word: the
        candidates are (stored word, query word number, distance). A count reads only the
        index; no row is grouped or sorted."""
        if not candidates:
            return {}
        dialect, params = self._bind(candidates)
        return {
            int(qi): int(n) for qi, n in self.conn.execute(_entries_sql(dialect, False), params)
        }

    def rows_with(self, candidates: Sequence[tuple[str, int]]) -> list[tuple[str, str, int]]:
        """(profile row, name key, distance of its closest word) of every row holding one of
        the ``candidates`` (stored word, distance)."""
        if not candidates:
            return []
        dialect, params = self._bind([(w, 0, d) for w, d in candidates])
        found = self.conn.execute(_entries_sql(dialect, True), params)
        return [(cid, key, int(d)) for cid, key, d in found]

    def _bind(self, candidates: Sequence[tuple[str, int, int]]) -> tuple[str, dict[str, Any]]:
        """The dialect whose statement to use over ``candidates`` (stored word, query word
        number, distance), and its parameters: three arrays for PostgreSQL, one JSON array
        for SQLite."""
        dialect = self.conn.dialect.name
        if dialect == "postgresql":
            found, qis, dists = zip(*candidates, strict=True)
            return dialect, {"words": list(found), "qis": list(qis), "dists": list(dists)}
        return "sqlite", {"candidates": orjson.dumps(candidates).decode()}

    def hits(self, root_ids: Sequence[str], matched: dict[str, str]) -> list[SearchHit]:
        """Describe profiles for a result list: name, first e-mail and phone."""
        if not root_ids:
            return []
        ids = list(dict.fromkeys(root_ids))
        kinds = dict(self.conn.execute(_KINDS, {"ids": ids}).all())
        members = dict(self.conn.execute(_MEMBERS, {"ids": ids}).all())
        contact: dict[str, dict[str, str]] = {}
        for cid, kind, value in self.conn.execute(_CONTACTS, {"ids": list(members)}):
            contact.setdefault(members[cid], {}).setdefault(kind, value)
        names: dict[str, dict[str, str]] = {}
        for cid, name, value in self.conn.execute(_NAMES, {"ids": list(members)}):
            names.setdefault(members[cid], {})[name] = orjson.loads(value)
        out = []
        for root in ids:
            if root not in kinds:
                continue
            n = names.get(root, {})
            full = n.get("name") or " ".join(
                str(p) for p in (n.get("first_name"), n.get("last_name")) if p
            )
            out.append(
                SearchHit(
                    id=root,
                    kind=kinds[root],
                    name=full or None,
                    email=contact.get(root, {}).get("email"),
                    phone=contact.get(root, {}).get("phone"),
                    matched=matched.get(root, ""),
                )
            )
        return out


class InstallationSecretRepository(Repository):
    def get_or_make(self, name: str, at: datetime) -> str:
        """The installation's secret called ``name``, generated on first use. Two first uses
        at once agree: the second insert is ignored and both read the one stored."""
        s = t.installation_secrets
        value = self.conn.execute(select(s.c.value).where(s.c.name == name)).scalar()
        if value is None:
            self.conn.execute(
                self._insert_ignore(s),
                [{"name": name, "value": secrets.token_hex(32), "created_at": at}],
            )
            value = self.conn.execute(select(s.c.value).where(s.c.name == name)).scalar_one()
        return str(value)
