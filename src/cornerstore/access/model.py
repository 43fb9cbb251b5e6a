"""Plain access records returned by the store: write keys, staff tokens, audit entries, staff
users, their sessions, passwords and failed logins. No database or web types here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class WriteKey:
    """An intake write key as stored (its secret never is: only a digest and ``prefix``)."""

    id: int
    name: str
    touchpoint: str
    source: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as listed: ``user`` names the staff user of a personal token (None: a service
    token acting with ``role``)."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    user: str | None = None


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """What a presented token stands for: the token, and for a personal token its staff user
    (the ``user_`` fields, None for a service token)."""

    id: int
    name: str
    role: str
    expires_at: datetime | None
    revoked_at: datetime | None
    user_id: int | None
    username: str | None
    user_role: str | None
    user_branch: str | None
    user_disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One read or change: ``sections`` lists what was shown or changed."""

    at: datetime
    actor: str
    action: str
    customer_id: str | None
    via: str
    detail: str | None
    sections: list[str]
    remote: str | None = None
    branch: str | None = None
    reason: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A staff member as others see them (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    branch: str | None
    must_change_password: bool
    created_at: datetime
    password_changed_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredPassword:
    """The password hash of one staff user, read only to check a password (and never shown,
    even in a traceback's repr)."""

    user_id: int
    password_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class LoginFailures:
    """Failed logins for one account name from one address, and the wait they imposed."""

    failures: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A console session as stored (by the digest of its id) with its user."""

    csrf_hash: str = field(repr=False)
    expires_at: datetime
    ended_at: datetime | None
    user: StaffUser
