"""Generate two years of a small shop's Segment Spec messages, department by department.

The people come from :mod:`cornerstore.demo.cast`; here they live half a month at a time: orders
as a Poisson process with each person's own rate (seasonal, decaying for those drifting away),
gamma-distributed spend, web sessions that start anonymous and log in, till receipts looked up by
loyalty card or phone, invoices, parcels that find nobody at home, support cases and surveys.
Each (person, half month) draws from its own seeded generator, so the output depends only on the
seed, and only a few weeks of messages are held in memory at a time.

Here are the web shop and the tills; billing, shipping, support and surveys are in
:mod:`cornerstore.demo.aftersales`, products and seasons in :mod:`cornerstore.demo.catalogue`,
time and opening hours in :mod:`cornerstore.demo.clock`, and the messages themselves in
:mod:`cornerstore.demo.outbox`.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from cornerstore.demo.aftersales import AfterSales
from cornerstore.demo.cast import (
    BRANCH_CODES,
    BRANCHES,
    DAY_MS,
    MONTH_MS,
    CastBuilder,
    Device,
    Person,
    mailbox,
    phone_format,
    typo,
)
from cornerstore.demo.catalogue import SEASON, draw_basket
from cornerstore.demo.clock import (
    DESK_HOURS,
    HOUR_MS,
    STORE_HOURS,
    STORE_WEEKDAYS,
    WEB_HOURS,
    Hours,
    at_hour,
    epoch_ms,
    half_months,
    iso,
    weekday,
)
from cornerstore.demo.outbox import (
    SOURCES,
    DemoMessage,
    loyalty_card_ids,
    random_uuid,
    some_email,
    track,
)
from cornerstore.spec import ORDER_COMPLETED

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
SHOP_URL = "https://shop.cornerstore.example"
# Web customers who tick "e-mail me offers" when they sign up, in per cent.
NEWSLETTER_PERCENT = 45
STREET_ABBREVIATIONS = {"Road": "Rd", "Street": "St", "Lane": "Ln", "Avenue": "Ave", "Drive": "Dr"}


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's product of uniforms; the rates here are small)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


# -- the business -------------------------------------------------------------------------------
class Business(AfterSales):
    """Runs the shop half a month at a time and collects what each department sends.

    Examples
    --------
    >>> business = Business(customers=5, seed=1, end=DEFAULT_END, years=0.5)
    >>> first = next(iter(business.run()))
    >>> first.source in SOURCES
    True
    """

    def __init__(self, customers: int, seed: int, end: datetime, years: float) -> None:
        end_ms = epoch_ms(end)
        start = end_ms - int(years * 365.25 * DAY_MS)
        self.periods = half_months(start, end_ms)
        super().__init__(start, end_ms, self.periods)
        self.cast = CastBuilder(customers, seed, self.start, self.end)
        self.people = self.cast.people()
        self.seed_key = seed % (1 << 62)
        self.shared_devices: dict[int, str] = {}

    def run(self) -> Iterator[DemoMessage]:
        """Every message in time order, half a month at a time."""
        for number, (a, b, month) in enumerate(self.periods):
            for index, person in enumerate(self.people):
                if person.first_order_at < b and person.active_until(self.end) > a:
                    # Its own generator per person and period: output independent of loop order.
                    rng = random.Random((self.seed_key << 48) | (index << 12) | number)
                    self.live_period(person, rng, a, b, month)
            yield from self.collect(number)

    # -- half a month of one person's life ------------------------------------------------------
    def live_period(self, p: Person, rng: random.Random, a: int, b: int, month: int) -> None:
        """Draw the period's orders, visits, surveys and cases, then live them in time order."""
        self.floor = a
        agenda: list[tuple[int, str, str]] = []  # (time, what, branch of a store order)
        guest = p.guest_order.at if p.guest_order else None
        events = (
            (p.mobile_changed_at, "new mobile", DESK_HOURS),
            (p.moved_at, "moved", DESK_HOURS),
            (guest, "guest order", WEB_HOURS),
        )
        for changed, what, hours in events:
            if changed is not None and a <= changed < b:
                agenda.append((self.moment(rng, changed, hours, a), what, ""))
        lo, hi = max(a, p.first_order_at), min(b, p.active_until(self.end))
        if lo < hi:
            mid, months = (lo + hi) // 2, (hi - lo) / MONTH_MS
            rate = p.orders_per_month * SEASON[month] * p.rate_factor(mid) * months
            days = [lo + int(rng.random() * (hi - lo)) for _ in range(_poisson(rng, rate))]
            if a <= p.first_order_at < b:
                days.append(p.first_order_at)
            for day in days:
                branch = p.branch_at(day)
                if p.online_share > 0 and (branch is None or rng.random() < p.online_share):
                    agenda.append((self.moment(rng, day, WEB_HOURS, lo), "web order", ""))
                elif branch is not None:
                    t = self.moment(rng, day, STORE_HOURS, lo, STORE_WEEKDAYS)
                    agenda.append((t, "store order", branch))
            if p.user_id:
                for _ in range(_poisson(rng, 0.3 * rate * p.online_share)):
                    day = lo + int(rng.random() * (hi - lo))
                    agenda.append((self.moment(rng, day, WEB_HOURS, lo), "visit", ""))
            if rng.random() < 0.03 * months:
                day = lo + int(rng.random() * (hi - lo))
                agenda.append((self.moment(rng, day, WEB_HOURS, lo), "nps", ""))
            drifting = p.drift_from is not None and abs(mid - p.drift_from) < 60 * DAY_MS
            if rng.random() < (0.08 if drifting else 0.012) * months:
                day = lo + int(rng.random() * (hi - lo))
                agenda.append((self.moment(rng, day, DESK_HOURS, lo), "case", ""))
        for t, what, branch in sorted(agenda):
            if what == "web order":
                self.web_session(p, rng, t, month, order=True)
            elif what == "store order":
                self.store_order(p, rng, t, month, branch)
            elif what == "visit":
                self.web_session(p, rng, t, month, order=False)
            elif what == "nps":
                self.survey(p, rng, t, "nps")
            elif what == "case":
                topic = rng.choice(("product_question", "account", "loyalty", "refund", "billing"))
                self.support_case(p, rng, t, topic)
            elif what == "new mobile":
                self.new_mobile(p, rng, t)
            elif what == "guest order":
                self.order_as_guest(p, rng, t, month)
            else:
                self.moved(p, rng, t)

    @staticmethod
    def moment(
        rng: random.Random,
        day: int,
        hours: Hours,
        floor: int,
        weekdays: tuple[float, ...] | None = None,
    ) -> int:
        """A time on the local day of ``day`` at one of ``hours``, never before ``floor``.

        With ``weekdays``, busy days are likelier: a draw on a quiet day may move to the next day.
        """
        t = at_hour(rng, day, hours)
        if weekdays is not None:
            top = max(weekdays)
            for _ in range(3):
                if rng.random() * top < weekdays[weekday(t)]:
                    break
                t = at_hour(rng, t + DAY_MS, hours)
        return max(t, floor)

    # -- web shop -------------------------------------------------------------------------------
    def device(self, p: Person, rng: random.Random) -> Device:
        if p.devices and rng.random() > 0.04:
            return rng.choice(p.devices)
        if p.household is not None and rng.random() < 0.35:
            # The family laptop: every member of the household browses from the same browser.
            if p.household not in self.shared_devices:
                family = random.Random((self.seed_key << 48) | (1 << 47) | p.household)
                self.shared_devices[p.household] = random_uuid(family)
            anonymous_id = self.shared_devices[p.household]
        else:
            anonymous_id = random_uuid(rng)
        device = Device(anonymous_id)
        p.devices.append(device)
        return device

    def web_ids(self, p: Person, device: Device) -> dict[str, str]:
        if device.logged_in and p.user_id:
            return {"userId": p.user_id, "anonymousId": device.anonymous_id}
        return {"anonymousId": device.anonymous_id}

    def log_in(self, p: Person, rng: random.Random, device: Device, t: int) -> int:
        assert p.user_id is not None
        ids = {"userId": p.user_id, "anonymousId": device.anonymous_id}
        if not p.signed_up:
            assert p.email is not None
            traits: dict[str, Any] = {
                "firstName": p.first,
                "lastName": p.last,
                "email": p.email,
                "address": dict(p.address_at(t)),
                "createdAt": iso(t),
            }
            if rng.random() < 0.9:
                traits["phone"] = phone_format(p.mobile_at(t), rng)
            if p.home_phone and rng.random() < 0.5:
                traits["homePhone"] = p.home_phone
            if p.account:
                traits["company"] = {"name": p.account.name, "id": p.account.group_id}
            p.signed_up = True
            signup = {"type": "identify", **ids, "traits": traits}
            if p.user_id and ticks_the_newsletter_box(p.user_id):
                signup["context"] = {"consent": {"categoryPreferences": {"marketing_email": True}}}
            self.send(p, rng, "web-shop", t, signup)
        elif rng.random() < 0.5:
            alias = {"type": "alias", "previousId": device.anonymous_id, "userId": p.user_id}
            self.send(p, rng, "web-shop", t, alias)
        else:
            traits = {"email": some_email(p, rng), "firstName": p.first, "lastName": p.last}
            self.send(p, rng, "web-shop", t, {"type": "identify", **ids, "traits": traits})
        device.logged_in = True
        t += int(rng.uniform(5, 40) * 1000)
        if p.account and not p.group_sent:
            acct = p.account
            group_traits = {
                "name": acct.name,
                "industry": acct.industry,
                "employees": acct.employees,
                "website": f"https://www.{acct.domain}",
                "address": dict(acct.address),
            }
            group = {"type": "group", "userId": p.user_id, "groupId": acct.group_id}
            self.send(p, rng, "web-shop", t, {**group, "traits": group_traits})
            p.group_sent = True
            t += int(rng.uniform(5, 30) * 1000)
        return t

    def web_session(self, p: Person, rng: random.Random, t: int, month: int, order: bool) -> None:
        device = self.device(p, rng)
        business = p.account is not None and order and rng.random() < 0.6
        basket = draw_basket(p, rng, t, month, 3.5 if business else 1.0)
        category = basket[0]["category"]
        page = {
            "type": "page",
            **self.web_ids(p, device),
            "name": category.title(),
            "properties": {
                "path": f"/c/{category}",
                "url": f"{SHOP_URL}/c/{category}",
                "title": f"{category.title()} | Corner Store",
            },
        }
        t = self.send(p, rng, "web-shop", t, page) + int(rng.uniform(10, 120) * 1000)
        for item in basket[: 1 + (rng.random() < 0.3)]:
            viewed = {k: item[k] for k in ("product_id", "sku", "name", "category", "price")}
            viewed["currency"] = "GBP"
            message = track(self.web_ids(p, device), "Product Viewed", viewed)
            self.send(p, rng, "web-shop", t, message)
            t += int(rng.uniform(20, 240) * 1000)
        if not order:
            if p.user_id and not device.logged_in:
                # Browsing ends at "My account" so no browser of a customer stays anonymous.
                self.log_in(p, rng, device, t)
            return
        if p.user_id and not device.logged_in:
            t = self.log_in(p, rng, device, t)
        subtotal = round(sum(i["price"] * i["quantity"] for i in basket), 2)
        fee = 0.0 if subtotal >= 40 or business else 3.95
        order_id = self.next_id("W", t)
        properties: dict[str, Any] = {
            "order_id": order_id,
            "total": round(subtotal + fee, 2),
            "subtotal": subtotal,
            "shipping": fee,
            "currency": "GBP",
            "channel": "online",
            "payment_method": "invoice" if business else rng.choice(("card", "card", "paypal")),
            "products": basket,
        }
        context: dict[str, Any] = {}
        if not p.user_id:
            # A guest checkout: the order form's e-mail and phone are all that say who this is.
            context["traits"] = {"email": some_email(p, rng)}
            if rng.random() < 0.8:
                context["traits"]["phone"] = phone_format(p.mobile_at(t), rng)
        if business and p.account:
            context["groupId"] = p.account.group_id
        done = track(self.web_ids(p, device), ORDER_COMPLETED, properties, context)
        self.send(p, rng, "web-shop", t, done)
        ids = {"userId": p.user_id} if p.user_id else {"anonymousId": f"guest-{order_id}"}
        self.invoice(p, rng, t, ids, order_id, properties["total"], business)
        self.ship(p, rng, t, ids, order_id)

    # -- till -----------------------------------------------------------------------------------
    def store_order(self, p: Person, rng: random.Random, t: int, month: int, branch: str) -> None:
        if rng.random() < 0.1:
            branch = rng.choice(tuple(BRANCHES.values()))
        ids = {"anonymousId": p.till_id}
        context: dict[str, Any] = {}
        traits: dict[str, str] = {}
        mobile = p.mobile_at(t)
        tell_new_mobile = mobile != p.mobile and not p.till_knows_new_mobile
        if p.loyalty_card and not p.card_registered:
            # The card's record reaches intake once: the sign-up form the cashier typed in, or for
            # members from before the window, the loyalty system's copy of it.
            signup: dict[str, Any] = {"firstName": p.first, "lastName": p.last}
            signup["phone"] = phone_format(mobile, rng)
            if p.email and rng.random() < 0.8:
                signup["email"] = some_email(p, rng)
            card_ctx = {"externalIds": loyalty_card_ids(p)}
            self.send(
                p,
                rng,
                "till",
                t,
                {"type": "identify", **ids, "traits": signup, "context": card_ctx},
            )
            t += int(rng.uniform(30, 120) * 1000)
            p.card_registered = p.till_knows_new_mobile = True
            context["externalIds"] = loyalty_card_ids(p)
        elif p.loyalty_card and rng.random() > 0.2 and not tell_new_mobile:
            context["externalIds"] = loyalty_card_ids(p)
        elif tell_new_mobile or rng.random() < 0.6 or not p.email:
            # Card left at home or no card: the cashier types the phone number and may slip.
            typed = phone_format(mobile, rng)
            if rng.random() < 0.015:
                slip = typo(typed, rng, keep=len(typed) - 6)
                if self.cast.phone_free(slip):
                    typed, ids = slip, {"anonymousId": f"TG{rng.getrandbits(40):010x}"}
            traits["phone"] = typed
            if tell_new_mobile and ids["anonymousId"] == p.till_id:
                p.till_knows_new_mobile = True
                if p.loyalty_card:
                    context["externalIds"] = loyalty_card_ids(p)
        else:
            typed = some_email(p, rng)
            if rng.random() < 0.015:
                slip = typo(typed, rng)
                if mailbox(slip) not in self.cast.mailboxes:
                    typed, ids = slip, {"anonymousId": f"TG{rng.getrandbits(40):010x}"}
            traits["email"] = typed
        if traits:
            context["traits"] = traits
        basket = draw_basket(p, rng, t, month, 1.0)
        code = BRANCH_CODES[branch]
        properties = {
            "order_id": self.next_id(f"{code}-", t, 6),
            "total": round(sum(i["price"] * i["quantity"] for i in basket), 2),
            "currency": "GBP",
            "channel": "store",
            "branch": branch,
            "payment_method": rng.choice(("contactless", "contactless", "chip_and_pin", "cash")),
            "products": basket,
        }
        self.send(p, rng, "till", t, track(ids, ORDER_COMPLETED, properties, context))
        if rng.random() < 0.05:
            asked = rng.random() < 0.6
            employee = f"{code}-{rng.randrange(1, 13):02d}" if asked else None
            when = t + int(rng.uniform(0.02, 30) * HOUR_MS)
            self.survey(p, rng, when, "csat", asked, employee, {"order_id": properties["order_id"]})

    # -- life events ----------------------------------------------------------------------------
    def new_mobile(self, p: Person, rng: random.Random, t: int) -> None:
        if p.user_id and p.signed_up:
            traits = {"phone": phone_format(p.mobile_at(t), rng)}
            self.send(
                p, rng, "web-shop", t, {"type": "identify", "userId": p.user_id, "traits": traits}
            )
        # Otherwise the till learns it at the next visit and support from the next call.

    def order_as_guest(self, p: Person, rng: random.Random, t: int, month: int) -> None:
        """One order as a guest on a new browser: the checkout form's name, another e-mail, no
        phone, the delivery address typed afresh (a shortened street kind, a slip, no or a
        lower-case postcode), or none when it is collected in a branch."""
        guest = p.guest_order
        assert guest is not None
        traits: dict[str, Any] = {"lastName": guest.last, "email": guest.email}
        if guest.first is not None:
            traits["firstName"] = guest.first
        if guest.gives_address or guest.first is None:
            address = dict(p.address_at(t))
            if rng.random() < 0.4:
                street, _, kind = address["street"].rpartition(" ")
                address["street"] = f"{street} {STREET_ABBREVIATIONS.get(kind, kind)}"
            if rng.random() < 0.15:
                address["street"] = typo(address["street"], rng, keep=address["street"].find(" "))
            if rng.random() < 0.25:
                del address["postalCode"]
            elif rng.random() < 0.2:
                address["postalCode"] = address["postalCode"].lower()
            traits["address"] = address
        ids = {"anonymousId": random_uuid(rng)}
        t = self.send(p, rng, "web-shop", t, {"type": "identify", **ids, "traits": traits})
        basket = draw_basket(p, rng, t, month, 1.0)
        subtotal = round(sum(i["price"] * i["quantity"] for i in basket), 2)
        properties: dict[str, Any] = {
            "order_id": self.next_id("W", t),
            "total": subtotal,
            "subtotal": subtotal,
            "shipping": 0.0,
            "currency": "GBP",
            "channel": "online",
            "payment_method": "card",
            "products": basket,
        }
        done = track(ids, ORDER_COMPLETED, properties)
        self.send(p, rng, "web-shop", t + int(rng.uniform(60, 600) * 1000), done)

    def moved(self, p: Person, rng: random.Random, t: int) -> None:
        address = dict(p.address_at(t))
        if p.user_id and p.signed_up:
            identify = {"type": "identify", "userId": p.user_id, "traits": {"address": address}}
            self.send(p, rng, "web-shop", t, identify)
            return
        # No account: they ring the support desk to update the delivery address.
        key = mailbox(p.email) if p.email else "phone"
        contact = p.support_ids.setdefault(key, f"zd-{rng.getrandbits(36):011d}")
        traits: dict[str, Any] = {"firstName": p.nickname or p.first, "lastName": p.last}
        traits["address"] = address
        if p.email:
            traits["email"] = p.email
        traits["phone"] = phone_format(p.mobile_at(t), rng)
        self.send(
            p,
            rng,
            "support-desk",
            t,
            {"type": "identify", "anonymousId": contact, "traits": traits},
        )


