"""The firewall's record: which kind of sensitive value was removed from which field, where
it came in and when — never the value — so staff can see what customers and systems send."""

from __future__ import annotations

from cornerstore.access.caller import Caller
from cornerstore.access.policy import Policy
from cornerstore.errors import InvalidInput
from cornerstore.privacy.detect import LABELS
from cornerstore.privacy.model import PrivacyEventRecord
from cornerstore.storage.database import Store


class PrivacyLog:
    """Read the privacy events (staff only).

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.access.caller import system_caller
    >>> PrivacyLog(open_store("sqlite://", upgrade=True), Policy()).recent(system_caller())
    []
    """

    def __init__(self, store: Store, policy: Policy) -> None:
        self.store = store
        self.policy = policy

    def recent(
        self, caller: Caller, limit: int = 100, kind: str | None = None
    ) -> list[PrivacyEventRecord]:
        """The newest removals first, optionally of one kind (the owner only)."""
        self.policy.require_staff_admin(caller)
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit: must be between 1 and 1000")
        if kind is not None and kind not in LABELS:
            # An unknown kind would list nothing, as if nothing of it had ever been removed.
            raise InvalidInput(f"kind: must be one of {', '.join(sorted(LABELS))}")
        with self.store.unit_of_work() as uow:
            return uow.privacy_events.recent(limit=limit, kind=kind)

    def counts(self, caller: Caller) -> dict[tuple[str, str], int]:
        """Removals so far by (kind, action)."""
        self.policy.require_staff_admin(caller)
        with self.store.unit_of_work() as uow:
            return uow.privacy_events.counts()
