"""What every identity resolution job (learning, resolving, placing, review, explain) works
with: the store, the settings, the profiles service, the audit trail, the access policy, the
customer lookup and the merges service."""

from __future__ import annotations

from dataclasses import dataclass

from cornerstore.access.audit import AuditTrail
from cornerstore.access.policy import Policy
from cornerstore.identity.merge import Merges
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.profiles.service import Profiles
from cornerstore.settings import Settings
from cornerstore.storage.database import Store


@dataclass(eq=False)
class ResolutionJob:
    """The collaborators one job of :class:`.service.IdentityResolution` is built with."""

    store: Store
    settings: Settings
    profiles: Profiles
    audit: AuditTrail
    policy: Policy
    lookup: CustomerLookup
    merges: Merges
