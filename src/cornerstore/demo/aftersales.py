"""After the sale: invoices, parcels that find nobody at home, support cases and surveys.

:class:`AfterSales` holds the billing, shipping, support-desk and survey departments; the
:class:`~cornerstore.demo.generate.Business` calls them after an order (and for cases and
surveys of their own), and they call each other: a failed delivery may open a case, a resolved
case may ask for a survey.
"""

from __future__ import annotations

import random
from typing import Any

from cornerstore.demo.cast import DAY_MS, Person, mailbox, phone_format, typo
from cornerstore.demo.clock import (
    CARRIER_HOURS,
    DESK_HOURS,
    DISPATCH_HOURS,
    HOUR_MS,
    MINUTE_MS,
    at_hour,
    iso,
    local_iso,
    next_day,
    uk_offset,
    weekday,
)
from cornerstore.demo.outbox import Outbox, loyalty_card_ids, some_email, track
from cornerstore.spec import CASE_OPENED, CASE_RESOLVED, DELIVERY_ATTEMPTED, SURVEY_ANSWERED

COMMENTS = {
    "low": (
        "Parcel left with no card, had to chase it",
        "Nobody tried again after the first missed delivery",
        "Prices keep going up",
        "Long queue at the till",
        "Still waiting on my refund",
        "Item arrived damaged",
    ),
    "mid": (
        "Fine, a bit pricey",
        "Delivery took longer than promised",
        "OK overall",
        "Good range but often out of stock",
        "Website is slow at checkout",
    ),
    "high": (
        "Lovely staff, always helpful",
        "Quick delivery, thanks!",
        "Always find what I need",
        "Great selection of gifts",
        "Best local shop around",
        "Sorted my problem straight away",
    ),
}
SUPPORT_TOPICS = {
    "delivery": ("redelivered", "refund", "collected_from_depot"),
    "damaged_item": ("replacement", "refund"),
    "refund": ("refund",),
    "product_question": ("answered",),
    "billing": ("invoice_corrected", "answered"),
    "account": ("details_updated", "password_reset"),
    "loyalty": ("points_added", "answered"),
}
CARRIERS = ("Royal Mail", "DPD", "Evri")


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


