"""Repositories of access records: intake write keys, staff API tokens and the audit log.

Like :mod:`cornerstore.storage.repositories` they work inside one transaction of a
:class:`~cornerstore.storage.unit_of_work.UnitOfWork` and return plain values, never ORM rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert
from cornerstore.storage.repositories import Repository


class KeyRepository(Repository):
    """Intake write keys and staff API tokens, both stored as SHA-256 digests."""

    def add_write_key(
        self, *, name: str, touchpoint: str, prefix: str, key_hash: str, created_at: datetime
    ) -> int:
        result = self.conn.execute(
            t.write_keys.insert().values(
                name=name,
                touchpoint=touchpoint,
                prefix=prefix,
                key_hash=key_hash,
                created_at=created_at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def write_key_by_hash(self, key_hash: str) -> tuple[int, str, str, datetime | None] | None:
        """(id, name, touchpoint, revoked_at) of the write key with this digest."""
        w = t.write_keys
        row = self.conn.execute(
            select(w.c.id, w.c.name, w.c.touchpoint, w.c.revoked_at).where(w.c.key_hash == key_hash)
        ).first()
        return (row[0], row[1], row[2], row[3]) if row else None

    def list_write_keys(self) -> list[tuple[int, str, str, str, datetime, datetime | None]]:
        w = t.write_keys
        query = select(
            w.c.id, w.c.name, w.c.touchpoint, w.c.prefix, w.c.created_at, w.c.revoked_at
        ).order_by(w.c.id)
        return [tuple(row) for row in self.conn.execute(query)]

    def revoke_write_key(self, key_id: int, at: datetime) -> bool:
        w = t.write_keys
        result = self.conn.execute(
            update(w).where(w.c.id == key_id, w.c.revoked_at.is_(None)).values(revoked_at=at)
        )
        return bool(result.rowcount)

    def add_token(
        self,
        *,
        name: str,
        role: str,
        prefix: str,
        token_hash: str,
        created_at: datetime,
        expires_at: datetime | None,
    ) -> int:
        result = self.conn.execute(
            t.api_tokens.insert().values(
                name=name,
                role=role,
                prefix=prefix,
                token_hash=token_hash,
                created_at=created_at,
                expires_at=expires_at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def token_by_hash(
        self, token_hash: str
    ) -> tuple[int, str, str, datetime | None, datetime | None] | None:
        """(id, name, role, expires_at, revoked_at) of the token with this digest."""
        a = t.api_tokens
        row = self.conn.execute(
            select(a.c.id, a.c.name, a.c.role, a.c.expires_at, a.c.revoked_at).where(
                a.c.token_hash == token_hash
            )
        ).first()
        return (row[0], row[1], row[2], row[3], row[4]) if row else None

    def list_tokens(
        self,
    ) -> list[tuple[int, str, str, str, datetime, datetime | None, datetime | None]]:
        a = t.api_tokens
        query = select(
            a.c.id, a.c.name, a.c.role, a.c.prefix, a.c.created_at, a.c.expires_at, a.c.revoked_at
        ).order_by(a.c.id)
        return [tuple(row) for row in self.conn.execute(query)]

    def revoke_token(self, token_id: int, at: datetime) -> bool:
        a = t.api_tokens
        result = self.conn.execute(
            update(a).where(a.c.id == token_id, a.c.revoked_at.is_(None)).values(revoked_at=at)
        )
        return bool(result.rowcount)


class AuditRepository(Repository):
    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Append entries: dicts with at, actor, action, customer_id, via, detail."""
        bulk_insert(self.conn, t.audit_log, rows)

    def add(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        customer_id: str | None,
        via: str,
        detail: str | None = None,
    ) -> None:
        self.conn.execute(
            t.audit_log.insert().values(
                at=at, actor=actor, action=action, customer_id=customer_id, via=via, detail=detail
            )
        )

    def for_customer(self, customer_id: str) -> list[tuple[datetime, str, str, str, str | None]]:
        a = t.audit_log
        query = (
            select(a.c.at, a.c.actor, a.c.action, a.c.via, a.c.detail)
            .where(a.c.customer_id == customer_id)
            .order_by(a.c.id)
        )
        return [tuple(row) for row in self.conn.execute(query)]
