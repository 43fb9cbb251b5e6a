"""Finding a customer the way staff name one, and naming customers the way a caller may see them.

Every service that works on one customer (profiles, consents, rights, learning, segments,
identity resolution, merges) finds it here, so the rule of what a role may look a customer up
by, and which id it is shown, lives once.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from cornerstore.access.caller import Caller
from cornerstore.access.policy import Policy
from cornerstore.errors import InvalidInput, NotFound
from cornerstore.identity.normalise import Normaliser
from cornerstore.privacy.answers import granted
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

PSEUDONYM_PREFIX = "psn_"
# A pseudonym not yet known sends the lookup back to the store for the ids at most this often.
REINDEX_SECONDS = 5.0


def pseudonym(key: bytes, customer_id: str) -> str:
    """A stable keyed pseudonym of a profile id (HMAC-SHA-256): the same id always gives the
    same pseudonym under one key, and nobody without the key can go back.

    >>> pseudonym(b"k", "cus_1") == pseudonym(b"k", "cus_1") != pseudonym(b"other", "cus_1")
    True
    """
    return PSEUDONYM_PREFIX + hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()[:24]


class CustomerLookup:
    """Find a customer's root profile from any reference (profile id, e-mail, phone, other
    identifier) within what the caller's role may read, and show ids as the role may see them.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> store = open_store("sqlite://", upgrade=True)
    >>> lookup = Services.build(Settings(), store).lookup
    >>> with store.unit_of_work() as uow:
    ...     lookup.find_root(uow, "nobody@example.com", system_caller())
    Traceback (most recent call last):
    ...
    cornerstore.errors.NotFound: customer: no such customer
    """

    def __init__(
        self, store: Store, settings: Settings, policy: Policy, normaliser: Normaliser
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        # The normaliser intake stores identifiers with, so a reference is found as stored.
        self.normaliser = normaliser
        self._key: bytes | None = None
        self._key_lock = threading.Lock()
        # Pseudonym -> profile row id, for the roles that see pseudonyms only.
        self._by_pseudonym: dict[str, str] = {}
        self._indexed_at = float("-inf")
        self._pseudonyms_lock = threading.Lock()

    def findable_kinds(self, visible: frozenset[str]) -> Callable[[str], bool]:
        """Whether a customer may be found by an identifier of a kind, given the sections the
        caller's role may read (e-mail and phone are contact details, the rest identifiers)."""
        return lambda kind: self.policy.identifier_section(kind) in visible

    def find_root(self, uow: UnitOfWork, ref: str, caller: Caller, field: str = "customer") -> str:
        """The current root profile for a profile id, or for an e-mail, phone or other
        identifier of a kind the caller's role may read (others are not found, as if they did
        not exist), inside ``uow``. A role that sees pseudonyms finds a customer by the
        pseudonym it was shown (``psn_...``); no other role does.

        InvalidInput for an empty reference or an identifier several customers share;
        NotFound when nobody has it; errors name the input as ``field``."""
        ref = ref.strip()
        if not ref or len(ref) > 512:
            raise InvalidInput(f"{field}: give a profile id, e-mail, phone or identifier")
        if ref.startswith(PSEUDONYM_PREFIX) and self.policy.pseudonymised(caller):
            row = uow.customers.get(self.unpseudonymise(uow, ref) or "")
            if row is None:
                raise NotFound(f"{field}: no such customer")
            return row.root_id
        profile_id = self.profile_id(ref)
        if profile_id is not None:
            row = uow.customers.get(profile_id)
            if row is not None:
                return row[2]
        findable = self.findable_kinds(self.policy.visible_sections(caller))
        for kind, value in self.normaliser.guess(ref):
            found = uow.identifiers.find_by_value(value, None if kind == "*" else [kind])
            roots = sorted({root for found_kind, root in found if findable(found_kind)})
            if len(roots) == 1:
                return roots[0]
            if len(roots) > 1:
                raise InvalidInput(
                    f"{field}: that identifier belongs to several profiles; give a profile id"
                )
        raise NotFound(f"{field}: no such customer")

    @staticmethod
    def profile_id(ref: str) -> str | None:
        """The profile row id ``ref`` names directly (``cus_...``, ``acc_...``), if it has the
        form of one; whether such a row exists is for the store to say, and a reference of
        that form that names none may still be an identifier (see :meth:`find_root`).

        >>> CustomerLookup.profile_id(" cus_1 "), CustomerLookup.profile_id("ann@example.com")
        ('cus_1', None)
        """
        ref = ref.strip()
        return ref if ref.startswith(("cus_", "acc_")) and len(ref) <= 512 else None

    def pseudonymise(self, caller: Caller) -> Callable[[str], str] | None:
        """How the caller's role sees profile ids when it sees pseudonyms; None when it sees
        them as they are. The key is the configured one, else this installation's own."""
        if not self.policy.pseudonymised(caller):
            return None
        key = self._pseudonym_key()
        return lambda customer_id: pseudonym(key, customer_id)

    def unpseudonymise(self, uow: UnitOfWork, ref: str) -> str | None:
        """The profile row whose pseudonym is ``ref``, inside ``uow``; None when none has it.
        The pseudonyms of every row are kept in memory; one not among them has the rows read
        again (at most every few seconds). Only for the services of a pseudonymised caller."""
        key = self._pseudonym_key()
        with self._pseudonyms_lock:
            found = self._by_pseudonym.get(ref)
            if found is None and time.monotonic() - self._indexed_at >= REINDEX_SECONDS:
                self._by_pseudonym = {pseudonym(key, cid): cid for cid in uow.customers.ids()}
                self._indexed_at = time.monotonic()
                found = self._by_pseudonym.get(ref)
            return found

    def _pseudonym_key(self) -> bytes:
        with self._key_lock:
            if self._key is None:
                configured = self.settings.access.pseudonym_key
                if configured:
                    self._key = configured.encode()
                else:
                    with self.store.unit_of_work(write=True) as uow:
                        self._key = uow.installation_secrets.get_or_make(
                            "pseudonym_key", datetime.now(UTC)
                        ).encode()
            return self._key

    def shown_id(self, caller: Caller) -> Callable[[str], str]:
        """How profile ids are shown to the caller: as they are, or as stable pseudonyms."""
        pseudonymise = self.pseudonymise(caller)
        return pseudonymise if pseudonymise else (lambda customer_id: customer_id)

    def names_of(self, uow: UnitOfWork, caller: Caller, roots: Sequence[str]) -> dict[str, str]:
        """The names of the root profiles ``roots`` that the caller's role may read, inside
        ``uow``, for lists of customers: none for a pseudonymised role or one without the
        ``name`` section, and, for a role that sees traits only with a consent, only the names
        of customers who gave it. Customers without a name are left out. The caller's own
        service audits the read."""
        if self.policy.pseudonymised(caller) or not self.policy.may(caller, "name"):
            return {}
        purpose = self.policy.consent_for(caller)
        defaults = self.settings.privacy.consent_defaults
        if purpose is not None:
            roots = [
                root
                for root in roots
                if granted(
                    uow.consents.of_customers(uow.customers.members(root)), purpose, defaults
                )
            ]
        return {hit.id: hit.name for hit in uow.search.hits(roots, {}) if hit.name}
