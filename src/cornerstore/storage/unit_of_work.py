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

from typing import Any, NamedTuple

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


class WriteMark(NamedTuple):
    """Where a SQLite write transaction left the database: its connection, that connection's
    ``PRAGMA data_version`` (which changes when any other connection commits) and its
    ``total_changes`` (which changes when it changes a row itself)."""

    connection: Any
    data_version: int
    total_changes: int


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

    def write_mark(self) -> WriteMark | None:
        """Where this (writing) transaction leaves the database, for :meth:`unchanged_since`;
        None on PostgreSQL, whose other writers' commits cannot be told this cheaply.

        Taken after the transaction's last write: its own commit changes neither figure."""
        if self.backend != "sqlite":
            return None
        raw = self.conn.connection.driver_connection
        assert raw is not None
        return WriteMark(raw, _data_version(raw), raw.total_changes)

    def unchanged_since(self, mark: WriteMark | None) -> bool:
        """Whether nothing was written to the database since ``mark`` was taken, committed, by
        this or any other connection, process or thread (a writing transaction asks, holding
        SQLite's write lock, so nothing changes while it runs either).

        Same connection, same ``data_version`` (no other connection committed) and same
        ``total_changes`` (it changed no row itself since, not even in a transaction rolled
        back). Always False on PostgreSQL, or without a mark."""
        if mark is None or self.backend != "sqlite":
            return False
        raw = self.conn.connection.driver_connection
        if raw is not mark.connection or raw.total_changes != mark.total_changes:
            return False
        return _data_version(raw) == mark.data_version


def _data_version(raw: Any) -> int:
    """SQLite's ``PRAGMA data_version`` of a driver connection, asked through the driver: a
    statement through SQLAlchemy costs more than the lookups a mark spares."""
    cursor = raw.execute("PRAGMA data_version")
    try:
        return int(cursor.fetchone()[0])
    finally:
        cursor.close()
