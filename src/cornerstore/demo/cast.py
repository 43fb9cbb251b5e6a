"""The people of the demo business: who they are, where they live, how they shop.

Everything here is drawn once, in order, from one seeded :class:`random.Random`, so a seed always
gives the same people. Identifiers that stitching relies on (mobile phones, e-mail mailboxes,
loyalty cards, web userIds) are unique per person by construction; the only shared values are a
household's surname, address and landline, which stitching must not treat as one person.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DAY_MS = 86_400_000
MONTH_MS = int(30.4375 * DAY_MS)


def _words(text: str) -> tuple[str, ...]:
    # Long word lists stay readable as text; one word a line would bury the code.
    return tuple(text.split())


BRANCHES = {"York": "York Micklegate", "Harrogate": "Harrogate", "Leeds": "Leeds Headingley"}
#: Customers who, some day, order once as a guest with another e-mail address.
GUEST_ORDER_SHARE = 0.08
BRANCH_CODES = {"York Micklegate": "YRK", "Harrogate": "HGT", "Leeds Headingley": "LDS"}

# Nicknames are what support staff and tills type when the customer introduces themselves.
NICKNAMES = {
    "Robert": ("Bob", "Rob"),
    "William": ("Bill", "Will"),
    "Elizabeth": ("Liz", "Beth"),
    "Margaret": ("Maggie", "Peggy"),
    "James": ("Jim", "Jamie"),
    "Katherine": ("Kate", "Kathy"),
    "Thomas": ("Tom",),
    "Michael": ("Mike", "Mick"),
    "Richard": ("Rich", "Dick"),
    "Jennifer": ("Jen", "Jenny"),
    "Alexander": ("Alex", "Sandy"),
    "Samuel": ("Sam",),
    "Daniel": ("Dan", "Danny"),
    "Christopher": ("Chris",),
    "Jonathan": ("Jon", "Jonny"),
    "Anthony": ("Tony",),
    "Edward": ("Ed", "Ted"),
    "Susan": ("Sue", "Susie"),
    "Deborah": ("Debbie", "Deb"),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Patricia": ("Pat", "Trish"),
    "Charlotte": ("Lottie", "Charlie"),
    "Abigail": ("Abi", "Abby"),
    "Nicholas": ("Nick",),
    "Matthew": ("Matt",),
    "Joseph": ("Joe",),
    "Benjamin": ("Ben",),
    "Catherine": ("Cathy", "Cat"),
    "Jessica": ("Jess",),
    "Eleanor": ("Ellie", "Nell"),
    "Oliver": ("Ollie",),
    "Henry": ("Harry",),
    "Frederick": ("Fred", "Freddie"),
    "Penelope": ("Penny",),
    "Gregory": ("Greg",),
}
PLAIN_FIRST_NAMES = _words(
    "Olivia Amelia Isla Ava Mia Grace Sophie Chloe Emily Lucy Hannah Laura Sarah Emma Rachel "
    "Helen Claire Joanne Priya Aisha Fatima Zara Anika Mei Noah Oscar George Leo Arthur Jack "
    "Harvey Lewis Adam Paul Mark David Andrew Stephen Peter Gareth Rhys Callum Mohammed Arjun "
    "Ravi Imran Wei Tomasz Piotr Ewa Siobhan Niamh Fiona Ian Graham Neil Owen Ruth Alison "
    "Dawn"
)
FIRST_NAMES = tuple(NICKNAMES) + tuple(PLAIN_FIRST_NAMES)
SURNAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
    "Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb "
    "Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes "
    "Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey O'Brien "
    "Nowak Chen Ahmed Sutcliffe Ackroyd Smith-Jones Kowalski Okafor Nguyen Fairweather "
    "Lockwood Hirst Greenwood Haigh"
)

STREET_NAMES = _words(
    "Station Church Victoria Mill High Park Queens Kings Manor Chapel Albert Grange Orchard "
    "Meadow Springfield Windsor Beech Elm Oak Ash Willow Cedar Castle Bridge Water Moor "
    "Hollins Bishopthorpe Clifton Heworth Acomb Skipton Otley Wetherby Knaresborough Ripon "
    "Cavendish Regent Belgrave Lonsdale Rosedale Farndale Dale Hawthorn Rowan Holly Laburnum "
    "Valley"
)
STREET_KINDS = _words(
    "Road Street Lane Avenue Close Drive Way Crescent Gardens Terrace Grove Place Court"
)
# City -> (weight among customers, postcode districts, landline format).
CITIES: dict[str, tuple[float, tuple[str, ...], str]] = {
    "York": (0.30, ("YO1", "YO10", "YO23", "YO24", "YO26", "YO30", "YO31", "YO32"), "01904 {6}"),
    "Harrogate": (0.18, ("HG1", "HG2", "HG3"), "01423 {6}"),
    "Leeds": (0.22, ("LS4", "LS6", "LS7", "LS8", "LS16", "LS17"), "0113 {3} {4}"),
    "London": (0.08, ("SW11", "SE15", "N16", "E17", "NW5", "W4"), "020 {4} {4}"),
    "Manchester": (0.05, ("M14", "M20", "M21"), "0161 {3} {4}"),
    "Bristol": (0.04, ("BS3", "BS6", "BS7"), "0117 {3} {4}"),
    "Sheffield": (0.04, ("S7", "S10", "S11"), "0114 {3} {4}"),
    "Newcastle upon Tyne": (0.03, ("NE2", "NE6"), "0191 {3} {4}"),
    "Edinburgh": (0.03, ("EH6", "EH9", "EH10"), "0131 {3} {4}"),
    "Cardiff": (0.03, ("CF5", "CF14", "CF24"), "029 {4} {4}"),
}
_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# The letters real inward codes use (C, I, K, M, O and V never appear there).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

EMAIL_DOMAINS = (
    ("gmail.com", 0.33),
    ("googlemail.com", 0.02),
    ("hotmail.co.uk", 0.12),
    ("outlook.com", 0.10),
    ("yahoo.co.uk", 0.08),
    ("btinternet.com", 0.08),
    ("icloud.com", 0.08),
    ("sky.com", 0.05),
    ("hotmail.com", 0.05),
    ("live.co.uk", 0.04),
    ("talktalk.net", 0.03),
    ("virginmedia.com", 0.02),
)
# Domains whose mailboxes ignore +tags and (gmail) dots under cornerstore's default rules, so the
# variants generated here are the same mailbox to the normaliser.
PLUS_TAG_DOMAINS = frozenset(
    ("gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "icloud.com")
)
DOT_BLIND_DOMAINS = frozenset(("gmail.com", "googlemail.com"))

CATEGORIES = ("groceries", "household", "baby", "garden", "electronics", "gifts")
COMPANY_PLACES = (
    *("Harbour Lane", "Ouse Valley", "Chapel Allerton", "Minster", "Northfield", "Stonegate"),
    *("Bootham", "Nidd", "Kirkgate", "Aire", "Walmgate", "Fossgate", "Pennine", "Dales"),
    *("Swale", "Wharfe", "Micklegate", "Roundhay", "Pateley"),
)
COMPANY_TRADES = {
    "Bakery": "Food & drink",
    "Cafe": "Hospitality",
    "Deli": "Food & drink",
    "Guest House": "Hospitality",
    "Dental Practice": "Healthcare",
    "Vets": "Healthcare",
    "Builders": "Construction",
    "Joinery": "Construction",
    "Nursery": "Education",
    "Florists": "Retail",
    "Print Shop": "Retail",
    "Accountants": "Professional services",
    "Hair Studio": "Personal care",
}


@dataclass(slots=True)
class Account:
    """A business customer: the group of a B2B ``group`` call."""

    group_id: str
    name: str
    industry: str
    employees: int
    domain: str
    address: dict[str, str]


@dataclass(slots=True)
class Device:
    """A browser the person shops from: its analytics.js anonymousId and whether they logged in."""

    anonymous_id: str
    logged_in: bool = False


@dataclass(frozen=True, slots=True)
class GuestOrder:
    """An order a customer places once as a guest on a new browser, with another e-mail and no
    phone, the name as they typed it that day. Stitching cannot join it to them: it shares no
    identifier with anything they sent before. Only identity resolution can.

    Someone living with others may give the family's mailbox and a title instead of a first
    name ("Mrs Leeming", ``theleemings@...``): then only a reviewer can say which of them it is.
    """

    first: str | None
    last: str
    email: str
    at: int  # UTC milliseconds
    gives_address: bool


@dataclass(slots=True)
class Person:
    """One real person of the demo: the ground truth behind the messages of every department."""

    pid: str
    first: str
    last: str
    nickname: str | None
    email: str | None  # the mailbox the person gives everywhere
    email_variants: tuple[str, ...]  # other spellings of that same mailbox
    other_email: str | None  # a second mailbox (old, personal or work) some departments know
    mobile: str  # national format without spaces, 07700900123
    new_mobile: str | None
    mobile_changed_at: int | None  # UTC milliseconds
    address: dict[str, str]
    new_address: dict[str, str] | None
    moved_at: int | None
    home_phone: str | None  # a household's shared landline: never sent as the identifying phone
    household: int | None
    online_share: float  # chance an order is placed online while a branch is near
    user_id: str | None  # web-shop login; None for guests and store-only customers
    loyalty_card: str | None
    till_id: str  # the till's own customer number, sent as anonymousId
    survey_id: str
    orders_per_month: float
    spend_shape: float
    spend_scale: float
    category_weights: tuple[float, ...]
    first_order_at: int
    drift_from: int | None  # purchase rate decays from here (the customer drifts away)
    drift_days: float
    satisfaction: float  # 0..1, drives survey scores
    home_by_day: float  # chance someone answers the door on a weekday daytime
    home_by_evening: float  # ... in the evening and at weekends
    account: Account | None
    baby_from: int | None
    guest_order: GuestOrder | None = None
    # What the departments have seen so far, carried from one period to the next.
    devices: list[Device] = field(default_factory=list)
    signed_up: bool = False
    card_registered: bool = False
    till_knows_new_mobile: bool = False
    group_sent: bool = False
    support_ids: dict[str, str] = field(default_factory=dict)

    def mobile_at(self, ms: int) -> str:
        changed = self.mobile_changed_at
        if self.new_mobile is not None and changed is not None and ms >= changed:
            return self.new_mobile
        return self.mobile

    def address_at(self, ms: int) -> dict[str, str]:
        if self.new_address is not None and self.moved_at is not None and ms >= self.moved_at:
            return self.new_address
        return self.address

    def branch_at(self, ms: int) -> str | None:
        return BRANCHES.get(self.address_at(ms)["city"])

    def rate_factor(self, ms: int) -> float:
        """How much of the person's usual purchase rate is left at ``ms`` (1 until they drift)."""
        if self.drift_from is None or ms <= self.drift_from:
            return 1.0
        return math.exp(-(ms - self.drift_from) / (self.drift_days * DAY_MS))

    def active_until(self, end: int) -> int:
        """When purchases stop: the end of the window, or once the drift leaves under 3 %."""
        if self.drift_from is None:
            return end
        return min(end, self.drift_from + int(3.5 * self.drift_days * DAY_MS))


