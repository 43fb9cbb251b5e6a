"""One transaction and the repositories that work inside it.

The repositories live in :mod:`cornerstore.storage.repositories` (profile data) and
:mod:`cornerstore.storage.access_repositories` (write keys, API tokens, the audit log, staff).
"""

from __future__ import annotations

from sqlalchemy import Connection

from cornerstore.storage.access_repositories import AuditRepository, KeyRepository, StaffRepository
from cornerstore.storage.repositories import (
    AccountRepository,
    CustomerRepository,
    EventRepository,
    IdentifierRepository,
    MergeRepository,
    SearchRepository,
    TraitRepository,
)


class UnitOfWork:
    """One transaction's repositories. Obtain it from :meth:`Store.unit_of_work`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.backend = conn.dialect.name
        self.customers = CustomerRepository(conn)
        self.identifiers = IdentifierRepository(conn)
        self.traits = TraitRepository(conn)
        self.events = EventRepository(conn)
        self.accounts = AccountRepository(conn)
        self.merges = MergeRepository(conn)
        self.keys = KeyRepository(conn)
        self.audit = AuditRepository(conn)
        self.staff = StaffRepository(conn)
        self.search = SearchRepository(conn)
