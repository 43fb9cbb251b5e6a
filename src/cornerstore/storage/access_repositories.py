"""Repositories of access records: intake write keys, staff API tokens and the audit log.

Like :mod:`cornerstore.storage.repositories` they work inside one transaction of a
:class:`~cornerstore.storage.unit_of_work.UnitOfWork` and return plain values, never ORM rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert
from cornerstore.storage.repositories import Repository


class KeyRepository(Repository):
    """Intake write keys and staff API tokens, both stored as SHA-256 digests."""

    def add_write_key(
        self,
        *,
        name: str,
        touchpoint: str,
        source: str,
        prefix: str,
        key_hash: str,
        created_at: datetime,
    ) -> int:
        result = self.conn.execute(
            t.write_keys.insert().values(
                name=name,
                touchpoint=touchpoint,
                source=source,
                prefix=prefix,
                key_hash=key_hash,
                created_at=created_at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def write_key_by_hash(self, key_hash: str) -> tuple[int, str, str, str, datetime | None] | None:
        """(id, name, touchpoint, source, revoked_at) of the write key with this digest."""
        w = t.write_keys
        row = self.conn.execute(
            select(w.c.id, w.c.name, w.c.touchpoint, w.c.source, w.c.revoked_at).where(
                w.c.key_hash == key_hash
            )
        ).first()
        return (row[0], row[1], row[2], row[3], row[4]) if row else None

    def list_write_keys(
        self,
    ) -> list[tuple[int, str, str, str, str, datetime, datetime | None]]:
        """(id, name, touchpoint, source, prefix, created_at, revoked_at) of every write key."""
        w = t.write_keys
        query = select(
            w.c.id, w.c.name, w.c.touchpoint, w.c.source, w.c.prefix, w.c.created_at, w.c.revoked_at
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
        user_id: int | None = None,
    ) -> int:
        result = self.conn.execute(
            t.api_tokens.insert().values(
                name=name,
                role=role,
                prefix=prefix,
                token_hash=token_hash,
                created_at=created_at,
                expires_at=expires_at,
                user_id=user_id,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def token_by_hash(self, token_hash: str) -> tuple[Any, ...] | None:
        """(id, name, role, expires_at, revoked_at, user_id, username, user_role, user_branch,
        user_disabled_at) of the token with this digest; the user fields are None for a
        service token."""
        a, u = t.api_tokens, t.staff_users
        row = self.conn.execute(
            select(
                a.c.id,
                a.c.name,
                a.c.role,
                a.c.expires_at,
                a.c.revoked_at,
                a.c.user_id,
                u.c.username,
                u.c.role,
                u.c.branch,
                u.c.disabled_at,
            )
            .select_from(a.outerjoin(u, u.c.id == a.c.user_id))
            .where(a.c.token_hash == token_hash)
        ).first()
        return tuple(row) if row else None

    def list_tokens(self, user_id: int | None = None) -> list[tuple[Any, ...]]:
        """(id, name, role, prefix, created_at, expires_at, revoked_at, username) of every
        token, or of one user's personal tokens."""
        a, u = t.api_tokens, t.staff_users
        query = (
            select(
                a.c.id,
                a.c.name,
                a.c.role,
                a.c.prefix,
                a.c.created_at,
                a.c.expires_at,
                a.c.revoked_at,
                u.c.username,
            )
            .select_from(a.outerjoin(u, u.c.id == a.c.user_id))
            .order_by(a.c.id)
        )
        if user_id is not None:
            query = query.where(a.c.user_id == user_id)
        return [tuple(row) for row in self.conn.execute(query)]

    def token_owner(self, token_id: int) -> int | None:
        """The user id of a personal token (None for a service token or no such token)."""
        a = t.api_tokens
        row = self.conn.execute(select(a.c.user_id).where(a.c.id == token_id)).first()
        return row[0] if row else None

    def revoke_token(self, token_id: int, at: datetime) -> bool:
        a = t.api_tokens
        result = self.conn.execute(
            update(a).where(a.c.id == token_id, a.c.revoked_at.is_(None)).values(revoked_at=at)
        )
        return bool(result.rowcount)


AUDIT_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "customer_id",
    "sections",
    "via",
    "remote",
    "branch",
    "reason",
    "detail",
)


class AuditRepository(Repository):
    """The audit log: appended to, read with filters, and pruned only by retention."""

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Append entries: dicts with at, actor, action, customer_id, via, detail, sections,
        reason, remote and branch."""
        bulk_insert(self.conn, t.audit_log, rows)

    def add(self, **entry: Any) -> None:
        """Append one entry inside the caller's transaction (a change and its record commit
        together): at, actor, action, customer_id, via and optionally the other columns."""
        self.conn.execute(t.audit_log.insert().values(**entry))

    def for_customer(self, customer_id: str) -> list[tuple[datetime, str, str, str, str | None]]:
        """(at, actor, action, via, detail) of every entry about one customer, oldest first."""
        a = t.audit_log
        query = (
            select(a.c.at, a.c.actor, a.c.action, a.c.via, a.c.detail)
            .where(a.c.customer_id == customer_id)
            .order_by(a.c.id)
        )
        return [tuple(row) for row in self.conn.execute(query)]

    def find(
        self,
        *,
        customer_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        branch: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_id: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Entries matching every filter given, oldest first (``after_id`` pages on)."""
        a = t.audit_log
        query = select(*(a.c[name] for name in AUDIT_COLUMNS)).order_by(a.c.id).limit(limit)
        equal = {"customer_id": customer_id, "actor": actor, "action": action, "branch": branch}
        for name, value in equal.items():
            if value is not None:
                query = query.where(a.c[name] == value)
        if since is not None:
            query = query.where(a.c.at >= since)
        if until is not None:
            query = query.where(a.c.at < until)
        if after_id is not None:
            query = query.where(a.c.id > after_id)
        return [dict(row._mapping) for row in self.conn.execute(query)]

    def prune(self, before: datetime) -> int:
        """Delete entries older than ``before`` (retention; nothing else deletes)."""
        a = t.audit_log
        return int(self.conn.execute(delete(a).where(a.c.at < before)).rowcount)


