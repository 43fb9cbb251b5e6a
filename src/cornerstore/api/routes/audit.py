"""The audit trail: who read or changed which customer (the owner only), as JSON or CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from cornerstore.access.audit import to_csv
from cornerstore.api.deps import AfterId, ServicesDep, StaffCaller
from cornerstore.api.schemas.audit import AuditEntryOut, AuditOut
from cornerstore.api.schemas.errors import error_answers

router = APIRouter(prefix="/v1", tags=["audit"], responses=error_answers(400, 401, 403))


@router.get(
    "/audit",
    response_model=AuditOut,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_audit(
    request: Request,
    services: ServicesDep,
    caller: StaffCaller,
    customer: Annotated[str | None, Query(max_length=64, description="A profile id")] = None,
    actor: Annotated[str | None, Query(max_length=160)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    branch: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
    after: AfterId = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
) -> Any:
    """Audit entries matching every filter, oldest first: who, what action, which sections
    of which customer, when, through which entrance and address, and why. CSV with
    ``?format=csv`` or ``Accept: text/csv``. Reading the trail is itself recorded."""
    entries = services.audit.find(
        caller,
        customer_id=customer,
        actor=actor,
        action=action,
        branch=branch,
        since=since,
        until=until,
        after_id=after,
        limit=limit,
    )
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            to_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    full = len(entries) == limit
    return AuditOut(
        entries=[AuditEntryOut.model_validate(e) for e in entries],
        next_after=entries[-1].id if full and entries else None,
    )
