"""Builders for the contact-centre tests: customers stored through intake, staff callers."""

from __future__ import annotations

from cornerstore.access.caller import Caller, system_caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from tests.factories import identify

SHOP = Source("web-shop", "web", client_side=False)


def customer(services: Services, email: str, **traits: str) -> str:
    """A customer stored by the web shop; their id."""
    message = identify(anonymous_id="web-" + email, email=email, **traits)
    services.intake.ingest([message], source=SHOP)
    with services.store.unit_of_work() as uow:
        return services.lookup.find_root(uow, email, system_caller())


def staff(role: str, name: str | None = None, user_id: int | None = None) -> Caller:
    return Caller(name or f"{role}-1", role, "api", user_id=user_id)
