"""Staff sessions and personal tokens (no secret in an answer except the once-shown new token)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cornerstore.api.schemas import Answer


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class StaffUserPublic(Answer):
    username: str
    display_name: str
    role: str
    branch: str | None
    must_change_password: bool


class SessionOut(Answer):
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


class TokenOut(Answer):
    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(Answer):
    id: int
    name: str
    token: str = Field(
        validation_alias="secret", description="Shown once; only its digest is stored"
    )
    expires_at: datetime | None = Field(description="When it stops working; null: never")