class AfterSales(Outbox):
    """Billing, shipping, the support desk and surveys: the departments that follow an order."""

    # -- billing and shipping ----------------------------------------------------------------------
    def invoice(
        self,
        p: Person,
        rng: random.Random,
        t: int,
        ids: dict[str, str],
        order_id: str,
        amount: float,
        business: bool,
    ) -> None:
        t += int(rng.uniform(1, 20) * MINUTE_MS)
        invoice_id = self.next_id("INV-", t, 6)
        context: dict[str, Any] = {}
        if "anonymousId" in ids or rng.random() < 0.3:
            context["traits"] = {"email": some_email(p, rng)}
        properties: dict[str, Any] = {
            "invoice_id": invoice_id,
            "order_id": order_id,
            "amount": amount,
            "currency": "GBP",
            "status": "open" if business else "paid",
        }
        if business and p.account:
            context["groupId"] = p.account.group_id
            properties["terms"] = "net 30"
            properties["due_date"] = iso(t + 30 * DAY_MS)[:10]
        self.send(p, rng, "billing", t, track(ids, "Invoice Issued", properties, context))
        if business:
            late = rng.random() < 0.25
            days = rng.uniform(31, 75) if late else rng.uniform(5, 30)
            paid = {
                "invoice_id": invoice_id,
                "order_id": order_id,
                "amount": amount,
                "currency": "GBP",
                "status": "paid",
                "days_late": max(0, int(days) - 30),
            }
            when = t + int(days * DAY_MS)
            self.send(p, rng, "billing", when, track(ids, "Invoice Paid", paid, context))

    def ship(
        self, p: Person, rng: random.Random, t: int, ids: dict[str, str], order_id: str
    ) -> None:
        shipment_id = self.next_id("SHP", t, 6)
        t = at_hour(rng, next_day(t), DISPATCH_HOURS)
        address = p.address_at(t)
        context: dict[str, Any] = {}
        if rng.random() < 0.7 or "anonymousId" in ids:
            # The carrier texts the delivery slot to the phone on the order.
            context["traits"] = {"phone": phone_format(p.mobile_at(t), rng)}
        carrier = rng.choice(CARRIERS)
        dispatched = {
            "shipment_id": shipment_id,
            "order_id": order_id,
            "carrier": carrier,
            "service": "next_day" if rng.random() < 0.2 else "standard",
            "address": dict(address),
        }
        self.send(p, rng, "shipping", t, track(ids, "Shipment Dispatched", dispatched, context))
        day = next_day(t)
        for attempt in range(1, 4):
            at = at_hour(rng, day, CARRIER_HOURS)
            local_hour = ((at + uk_offset(at)) // HOUR_MS) % 24
            evening = local_hour >= 18 or weekday(at) >= 5
            home = p.home_by_evening if evening else p.home_by_day
            # Nobody home, but a neighbour or a safe place may still take the parcel.
            taken = rng.random() < home or rng.random() < 0.3
            outcome = "delivered" if taken else "not_at_home"
            attempted = {
                "shipment_id": shipment_id,
                "order_id": order_id,
                "carrier": carrier,
                "attempt": attempt,
                "outcome": outcome,
                "attempted_at": local_iso(at),
                "local_hour": local_hour,
                "address": dict(address),
            }
            self.send(p, rng, "shipping", at, track(ids, DELIVERY_ATTEMPTED, attempted, context))
            if outcome == "delivered":
                if rng.random() < 0.06:
                    desk = at_hour(rng, at + DAY_MS, DESK_HOURS)
                    self.support_case(p, rng, desk, "damaged_item", order_id)
                elif rng.random() < 0.08 and p.email:
                    self.survey(
                        p,
                        rng,
                        at + int(rng.uniform(2, 48) * HOUR_MS),
                        "csat",
                        about={"order_id": order_id},
                    )
                return
            day = next_day(at)
        if rng.random() < 0.5:
            self.support_case(p, rng, at_hour(rng, day, DESK_HOURS), "delivery", order_id)

    # -- support and surveys -----------------------------------------------------------------------
    def support_case(
        self, p: Person, rng: random.Random, t: int, topic: str, order_id: str | None = None
    ) -> None:
        email = None
        if p.email:
            email = some_email(p, rng)
            if p.other_email and rng.random() < 0.15:
                email = p.other_email
        key = mailbox(email) if email else "phone"
        contact = p.support_ids.get(key)
        channel = rng.choice(("email", "email", "phone", "chat")) if email else "phone"
        if contact is None or rng.random() < 0.25:
            if contact is None:
                contact = p.support_ids[key] = f"zd-{rng.getrandbits(36):011d}"
            first = p.nickname if p.nickname and rng.random() < 0.5 else p.first
            last = typo(p.last, rng, keep=1) if rng.random() < 0.05 else p.last
            traits: dict[str, Any] = {"firstName": first, "lastName": last}
            if email:
                traits["email"] = email
            if not email or rng.random() < 0.4:
                traits["phone"] = phone_format(p.mobile_at(t), rng)
            self.send(
                p,
                rng,
                "support-desk",
                t,
                {"type": "identify", "anonymousId": contact, "traits": traits},
            )
            t += int(rng.uniform(10, 90) * 1000)
        case_id = self.next_id("CS-", t, 5)
        opened: dict[str, Any] = {"case_id": case_id, "topic": topic, "channel": channel}
        if order_id:
            opened["order_id"] = order_id
        ids = {"anonymousId": contact}
        self.send(p, rng, "support-desk", t, track(ids, CASE_OPENED, opened))
        hours = rng.lognormvariate(2.5, 1.1)
        resolved = {
            **opened,
            "resolution": rng.choice(SUPPORT_TOPICS[topic]),
            "hours_to_resolve": round(hours, 1),
        }
        t += int(hours * HOUR_MS)
        self.send(p, rng, "support-desk", t, track(ids, CASE_RESOLVED, resolved))
        if rng.random() < 0.35:
            self.survey(
                p, rng, t + int(rng.uniform(1, 30) * HOUR_MS), "csat", about={"case_id": case_id}
            )

    def survey(
        self,
        p: Person,
        rng: random.Random,
        t: int,
        kind: str,
        asked: bool = False,
        employee: str | None = None,
        about: dict[str, str] | None = None,
    ) -> None:
        mood = p.satisfaction
        if p.drift_from is not None and t > p.drift_from - 45 * DAY_MS:
            mood -= 0.3
        if kind == "nps":
            score = _clamp(rng.gauss(1.5 + 8.5 * mood, 1.5) + (1.0 if asked else 0.0), 0, 10)
            band = "low" if score <= 6 else "mid" if score <= 8 else "high"
        else:
            score = _clamp(rng.gauss(1 + 4 * mood, 0.7) + (0.6 if asked else 0.0), 1, 5)
            band = "low" if score <= 2 else "mid" if score <= 3 else "high"
        properties: dict[str, Any] = {
            "survey": kind,
            "score": score,
            "solicited_by_employee": asked,
        }
        if rng.random() < 0.6:
            properties["comment"] = rng.choice(COMMENTS[band])
        if employee:
            properties["employee_id"] = employee
        properties.update(about or {})
        context: dict[str, Any]
        if p.email and not asked:
            context = {"traits": {"email": some_email(p, rng)}}
        elif p.loyalty_card:
            context = {"externalIds": loyalty_card_ids(p)}
        else:
            context = {"traits": {"phone": phone_format(p.mobile_at(t), rng)}}
        answer = track({"anonymousId": p.survey_id}, SURVEY_ANSWERED, properties, context)
        self.send(p, rng, "surveys", t, answer)
