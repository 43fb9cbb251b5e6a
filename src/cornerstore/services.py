"""The services one running app or CLI invocation shares, built once from Settings.

API, CLI and console are thin shells over these objects, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from cornerstore.access.audit import AuditTrail
from cornerstore.access.credentials import Credentials
from cornerstore.access.policy import Policy
from cornerstore.access.users import Staff
from cornerstore.identity.resolution.service import IdentityResolution
from cornerstore.intake.service import Intake
from cornerstore.learn.segment_service import Segments
from cornerstore.learn.service import Learner
from cornerstore.privacy.consent import Consents
from cornerstore.privacy.log import PrivacyLog
from cornerstore.privacy.retention import Retention
from cornerstore.privacy.rights import Rights
from cornerstore.profiles.service import Profiles
from cornerstore.settings import Settings
from cornerstore.storage.database import Store, open_store


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
    learner: Learner
    segments: Segments
    policy: Policy
    staff: Staff
    identity: IdentityResolution

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None) -> Services:
        store = store or open_store(settings.database_url, settings.sqlite_busy_timeout_ms)
        policy = Policy.from_settings(settings.access)
        audit = AuditTrail(store, policy)
        profiles = Profiles(store, settings, audit, policy)
        identity = IdentityResolution(store, settings, profiles, audit, policy)
        intake = Intake(store, settings)
        # Customers who arrive with a name, e-mail, phone or address are placed at once.
        intake.on_matching_traits = identity.arrived
        return cls(
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
            learner=Learner(store, settings, audit, policy),
            segments=Segments(store, settings, audit, policy),
            policy=policy,
            staff=Staff(store, settings, policy, audit),
            identity=identity,
        )
