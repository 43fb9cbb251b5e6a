"""What the contact centre keeps: cases, their links, messages, changes and remedies.

Cases are filed with a profile row and read through ``customers.root_id``: the customer a case
belongs to is the root of its row now, so merges and unmerges never rewrite a case.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, func, or_, select, update

from cornerstore.cases.model import (
    Attachment,
    Case,
    CaseChange,
    CaseFilter,
    CaseLink,
    CaseMessage,
    Remedy,
)
from cornerstore.storage import tables as t
from cornerstore.storage.batches import chunks
from cornerstore.storage.repositories import Repository

_CASE_COLUMNS = (
    t.cases.c.id,
    t.customers.c.root_id,
    t.cases.c.customer_id,
    t.cases.c.channel,
    t.cases.c.status,
    t.cases.c.owner_id,
    t.staff_users.c.username,
    t.cases.c.category,
    t.cases.c.priority,
    t.cases.c.branch,
    t.cases.c.subject,
    t.cases.c.opened_at,
    t.cases.c.updated_at,
    t.cases.c.resolved_at,
    t.cases.c.closed_at,
    t.cases.c.reopened,
    t.cases.c.external_ref,
)

_CHANGE_COLUMNS = ("id", "case_id", "at", "actor", "actor_id", "field", "old", "new")


def _case_query() -> Any:
    c = t.cases
    counts = (
        select(func.count())
        .where(t.case_messages.c.case_id == c.c.id)
        .scalar_subquery()
        .label("message_count")
    )
    return (
        select(*_CASE_COLUMNS, counts)
        .select_from(c)
        .join(t.customers, t.customers.c.id == c.c.customer_id)
        .outerjoin(t.staff_users, t.staff_users.c.id == c.c.owner_id)
    )


class CaseRepository(Repository):
    # -- cases ---------------------------------------------------------------------------------

    def add(self, row: dict[str, Any]) -> int:
        """Insert a case (columns of ``cases``); its id."""
        result = self.conn.execute(t.cases.insert().values(**row))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def id_by_ref(self, external_ref: str) -> int | None:
        c = t.cases
        return self.conn.execute(select(c.c.id).where(c.c.external_ref == external_ref)).scalar()

    def get(self, case_id: int) -> Case | None:
        row = self.conn.execute(_case_query().where(t.cases.c.id == case_id)).first()
        if row is None:
            return None
        return self._case(row, self.links_of([case_id]).get(case_id, ()))

    def find(self, where: CaseFilter) -> list[Case]:
        """The cases ``where`` selects, newest first."""
        c = t.cases
        query = _case_query()
        if where.customer_ids is not None:
            query = query.where(c.c.customer_id.in_(list(where.customer_ids)))
        for column, values in (
            (c.c.status, where.status),
            (c.c.channel, where.channel),
            (c.c.category, where.category),
            (c.c.branch, where.branch),
        ):
            if values:
                query = query.where(column.in_(list(values)))
        if where.owner_id is not None:
            query = query.where(c.c.owner_id == where.owner_id)
        if where.unassigned:
            query = query.where(c.c.owner_id.is_(None))
        if where.opened_before is not None:
            query = query.where(c.c.opened_at < where.opened_before)
        if where.visible_to_branch is not None:
            # In the query, before the limit: a page of another branch's newer cases must not
            # crowd out this branch's older ones.
            query = query.where(or_(c.c.branch.is_(None), c.c.branch == where.visible_to_branch))
        query = query.order_by(c.c.opened_at.desc(), c.c.id.desc())
        query = query.limit(where.limit).offset(where.offset)
        rows = list(self.conn.execute(query))
        links = self.links_of([row.id for row in rows])
        return [self._case(row, links.get(row.id, ())) for row in rows]

    def _case(self, row: Any, links: Sequence[CaseLink]) -> Case:
        values: list[Any] = [*row[:17], int(row[17] or 0), tuple(links)]
        return Case(*values)

    def update(self, case_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(update(t.cases).where(t.cases.c.id == case_id).values(**values))

    def open_roots(
        self, categories: Collection[str], statuses: Collection[str], roots: Sequence[str] | None
    ) -> set[str]:
        """Customers (roots) with a case in ``statuses`` and ``categories``; among ``roots``
        when given."""
        c, cu = t.cases, t.customers
        base = (
            select(cu.c.root_id)
            .select_from(c)
            .join(cu, cu.c.id == c.c.customer_id)
            .where(c.c.status.in_(list(statuses)), c.c.category.in_(list(categories)))
            .distinct()
        )
        if roots is None:
            return set(self.conn.execute(base).scalars())
        found: set[str] = set()
        for part in chunks(list(roots)):
            found.update(self.conn.execute(base.where(cu.c.root_id.in_(part))).scalars())
        return found

    def move(self, case_id: int, profile_id: str) -> None:
        """File a case and everything of it with another profile row."""
        for table in (t.case_links, t.case_messages, t.case_changes, t.remedies):
            self.conn.execute(
                update(table).where(table.c.case_id == case_id).values(customer_id=profile_id)
            )
        self.conn.execute(
            update(t.cases).where(t.cases.c.id == case_id).values(customer_id=profile_id)
        )

    # -- links ---------------------------------------------------------------------------------

    def add_links(self, case_id: int, profile_id: str, links: Collection[CaseLink]) -> None:
        rows = [
            {"case_id": case_id, "kind": k.kind, "ref": k.ref, "customer_id": profile_id}
            for k in links
        ]
        if rows:
            self.conn.execute(self._insert_ignore(t.case_links), rows)

    def links_of(self, case_ids: Sequence[int]) -> dict[int, list[CaseLink]]:
        found: dict[int, list[CaseLink]] = {}
        k = t.case_links
        for part in chunks(list(case_ids)):
            query = select(k.c.case_id, k.c.kind, k.c.ref).where(k.c.case_id.in_(part))
            for case_id, kind, ref in self.conn.execute(query.order_by(k.c.kind, k.c.ref)):
                found.setdefault(case_id, []).append(CaseLink(kind, ref))
        return found

    # -- messages ------------------------------------------------------------------------------

    def add_message(self, row: dict[str, Any]) -> int:
        result = self.conn.execute(t.case_messages.insert().values(**row))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def case_of_messages(self, message_ids: Collection[str]) -> dict[str, int]:
        """Mail Message-IDs already stored -> the case each is on."""
        m = t.case_messages
        found: dict[str, int] = {}
        for part in chunks([i for i in message_ids if i]):
            query = select(m.c.message_id, m.c.case_id).where(m.c.message_id.in_(part))
            found.update({mid: cid for mid, cid in self.conn.execute(query)})
        return found

    def messages(self, case_id: int, include_internal: bool = True) -> list[CaseMessage]:
        m = t.case_messages
        query = (
            select(
                m.c.id,
                m.c.case_id,
                m.c.direction,
                m.c.author_kind,
                m.c.author_id,
                t.staff_users.c.username,
                m.c.internal,
                m.c.channel,
                m.c.body,
                m.c.sent_at,
                m.c.message_id,
                m.c.in_reply_to,
                m.c.attachments,
            )
            .select_from(m)
            .outerjoin(t.staff_users, t.staff_users.c.id == m.c.author_id)
            .where(m.c.case_id == case_id)
            .order_by(m.c.sent_at, m.c.id)
        )
        if not include_internal:
            query = query.where(m.c.internal.is_(False))
        out = []
        for row in self.conn.execute(query):
            files = tuple(
                Attachment(a["filename"], a["content_type"], int(a["size"]))
                for a in (orjson.loads(row.attachments) if row.attachments else [])
            )
            values: list[Any] = [*row[:12], files]
            out.append(CaseMessage(*values))
        return out

    def agent_replies(self, case_id: int) -> int:
        m = t.case_messages
        query = select(func.count()).where(
            and_(m.c.case_id == case_id, m.c.direction == "out", m.c.internal.is_(False))
        )
        return int(self.conn.execute(query).scalar_one())

    # -- changes -------------------------------------------------------------------------------

    def add_change(self, row: dict[str, Any]) -> None:
        self.conn.execute(t.case_changes.insert().values(**row))

    def changes(self, case_id: int) -> list[CaseChange]:
        h = t.case_changes
        query = (
            select(
                h.c.id, h.c.case_id, h.c.at, h.c.actor, h.c.actor_id, h.c.field, h.c.old, h.c.new
            )
            .where(h.c.case_id == case_id)
            .order_by(h.c.at, h.c.id)
        )
        return [CaseChange(*row) for row in self.conn.execute(query)]

    # -- remedies ------------------------------------------------------------------------------

    def add_remedy(self, row: dict[str, Any]) -> int:
        result = self.conn.execute(t.remedies.insert().values(**row))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def _remedy_query(self) -> Any:
        r = t.remedies
        return (
            select(
                r.c.id,
                r.c.case_id,
                t.customers.c.root_id,
                r.c.kind,
                r.c.amount,
                r.c.order_ref,
                r.c.status,
                r.c.note,
                r.c.requested_by,
                r.c.requested_by_id,
                r.c.requested_role,
                r.c.requested_at,
                r.c.decided_by,
                r.c.decided_by_id,
                r.c.decided_at,
            )
            .select_from(r)
            .join(t.customers, t.customers.c.id == r.c.customer_id)
        )

    def remedy(self, remedy_id: int) -> Remedy | None:
        row = self.conn.execute(self._remedy_query().where(t.remedies.c.id == remedy_id)).first()
        return Remedy(*row) if row else None

    def remedies(
        self, case_ids: Sequence[int] | None = None, status: str | None = None, limit: int = 200
    ) -> list[Remedy]:
        r = t.remedies
        query = self._remedy_query()
        if case_ids is not None:
            query = query.where(r.c.case_id.in_(list(case_ids)))
        if status is not None:
            query = query.where(r.c.status == status)
        query = query.order_by(r.c.requested_at, r.c.id).limit(limit)
        return [Remedy(*row) for row in self.conn.execute(query)]

    def decide_remedy(
        self, remedy_id: int, status: str, by: str, by_id: int | None, at: datetime
    ) -> bool:
        """Decide a pending remedy; False when it was no longer pending (decided meanwhile)."""
        r = t.remedies
        result = self.conn.execute(
            update(r)
            .where(r.c.id == remedy_id, r.c.status == "pending")
            .values(status=status, decided_by=by[:160], decided_by_id=by_id, decided_at=at)
        )
        return bool(result.rowcount)

    def events_mentioning(
        self, customer_ids: Sequence[str], names: Sequence[str], text: str, limit: int = 20
    ) -> list[str]:
        """Properties (JSON text) of these profile rows' track events with these names whose
        properties contain ``text`` (an order id), newest first: the few to parse instead of
        a customer's whole purchase history."""
        e = t.events
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = (
            select(e.c.properties)
            .where(
                e.c.customer_id.in_(list(customer_ids)),
                e.c.type == "track",
                e.c.name.in_(list(names)),
                e.c.properties.like(pattern, escape="\\"),
            )
            .order_by(e.c.occurred_at.desc())
            .limit(limit)
        )
        return [row for row in self.conn.execute(query).scalars() if row]

    def resolved_remedies(
        self, categories: Collection[str], limit: int
    ) -> list[tuple[str, str, float]]:
        """(category, kind, amount) of granted remedies on resolved or closed cases of these
        categories, newest first: what resolved similar cases before."""
        r, c = t.remedies, t.cases
        query = (
            select(c.c.category, r.c.kind, r.c.amount)
            .select_from(r)
            .join(c, c.c.id == r.c.case_id)
            .where(
                r.c.status == "granted",
                c.c.status.in_(["resolved", "closed"]),
                c.c.category.in_(list(categories)),
            )
            .order_by(r.c.requested_at.desc())
            .limit(limit)
        )
        return [(cat, kind, float(amount)) for cat, kind, amount in self.conn.execute(query)]