def ascii_name(text: str) -> str:
    """Lower-case letters only, as people write names in e-mail addresses.

    >>> ascii_name("O'Brien"), ascii_name("Smith-Jones")
    ('obrien', 'smithjones')
    """
    return "".join(ch for ch in text.lower() if "a" <= ch <= "z")


def mailbox(email: str) -> str:
    """The mailbox an address reaches under the default rules (what must be unique per person)."""
    local, _, domain = email.lower().partition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    if domain in DOT_BLIND_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_variants(email: str, rng: random.Random) -> tuple[str, ...]:
    """Other spellings of the same mailbox: capitals, +tags, gmail dots, googlemail.

    >>> email_variants("jo.hall@gmail.com", random.Random(1))[0]
    'Jo.Hall@Gmail.com'
    """
    local, _, domain = email.partition("@")
    out = [f"{local.title()}@{domain.capitalize()}"]
    if rng.random() < 0.3:
        out.append(email.upper())
    if domain in PLUS_TAG_DOMAINS:
        tag = rng.choice(("shop", "orders", "cornerstore", "offers"))
        out.append(f"{local}+{tag}@{domain}")
    if domain in DOT_BLIND_DOMAINS:
        out.append(
            f"{local.replace('.', '')}@{domain}" if "." in local else f"{local}@googlemail.com"
        )
    return tuple(v for v in out if v != email)


