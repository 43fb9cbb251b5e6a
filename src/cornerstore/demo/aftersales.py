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
from cornerstore.spec import (
    CASE_MESSAGE,
    CASE_OPENED,
    CASE_RESOLVED,
    DELIVERY_ATTEMPTED,
    SURVEY_ANSWERED,
)

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
# The desk's agents: the demo's support and supervisor users (cornerstore demo creates them
# before the business arrives, so their replies are theirs).
DESK_AGENTS = ("demo-support", "demo-supervisor")
# How many agent replies a case gets before it is resolved (0, 1, 2, 3), by channel: a call is
# often settled while the customer is on the line; mail and chat take a reply or more.
DESK_REPLIES = {
    "phone": (0.55, 0.3, 0.1, 0.05),
    "email": (0.05, 0.5, 0.3, 0.15),
    "chat": (0.1, 0.55, 0.25, 0.1),
}
HANDOVER_SHARE = 0.15  # cases support passes to a supervisor
REOPEN_SHARE = 0.07  # resolved cases the customer writes on again
REPEAT_SHARE = 0.08  # resolved cases followed by a new one about the same within a week
AGENT_REPLIES = (
    "Sorry about this - we are looking into it and will write again shortly.",
    "Thank you for letting us know. Could you send a photo of the item?",
    "We have asked the courier and will come back to you as soon as they answer.",
    "That is sorted now - you should see it within two working days.",
    "A replacement is on its way; no need to send the old one back.",
    "Thanks for your patience. The refund has gone back to your card.",
)
FOLLOW_UPS = (
    "Thanks, here is the photo.",
    "Any news on this?",
    "The order number is on the receipt I sent.",
    "OK, I will wait to hear from you.",
)
STILL_WRONG = (
    "It still has not arrived, I am afraid.",
    "The refund is not on my statement yet.",
    "The replacement has the same fault.",
)


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


class AfterSales(Outbox):
    """Billing, shipping, the support desk and surveys: the departments that follow an order."""

    seed_key: int  # the business's seed (set by Business)

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
        # The desk's work on the case draws from a generator of its own, so the rest of the
        # business is the same with or without it.
        desk = random.Random(f"desk:{self.seed_key}:{case_id}")
        self.desk_work(p, desk, ids, case_id, channel, t, t + int(hours * HOUR_MS))
        t += int(hours * HOUR_MS)
        self.send(p, rng, "support-desk", t, track(ids, CASE_RESOLVED, resolved))
        self.after_resolution(p, desk, ids, opened, t)
        if rng.random() < 0.35:
            self.survey(
                p, rng, t + int(rng.uniform(1, 30) * HOUR_MS), "csat", about={"case_id": case_id}
            )

    def desk_work(
        self,
        p: Person,
        desk: random.Random,
        ids: dict[str, str],
        case_id: str,
        channel: str,
        opened: int,
        resolved: int,
    ) -> None:
        """The agents' replies between opening and resolution: none for a call settled on the
        spot, up to three otherwise, with the customer answering between them; now and then
        support hands the case to a supervisor, whose reply makes it a handover."""
        replies = desk.choices((0, 1, 2, 3), weights=DESK_REPLIES[channel])[0]
        handover = replies >= 1 and desk.random() < HANDOVER_SHARE
        span = max(resolved - opened, 2 * MINUTE_MS)
        times = sorted(opened + int(desk.uniform(0.05, 0.95) * span) for _ in range(replies))
        for n, at in enumerate(times):
            agent = DESK_AGENTS[1] if handover and n == replies - 1 else DESK_AGENTS[0]
            text = desk.choice(AGENT_REPLIES)
            self.desk_message(p, desk, ids, case_id, at, "out", text, agent)
            if n < replies - 1:
                answer = min(at + int(desk.uniform(0.1, 0.5) * span / replies), resolved - 1)
                self.desk_message(p, desk, ids, case_id, answer, "in", desk.choice(FOLLOW_UPS))

    def after_resolution(
        self, p: Person, desk: random.Random, ids: dict[str, str], opened: dict[str, Any], t: int
    ) -> None:
        """What follows a resolution now and then: the customer writes again on the same case
        (it reopens, is answered and resolved again), or opens a new case about the same order
        or topic within a week, on another channel."""
        case_id = str(opened["case_id"])
        roll = desk.random()
        if roll < REOPEN_SHARE:
            again = t + int(desk.uniform(4, 72) * HOUR_MS)
            self.desk_message(p, desk, ids, case_id, again, "in", desk.choice(STILL_WRONG))
            reply = again + int(desk.uniform(1, 20) * HOUR_MS)
            self.desk_message(p, desk, ids, case_id, reply, "out", desk.choice(AGENT_REPLIES),
                              desk.choice(DESK_AGENTS))  # fmt: skip
            done = reply + int(desk.uniform(1, 48) * HOUR_MS)
            resolved = {**opened, "resolution": "answered"}
            self.send(p, desk, "support-desk", done, track(ids, CASE_RESOLVED, resolved))
        elif roll < REOPEN_SHARE + REPEAT_SHARE:
            at = t + int(desk.uniform(1, 6.5) * DAY_MS)
            channel = desk.choice(("phone", "chat"))
            repeat = {**opened, "case_id": f"{case_id}-2", "channel": channel}
            self.send(p, desk, "support-desk", at, track(ids, CASE_OPENED, repeat))
            answer = at + int(desk.uniform(0.2, 6) * HOUR_MS)
            self.desk_message(p, desk, ids, repeat["case_id"], answer, "out",
                              desk.choice(AGENT_REPLIES), DESK_AGENTS[0])  # fmt: skip
            done = answer + int(desk.uniform(0.5, 30) * HOUR_MS)
            resolved = {**repeat, "resolution": "answered"}
            self.send(p, desk, "support-desk", done, track(ids, CASE_RESOLVED, resolved))

    def desk_message(
        self,
        p: Person,
        desk: random.Random,
        ids: dict[str, str],
        case_id: str,
        at: int,
        direction: str,
        text: str,
        agent: str | None = None,
    ) -> None:
        props: dict[str, Any] = {"case_id": case_id, "direction": direction, "text": text}
        if agent:
            props["agent"] = agent
        self.send(p, desk, "support-desk", at, track(ids, CASE_MESSAGE, props))

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
