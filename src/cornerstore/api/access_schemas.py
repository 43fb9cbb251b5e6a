"""Schemas of staff sessions, personal tokens and the audit trail (secrets never in a public one
except the once-shown new token)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cornerstore.access.audit import AuditEntry
from cornerstore.access.credentials import ApiToken
from cornerstore.access.users import StaffUser


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class StaffUserPublic(BaseModel):
    username: str
    display_name: str
    role: str
    branch: str | None
    must_change_password: bool

    @classmethod
    def of(cls, u: StaffUser) -> StaffUserPublic:
        return cls(
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            branch=u.branch,
            must_change_password=u.must_change_password,
        )


class SessionOut(BaseModel):
    user: StaffUserPublic
    sections: list[str] = Field(description="The customer sections the user's role may read")
    csrf_token: str | None = Field(
        default=None,
        description="Send as X-CSRF-Token with every state-changing request (login only)",
    )
    expires_at: datetime | None = None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    expires: str | None = Field(
        default=None,
        description="Lifetime such as 12h, 30d or 2w, at most 10 years, or never; 90d if left out",
    )


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenOut:
        return cls(
            id=t.id,
            name=t.name,
            role=t.role,
            prefix=t.prefix,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
        )


class NewTokenOut(BaseModel):
    id: int
    name: str
    token: str = Field(description="Shown once; only its digest is stored")
    expires_at: datetime | None = Field(description="When it stops working; null: never")


class AuditEntryOut(BaseModel):
    id: int | None
    at: datetime
    actor: str
    action: str
    customer_id: str | None
    sections: list[str]
    via: str
    remote: str | None
    branch: str | None
    reason: str | None
    detail: str | None

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            id=e.id,
            at=e.at,
            actor=e.actor,
            action=e.action,
            customer_id=e.customer_id,
            sections=e.sections,
            via=e.via,
            remote=e.remote,
            branch=e.branch,
            reason=e.reason,
            detail=e.detail,
        )


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page")
