"""One transaction and the repositories that work inside it.

The repositories live in :mod:`cornerstore.storage.repositories` (profile data) and
:mod:`cornerstore.storage.access_repositories` (write keys, API tokens, the audit log, staff),
:mod:`cornerstore.storage.privacy_repositories` (firewall events, consents, erasure, retention)
:mod:`cornerstore.storage.learn_repositories` (learning, segments) and
:mod:`cornerstore.storage.suggest_repositories` (suggestion models, one customer's purchases),
:mod:`cornerstore.storage.case_repositories` (the contact centre's cases and remedies),
:mod:`cornerstore.storage.outcome_repositories` (what outcome metrics read, surveys) and
:mod:`cornerstore.storage.campaign_repositories` (the contact log, campaigns, recipients, coupons).
"""

from __future__ import annotations

from sqlalchemy import Connection

from cornerstore.storage import tables as t
from cornerstore.storage.access_repositories import (
    AuditRepository,
    KeyRepository,
    StaffRepository,
)
from cornerstore.storage.campaign_repositories import (
    CampaignFactsRepository,
    CampaignRepository,
    ContactRepository,
    CouponRepository,
)
from cornerstore.storage.case_repositories import CaseRepository
from cornerstore.storage.identity_repositories import IdentityRepository
from cornerstore.storage.learn_repositories import LearningRepository, SegmentRepository
from cornerstore.storage.outcome_repositories import OutcomeRepository
from cornerstore.storage.privacy_repositories import (
    ConsentRepository,
    ErasureRepository,
    PrivacyEventRepository,
    RetentionRepository,
    SuppressionRepository,
)
from cornerstore.storage.repositories import (
    AccountRepository,
    CustomerRepository,
    EventRepository,
    IdentifierRepository,
    InstallationSecretRepository,
    MergeRepository,
    SearchRepository,
    TraitRepository,
)
from cornerstore.storage.suggest_repositories import SuggestionRepository


class UnitOfWork:
    """One transaction's repositories. Obtain it from :meth:`Store.unit_of_work`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.backend = conn.dialect.name
        self.customers = CustomerRepository(conn)
        self.identifiers = IdentifierRepository(conn)
        self.traits = TraitRepository(conn)
        self.unverified_traits = TraitRepository(conn, t.unverified_traits)
        self.events = EventRepository(conn)
        self.accounts = AccountRepository(conn)
        self.merges = MergeRepository(conn)
        self.keys = KeyRepository(conn)
        self.audit = AuditRepository(conn)
        self.staff = StaffRepository(conn)
        self.search = SearchRepository(conn)
        self.privacy_events = PrivacyEventRepository(conn)
        self.consents = ConsentRepository(conn)
        self.suppressions = SuppressionRepository(conn)
        self.installation_secrets = InstallationSecretRepository(conn)
        self.erasure = ErasureRepository(conn)
        self.retention = RetentionRepository(conn)
        self.learning = LearningRepository(conn)
        self.segments = SegmentRepository(conn)
        self.identity = IdentityRepository(conn)
        self.suggestions = SuggestionRepository(conn)
        self.cases = CaseRepository(conn)
        self.outcomes = OutcomeRepository(conn)
        self.contacts = ContactRepository(conn)
        self.campaigns = CampaignRepository(conn)
        self.coupons = CouponRepository(conn)
        self.campaign_facts = CampaignFactsRepository(conn)
