"""Messy customer records with ground truth, for measuring identity resolution.

People are drawn from one seeded generator and each appears in 1 to 5 records, as they would in a
till system, a web shop and a support desk: nicknames, typos, swapped first and last names,
married names, new phones, moves, e-mail variants and missing fields. About a third of the people
live in households: same surname, address and landline, different first names and e-mails (the
people identity resolution must keep apart). No date of birth: cornerstore keeps none.

Each record carries ``person_id`` (the truth) and ``household_id``; resolution reads neither.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from itertools import accumulate
from typing import Any

from cornerstore.demo.cast import (
    CITIES,
    EMAIL_DOMAINS,
    INWARD_LETTERS,
    NICKNAMES,
    STREET_KINDS,
    STREET_NAMES,
    SURNAMES,
    ascii_name,
    email_variants,
    mailbox,
    phone_format,
    typo,
)

# Extra surnames built from common English parts (Ash+worth, Black+wood) so that a million people
# do not share a hundred surnames; the cast's own surnames stay the most common ones.
_SURNAME_HEADS = [
    "Ash",
    "Black",
    "Brad",
    "Bridge",
    "Brook",
    "Burn",
    "Cal",
    "Chad",
    "Clay",
    "Cole",
    "Crom",
    "Dun",
    "Eller",
    "Fair",
    "Gold",
    "Green",
    "Hale",
    "Hart",
    "Hay",
    "Holm",
    "Kirk",
    "Lang",
    "Mar",
    "New",
    "North",
    "Oak",
    "Pen",
    "Rad",
    "Red",
    "Ros",
    "Shel",
    "South",
    "Stan",
    "Stock",
    "Thorn",
    "Wad",
    "West",
    "White",
    "Wil",
    "Win",
]
_SURNAME_TAILS = [
    "worth",
    "wood",
    "ley",
    "ton",
    "field",
    "ford",
    "ham",
    "by",
    "well",
    "more",
    "croft",
    "shaw",
    "dale",
    "hurst",
    "wick",
]
_STREET_EXTRA = [
    "Acre",
    "Bank",
    "Fold",
    "Garth",
    "Gate",
    "Holme",
    "Ings",
    "Lea",
    "Ridge",
    "Rise",
    "Royd",
    "Side",
    "Wold",
]


def _first_names() -> tuple[str, ...]:
    """Given names: the cast's, then every formal name in the shipped nickname list."""
    text = files("cornerstore.identity").joinpath("data/nicknames.csv").read_text("utf-8")
    formal = {row["name1"].strip().title() for row in csv.DictReader(text.splitlines())}
    cast = list(NICKNAMES) + [
        n for n in (["Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophie"])
    ]
    return tuple(dict.fromkeys(cast + sorted(formal)))


def _nicknames() -> dict[str, list[str]]:
    text = files("cornerstore.identity").joinpath("data/nicknames.csv").read_text("utf-8")
    out: dict[str, list[str]] = {}
    for row in csv.DictReader(text.splitlines()):
        out.setdefault(row["name1"].strip().title(), []).append(row["name2"].strip().title())
    for formal, nicks in NICKNAMES.items():
        out.setdefault(formal, []).extend(nicks)
    return out


@dataclass
class _Person:
    person_id: int
    household_id: int
    first: str
    last: str
    email: str | None
    mobile: str | None
    landline: str | None
    number: int
    street: str
    city: str
    postcode: str


# Birmingham, Edinburgh, Glasgow, Liverpool, Manchester, Newcastle: 7-digit local numbers.
_AREA_CODES = ("0121", "0131", "0141", "0151", "0161", "0191")