class CastBuilder:
    """Draws the people, their households and business accounts from one seeded generator."""

    def __init__(self, customers: int, seed: int, start: int, end: int) -> None:
        self.n = customers
        self.seed = seed
        self.rng = random.Random(seed)
        self.start, self.end = start, end
        self.mailboxes: set[str] = set()
        self.addresses: set[str] = set()
        self.landlines: set[str] = set()
        rng = self.rng
        # Unique pools drawn up front: sampling a range is cheap even for millions of people.
        need = customers + customers // 6 + 16
        blocks = max(1, math.ceil(need * 1.5 / 100_000))
        self.mobiles = [
            f"07{700 + k // 100_000}9{k % 100_000:05d}"
            for k in rng.sample(range(blocks * 100_000), need)
        ]
        self.all_mobiles = frozenset(self.mobiles)
        self.spare = customers  # mobiles past the first n are new numbers people switch to
        width = max(6, len(str(customers * 4)))
        self.user_ids = rng.sample(range(1, 10**width), customers)
        self.user_id_width = width
        self.cards = rng.sample(range(10**7, 10**8), customers)
        self.till_ids = rng.sample(range(10**6, 10**7 + customers * 2), customers)
        n_accounts = max(1, customers // 60)
        self.accounts = [self._account(i + 1) for i in range(n_accounts)]
        self.cities = tuple(CITIES)
        self.city_weights = tuple(v[0] for v in CITIES.values())
        self.domains = tuple(d for d, _ in EMAIL_DOMAINS)
        self.domain_weights = tuple(w for _, w in EMAIL_DOMAINS)

    def phone_free(self, typed: str) -> bool:
        """True when a mistyped mobile is nobody's number (a slip must not merge two people)."""
        digits = "".join(ch for ch in typed if ch.isdigit())
        if digits.startswith("0044"):
            digits = "0" + digits[4:]
        elif digits.startswith("44"):
            digits = "0" + digits[2:]
        return digits not in self.all_mobiles

    # -- pieces -----------------------------------------------------------------------------
    def _account(self, number: int) -> Account:
        rng = self.rng
        trade = rng.choice(tuple(COMPANY_TRADES))
        name = f"{rng.choice(COMPANY_PLACES)} {trade}"
        if rng.random() < 0.5:
            name += " Ltd"
        domain = ascii_name(name.removesuffix(" Ltd")) + f"{number}.co.uk"
        city = rng.choice(tuple(BRANCHES))
        return Account(
            group_id=f"acct-{number:04d}",
            name=name,
            industry=COMPANY_TRADES[trade],
            employees=max(2, int(rng.lognormvariate(2.0, 0.8))),
            domain=domain,
            address=self.address(city),
        )

    def postcode(self, city: str) -> str:
        rng = self.rng
        district = rng.choice(CITIES[city][1])
        letters = rng.choice(INWARD_LETTERS) + rng.choice(INWARD_LETTERS)
        return f"{district} {rng.randrange(10)}{letters}"

    def address(self, city: str) -> dict[str, str]:
        rng = self.rng
        while True:
            street = (
                f"{rng.randrange(1, 220)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_KINDS)}"
            )
            if rng.random() < 0.15:
                street = f"Flat {rng.randrange(1, 24)}, {street}"
            if street + city not in self.addresses:
                self.addresses.add(street + city)
                break
        return {"street": street, "city": city, "postalCode": self.postcode(city), "country": "GB"}

    def landline(self, city: str) -> str:
        pattern = CITIES[city][2]
        while True:
            number = pattern
            for width in (6, 4, 3):
                while "{" + str(width) + "}" in number:
                    digits = f"{self.rng.randrange(10**width):0{width}d}"
                    number = number.replace("{" + str(width) + "}", digits, 1)
            if number not in self.landlines:
                self.landlines.add(number)
                return number

    def email(
        self, first: str, last: str, domain: str | None = None, rng: random.Random | None = None
    ) -> str:
        rng = rng or self.rng
        f, la = ascii_name(first), ascii_name(last)
        domain = domain or rng.choices(self.domains, self.domain_weights)[0]
        pattern = rng.random()
        if pattern < 0.4:
            local = f"{f}.{la}"
        elif pattern < 0.6:
            local = f"{f}{la}"
        elif pattern < 0.75:
            local = f"{f[0]}.{la}"
        elif pattern < 0.85:
            local = f"{f}_{la}"
        else:
            local = f"{f}{la[0]}{rng.randrange(10, 99)}"
        return self._new_mailbox(local, domain, rng)

    def family_email(self, last: str, rng: random.Random) -> str:
        """A household's shared mailbox: ``thesmiths@...``."""
        domain = rng.choices(self.domains, self.domain_weights)[0]
        return self._new_mailbox(f"the{ascii_name(last)}s", domain, rng)

    def _new_mailbox(self, local: str, domain: str, rng: random.Random) -> str:
        """``local@domain``, a number added to ``local`` while that mailbox is taken."""
        candidate = f"{local}@{domain}"
        while mailbox(candidate) in self.mailboxes:
            candidate = f"{local}{rng.randrange(2, 999)}@{domain}"
        self.mailboxes.add(mailbox(candidate))
        return candidate

    def when(self, after: int, before: int) -> int:
        return after + int(self.rng.random() * max(1, before - after))

    # -- people -----------------------------------------------------------------------------
    def people(self) -> list[Person]:
        """Every person, households drawn together so they share surname, address and landline."""
        out: list[Person] = []
        household = 0
        while len(out) < self.n:
            size = 1
            if self.rng.random() < 0.12:
                size = min(self.n - len(out), self.rng.choice((2, 2, 2, 3)))
            if size == 1:
                out.append(self.person(len(out), None, None))
                continue
            household += 1
            first = self.person(len(out), household, None)
            out.append(first)
            taken = {first.first}
            for _ in range(size - 1):
                member = self.person(len(out), household, first, taken)
                taken.add(member.first)
                out.append(member)
        self.guest_orders(out)
        return out

    def guest_orders(self, people: list[Person]) -> None:
        """Give some customers one guest order (``GUEST_ORDER_SHARE`` of them).

        Drawn from a generator of their own after everyone else, so the people and their other
        messages are the same with or without them.
        """
        rng = random.Random(f"guest-orders-{self.seed}")
        for p in people:
            if rng.random() >= GUEST_ORDER_SHARE:
                continue
            reuse = p.other_email is not None and rng.random() < 0.5
            email = p.other_email if reuse else self.email(p.first, p.last, rng=rng)
            first: str | None = p.nickname if p.nickname and rng.random() < 0.5 else p.first
            if p.household is not None and rng.random() < 0.5:
                first, email = None, self.family_email(p.last, rng)
            last = typo(p.last, rng, keep=1) if rng.random() < 0.1 else p.last
            until = p.active_until(self.end)
            at = p.first_order_at + int(rng.random() * max(1, until - p.first_order_at))
            gives_address = rng.random() < 0.8
            p.guest_order = GuestOrder(first, last, str(email), at, gives_address)

    def person(
        self,
        index: int,
        household: int | None,
        head: Person | None,
        taken: set[str] | None = None,
    ) -> Person:
        rng, start, end = self.rng, self.start, self.end
        first = rng.choice(FIRST_NAMES)
        while taken and first in taken:
            first = rng.choice(FIRST_NAMES)
        last = head.last if head else rng.choice(SURNAMES)
        nicks = NICKNAMES.get(first)
        nickname = rng.choice(nicks) if nicks and rng.random() < 0.7 else None
        city = head.address["city"] if head else rng.choices(self.cities, self.city_weights)[0]
        address = dict(head.address) if head else self.address(city)
        home_phone = head.home_phone if head else None
        # A household shares one landline; some people living alone still keep one.
        if home_phone is None and (household is not None or rng.random() < 0.2):
            home_phone = self.landline(city)

        account = None
        if rng.random() < 0.035:
            account = rng.choice(self.accounts)
        # Customers far from a branch can only shop online, which needs an e-mail address.
        has_email = account is not None or city not in BRANCHES or rng.random() < 0.93
        email = None
        if account is not None:
            email = self.email(first, last, account.domain)
        elif has_email:
            email = self.email(first, last)
        other_email = None
        if email is not None and rng.random() < (0.6 if account else 0.12):
            other_email = self.email(first, last)

        if city not in BRANCHES:
            online_share = 1.0
        else:
            u = rng.random()
            online_share = 0.0 if u < 0.35 else 1.0 if u > 0.88 else rng.betavariate(2, 3)
        if email is None:
            online_share = 0.0
        if account is not None:
            online_share = max(online_share, 0.6)
        wants_account = online_share > 0 and (account is not None or rng.random() < 0.88)
        user_id = f"web-{self.user_ids[index]:0{self.user_id_width}d}" if wants_account else None
        card = None
        if online_share < 1 and rng.random() < 0.65:
            card = f"LC-{self.cards[index]}"

        existing = rng.random() < 0.45
        joined = start if existing else self.when(start, end - 30 * DAY_MS)
        rate = min(8.0, max(0.05, rng.gammavariate(1.3, 0.6)))
        if account is not None:
            rate *= 1.5
        # The weekly regulars buy groceries at the till; online orders are the occasional big shop.
        if rate > 1.5 and online_share < 1:
            online_share *= 1.5 / rate
        # A customer of years past shows up whenever their own cadence brings them in.
        first_order = joined
        if existing:
            first_order = start + int(rng.expovariate(rate) * MONTH_MS) % (end - start - DAY_MS)
        drift_from = None
        drift_days = 60.0
        if rng.random() < 0.10 and end - first_order > 200 * DAY_MS:
            drift_from = self.when(first_order + 60 * DAY_MS, end - 120 * DAY_MS)
            drift_days = rng.uniform(25, 80)

        mean_spend = rng.lognormvariate(math.log(26.0), 0.5)
        shape = rng.uniform(1.5, 5.0)
        weights = [rng.gammavariate(1.0, 1.0) * w for w in (4.5, 2.0, 0.0, 1.0, 0.5, 1.0)]
        baby_from = None
        if rng.random() < 0.06:
            baby_from = self.when(start, end)
            weights[2] = 2.5 * rng.gammavariate(2.0, 0.5)

        new_mobile = changed = None
        if rng.random() < 0.08 and self.spare < len(self.mobiles):
            new_mobile = self.mobiles[self.spare]
            self.spare += 1
            changed = self.when(first_order, end)
        new_address = moved = None
        if rng.random() < 0.07 and household is None:
            new_city = (
                city if rng.random() < 0.6 else rng.choices(self.cities, self.city_weights)[0]
            )
            new_address = self.address(new_city)
            moved = self.when(first_order, end)

        style = rng.random()
        day, evening = (0.25, 0.8) if style < 0.55 else (0.85, 0.9) if style < 0.8 else (0.55, 0.55)
        variants = email_variants(email, rng) if email else ()
        return Person(
            pid=f"p{index + 1:07d}",
            first=first,
            last=last,
            nickname=nickname,
            email=email,
            email_variants=variants,
            other_email=other_email,
            mobile=self.mobiles[index],
            new_mobile=new_mobile,
            mobile_changed_at=changed,
            address=address,
            new_address=new_address,
            moved_at=moved,
            home_phone=home_phone,
            household=household,
            online_share=online_share,
            user_id=user_id,
            loyalty_card=card,
            till_id=f"TC{self.till_ids[index]:08d}",
            survey_id="R_" + "".join(rng.choices(_ALPHANUMERIC, k=15)),
            orders_per_month=rate,
            spend_shape=shape,
            spend_scale=mean_spend / shape,
            category_weights=tuple(weights),
            first_order_at=first_order,
            drift_from=drift_from,
            drift_days=drift_days,
            satisfaction=rng.betavariate(5, 2),
            home_by_day=day,
            home_by_evening=evening,
            account=account,
            baby_from=baby_from,
            signed_up=existing and user_id is not None,
        )


def typo(text: str, rng: random.Random, keep: int = 0) -> str:
    """``text`` with two neighbouring characters swapped or one letter/digit replaced.

    ``keep`` characters at the start stay as they are (a phone's prefix, say).
    """
    chars = list(text)
    spots = [
        i for i in range(keep, len(chars) - 1) if chars[i].isalnum() and chars[i + 1].isalnum()
    ]
    if not spots:
        return text
    i = rng.choice(spots)
    if rng.random() < 0.5 and chars[i] != chars[i + 1]:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    else:
        pool = "0123456789" if chars[i].isdigit() else "aeiourstnl"
        chars[i] = rng.choice([c for c in pool if c != chars[i].lower()])
    return "".join(chars)


def phone_format(national: str, rng: random.Random) -> str:
    """One of the ways people and systems write a UK mobile number."""
    rest = national[1:]
    forms = (
        f"{national[:5]} {national[5:]}",
        national,
        f"+44 {rest[:4]} {rest[4:]}",
        f"+44{rest}",
        f"({national[:5]}) {national[5:]}",
        f"0044 {rest[:4]} {rest[4:]}",
        f"{national[:5]} {national[5:8]} {national[8:]}",
    )
    return forms[min(len(forms) - 1, int(rng.random() ** 1.6 * len(forms)))]
