"""What campaigns keep in the store: the contact log, campaigns, their recipients and coupons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, func, or_, select, update

from cornerstore.campaigns.model import CampaignRecord, Contact, CouponRecord, Offer, Recipient
from cornerstore.storage import tables as t
from cornerstore.storage.batches import _sqlite_time, bulk_insert, chunks
from cornerstore.storage.repositories import Repository


class ContactRepository(Repository):
    def add_many(self, contacts: Sequence[Contact]) -> None:
        """Log these contacts (each customer id a profile row, normally the root)."""
        bulk_insert(
            self.conn,
            t.contacts,
            [
                {
                    "customer_id": c.customer_id,
                    "channel": c.channel,
                    "purpose": c.purpose,
                    "campaign_id": c.campaign_id,
                    "source": c.source[:128],
                    "at": c.at,
                }
                for c in contacts
            ],
        )

    def of_roots(self, root_ids: Sequence[str], since: datetime) -> list[Contact]:
        """Contacts made at or after ``since`` with a profile that now belongs to one of these
        roots (merged-away profiles' contacts count for their survivor), under the root's id."""
        k, c = t.contacts, t.customers
        columns: tuple[Any, ...] = (
            c.c.root_id,
            k.c.channel,
            k.c.purpose,
            k.c.at,
            k.c.source,
            k.c.campaign_id,
        )
        found: list[Contact] = []
        for part in chunks(list(dict.fromkeys(root_ids))):
            query = (
                select(*columns)
                .join(c, c.c.id == k.c.customer_id)
                .where(c.c.root_id.in_(part), k.c.at >= since)
            )
            found += [Contact(*row) for row in self.conn.execute(query)]
        found.sort(key=lambda contact: contact.at)
        return found


class CampaignRepository(Repository):
    def add(self, row: dict[str, Any]) -> int:
        result = self.conn.execute(t.campaigns.insert().values(**row))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get(self, campaign_id: int) -> CampaignRecord | None:
        row = self.conn.execute(select(t.campaigns).where(t.campaigns.c.id == campaign_id)).first()
        return _campaign(row) if row is not None else None

    def all(self) -> list[CampaignRecord]:
        rows = self.conn.execute(select(t.campaigns).order_by(t.campaigns.c.id.desc()))
        return [_campaign(row) for row in rows]

    def set(self, campaign_id: int, **values: Any) -> None:
        self.conn.execute(
            update(t.campaigns).where(t.campaigns.c.id == campaign_id).values(**values)
        )

    def take_sending_lease(
        self, campaign_id: int, token: str, now: datetime, until: datetime
    ) -> bool:
        """Take (or renew, with the same ``token``) the campaign's sending lease until
        ``until``; False while another send holds a lease that has not run out."""
        c = t.campaigns.c
        free = or_(c.sending_until.is_(None), c.sending_until < now, c.sending_token == token)
        result = self.conn.execute(
            update(t.campaigns)
            .where(c.id == campaign_id, free)
            .values(sending_token=token, sending_until=until)
        )
        return result.rowcount == 1

    def end_sending_lease(self, campaign_id: int, token: str) -> None:
        c = t.campaigns.c
        self.conn.execute(
            update(t.campaigns)
            .where(c.id == campaign_id, c.sending_token == token)
            .values(sending_token=None, sending_until=None)
        )

    def add_recipients(self, campaign_id: int, rows: Sequence[dict[str, Any]]) -> None:
        """Store recipients (customer_id, arm, state, reason, updated_at)."""
        bulk_insert(
            self.conn,
            t.campaign_recipients,
            [{"campaign_id": campaign_id, "attempts": 0, **row} for row in rows],
        )

    def set_states(
        self, campaign_id: int, changes: Sequence[tuple[str, str, str | None]], at: datetime
    ) -> None:
        """Set (customer_id, state, reason) of recipients; a send attempt counts one more."""
        if not changes:
            return
        params = [
            (state, (why or "")[:300] or None, 1 if state in ("sent", "failed") else 0, who)
            for who, state, why in changes
        ]
        if self.conn.dialect.name == "sqlite":
            # Straight to the driver, as bulk_insert does: SQLAlchemy's per-row parameter
            # processing costs more than the update on a 100k-recipient send.
            stamp = _sqlite_time(at)
            self.conn.exec_driver_sql(
                "UPDATE campaign_recipients SET state = ?, reason = ?, attempts = attempts + ?, "
                "updated_at = ? WHERE campaign_id = ? AND customer_id = ?",
                [(state, why, tried, stamp, campaign_id, who) for state, why, tried, who in params],
            )
            return
        r = t.campaign_recipients
        statement = (
            update(r)
            .where(r.c.campaign_id == campaign_id, r.c.customer_id == bindparam("who"))
            .values(
                state=bindparam("state"),
                reason=bindparam("why"),
                updated_at=at,
                attempts=r.c.attempts + bindparam("tried"),
            )
        )
        self.conn.execute(
            statement,
            [
                {"state": state, "why": why, "tried": tried, "who": who}
                for state, why, tried, who in params
            ],
        )

    def pending(self, campaign_id: int, states: Sequence[str]) -> list[str]:
        """Treatment customers in these states, in id order (what a send still has to do)."""
        r = t.campaign_recipients
        query = (
            select(r.c.customer_id)
            .where(
                r.c.campaign_id == campaign_id,
                r.c.arm == "treatment",
                r.c.state.in_(list(states)),
            )
            .order_by(r.c.customer_id)
        )
        return list(self.conn.execute(query).scalars())

    def recipients(
        self,
        campaign_id: int,
        states: Sequence[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Recipient]:
        """Recipients in customer id order, optionally in these states and after a cursor."""
        r = t.campaign_recipients
        query = select(
            r.c.customer_id, r.c.arm, r.c.state, r.c.reason, r.c.attempts, r.c.updated_at
        ).where(r.c.campaign_id == campaign_id)
        if states is not None:
            query = query.where(r.c.state.in_(list(states)))
        if after is not None:
            query = query.where(r.c.customer_id > after)
        query = query.order_by(r.c.customer_id)
        if limit is not None:
            query = query.limit(limit)
        return [Recipient(*row) for row in self.conn.execute(query)]

    def recipient(self, campaign_id: int, customer_id: str) -> Recipient | None:
        found = self.recipients_of(campaign_id, [customer_id])
        return found[0] if found else None

    def recipients_of(self, campaign_id: int, customer_ids: Sequence[str]) -> list[Recipient]:
        r = t.campaign_recipients
        out: list[Recipient] = []
        for part in chunks(list(customer_ids)):
            query = select(
                r.c.customer_id, r.c.arm, r.c.state, r.c.reason, r.c.attempts, r.c.updated_at
            ).where(r.c.campaign_id == campaign_id, r.c.customer_id.in_(part))
            out += [Recipient(*row) for row in self.conn.execute(query)]
        return out

    def state_counts(self, campaign_id: int) -> dict[tuple[str, str], int]:
        """(arm, state) -> how many recipients."""
        r = t.campaign_recipients
        query = (
            select(r.c.arm, r.c.state, func.count())
            .where(r.c.campaign_id == campaign_id)
            .group_by(r.c.arm, r.c.state)
        )
        return {(arm, state): int(n) for arm, state, n in self.conn.execute(query)}

    def funnel_counts(self, campaign_id: int) -> dict[tuple[str, str, str | None], int]:
        """(arm, state, reason) -> how many recipients, for the assigned funnel."""
        r = t.campaign_recipients
        query = (
            select(r.c.arm, r.c.state, r.c.reason, func.count())
            .where(r.c.campaign_id == campaign_id)
            .group_by(r.c.arm, r.c.state, r.c.reason)
        )
        return {(a, s, why): int(n) for a, s, why, n in self.conn.execute(query)}

    def assigned(self, campaign_id: int) -> dict[str, str]:
        """Customer -> arm of every recipient assigned to treatment or control."""
        r = t.campaign_recipients
        query = select(r.c.customer_id, r.c.arm).where(
            r.c.campaign_id == campaign_id, r.c.arm != "none"
        )
        return {a: b for a, b in self.conn.execute(query)}


class CouponRepository(Repository):
    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        bulk_insert(self.conn, t.coupons, list(rows))

    def of_campaign(self, campaign_id: int, customer_ids: Sequence[str]) -> dict[str, CouponRecord]:
        c = t.coupons
        found: dict[str, CouponRecord] = {}
        for part in chunks(list(customer_ids)):
            query = select(c).where(c.c.campaign_id == campaign_id, c.c.customer_id.in_(part))
            for row in self.conn.execute(query):
                found[row.customer_id] = _coupon(row)
        return found

    def get(self, code: str) -> CouponRecord | None:
        row = self.conn.execute(select(t.coupons).where(t.coupons.c.code == code)).first()
        return _coupon(row) if row is not None else None

    def redeem(self, code: str, at: datetime, message_id: str | None) -> bool:
        """Mark the coupon redeemed unless it was already (True when this call redeemed it)."""
        c = t.coupons
        result = self.conn.execute(
            update(c)
            .where(c.c.code == code, c.c.redeemed_at.is_(None))
            .values(redeemed_at=at, redeemed_message_id=message_id)
        )
        return result.rowcount == 1

    def refuse(
        self, code: str, customer_id: str, reason: str, message_id: str | None, at: datetime
    ) -> None:
        self.conn.execute(
            t.coupon_refusals.insert().values(
                code=code[:32], customer_id=customer_id, reason=reason, message_id=message_id, at=at
            )
        )

    def refusals(self, code: str) -> list[tuple[str, str, datetime]]:
        """(customer_id, reason, at) of refused redemptions of a code, oldest first."""
        f = t.coupon_refusals
        query = select(f.c.customer_id, f.c.reason, f.c.at).where(f.c.code == code).order_by(f.c.id)
        return [(a, b, c) for a, b, c in self.conn.execute(query)]

    def redeemed_in(self, campaign_id: int) -> dict[str, datetime]:
        """Customer -> when, for the campaign's redeemed coupons."""
        c = t.coupons
        query = select(c.c.customer_id, c.c.redeemed_at).where(
            c.c.campaign_id == campaign_id, c.c.redeemed_at.is_not(None)
        )
        return {a: b for a, b in self.conn.execute(query)}


def _campaign(row: Any) -> CampaignRecord:
    offer = orjson.loads(row.offer) if row.offer else None
    return CampaignRecord(
        id=row.id,
        name=row.name,
        purpose=row.purpose,
        channel=row.channel,
        audience=orjson.loads(row.audience),
        subject=row.subject,
        body=row.body,
        html=row.html,
        offer=Offer(offer["description"], int(offer["expires_days"])) if offer else None,
        control_share=float(row.control_share),
        window_days=int(row.window_days),
        role=row.role,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        assigned_at=row.assigned_at,
        sent_at=row.sent_at,
    )


def _coupon(row: Any) -> CouponRecord:
    return CouponRecord(
        row.code,
        row.campaign_id,
        row.customer_id,
        row.expires_at,
        row.redeemed_at,
        row.redeemed_message_id,
    )


class CampaignFactsRepository(Repository):
    """What campaigns read about customers: names, e-mail addresses, orders, coupon events."""

    def _members(self, roots: Sequence[str]) -> dict[str, str]:
        """Profile id -> root, for every profile of these roots."""
        c = t.customers
        found: dict[str, str] = {}
        for part in chunks(list(roots)):
            query = select(c.c.id, c.c.root_id).where(c.c.root_id.in_(part))
            found.update({a: b for a, b in self.conn.execute(query)})
        return found

    def traits_of_roots(
        self, roots: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """The latest value of each named trait per root (over its merged profiles)."""
        # Profiles first, then their traits by the (customer_id, name) index: a join on
        # root_id lets SQLite scan every trait once per slice of roots.
        tr = t.traits
        root_of = self._members(roots)
        rows: list[tuple[datetime, int, str, str, str]] = []
        for part in chunks(list(root_of)):
            query = select(
                tr.c.observed_at, tr.c.id, tr.c.customer_id, tr.c.name, tr.c.value
            ).where(tr.c.customer_id.in_(part), tr.c.name.in_(list(names)))
            rows += [(a, i, c, n, v) for a, i, c, n, v in self.conn.execute(query)]
        rows.sort(key=lambda row: (row[0], row[1]))
        found: dict[str, dict[str, Any]] = {}
        for _, _, customer, name, value in rows:
            found.setdefault(root_of[customer], {})[name] = orjson.loads(value)
        return found

    def emails_of_roots(self, roots: Sequence[str]) -> dict[str, str]:
        """One e-mail address per root: the earliest one known among its profiles."""
        i = t.identifiers
        root_of = self._members(roots)
        rows: list[tuple[datetime, int, str, str]] = []
        for part in chunks(list(root_of)):
            query = select(i.c.first_seen_at, i.c.id, i.c.customer_id, i.c.value).where(
                i.c.customer_id.in_(part), i.c.kind == "email"
            )
            rows += [(a, n, c, v) for a, n, c, v in self.conn.execute(query)]
        rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
        return {root_of[customer]: value for _, _, customer, value in rows}

    def track_events_of_roots(
        self, roots: Sequence[str], names: Sequence[str], since: datetime, until: datetime
    ) -> list[tuple[str, datetime, str | None]]:
        """(root, occurred_at, properties JSON) of these roots' track events with these names
        in ``[since, until)``."""
        e = t.events
        root_of = self._members(roots)
        out: list[tuple[str, datetime, str | None]] = []
        for part in chunks(list(root_of)):
            query = select(e.c.customer_id, e.c.occurred_at, e.c.properties).where(
                e.c.customer_id.in_(part),
                e.c.occurred_at >= since,
                e.c.occurred_at < until,
                e.c.type == "track",
                e.c.name.in_(list(names)),
            )
            out += [(root_of[c], a, p) for c, a, p in self.conn.execute(query)]
        return out

    def events_by_message(
        self, message_ids: Sequence[str]
    ) -> list[tuple[str, str, str | None, datetime, str | None]]:
        """(message_id, root, event name, occurred_at, properties JSON) of these track events."""
        e, c = t.events, t.customers
        out: list[tuple[str, str, str | None, datetime, str | None]] = []
        for part in chunks(list(message_ids)):
            query = (
                select(e.c.message_id, c.c.root_id, e.c.name, e.c.occurred_at, e.c.properties)
                .join(c, c.c.id == e.c.customer_id)
                .where(e.c.message_id.in_(part))
            )
            out += [(m, r, n, a, p) for m, r, n, a, p in self.conn.execute(query)]
        return out

    def person_roots(self, customer_ids: Sequence[str]) -> list[str]:
        """The current roots of these profile ids that are people, each once, in order."""
        c = t.customers
        roots: dict[str, None] = {}
        for part in chunks(list(customer_ids)):
            query = select(c.c.id, c.c.root_id).where(c.c.id.in_(part), c.c.kind == "person")
            for _, root in self.conn.execute(query):
                roots[root] = None
        return list(roots)
