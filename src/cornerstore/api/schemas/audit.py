"""The audit trail: who read or changed which customer, when, through which entrance, and why."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from cornerstore.api.schemas import Answer


class AuditEntryOut(Answer):
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


class AuditOut(Answer):
    entries: list[AuditEntryOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page")
