"""Tests of staff, roles, section policy, tokens, sessions and the audit trail.

``dee`` (below) is a customer known to every department, so each role's view of her differs.
"""

from __future__ import annotations

from cornerstore.access.caller import Caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from tests.factories import identify, track

ROLES = ("owner", "support", "shipping", "billing", "marketing", "analyst")
DEE_TRAITS = {
    "first_name": "Dee",
    "last_name": "Fox",
    "email": "Dee.Fox@example.com",
    "phone": "07700 900456",
    "address": {"street": "2 Mill Lane", "city": "York", "postal_code": "YO1 7HH"},
    "delivery_instructions": "leave with neighbour",
    "refund_method": "card",
    "favourite_colour": "green",
}
# Department -> event name, one event each, sent with that touchpoint.
DEE_EVENTS = {
    "store": "Order Completed",
    "support": "Ticket Opened",
    "billing": "Invoice Paid",
    "shipping": "Shipment Delivered",
}


def add_dee(services: Services) -> str:
    """Dee: identified on the web shop with a trait of every section, then one event from the
    store, support, billing and shipping; returns her profile id."""
    services.intake.ingest([identify("u-dee", **DEE_TRAITS)], source=Source("web-shop", "web"))
    for touchpoint, event in DEE_EVENTS.items():
        services.intake.ingest(
            [track(event, user_id="u-dee", total=20, note=f"{event} for Dee Fox")],
            source=Source(f"{touchpoint}-desk", touchpoint),
        )
    with services.store.unit_of_work() as uow:
        (found,) = uow.identifiers.find_by_value("u-dee", ["user_id"])
    return found.root_id


def staff_caller(role: str, via: str = "api", branch: str | None = None) -> Caller:
    return Caller(actor=f"test:{role}", role=role, via=via, branch=branch)
