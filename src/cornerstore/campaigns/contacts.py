"""The contact log and frequency caps: how often the shop reached out to each customer, and who
must not be contacted again yet.

Every campaign send (and any other outreach a caller records) is logged with the customer, the
channel, the purpose and the campaign or source. ``FrequencyCaps`` come from
``settings.campaigns.frequency_caps``: at most N marketing contacts of one customer per channel
(or over every channel, ``"*"``) within a window of days. Service messages (purpose
``service``) are logged but never count against a cap, as in Mautic's frequency rules.

Counting follows merges: a contact made with a profile that was later merged into another
counts for the survivor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cornerstore.campaigns.model import Contact
from cornerstore.errors import InvalidInput
from cornerstore.plural import counted
from cornerstore.settings import CONTACT_CHANNELS, SERVICE_PURPOSE, FrequencyCap, Settings
from cornerstore.storage.database import Store


@dataclass(frozen=True, slots=True)
class CapHit:
    """Why a customer is capped: the cap they reached and how many contacts count for it."""

    customer_id: str
    cap: FrequencyCap
    contacts: int

    @property
    def reason(self) -> str:
        where = "in all" if self.cap.channel == "*" else f"by {self.cap.channel}"
        return (
            f"contacted {counted(self.contacts, 'time')} {where} in the last "
            f"{counted(self.cap.days, 'day')} "
            f"(at most {self.cap.max_contacts})"
        )


def check_channel(channel: str) -> str:
    """The channel's name, or InvalidInput naming the known ones."""
    name = channel.strip().lower()
    if name not in CONTACT_CHANNELS:
        raise InvalidInput(f"channel: must be one of {', '.join(CONTACT_CHANNELS)}")
    return name


class FrequencyCaps:
    """The caps of ``settings.campaigns.frequency_caps``, applied to logged contacts.

    Examples
    --------
    >>> caps = FrequencyCaps([FrequencyCap(channel="email", max_contacts=2, days=7)])
    >>> now = datetime(2026, 5, 10, tzinfo=UTC)
    >>> sent = [Contact("c1", "email", "marketing_email", now - timedelta(days=d), "campaign:1")
    ...         for d in (1, 3)]
    >>> caps.capped(["c1", "c2"], sent, "email", now)["c1"].reason
    'contacted 2 times by email in the last 7 days (at most 2)'
    >>> caps.capped(["c1", "c2"], sent, "sms", now)
    {}
    """

    def __init__(self, caps: Sequence[FrequencyCap]) -> None:
        self.caps = list(caps)

    @classmethod
    def from_settings(cls, settings: Settings) -> FrequencyCaps:
        return cls(settings.campaigns.frequency_caps)

    @property
    def longest_days(self) -> int:
        """The longest window of any cap: older contacts never matter."""
        return max((cap.days for cap in self.caps), default=0)

    def applying_to(self, channel: str) -> list[FrequencyCap]:
        return [cap for cap in self.caps if cap.channel in ("*", channel)]

    def capped(
        self,
        customer_ids: Iterable[str],
        contacts: Iterable[Contact],
        channel: str,
        now: datetime,
    ) -> dict[str, CapHit]:
        """Who among ``customer_ids`` may not be contacted on ``channel`` at ``now`` given their
        logged ``contacts``, each with the first cap they reached (the shortest window first;
        a cap of 0 closes the channel to marketing for everyone)."""
        counted = [c for c in contacts if c.purpose != SERVICE_PURPOSE and c.at <= now]
        hits: dict[str, CapHit] = {}
        wanted = list(customer_ids)
        for cap in sorted(self.applying_to(channel), key=lambda cap: cap.days):
            since = now - timedelta(days=cap.days)
            counts = dict.fromkeys(wanted, 0)
            for c in counted:
                if c.at > since and cap.channel in ("*", c.channel) and c.customer_id in counts:
                    counts[c.customer_id] += 1
            for customer, n in counts.items():
                if n >= cap.max_contacts and customer not in hits:
                    hits[customer] = CapHit(customer, cap, n)
        return hits


class ContactLog:
    """Record contacts and ask who is capped, for campaigns and the next best action alike.

    Customer ids are root profile ids (as audiences and the lookup return them).

    Examples
    --------
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.intake.service import Source
    >>> from cornerstore.services import Services
    >>> from cornerstore.storage import open_store
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> _ = services.intake.ingest([{"type": "identify", "userId": "u1"}],
    ...                            source=Source("shop", "web"))
    >>> with services.store.unit_of_work() as uow:
    ...     root = services.lookup.find_root(uow, "u1", system_caller())
    >>> now = datetime.now(UTC)
    >>> for _ in range(2):
    ...     services.contacts.record([Contact(root, "email", "marketing_email", now, "staff:sam")])
    >>> services.contacts.capped([root], "email", now)[root].reason
    'contacted 2 times by email in the last 7 days (at most 2)'
    >>> services.contacts.count([root], now - timedelta(days=30), now)
    {...: 2}
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.caps = FrequencyCaps.from_settings(settings)

    def record(self, contacts: Sequence[Contact]) -> None:
        """Log contacts; each channel must be a known one."""
        for contact in contacts:
            check_channel(contact.channel)
            if contact.at.tzinfo is None:
                raise InvalidInput("at: give a timezone")
        with self.store.unit_of_work(write=True) as uow:
            uow.contacts.add_many(contacts)

    def contacts_of(self, customer_ids: Sequence[str], since: datetime) -> list[Contact]:
        """The contacts of these root profiles since ``since``, oldest first."""
        with self.store.unit_of_work() as uow:
            return uow.contacts.of_roots(customer_ids, since)

    def capped(
        self, customer_ids: Sequence[str], channel: str, now: datetime | None = None
    ) -> dict[str, CapHit]:
        """Which of these root profiles may not be contacted on ``channel`` now, and why."""
        channel = check_channel(channel)
        now = now or datetime.now(UTC)
        if not self.caps.applying_to(channel) or not customer_ids:
            return {}
        since = now - timedelta(days=self.caps.longest_days)
        contacts = self.contacts_of(customer_ids, since)
        return self.caps.capped(customer_ids, contacts, channel, now)

    def count(
        self,
        customer_ids: Sequence[str],
        since: datetime,
        until: datetime | None = None,
        channel: str | None = None,
    ) -> Mapping[str, int]:
        """How many contacts (service messages included) each of these root profiles had in
        ``[since, until]``, on ``channel`` or any; customers without any are left out."""
        channel = check_channel(channel) if channel is not None else None
        until = until or datetime.now(UTC)
        counts: dict[str, int] = {}
        for c in self.contacts_of(customer_ids, since):
            if c.at <= until and channel in (None, c.channel):
                counts[c.customer_id] = counts.get(c.customer_id, 0) + 1
        return counts
