"""The services one running app or CLI invocation shares, built once from Settings.

API, CLI and console are thin shells over these objects, so they cannot disagree.

Identity resolution and learning stand on numpy, polars and scipy, which take most of a second
to import: they are built on first use, so a command that only looks a customer up starts fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cornerstore.access.audit import AuditTrail
from cornerstore.access.credentials import Credentials
from cornerstore.access.policy import Policy
from cornerstore.access.users import Staff
from cornerstore.intake.service import Intake
from cornerstore.privacy.consent import Consents
from cornerstore.privacy.log import PrivacyLog
from cornerstore.privacy.retention import Retention
from cornerstore.privacy.rights import Rights
from cornerstore.profiles.service import Profiles
from cornerstore.settings import Settings
from cornerstore.storage.database import Store, open_store

if TYPE_CHECKING:
    from cornerstore.identity.resolution.service import IdentityResolution
    from cornerstore.learn.segment_service import Segments
    from cornerstore.learn.service import Learner
    from cornerstore.suggest.service import Suggestions

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    store: Store
    intake: Intake
    profiles: Profiles
    credentials: Credentials
    audit: AuditTrail
    consents: Consents
    rights: Rights
    retention: Retention
    privacy_log: PrivacyLog
    policy: Policy
    staff: Staff

    _built: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _building: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def _once(self, name: str, build: Callable[[], T]) -> T:
        # Under a lock: two API threads must not build two resolutions with their own state.
        with self._building:
            if name not in self._built:
                self._built[name] = build()
            return cast(T, self._built[name])

    @property
    def identity(self) -> IdentityResolution:
        """Probabilistic identity resolution (numpy, rapidfuzz), built on first use."""
        from cornerstore.identity.resolution.service import IdentityResolution

        return self._once(
            "identity",
            lambda: IdentityResolution(
                self.store, self.settings, self.profiles, self.audit, self.policy
            ),
        )

    @property
    def learner(self) -> Learner:
        """Learning from the history (polars, scipy), built on first use."""
        from cornerstore.learn.service import Learner

        return self._once(
            "learner", lambda: Learner(self.store, self.settings, self.audit, self.policy)
        )

    @property
    def segments(self) -> Segments:
        """Segments and their members (polars), built on first use."""
        from cornerstore.learn.segment_service import Segments

        return self._once(
            "segments", lambda: Segments(self.store, self.settings, self.audit, self.policy)
        )

    @property
    def suggestions(self) -> Suggestions:
        """Product suggestions (numpy, implicit), built on first use."""
        from cornerstore.suggest.service import Suggestions

        return self._once(
            "suggestions",
            lambda: Suggestions(self.store, self.settings, self.audit, self.policy),
        )

    def place_arrivals(self, customer_ids: list[str]) -> object:
        """Place the customers intake just stored with matching traits, as
        :meth:`IdentityResolution.arrived` does; resolution is built on the first such batch."""
        return self.identity.arrived(customer_ids)

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None) -> Services:
        store = store or open_store(settings.database_url, settings.sqlite_busy_timeout_ms)
        policy = Policy.from_settings(settings.access)
        audit = AuditTrail(store, policy)
        profiles = Profiles(store, settings, audit, policy)
        intake = Intake(store, settings)
        services = cls(
            settings=settings,
            store=store,
            intake=intake,
            profiles=profiles,
            credentials=Credentials(store, policy=policy),
            audit=audit,
            consents=Consents(store, settings, audit, policy),
            rights=Rights(store, settings, audit, policy),
            retention=Retention(store, settings, audit, policy),
            privacy_log=PrivacyLog(store, policy),
            policy=policy,
            staff=Staff(store, settings, policy, audit),
        )
        # Customers who arrive with a name, e-mail, phone or address are placed at once.
        intake.on_matching_traits = services.place_arrivals
        return services