_USER_COLUMNS = (
    "id",
    "username",
    "display_name",
    "role",
    "branch",
    "must_change_password",
    "created_at",
    "password_changed_at",
    "disabled_at",
)


class StaffRepository(Repository):
    """Staff users, their console sessions and failed logins (migration 0003)."""

    def _user_select(self) -> Any:
        u = t.staff_users
        return select(*(u.c[name] for name in _USER_COLUMNS))

    def count_users(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.staff_users)).scalar_one())

    def add_user(self, **values: Any) -> int:
        result = self.conn.execute(t.staff_users.insert().values(**values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def user(
        self, *, username: str | None = None, user_id: int | None = None
    ) -> dict[str, Any] | None:
        """The user's fields (never the password hash), by name or id."""
        u = t.staff_users
        query = self._user_select().where(
            u.c.username == username if username is not None else u.c.id == user_id
        )
        row = self.conn.execute(query).first()
        return dict(row._mapping) if row else None

    def password_hash(self, username: str) -> tuple[int, str] | None:
        u = t.staff_users
        row = self.conn.execute(
            select(u.c.id, u.c.password_hash).where(u.c.username == username)
        ).first()
        return (row[0], row[1]) if row else None

    def users(self, branch: str | None = None) -> list[dict[str, Any]]:
        u = t.staff_users
        query = self._user_select().order_by(u.c.username)
        if branch is not None:
            query = query.where(u.c.branch == branch)
        return [dict(row._mapping) for row in self.conn.execute(query)]

    def update_user(self, user_id: int, **values: Any) -> None:
        u = t.staff_users
        self.conn.execute(update(u).where(u.c.id == user_id).values(**values))

    # -- sessions -------------------------------------------------------------------------------
    def add_session(self, **values: Any) -> None:
        self.conn.execute(t.staff_sessions.insert().values(**values))

    def session(self, id_hash: str) -> dict[str, Any] | None:
        """The session with its user's fields (user_* prefixed), or None."""
        s, u = t.staff_sessions, t.staff_users
        query = (
            select(
                s.c.csrf_hash,
                s.c.expires_at,
                s.c.ended_at,
                *(u.c[name].label(f"user_{name}") for name in _USER_COLUMNS),
            )
            .select_from(s.join(u, u.c.id == s.c.user_id))
            .where(s.c.id_hash == id_hash)
        )
        row = self.conn.execute(query).first()
        return dict(row._mapping) if row else None

    def end_session(self, id_hash: str, at: datetime) -> None:
        s = t.staff_sessions
        self.conn.execute(
            update(s).where(s.c.id_hash == id_hash, s.c.ended_at.is_(None)).values(ended_at=at)
        )

    def forget_expired_sessions(self, now: datetime) -> None:
        s = t.staff_sessions
        self.conn.execute(delete(s).where(s.c.expires_at < now))

    def end_sessions_of(self, user_id: int, at: datetime) -> None:
        s = t.staff_sessions
        self.conn.execute(
            update(s).where(s.c.user_id == user_id, s.c.ended_at.is_(None)).values(ended_at=at)
        )

    # -- failed logins --------------------------------------------------------------------------
    def login_failure(self, username: str, remote: str) -> tuple[int, datetime | None] | None:
        """(failures, locked_until) for this account name and address."""
        f = t.login_failures
        row = self.conn.execute(
            select(f.c.failures, f.c.locked_until).where(
                f.c.username == username, f.c.remote == remote
            )
        ).first()
        return (row[0], row[1]) if row else None

    def record_failure(
        self, username: str, remote: str, at: datetime, locked_until: datetime | None, failures: int
    ) -> None:
        f = t.login_failures
        done = self.conn.execute(
            update(f)
            .where(f.c.username == username, f.c.remote == remote)
            .values(failures=failures, last_failed_at=at, locked_until=locked_until)
        )
        if not done.rowcount:
            self.conn.execute(
                f.insert().values(
                    username=username,
                    remote=remote,
                    failures=failures,
                    last_failed_at=at,
                    locked_until=locked_until,
                )
            )

    def clear_failures(self, username: str, remote: str | None = None) -> int:
        f = t.login_failures
        query = delete(f).where(f.c.username == username)
        if remote is not None:
            query = query.where(f.c.remote == remote)
        return int(self.conn.execute(query).rowcount)
