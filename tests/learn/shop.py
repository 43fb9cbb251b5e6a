"""A small shop's stored history for the learning tests: a population for the models and three
customers with a story each, plus the messages the tests add to it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from cornerstore.intake.service import Source
from cornerstore.services import Services
from tests.factories import identify, track

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WEB = Source("web-shop", "web")
SHIPPING = Source("carrier", "shipping")
SUPPORT = Source("desk", "support")


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def order(user: str, at: datetime, total: float, *categories: str) -> dict[str, Any]:
    products = [{"sku": f"S-{c}", "category": c, "price": total} for c in categories]
    return track(
        "Order Completed", user_id=user, timestamp=stamp(at), total=total, products=products
    )


def shop_history(services: Services) -> None:
    """A population for the models plus three customers with a story each.

    - ``steady``: buys every 10 days up to last week;
    - ``drifting``: bought every 7 days for a year, nothing for the last 60 days, and has a
      complaint open for three weeks;
    - ``mover``: moved house, then bought baby things for the first time, and is home on
      Tuesday evenings.
    """
    rng = random.Random(7)
    messages: list[dict[str, Any]] = []
    for i in range(120):
        start = NOW - timedelta(days=rng.uniform(60, 400))
        at = start
        while at < NOW:
            messages.append(order(f"pop-{i}", at, round(rng.uniform(10, 60), 2), "tea"))
            at += timedelta(days=rng.expovariate(1 / 30))
            if rng.random() < 0.15:
                break
    for k in range(36):
        messages.append(order("steady", NOW - timedelta(days=7 + 10 * k), 25.0, "tea", "cups"))
    for k in range(52):
        messages.append(order("drifting", NOW - timedelta(days=60 + 7 * k), 40.0, "coffee"))
    messages += [
        identify("mover", address={"street": "1 Mill Lane", "postal_code": "YO1 1AA"}),
        order("mover", NOW - timedelta(days=200), 20.0, "tea"),
        order("mover", NOW - timedelta(days=120), 22.0, "tea"),
    ]
    moved = identify("mover", address={"street": "9 New Road", "postal_code": "LS6 2BB"})
    moved["timestamp"] = stamp(NOW - timedelta(days=90))
    messages += [moved, order("mover", NOW - timedelta(days=30), 35.0, "baby")]
    messages[-5]["timestamp"] = stamp(NOW - timedelta(days=300))  # the first address
    services.intake.ingest(messages, source=WEB)
    tuesdays = [NOW - timedelta(days=d) for d in (6, 13, 20)]  # 2026-05-26 is a Tuesday
    deliveries = [
        track(
            "Delivery Attempted",
            user_id="mover",
            timestamp=stamp(day.replace(hour=17)),
            outcome=outcome,
        )
        for day, outcome in zip(tuesdays, ["delivered", "delivered", "not_at_home"], strict=True)
    ]
    deliveries.append(
        track(
            "Delivery Attempted",
            user_id="mover",
            timestamp=stamp(tuesdays[0].replace(hour=9)),
            outcome="not_at_home",
        )
    )
    services.intake.ingest(deliveries, source=SHIPPING)
    services.intake.ingest(
        [
            track(
                "Case Opened",
                user_id="drifting",
                timestamp=stamp(NOW - timedelta(days=21)),
                case_id="C-1",
            )
        ],
        source=SUPPORT,
    )


def survey(user: str, at: datetime, kind: str, score: int, asked: bool) -> dict[str, Any]:
    return track(
        "Survey Answered",
        user_id=user,
        timestamp=stamp(at),
        survey=kind,
        score=score,
        solicited_by_employee=asked,
    )
