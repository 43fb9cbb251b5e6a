"""Realistic Segment Spec traffic for a small online shop, seeded so every run sends the same.

The mix (by default): 70% ``track`` (orders and product events with 1-3 products), 15% ``page``,
10% ``identify`` (e-mail, names, phone, address) from known customers, and 5% first visits of new
anonymous visitors. Every message has a messageId, a timestamp and an analytics.js-like context.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST = ("Ada", "Ben", "Chloe", "Dev", "Ema", "Finn", "Grace", "Hugo", "Isla", "Jack", "Kiran")
LAST = ("Smith", "Jones", "Patel", "Brown", "Khan", "Taylor", "Evans", "Walker", "Wright", "Hall")
DOMAINS = ("gmail.com", "outlook.com", "example.co.uk", "yahoo.com", "icloud.com")
CITIES = (("Leeds", "LS1 4AP"), ("York", "YO1 7HH"), ("Bristol", "BS1 5TR"), ("Bath", "BA1 1LZ"))
STREETS = ("High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue")
PRODUCTS = tuple(
    (f"sku-{i:04d}", f"{adj} {noun}", round(2.5 + (i % 40) * 1.25, 2))
    for i, (adj, noun) in enumerate(
        (a, n)
        for a in ("Organic", "Fresh", "Local", "Smoked", "Spiced", "Rustic")
        for n in ("Bread", "Cheese", "Honey", "Coffee", "Tea", "Jam", "Olives", "Cider")
    )
)
TRACK_EVENTS = ("Order Completed", "Product Viewed", "Product Added", "Checkout Started")
PAGES = (("Home", "/"), ("Product", "/p/"), ("Basket", "/basket"), ("Offers", "/offers"))
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
)
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Person:
    """A known customer: the identifiers and traits the shop's site sends for them."""

    user_id: str
    anonymous_id: str
    email: str
    first_name: str
    last_name: str
    phone: str
    city: str
    postal_code: str
    street: str


def people(count: int, seed: int = 7, prefix: str = "u") -> list[Person]:
    """``count`` distinct customers with valid, distinct e-mails and UK mobile numbers."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, postcode = rng.choice(CITIES)
        out.append(
            Person(
                user_id=f"{prefix}{i:07d}",
                anonymous_id=f"anon-{prefix}-{i:07d}-{rng.getrandbits(32):08x}",
                email=f"{first}.{last}.{i}@{rng.choice(DOMAINS)}",
                first_name=first,
                last_name=last,
                # 07700 900000-999999 are Ofcom's drama numbers: valid shape, never anyone's.
                phone=f"07{700 + i // 100_000:03d} 9{i % 100_000:05d}",
                city=city,
                postal_code=postcode,
                street=f"{rng.randint(1, 199)} {rng.choice(STREETS)}",
            )
        )
    return out


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _context(rng: random.Random, page: tuple[str, str], anonymous: bool) -> dict[str, Any]:
    title, path = page
    url = f"https://cornershop.example{path}"
    return {
        "library": {"name": "analytics.js", "version": "next-1.70.0"},
        "ip": f"81.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "userAgent": rng.choice(AGENTS),
        "locale": "en-GB",
        "page": {
            "url": url,
            "path": path,
            "title": title,
            "referrer": "https://www.google.com/" if anonymous else "",
        },
    }


def identify(person: Person, message_id: str, at: datetime, rng: random.Random) -> dict[str, Any]:
    """The identify a customer's sign-in or checkout sends (Spec traits, camelCase)."""
    return {
        "type": "identify",
        "messageId": message_id,
        "timestamp": _stamp(at),
        "userId": person.user_id,
        "anonymousId": person.anonymous_id,
        "traits": {
            "email": person.email,
            "firstName": person.first_name,
            "lastName": person.last_name,
            "phone": person.phone,
            "address": {
                "street": person.street,
                "city": person.city,
                "postalCode": person.postal_code,
                "country": "GB",
            },
        },
        "context": _context(rng, ("Account", "/account"), anonymous=False),
    }


def _products(rng: random.Random) -> list[dict[str, Any]]:
    chosen = rng.sample(PRODUCTS, rng.randint(1, 3))
    return [
        {"product_id": sku, "sku": sku, "name": name, "price": price, "quantity": rng.randint(1, 3)}
        for sku, name, price in chosen
    ]


def track(
    user: Person | None, anonymous_id: str, message_id: str, at: datetime, rng: random.Random
) -> dict[str, Any]:
    event = rng.choice(TRACK_EVENTS) if user is not None else "Product Viewed"
    products = _products(rng)
    properties: dict[str, Any] = {
        "order_id": f"o-{rng.getrandbits(40):010x}",
        "total": round(sum(p["price"] * p["quantity"] for p in products), 2),
        "currency": "GBP",
        "products": products,
    }
    msg: dict[str, Any] = {
        "type": "track",
        "event": event,
        "messageId": message_id,
        "timestamp": _stamp(at),
        "anonymousId": anonymous_id,
        "properties": properties,
        "context": _context(rng, ("Product", f"/p/{products[0]['sku']}"), user is None),
    }
    if user is not None:
        msg["userId"] = user.user_id
    return msg


def page(
    user: Person | None, anonymous_id: str, message_id: str, at: datetime, rng: random.Random
) -> dict[str, Any]:
    title, path = rng.choice(PAGES)
    msg: dict[str, Any] = {
        "type": "page",
        "name": title,
        "messageId": message_id,
        "timestamp": _stamp(at),
        "anonymousId": anonymous_id,
        "properties": {
            "title": title,
            "path": path,
            "url": f"https://cornershop.example{path}",
            "referrer": "",
        },
        "context": _context(rng, (title, path), user is None),
    }
    if user is not None:
        msg["userId"] = user.user_id
    return msg


SEED_RUN = "seed-"


def seed_messages(known: list[Person], run: str = SEED_RUN) -> list[dict[str, Any]]:
    """One identify per known customer, so they exist before the measured traffic starts."""
    rng = random.Random(11)
    at = START - timedelta(days=30)
    return [
        identify(p, f"{run}{i:08d}", at + timedelta(seconds=i), rng) for i, p in enumerate(known)
    ]


def traffic(
    count: int,
    known: list[Person],
    *,
    run: str,
    seed: int = 3,
    mix: tuple[float, float, float, float] = (0.70, 0.15, 0.10, 0.05),
) -> list[dict[str, Any]]:
    """``count`` messages: (track, page, identify, new visitor) in the proportions of ``mix``.

    messageIds start with ``run`` so two runs into one database never collide.
    """
    rng = random.Random(seed)
    t_track, t_page, t_identify = mix[0], mix[0] + mix[1], mix[0] + mix[1] + mix[2]
    out = []
    for i in range(count):
        at = START + timedelta(milliseconds=37 * i)
        mid = f"{run}-{i:09d}"
        roll = rng.random()
        if roll >= t_identify:  # a new anonymous visitor's first page or product view
            anon = f"anon-{run}-{i:09d}"
            maker = page if rng.random() < 0.5 else track
            out.append(maker(None, anon, mid, at, rng))
            continue
        person = known[rng.randrange(len(known))]
        if roll < t_track:
            out.append(track(person, person.anonymous_id, mid, at, rng))
        elif roll < t_page:
            out.append(page(person, person.anonymous_id, mid, at, rng))
        else:
            out.append(identify(person, mid, at, rng))
    return out


def batches(messages: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [messages[i : i + size] for i in range(0, len(messages), size)]
