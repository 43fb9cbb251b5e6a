"""A shop with one story per next-best-action rule, stored through intake (and learned
scores written as ``cornerstore learn`` writes them).

- ``pop-0`` .. ``pop-29``, ``regular``, ``fresh``, ``returner``, ``private``: the suggestion
  shop (``regular`` buys coffee beans every 5 weeks and is due);
- ``vip``: the most valuable customer, slipping away, with an open delivery complaint;
- ``tenth``: placed a 10th order 3 days ago;
- ``busy``: due for beans like ``regular`` but contacted 3 times this month;
- ``quiet``: due for beans but never agreed to marketing e-mail;
- ``mover``: moved house last week;
- ``withdrawn``: valuable and slipping away, but withdrew consent to profiling.

Everyone except ``quiet`` agreed to marketing e-mail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl

from cornerstore.access.caller import system_caller
from cornerstore.campaigns.model import Contact
from cornerstore.services import Services
from tests.factories import track
from tests.suggest.shop import NOW, WEB, open_shop, order

__all__ = ["NOW", "open_action_shop", "root_of", "vip_due_for_a_teapot_today"]


def root_of(services: Services, ref: str) -> str:
    with services.store.unit_of_work() as uow:
        return services.lookup.find_root(uow, ref, system_caller())


def _beans_every_five_weeks(user: str) -> list[dict[str, Any]]:
    return [order(user, NOW - timedelta(days=42 + 35 * k), "BEANS") for k in range(4)]


def _scores(roots: dict[str, str]) -> pl.DataFrame:
    rows = []
    for user, root in roots.items():
        valuable = user in ("vip", "withdrawn")
        clv = 900.0 if valuable else 10.0 + len(rows)
        rows.append((root, "value", {"clv": clv, "probability_alive": 0.4}))
        reasons = ["no purchase for 200 days; usually every 30 days"] if valuable else []
        risk = {"at_risk": valuable, "value_at_risk": clv if valuable else 0.0, "reasons": reasons}
        rows.append((root, "churn_risk", risk))
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "value": [orjson.dumps(r[2]).decode() for r in rows],
            "model": ["test"] * len(rows),
        }
    )


def _file_open_case(services: Services, customer_id: str, category: str) -> None:
    at = NOW - timedelta(days=4)
    row = {
        "customer_id": customer_id,
        "channel": "email",
        "status": "open",
        "category": category,
        "priority": "normal",
        "subject": "where is my parcel",
        "opened_at": at,
        "updated_at": at,
        "reopened": 0,
        "created_by": "test",
    }
    with services.store.unit_of_work(write=True) as uow:
        uow.cases.add(row)


def open_action_shop(services: Services) -> None:
    open_shop(services)
    messages = _beans_every_five_weeks("busy") + _beans_every_five_weeks("quiet")
    # A teapot every month until 200 days ago, and again 35 days ago: due again (without the
    # last one, three cycles missed make it a past habit, not due).
    messages += [order("vip", NOW - timedelta(days=200 + 30 * k), "POT") for k in range(3)]
    messages.append(order("vip", NOW - timedelta(days=35), "POT"))
    # Three different things, so no regular buy is due.
    messages += [
        order("withdrawn", NOW - timedelta(days=200 + 30 * k), item)
        for k, item in enumerate(("POT", "COSY", "MUG"))
    ]
    messages += [order("tenth", NOW - timedelta(days=3 + 20 * k), "MUG") for k in range(10)]
    messages.append(order("mover", NOW - timedelta(days=60), "POT"))
    stamp = (NOW - timedelta(days=6)).isoformat().replace("+00:00", "Z")
    messages.append(track("Moved House", user_id="mover", timestamp=stamp, detail="a new address"))
    services.intake.ingest(messages, source=WEB)
    owner = system_caller()
    users = ["regular", "fresh", "busy", "vip", "withdrawn", "tenth", "mover"]
    for user in users:
        services.consents.change(owner, user, {"marketing_email": True})
    services.consents.change(owner, "withdrawn", {"profiling": False})
    roots = {user: root_of(services, user) for user in [*users, "quiet"]}
    roots |= {f"pop-{k}": root_of(services, f"pop-{k}") for k in range(30)}
    with services.store.unit_of_work(write=True) as uow:
        uow.learning.replace_scores([_scores(roots)], NOW)
    _file_open_case(services, roots["vip"], "delivery")
    services.contacts.record(
        [
            Contact(roots["busy"], "email", "marketing_email", NOW - timedelta(days=d), "test")
            for d in (2, 12, 25)
        ]
    )
    services.suggestions.train(owner)


def vip_due_for_a_teapot_today(services: Services) -> None:
    """Two more monthly teapots for ``vip``, the last 35 days before the clock's today: due
    today, for tests whose answer is computed at the clock's time rather than at ``NOW``
    (without them the monthly teapot is months overdue by then: a past habit, not due)."""
    today = datetime.now(UTC)
    bought = [order("vip", today - timedelta(days=days), "POT") for days in (65, 35)]
    services.intake.ingest(bought, source=WEB)
