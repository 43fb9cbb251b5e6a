"""Repositories of access records: intake write keys, staff API tokens and the audit log.

Like :mod:`cornerstore.storage.repositories` they work inside one transaction of a
:class:`~cornerstore.storage.unit_of_work.UnitOfWork` and return the records of
:mod:`cornerstore.access.model`, ids and counts, never ORM rows or bare tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from cornerstore.access.model import (
    ApiToken,
    AuditEntry,
    LoginFailures,
    StaffUser,
    StoredPassword,
    StoredSession,
    TokenHolder,
    WriteKey,
)
from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert
from cornerstore.storage.repositories import Repository

_WRITE_KEYS = select(
    *(
        t.write_keys.c[name]
        for name in ("id", "name", "touchpoint", "source", "prefix", "created_at", "revoked_at")
    )
)


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

    def write_key_by_hash(self, key_hash: str) -> WriteKey | None:
        """The write key with this digest, revoked or not."""
        row = self.conn.execute(_WRITE_KEYS.where(t.write_keys.c.key_hash == key_hash)).first()
        return WriteKey(*row) if row else None

    def list_write_keys(self) -> list[WriteKey]:
        """Every write key, oldest first."""
        query = _WRITE_KEYS.order_by(t.write_keys.c.id)
        return [WriteKey(*row) for row in self.conn.execute(query)]

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

    def token_by_hash(self, token_hash: str) -> TokenHolder | None:
        """The token with this digest and, for a personal token, its user."""
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
        return TokenHolder(*tuple(row)) if row else None

    def list_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        """Every token, or one user's personal tokens, oldest first."""
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
        return [ApiToken(*row) for row in self.conn.execute(query)]

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

    def not_stored(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries of ``rows`` (as for :meth:`add_many`) not in the log yet: an entry is
        recognised by all its values, so a journal replayed twice stores nothing twice."""
        if not rows:
            return []
        a = t.audit_log
        names = sorted(set(rows[0]))
        query = select(*(a.c[name] for name in names)).where(
            a.c.at >= min(r["at"] for r in rows), a.c.at <= max(r["at"] for r in rows)
        )
        stored = {tuple(row) for row in self.conn.execute(query)}
        return [r for r in rows if tuple(r[name] for name in names) not in stored]

    def add(self, **entry: Any) -> None:
        """Append one entry inside the caller's transaction (a change and its record commit
        together): at, actor, action, customer_id, via and optionally the other columns."""
        self.conn.execute(t.audit_log.insert().values(**entry))

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
    ) -> list[AuditEntry]:
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
        return [_audit_entry(row) for row in self.conn.execute(query)]

    def prune(self, before: datetime) -> int:
        """Delete entries older than ``before`` (retention; nothing else deletes)."""
        a = t.audit_log
        return int(self.conn.execute(delete(a).where(a.c.at < before)).rowcount)


def _audit_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        actor=row.actor,
        action=row.action,
        customer_id=row.customer_id,
        via=row.via,
        detail=row.detail,
        sections=row.sections.split(",") if row.sections else [],
        remote=row.remote,
        branch=row.branch,
        reason=row.reason,
        id=row.id,
    )


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


def _staff_user(row: Sequence[Any]) -> StaffUser:
    """A user from the ``_USER_COLUMNS`` of a row, in that order."""
    user_id, username, display_name, role, branch, must_change, created, changed, disabled = row
    return StaffUser(
        user_id, username, display_name, role, branch, bool(must_change), created, changed, disabled
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

    def user(self, *, username: str | None = None, user_id: int | None = None) -> StaffUser | None:
        """The user (never the password hash), by name or id."""
        u = t.staff_users
        query = self._user_select().where(
            u.c.username == username if username is not None else u.c.id == user_id
        )
        row = self.conn.execute(query).first()
        return _staff_user(row) if row else None

    def password_hash(self, username: str) -> StoredPassword | None:
        u = t.staff_users
        row = self.conn.execute(
            select(u.c.id, u.c.password_hash).where(u.c.username == username)
        ).first()
        return StoredPassword(*row) if row else None

    def users(self, branch: str | None = None) -> list[StaffUser]:
        u = t.staff_users
        query = self._user_select().order_by(u.c.username)
        if branch is not None:
            query = query.where(u.c.branch == branch)
        return [_staff_user(row) for row in self.conn.execute(query)]

    def update_user(self, user_id: int, **values: Any) -> None:
        u = t.staff_users
        self.conn.execute(update(u).where(u.c.id == user_id).values(**values))

    # -- sessions -------------------------------------------------------------------------------
    def add_session(self, **values: Any) -> None:
        self.conn.execute(t.staff_sessions.insert().values(**values))

    def session(self, id_hash: str) -> StoredSession | None:
        """The session with this digest of its id and its user, or None."""
        s, u = t.staff_sessions, t.staff_users
        query = (
            select(s.c.csrf_hash, s.c.expires_at, s.c.ended_at, *(u.c[n] for n in _USER_COLUMNS))
            .select_from(s.join(u, u.c.id == s.c.user_id))
            .where(s.c.id_hash == id_hash)
        )
        row = self.conn.execute(query).first()
        if row is None:
            return None
        csrf_hash, expires_at, ended_at, *user = row
        return StoredSession(csrf_hash, expires_at, ended_at, _staff_user(user))

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
    def login_failure(self, username: str, remote: str) -> LoginFailures | None:
        """The failed logins for this account name from this address."""
        f = t.login_failures
        row = self.conn.execute(
            select(f.c.failures, f.c.locked_until).where(
                f.c.username == username, f.c.remote == remote
            )
        ).first()
        return LoginFailures(*row) if row else None

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
