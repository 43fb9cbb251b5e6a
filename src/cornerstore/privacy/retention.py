"""Retention: events older than the maximum age set for their type are removed.

``settings.privacy.retention`` maps an event type (identify, track, page, screen, group, alias)
to a maximum age such as ``"730d"``; types not listed are kept until the customer is erased.
Profiles, identifiers and traits stay: they are what the customer told the business to
remember, and erasure is the way to remove them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.credentials import parse_duration
from cornerstore.access.policy import Policy
from cornerstore.settings import Settings
from cornerstore.storage.database import Store


@dataclass(frozen=True, slots=True)
class RetentionLine:
    """Events of one type older than ``cutoff``: how many would go (or went)."""

    event_type: str
    max_age: str
    cutoff: datetime
    events: int


class Retention:
    """Show what retention would remove, and remove it.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.access.caller import system_caller
    >>> settings = Settings()
    >>> settings.privacy.retention = {"page": "30d"}
    >>> from cornerstore.services import Services
    >>> Services.build(settings, open_store("sqlite://", upgrade=True)).retention.plan()[0].events
    0
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit

    def _cutoffs(self, now: datetime) -> list[tuple[str, str, datetime]]:
        return [
            (event_type, age, now - parse_duration(age))
            for event_type, age in sorted(self.settings.privacy.retention.items())
        ]

    def plan(self, now: datetime | None = None) -> list[RetentionLine]:
        """What ``apply`` would remove now, per event type."""
        now = now or datetime.now(UTC)
        with self.store.unit_of_work() as uow:
            return [
                RetentionLine(t, age, cutoff, uow.retention.count_older(t, cutoff))
                for t, age, cutoff in self._cutoffs(now)
            ]

    def apply(self, caller: Caller, now: datetime | None = None) -> list[RetentionLine]:
        """Remove the events past their maximum age, in one transaction; audited (the owner
        only)."""
        self.policy.require_staff_admin(caller)
        now = now or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            lines = [
                RetentionLine(t, age, cutoff, uow.retention.delete_older(t, cutoff))
                for t, age, cutoff in self._cutoffs(now)
            ]
        removed = ", ".join(f"{line.event_type} {line.events}" for line in lines)
        self.audit.record(caller, "retention", None, f"events removed: {removed or 'none'}")
        return lines
