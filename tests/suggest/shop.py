"""A small shop with a story per customer, stored through intake, for the suggestion tests.

- ``pop-0`` .. ``pop-29``: buy a teapot with a tea cosy; every third also a mug;
- ``regular``: buys coffee beans every 5 weeks, the last time 6 weeks ago (due);
- ``fresh``: buys coffee beans every 5 weeks, the last time 10 days ago (not due);
- ``returner``: bought a teapot and a tea cosy, and sent the tea cosy back;
- ``private``: bought a teapot, then asked to stay anonymous.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cornerstore.access.caller import system_caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from tests.factories import track

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WEB = Source("web-shop", "web")
NAMES = {"POT": "teapot", "COSY": "tea cosy", "MUG": "mug", "BEANS": "coffee beans"}


def order(user: str, at: datetime, *items: str, event: str = "Order Completed") -> dict[str, Any]:
    products = [{"product_id": i, "name": NAMES[i], "price": 5.0} for i in items]
    stamp = at.isoformat().replace("+00:00", "Z")
    return track(
        event, user_id=user, timestamp=stamp, order_id=f"{user}-{at:%Y%m%d}", products=products
    )


def open_shop(services: Services) -> None:
    messages = []
    for k in range(30):
        items = ("POT", "COSY", "MUG") if k % 3 == 0 else ("POT", "COSY")
        messages.append(order(f"pop-{k}", NOW - timedelta(days=20 + k), *items))
    for user, last in (("regular", 42), ("fresh", 10)):
        for k in range(4):
            messages.append(order(user, NOW - timedelta(days=last + 35 * k), "BEANS"))
    messages.append(order("regular", NOW - timedelta(days=90), "POT"))
    messages.append(order("returner", NOW - timedelta(days=30), "POT", "COSY"))
    messages.append(order("returner", NOW - timedelta(days=25), "COSY", event="Order Refunded"))
    messages.append(order("private", NOW - timedelta(days=30), "POT"))
    services.intake.ingest(messages, source=WEB)
    services.consents.set_anonymous(system_caller(), "private", True)


def return_yesterday(services: Services, user: str, *items: str) -> None:
    """A return a day before the real now: for answers as of now (the API, the CLI), where the
    shop's own returns are older than ``returned_days``."""
    yesterday = datetime.now(UTC) - timedelta(days=1)
    services.intake.ingest([order(user, yesterday, *items, event="Order Refunded")], source=WEB)