def ticks_the_newsletter_box(user_id: str, share: int = NEWSLETTER_PERCENT) -> bool:
    """Whether this web customer ticked "e-mail me offers" at sign-up: about ``share`` per cent
    do. Decided by the id's hash, not the generator's random numbers, so the rest of the
    generated business is the same as without the tick box."""
    return zlib.crc32(user_id.encode()) % 100 < share


def generate_messages(
    customers: int = 2000,
    seed: int = 0,
    end: datetime | None = None,
    years: float = 2.0,
) -> Iterator[DemoMessage]:
    """Yield a small business's Segment Spec messages over ``years`` before ``end``, oldest first.

    The same arguments always give the same messages (ids included). ``end`` defaults to
    2026-11-01 UTC so the demo is reproducible; no message has ``sentAt``, so intake keeps each
    historical ``timestamp``.

    Examples
    --------
    >>> messages = list(generate_messages(customers=20, seed=7))
    >>> sorted({m.source for m in messages}) <= sorted(SOURCES)
    True
    >>> messages[0].message["timestamp"] <= messages[-1].message["timestamp"]
    True
    """
    business = Business(customers, seed, end or DEFAULT_END, years)
    return business.run()


__all__ = ["DEFAULT_END", "SOURCES", "Business", "DemoMessage", "generate_messages"]
