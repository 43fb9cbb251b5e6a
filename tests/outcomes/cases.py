"""Cases filed straight into a store for the outcome tests (of the service, the API, the
console and the command line): customers by e-mail, cases opened and resolved at given times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cornerstore.access.caller import Caller, system_caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from tests.factories import identify

DAY1 = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOW = datetime(2026, 3, 30, tzinfo=UTC)
SUPPORT = Caller(actor="sam", role="support", via="api")


def customer(services: Services, email: str) -> str:
    services.intake.ingest(
        [identify(anonymous_id="a-" + email, email=email)], source=Source("test", "support")
    )
    with services.store.unit_of_work() as uow:
        return services.lookup.find_root(uow, email, system_caller())


def file_case(
    services: Services,
    customer_id: str,
    opened: datetime,
    resolved: datetime | None = None,
    category: str = "delivery",
    branch: str | None = None,
) -> int:
    row: dict[str, Any] = {
        "customer_id": customer_id,
        "channel": "email",
        "status": "resolved" if resolved else "open",
        "category": category,
        "priority": "normal",
        "branch": branch,
        "subject": "where is my parcel",
        "opened_at": opened,
        "updated_at": resolved or opened,
        "resolved_at": resolved,
        "reopened": 0,
        "created_by": "test",
    }
    with services.store.unit_of_work(write=True) as uow:
        case_id = uow.cases.add(row)
        if resolved:
            uow.cases.add_change(
                {
                    "case_id": case_id,
                    "customer_id": customer_id,
                    "at": resolved,
                    "actor": "sam",
                    "field": "status",
                    "old": "open",
                    "new": "resolved",
                }
            )
    return case_id
