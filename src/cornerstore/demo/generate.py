"""Generate two years of a small shop's Segment Spec messages, department by department.

The people come from :mod:`cornerstore.demo.cast`; here they live half a month at a time: orders
as a Poisson process with each person's own rate (seasonal, decaying for those drifting away),
gamma-distributed spend, web sessions that start anonymous and log in, till receipts looked up by
loyalty card or phone, invoices, parcels that find nobody at home, support cases and surveys.
Each (person, half month) draws from its own seeded generator, so the output depends only on the
seed, and only a few weeks of messages are held in memory at a time.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cornerstore.demo.cast import (
    BRANCH_CODES,
    BRANCHES,
    CATEGORIES,
    DAY_MS,
    MONTH_MS,
    CastBuilder,
    Device,
    Person,
    mailbox,
    phone_format,
    typo,
)

HOUR_MS = 3_600_000
MINUTE_MS = 60_000
DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)

# Write-key name of each department -> the touchpoint its messages come from.
SOURCES: dict[str, str] = {
    "till": "store",
    "web-shop": "web",
    "support-desk": "support",
    "billing": "billing",
    "shipping": "shipping",
    "surveys": "survey",
}
SHOP_URL = "https://shop.cornerstore.example"

# Orders by month of year: busy before Christmas, quiet after it.
SEASON = (0.0, 0.8, 0.8, 0.9, 0.95, 1.0, 1.0, 0.95, 0.95, 1.0, 1.05, 1.35, 1.7)
# Category weight by month of year (garden in spring and summer, gifts before Christmas).
CATEGORY_SEASON = {
    "garden": (0, 0.3, 0.4, 1.2, 2.5, 2.5, 2.2, 1.8, 1.4, 0.8, 0.5, 0.3, 0.3),
    "gifts": (0, 0.6, 1.2, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 1.0, 2.5, 4.0),
}
CATALOGUE: dict[str, tuple[tuple[str, float], ...]] = {
    "groceries": (
        ("Free-range eggs x12", 3.10),
        ("Sourdough loaf", 3.40),
        ("Semi-skimmed milk 2 pints", 1.45),
        ("Mature cheddar 400g", 4.25),
        ("Yorkshire tea 240 bags", 7.50),
        ("Ground coffee 227g", 4.60),
        ("Bananas x5", 1.15),
        ("Olive oil 1L", 8.90),
        ("Chopped tomatoes x4", 2.60),
        ("Wildflower honey 340g", 4.95),
        ("Smoked salmon 200g", 6.50),
    ),
    "household": (
        ("Laundry liquid 1.5L", 7.00),
        ("Toilet roll x9", 5.50),
        ("Bin bags x20", 2.75),
        ("Kitchen roll x4", 4.20),
        ("Dishwasher tablets x40", 8.50),
        ("LED bulbs x3", 6.00),
        ("Washing-up liquid", 1.60),
    ),
    "baby": (
        ("Nappies size 3 x56", 11.50),
        ("Baby wipes x4", 4.80),
        ("Baby food pouches x6", 5.40),
        ("Sleepsuits 2-pack", 12.00),
        ("Baby bath wash", 3.75),
    ),
    "garden": (
        ("Peat-free compost 50L", 6.99),
        ("Tomato plants x3", 7.50),
        ("Wild bird seed 2kg", 8.25),
        ("Garden hose 15m", 24.99),
        ("Seed potatoes 2kg", 4.99),
        ("Secateurs", 14.99),
        ("Lawn seed 1kg", 12.99),
    ),
    "electronics": (
        ("USB-C charger", 19.99),
        ("AA batteries x12", 8.99),
        ("Bluetooth speaker", 39.99),
        ("Over-ear headphones", 29.99),
        ("Smart plug", 14.99),
        ("Kettle 1.7L", 34.99),
        ("Two-slice toaster", 27.99),
    ),
    "gifts": (
        ("Scented candle set", 18.00),
        ("Luxury chocolate box", 12.50),
        ("Mug and tea gift set", 15.00),
        ("Christmas crackers x6", 9.99),
        ("Photo frame", 11.00),
        ("Jigsaw 1000 pieces", 14.00),
        ("Yorkshire hamper", 45.00),
    ),
}
SKUS = {
    cat: tuple(
        (f"{cat[:3].upper()}-{i + 1:03d}", name, price) for i, (name, price) in enumerate(items)
    )
    for cat, items in CATALOGUE.items()
}
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


@dataclass(frozen=True)
class Hours:
    """Local hours of the day with how likely each is (drawn by bisecting cumulative weights)."""

    hours: tuple[int, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, first: int, weights: tuple[float, ...]) -> Hours:
        return cls(tuple(range(first, first + len(weights))), tuple(itertools.accumulate(weights)))

    def draw(self, rng: random.Random) -> int:
        return self.hours[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


# When the tills ring, people browse, vans knock and the desk answers (UK local hours).
STORE_HOURS = Hours.of(8, (2, 4, 5, 6, 8, 8, 6, 5, 5, 7, 6, 3))
WEB_HOURS = Hours.of(
    0, (1, 0.5, 0.3, 0.2, 0.2, 0.3, 1, 2, 3, 3, 3, 4, 5, 5, 4, 4, 4, 5, 6, 8, 9, 8, 6, 3)
)
CARRIER_HOURS = Hours.of(8, (3, 5, 6, 6, 6, 5, 5, 5, 4, 4, 3, 2, 1))
DESK_HOURS = Hours.of(9, (6, 8, 7, 5, 6, 6, 5, 4, 3))
DISPATCH_HOURS = Hours.of(14, (2, 3, 3, 2, 1))
STORE_WEEKDAYS = (1.0, 1.0, 1.0, 1.0, 1.1, 1.4, 0.6)  # Monday first; Sunday trading is short


@dataclass(frozen=True)
class DemoMessage:
    """A Spec message as a department sends it, with the person it really is about.

    ``person`` is the ground truth for measuring identity resolution; it never enters the message.
    """

    source: str
    touchpoint: str
    message: dict[str, Any]
    person: str


# -- time ---------------------------------------------------------------------------------------
def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


@functools.lru_cache(maxsize=4096)
def _day_text(day: int) -> str:
    return time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))


def iso(ms: int) -> str:
    """UTC milliseconds as the ISO-8601 text Segment clients send.

    >>> iso(1_700_000_000_123)
    '2023-11-14T22:13:20.123Z'
    """
    day, rest = divmod(ms, DAY_MS)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_day_text(day)}{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (reproducible, unlike :func:`uuid.uuid4`).

    >>> random_uuid(random.Random(1))[14], random_uuid(random.Random(1))[19] in "89ab"
    ('4', True)
    """
    # Set the version (4) and variant (10xx) bits as uuid.UUID(version=4) does, in one step.
    bits = rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def _last_sunday_1am_utc(year: int, month: int) -> int:
    last = date(year, month + 1, 1) - timedelta(days=1)
    last -= timedelta(days=(last.weekday() - 6) % 7)
    return _ms(datetime(last.year, last.month, last.day, 1, tzinfo=UTC))


