"""The services one running app or CLI invocation shares, built once from Settings: the one
place where services are given their collaborators.

API, CLI and console are thin shells over these objects, so they cannot disagree.

Identity resolution and learning stand on numpy, polars and scipy, which take most of a second
to import: they are built on first use, so a command that only looks a customer up starts fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.credentials import Credentials
from cornerstore.access.policy import Policy
from cornerstore.access.users import Staff
from cornerstore.campaigns.contacts import ContactLog
from cornerstore.cases.service import Cases
from cornerstore.identity.merge import Merges
from cornerstore.intake.service import Intake
from cornerstore.privacy.consent import Consents
from cornerstore.privacy.log import PrivacyLog
from cornerstore.privacy.retention import Retention
from cornerstore.privacy.rights import Rights
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.profiles.model import MergeRecord
from cornerstore.profiles.service import Profiles
from cornerstore.settings import Settings
from cornerstore.storage.database import Store, open_store

if TYPE_CHECKING:
    from cornerstore.actions.service import NextActions
    from cornerstore.campaigns.service import Campaigns
    from cornerstore.cases.remedies import Remedies
    from cornerstore.identity.resolution.service import IdentityResolution
    from cornerstore.learn.segment_service import Segments
    from cornerstore.learn.service import Learner
    from cornerstore.outcomes.service import ServiceOutcomes
    from cornerstore.suggest.service import Suggestions

T = TypeVar("T")


@dataclass
class Services:
    """Every service, each built once here with the collaborators it shares with the others
    (one policy, one audit trail, one customer lookup).

    Examples
    --------
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.storage import open_store
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> services.profiles.search(system_caller(), "nobody@example.com")
    []
    """

    settings: Settings
    store: Store
    intake: Intake
    lookup: CustomerLookup
    profiles: Profiles
    merges: Merges
    credentials: Credentials
    audit: AuditTrail
    consents: Consents
    rights: Rights
    retention: Retention
    privacy_log: PrivacyLog
    policy: Policy
    staff: Staff
    cases: Cases

    _built: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    # Re-entrant: one service built on first use may need another (campaigns, contacts).
    _building: threading.RLock = field(
        default_factory=threading.RLock, init=False, repr=False, compare=False
    )

    def _once(self, name: str, build: Callable[[], T]) -> T:
        # Under a lock: two API threads must not build two resolutions with their own state.
        with self._building:
            if name not in self._built:
                self._built[name] = build()
            return cast(T, self._built[name])

    @property
    def contacts(self) -> ContactLog:
        """The contact log and frequency caps (campaigns and the next best action share it)."""
        return self._once("contacts", lambda: ContactLog(self.store, self.settings))

    @property
    def campaigns(self) -> Campaigns:
        """Personal campaigns (Jinja2, numpy, scipy), built on first use."""
        from cornerstore.campaigns.service import Campaigns

        return self._once(
            "campaigns",
            lambda: Campaigns(
                self.store,
                self.settings,
                self.policy,
                self.audit,
                self.lookup,
                self.consents,
                self.contacts,
                self._suggestions_for_template,
            ),
        )

    def _suggestions_for_template(
        self, caller: Caller, customer_ids: Sequence[str], purpose: str
    ) -> dict[str, list[dict[str, Any]]]:
        """Campaign templates' suggestions for many customers at once: name and reason in
        words (one read, one audit entry naming ``purpose``)."""
        found = self.suggestions.for_customers(caller, customer_ids, 5, purpose=purpose)
        return {
            customer: [{"name": s.name or s.item_id, "reason": s.reason} for s in shown]
            for customer, shown in found.items()
        }

    def redeem_coupons(self, message_ids: list[str]) -> list[tuple[str, str, bool, str | None]]:
        """Redeem the coupons of the track events intake just stored (see
        :meth:`Campaigns.redeem`): (messageId, code, redeemed, reason) of each."""
        return [
            (r.message_id, r.code, r.redeemed, r.reason) for r in self.campaigns.redeem(message_ids)
        ]

    @property
    def identity(self) -> IdentityResolution:
        """Probabilistic identity resolution (numpy, rapidfuzz), built on first use."""
        from cornerstore.identity.resolution.service import IdentityResolution

        return self._once(
            "identity",
            lambda: IdentityResolution(
                self.store,
                self.settings,
                self.policy,
                self.audit,
                self.lookup,
                self.profiles,
                self.merges,
            ),
        )

    @property
    def learner(self) -> Learner:
        """Learning from the history (polars, scipy), built on first use."""
        from cornerstore.learn.service import Learner

        return self._once(
            "learner",
            lambda: Learner(
                self.store, self.settings, self.policy, self.audit, self.lookup, self.consents
            ),
        )

    @property
    def segments(self) -> Segments:
        """Segments and their members (polars), built on first use."""
        from cornerstore.learn.segment_service import Segments

        return self._once(
            "segments",
            lambda: Segments(self.store, self.settings, self.policy, self.audit, self.lookup),
        )

    @property
    def suggestions(self) -> Suggestions:
        """Product suggestions (numpy, implicit), built on first use."""
        from cornerstore.suggest.service import Suggestions

        return self._once(
            "suggestions",
            lambda: Suggestions(
                self.store, self.settings, self.policy, self.audit, self.lookup, self.consents
            ),
        )

    @property
    def actions(self) -> NextActions:
        """The next best action of each customer (one list for API, CLI, console, campaigns)."""
        from cornerstore.actions.service import NextActions

        # Its collaborators first: building them takes the same (not re-entrant) lock.
        contacts, suggestions, segments = self.contacts, self.suggestions, self.segments
        return self._once(
            "actions",
            lambda: NextActions(
                self.store,
                self.settings,
                self.policy,
                self.audit,
                self.lookup,
                contacts,
                suggestions,
                segments,
            ),
        )

    @property
    def remedies(self) -> Remedies:
        """Remedies on cases and the suggested remedy, built on first use."""
        from cornerstore.cases.remedies import Remedies

        return self._once(
            "remedies",
            lambda: Remedies(self.store, self.settings, self.policy, self.audit, self.cases),
        )

    @property
    def outcomes(self) -> ServiceOutcomes:
        """The contact centre's outcome metrics and follow-up surveys, built on first use."""
        from cornerstore.outcomes.service import ServiceOutcomes

        return self._once(
            "outcomes",
            lambda: ServiceOutcomes(self.store, self.settings, self.policy, self.audit),
        )

    def place_arrivals(self, customer_ids: list[str]) -> None:
        """Hand the customers intake just stored with matching traits to the placement worker
        (:meth:`IdentityResolution.place_later`); resolution is built on the first such batch."""
        self.identity.place_later(customer_ids)

    def merge_changed(self, merge: MergeRecord) -> None:
        """Tell identity placement of a merge made or undone (see
        :meth:`IdentityResolution.merge_changed`); before resolution is built there is no
        copy of the stored customers to keep true, so nothing is built for it."""
        identity = self._built.get("identity")
        if identity is not None:
            identity.merge_changed(merge)

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None) -> Services:
        store = store or open_store(
            settings.database_url,
            settings.sqlite_busy_timeout_ms,
            synchronous=settings.sqlite_synchronous,
        )
        policy = Policy.from_settings(settings.access)
        audit = AuditTrail(
            store,
            policy,
            Path(settings.access.audit_journal) if settings.access.audit_journal else None,
            settings.access.audit_flush_seconds,
        )
        intake = Intake(store, settings)
        lookup = CustomerLookup(store, settings, policy, intake.normaliser)

        def merge_changed(merge: MergeRecord) -> None:
            services.merge_changed(merge)  # the services being built below

        services = cls(
            settings=settings,
            store=store,
            intake=intake,
            lookup=lookup,
            profiles=Profiles(store, settings, policy, audit, lookup),
            merges=Merges(store, settings, policy, audit, lookup, merge_changed),
            credentials=Credentials(store, policy),
            audit=audit,
            consents=Consents(store, settings, policy, audit, lookup),
            rights=Rights(store, settings, policy, audit, lookup),
            retention=Retention(store, settings, policy, audit),
            privacy_log=PrivacyLog(store, policy),
            policy=policy,
            staff=Staff(store, settings, policy, audit),
            cases=Cases(store, settings, policy, audit, lookup, intake),
        )
        # Customers who arrive with a name, e-mail, phone or address are placed after the commit.
        intake.on_matching_traits = services.place_arrivals
        # Case events that arrive through intake (Case Opened, ...) become cases.
        intake.on_case_events = services.cases.file_spec_events
        # Order events with a coupon redeem it (or record why not) after their commit.
        intake.on_coupons = services.redeem_coupons
        return services