class MessyCustomers:
    """Draws people and their records; ``records()`` yields dicts in a shuffled order.

    Examples
    --------
    >>> rows = list(MessyCustomers(people=50, seed=1).records())
    >>> sorted(rows[0])[:4]
    ['address', 'city', 'email', 'first_name']
    """

    def __init__(self, people: int, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.people_count = people
        self.first_names = _first_names()
        self.nicknames = _nicknames()
        extra = [h + t for h in _SURNAME_HEADS for t in _SURNAME_TAILS]
        self.surnames = tuple(SURNAMES) + tuple(extra)
        # Zipf-like weights: Smith and Jones are common, Ashworth rare (TF adjustments matter).
        # Cumulative weights, summed once: random.choices sums plain weights on every call,
        # which over a few thousand names was most of the time drawing a million records took.
        self.surname_weights = list(
            accumulate(1.0 / (i + 1) ** 0.8 for i in range(len(self.surnames)))
        )
        self.first_weights = list(
            accumulate(1.0 / (i + 1) ** 0.7 for i in range(len(self.first_names)))
        )
        self.streets = tuple(STREET_NAMES) + tuple(_STREET_EXTRA)
        self.cities = list(CITIES)
        self.city_weights = list(accumulate(CITIES[c][0] for c in self.cities))
        self._mailboxes: set[str] = set()
        self._phones: set[str] = set()

    # -- people ------------------------------------------------------------------------------
    def _phone(self, prefix: str) -> str:
        while True:
            number = prefix + "".join(self.rng.choices("0123456789", k=11 - len(prefix)))
            if prefix == "01":
                # A real geographic code and exchange, so the number is a fixed line by the
                # numbering plan (phonenumbers knows), as a household's landline is. Exchanges
                # 2 to 7 are fixed lines in all six codes (0121 8 is not a number at all).
                number = (
                    _AREA_CODES[int(number[2]) % 6] + str(2 + int(number[3]) % 6) + number[4:10]
                )
            if number not in self._phones:
                self._phones.add(number)
                return number

    def _email(self, first: str, last: str) -> str:
        rng = self.rng
        domain = rng.choices([d for d, _ in EMAIL_DOMAINS], [w for _, w in EMAIL_DOMAINS])[0]
        f, surname = ascii_name(first), ascii_name(last)
        base = rng.choice((f"{f}.{surname}", f"{f}{surname}", f"{f[0]}{surname}", f"{f}_{surname}"))
        local, n = base, 1
        # One mailbox, one person: googlemail.com is gmail.com, and a dot is no difference.
        while mailbox(f"{local}@{domain}").replace(".", "") in self._mailboxes:
            n += 1
            local = f"{base}{rng.randint(1, 99) if n < 5 else n}"
        self._mailboxes.add(mailbox(f"{local}@{domain}").replace(".", ""))
        return f"{local}@{domain}"

    def _place(self) -> tuple[int, str, str, str]:
        rng = self.rng
        city = rng.choices(self.cities, cum_weights=self.city_weights)[0]
        district = rng.choice(CITIES[city][1])
        postcode = f"{district} {rng.randint(1, 9)}{''.join(rng.choices(INWARD_LETTERS, k=2))}"
        street = f"{rng.choice(self.streets)} {rng.choice(STREET_KINDS)}"
        return rng.randint(1, 180), street, city, postcode

    def people(self) -> Iterator[_Person]:
        rng = self.rng
        pid = 0
        household = 0
        while pid < self.people_count:
            household += 1
            size = 1 if rng.random() < 0.7 else rng.choice((2, 2, 2, 3, 4))
            last = rng.choices(self.surnames, cum_weights=self.surname_weights)[0]
            number, street, city, postcode = self._place()
            landline = self._phone("01") if size > 1 or rng.random() < 0.3 else None
            firsts: set[str] = set()
            for _ in range(min(size, self.people_count - pid)):
                first = rng.choices(self.first_names, cum_weights=self.first_weights)[0]
                while first in firsts:
                    first = rng.choices(self.first_names, cum_weights=self.first_weights)[0]
                firsts.add(first)
                pid += 1
                yield _Person(
                    person_id=pid,
                    household_id=household,
                    first=first,
                    last=last if size == 1 or rng.random() < 0.9 else rng.choice(self.surnames),
                    email=self._email(first, last) if rng.random() < 0.9 else None,
                    mobile=self._phone("07") if rng.random() < 0.85 else None,
                    landline=landline,
                    number=number,
                    street=street,
                    city=city,
                    postcode=postcode,
                )

    # -- records -----------------------------------------------------------------------------
    def _record(self, p: _Person, first_record: bool) -> dict[str, Any]:
        rng = self.rng
        first, last = p.first, p.last
        if not first_record:
            if rng.random() < 0.15 and self.nicknames.get(first):
                first = rng.choice(self.nicknames[first])
            if rng.random() < 0.05:  # a married name
                last = rng.choices(self.surnames, cum_weights=self.surname_weights)[0]
        if rng.random() < 0.06:
            first = typo(first, rng, keep=1)
        if rng.random() < 0.06:
            last = typo(last, rng, keep=1)
        if rng.random() < 0.02:
            first, last = last, first
        if rng.random() < 0.1:
            first, last = first.upper(), last.upper()
        email = p.email
        if email and not first_record:
            roll = rng.random()
            if roll < 0.2:
                email = rng.choice(email_variants(email, rng) or (email,))
            elif roll < 0.25:
                email = self._email(p.first, p.last)  # a second address
            elif roll < 0.3:
                email = typo(email, rng, keep=1)
        if email and rng.random() < 0.2:
            email = None
        phones = [x for x in (p.mobile, p.landline) if x]
        phone = rng.choice(phones) if phones else None
        if phone and not first_record and rng.random() < 0.12:
            phone = self._phone("07")  # a new phone
        if phone and rng.random() < 0.25:
            phone = None
        number, street, city, postcode = p.number, p.street, p.city, p.postcode
        if not first_record and rng.random() < 0.1:
            number, street, city, postcode = self._place()  # moved
        address = f"{number} {street}"
        if rng.random() < 0.3:
            kind = street.rsplit(" ", 1)[-1]
            short = {"Street": "St", "Road": "Rd", "Avenue": "Ave", "Lane": "Ln", "Drive": "Dr"}
            address = f"{number} {street[: -len(kind)]}{short.get(kind, kind)}"
        if rng.random() < 0.05:
            address = typo(address, rng, keep=len(str(number)) + 1)
        if rng.random() < 0.15:
            address = ""
        if rng.random() < 0.05:
            postcode = typo(postcode, rng, keep=2)
        if rng.random() < 0.1:
            postcode = ""
        return {
            "first_name": first if rng.random() > 0.03 else "",
            "last_name": last,
            "email": email or "",
            "phone": phone_format(phone, rng) if phone else "",
            "address": address,
            "city": city if rng.random() > 0.1 else "",
            "postcode": postcode.lower() if rng.random() < 0.2 else postcode,
            "person_id": p.person_id,
            "household_id": p.household_id,
        }

    def records(self) -> Iterator[dict[str, Any]]:
        """Every person's records (1 to 5, most people once), shuffled, ids ``r1``, ``r2``, ..."""
        rows: list[dict[str, Any]] = []
        for person in self.people():
            count = self.rng.choices((1, 2, 3, 4, 5), (0.5, 0.25, 0.13, 0.08, 0.04))[0]
            rows.extend(self._record(person, i == 0) for i in range(count))
        self.rng.shuffle(rows)
        for i, row in enumerate(rows, start=1):
            yield {"id": f"r{i}", **row}