def uk_offset(ms: int) -> int:
    """Milliseconds UK local time is ahead of UTC at ``ms`` (British Summer Time or not).

    The rule (last Sundays of March and October, 01:00 UTC) is coded here so the output does not
    depend on the machine's time-zone database.
    """
    # Changes alternate start, end, start, ...: an odd count before ``ms`` means summer time.
    return HOUR_MS if bisect.bisect_right(_BST_CHANGES, ms) % 2 else 0


_BST_CHANGES = tuple(
    _last_sunday_1am_utc(year, month) for year in range(1971, 2200) for month in (3, 10)
)


def local_iso(ms: int) -> str:
    """UK local time with its offset, as a delivery driver's handset records it."""
    offset = uk_offset(ms)
    seconds = (ms + offset) // 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + (
        "+01:00" if offset else "+00:00"
    )


def _weekday(ms: int) -> int:
    """Monday 0 .. Sunday 6 of the UK local day holding ``ms`` (1970-01-01 was a Thursday)."""
    return ((ms + uk_offset(ms)) // DAY_MS + 3) % 7


def _at_hour(rng: random.Random, ms: int, hours: Hours) -> int:
    """A moment on the UK local day holding ``ms``, at an hour drawn from ``hours``."""
    offset = uk_offset(ms)
    day = (ms + offset) // DAY_MS * DAY_MS
    hour = hours.draw(rng)
    return day + hour * HOUR_MS + int(rng.random() * HOUR_MS) - offset


def _next_day(ms: int) -> int:
    """The same time on the next working day (carriers and the warehouse rest on Sundays)."""
    ms += DAY_MS
    while _weekday(ms) == 6:
        ms += DAY_MS
    return ms


def _periods(start: int, end: int) -> list[tuple[int, int, int]]:
    """(first ms, end ms, month of year) of each half month (1st-15th, 16th-end) in [start, end).

    Half months, not months, because a period's messages are held in memory until it is sorted.
    """
    out = []
    day = datetime.fromtimestamp(start / 1000, UTC)
    month = datetime(day.year, day.month, 1, tzinfo=UTC)
    while _ms(month) < end:
        following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
        for a, b in ((month, month.replace(day=16)), (month.replace(day=16), following)):
            if _ms(a) < end and _ms(b) > start:
                out.append((max(start, _ms(a)), min(end, _ms(b)), month.month))
        month = following
    return out


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


def track(
    ids: dict[str, str],
    event: str,
    properties: dict[str, Any],
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A track message; ``context`` is copied so messages never share a mutable part."""
    message: dict[str, Any] = {"type": "track", **ids, "event": event, "properties": properties}
    if context:
        message["context"] = {k: dict(v) if isinstance(v, dict) else v for k, v in context.items()}
    return message


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


# -- the business -------------------------------------------------------------------------------
class Business:
    """Runs the shop half a month at a time and collects what each department sends.

    Examples
    --------
    >>> business = Business(customers=5, seed=1, end=DEFAULT_END, years=0.5)
    >>> first = next(iter(business.run()))
    >>> first.source in SOURCES
    True
    """

    def __init__(self, customers: int, seed: int, end: datetime, years: float) -> None:
        self.end = _ms(end)
        self.start = self.end - int(years * 365.25 * DAY_MS)
        self.cast = CastBuilder(customers, seed, self.start, self.end)
        self.people = self.cast.people()
        self.periods = _periods(self.start, self.end)
        self.period_starts = [p[0] for p in self.periods]
        self.seed_key = seed % (1 << 62)
        self.buckets: dict[int, list[tuple[int, int, DemoMessage]]] = {}
        self.seq = 0
        self.counters: dict[str, int] = {}
        self.shared_devices: dict[int, str] = {}
        self.floor = self.start  # start of the period being lived

    def run(self) -> Iterator[DemoMessage]:
        """Every message in time order, half a month at a time."""
        for number, (a, b, month) in enumerate(self.periods):
            for index, person in enumerate(self.people):
                if person.first_order_at < b and person.active_until(self.end) > a:
                    # Its own generator per person and period: output independent of loop order.
                    rng = random.Random((self.seed_key << 48) | (index << 12) | number)
                    self.live_period(person, rng, a, b, month)
            bucket = self.buckets.pop(number, [])
            bucket.sort(key=lambda entry: (entry[0], entry[1]))
            for _, _, message in bucket:
                yield message

    # -- plumbing -------------------------------------------------------------------------------
    def send(
        self, p: Person, rng: random.Random, source: str, ms: int, message: dict[str, Any]
    ) -> int:
        """Stamp ``message`` and file it under its period; returns ``ms`` for chaining."""
        if ms < self.end:
            # Nothing may land in a period already yielded; follow-ups always come later anyway.
            ms = max(ms, self.floor)
            message["messageId"] = random_uuid(rng)
            message["timestamp"] = iso(ms)
            number = bisect.bisect_right(self.period_starts, ms) - 1
            self.seq += 1
            demo = DemoMessage(source, SOURCES[source], message, p.pid)
            self.buckets.setdefault(number, []).append((ms, self.seq, demo))
        return ms

    def next_id(self, prefix: str, ms: int, width: int = 5) -> str:
        """Running numbers per prefix and month, as shop systems print them (W2511-00042)."""
        stamp = time.strftime("%y%m", time.gmtime(ms // 1000))
        key = prefix + stamp
        self.counters[key] = n = self.counters.get(key, 0) + 1
        return f"{prefix}{stamp}-{n:0{width}d}"

    @staticmethod
    def card(p: Person) -> list[dict[str, str]]:
        return [
            {
                "id": str(p.loyalty_card),
                "type": "loyalty_card",
                "collection": "users",
                "encoding": "none",
            }
        ]

    def some_email(self, p: Person, rng: random.Random) -> str:
        """The person's address as this form or system happens to spell it."""
        assert p.email is not None
        if p.email_variants and rng.random() < 0.3:
            return rng.choice(p.email_variants)
        return p.email

    # -- half a month of one person's life ------------------------------------------------------
    def live_period(self, p: Person, rng: random.Random, a: int, b: int, month: int) -> None:
        """Draw the period's orders, visits, surveys and cases, then live them in time order."""
        self.floor = a
        agenda: list[tuple[int, str, str]] = []  # (time, what, branch of a store order)
        for changed, what in ((p.mobile_changed_at, "new mobile"), (p.moved_at, "moved")):
            if changed is not None and a <= changed < b:
                agenda.append((self.moment(rng, changed, DESK_HOURS, a), what, ""))
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
        t = _at_hour(rng, day, hours)
        if weekdays is not None:
            top = max(weekdays)
            for _ in range(3):
                if rng.random() * top < weekdays[_weekday(t)]:
                    break
                t = _at_hour(rng, t + DAY_MS, hours)
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
            self.send(p, rng, "web-shop", t, {"type": "identify", **ids, "traits": traits})
        elif rng.random() < 0.5:
            alias = {"type": "alias", "previousId": device.anonymous_id, "userId": p.user_id}
            self.send(p, rng, "web-shop", t, alias)
        else:
            traits = {"email": self.some_email(p, rng), "firstName": p.first, "lastName": p.last}
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
        basket = self.basket(p, rng, t, month, 3.5 if business else 1.0)
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
            context["traits"] = {"email": self.some_email(p, rng)}
            if rng.random() < 0.8:
                context["traits"]["phone"] = phone_format(p.mobile_at(t), rng)
        if business and p.account:
            context["groupId"] = p.account.group_id
        done = track(self.web_ids(p, device), "Order Completed", properties, context)
        self.send(p, rng, "web-shop", t, done)
        ids = {"userId": p.user_id} if p.user_id else {"anonymousId": f"guest-{order_id}"}
        self.invoice(p, rng, t, ids, order_id, properties["total"], business)
        self.ship(p, rng, t, ids, order_id)

    def basket(
        self, p: Person, rng: random.Random, t: int, month: int, factor: float
    ) -> list[dict[str, Any]]:
        """Products until the person's gamma-distributed spend for this order is reached."""
        target = rng.gammavariate(p.spend_shape, p.spend_scale) * factor
        weights = list(p.category_weights)
        for i, category in enumerate(CATEGORIES):
            if category in CATEGORY_SEASON:
                weights[i] *= CATEGORY_SEASON[category][month]
        if p.baby_from is None or t < p.baby_from:
            weights[2] = 0.0
        cumulative = list(itertools.accumulate(weights))
        items: dict[str, dict[str, Any]] = {}
        total = 0.0
        while total < target and len(items) < 12:
            pick = bisect.bisect(cumulative, rng.random() * cumulative[-1])
            category = CATEGORIES[min(pick, len(CATEGORIES) - 1)]
            sku, name, price = rng.choice(SKUS[category])
            quantity = 1 + (rng.random() < 0.2) + (category == "groceries" and rng.random() < 0.2)
            if sku in items:
                items[sku]["quantity"] += quantity
            else:
                items[sku] = {
                    "product_id": sku,
                    "sku": sku,
                    "name": name,
                    "category": category,
                    "price": price,
                    "quantity": quantity,
                }
            total += price * quantity
        return list(items.values())

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
                signup["email"] = self.some_email(p, rng)
            card_ctx = {"externalIds": self.card(p)}
            self.send(
                p,
                rng,
                "till",
                t,
                {"type": "identify", **ids, "traits": signup, "context": card_ctx},
            )
            t += int(rng.uniform(30, 120) * 1000)
            p.card_registered = p.till_knows_new_mobile = True
            context["externalIds"] = self.card(p)
        elif p.loyalty_card and rng.random() > 0.2 and not tell_new_mobile:
            context["externalIds"] = self.card(p)
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
                    context["externalIds"] = self.card(p)
        else:
            typed = self.some_email(p, rng)
            if rng.random() < 0.015:
                slip = typo(typed, rng)
                if mailbox(slip) not in self.cast.mailboxes:
                    typed, ids = slip, {"anonymousId": f"TG{rng.getrandbits(40):010x}"}
            traits["email"] = typed
        if traits:
            context["traits"] = traits
        basket = self.basket(p, rng, t, month, 1.0)
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
        self.send(p, rng, "till", t, track(ids, "Order Completed", properties, context))
        if rng.random() < 0.05:
            asked = rng.random() < 0.6
            employee = f"{code}-{rng.randrange(1, 13):02d}" if asked else None
            when = t + int(rng.uniform(0.02, 30) * HOUR_MS)
            self.survey(p, rng, when, "csat", asked, employee, {"order_id": properties["order_id"]})

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
            context["traits"] = {"email": self.some_email(p, rng)}
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
        t = _at_hour(rng, _next_day(t), DISPATCH_HOURS)
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
        day = _next_day(t)
        for attempt in range(1, 4):
            at = _at_hour(rng, day, CARRIER_HOURS)
            local_hour = ((at + uk_offset(at)) // HOUR_MS) % 24
            evening = local_hour >= 18 or _weekday(at) >= 5
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
            self.send(p, rng, "shipping", at, track(ids, "Delivery Attempted", attempted, context))
            if outcome == "delivered":
                if rng.random() < 0.06:
                    desk = _at_hour(rng, at + DAY_MS, DESK_HOURS)
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
            day = _next_day(at)
        if rng.random() < 0.5:
            self.support_case(p, rng, _at_hour(rng, day, DESK_HOURS), "delivery", order_id)

    # -- support and surveys -----------------------------------------------------------------------
    def support_case(
        self, p: Person, rng: random.Random, t: int, topic: str, order_id: str | None = None
    ) -> None:
        email = None
        if p.email:
            email = self.some_email(p, rng)
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
        self.send(p, rng, "support-desk", t, track(ids, "Case Opened", opened))
        hours = rng.lognormvariate(2.5, 1.1)
        resolved = {
            **opened,
            "resolution": rng.choice(SUPPORT_TOPICS[topic]),
            "hours_to_resolve": round(hours, 1),
        }
        t += int(hours * HOUR_MS)
        self.send(p, rng, "support-desk", t, track(ids, "Case Resolved", resolved))
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
            context = {"traits": {"email": self.some_email(p, rng)}}
        elif p.loyalty_card:
            context = {"externalIds": self.card(p)}
        else:
            context = {"traits": {"phone": phone_format(p.mobile_at(t), rng)}}
        answer = track({"anonymousId": p.survey_id}, "Survey Answered", properties, context)
        self.send(p, rng, "surveys", t, answer)

    # -- life events ----------------------------------------------------------------------------
    def new_mobile(self, p: Person, rng: random.Random, t: int) -> None:
        if p.user_id and p.signed_up:
            traits = {"phone": phone_format(p.mobile_at(t), rng)}
            self.send(
                p, rng, "web-shop", t, {"type": "identify", "userId": p.user_id, "traits": traits}
            )
        # Otherwise the till learns it at the next visit and support from the next call.

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
