"""Reading customers: find, show the 360 profile, page the timeline, prefill forms.

Every function takes the :class:`~cornerstore.access.caller.Caller`; access rules are checked and
every read is written to the audit trail here, so the API, CLI and console cannot disagree.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller, require_staff
from cornerstore.errors import InvalidInput, NotFound
from cornerstore.identity.normalise import Normaliser
from cornerstore.privacy.answers import granted
from cornerstore.profiles.model import (
    Prefill,
    PrefillField,
    Profile,
    SearchHit,
    Summary,
    TimelinePage,
    Trait,
    TraitObservation,
)
from cornerstore.settings import TOUCHPOINTS, Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

_EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")
# Form fields that come from what learning found (``learned.delivery_window``), not from traits.
LEARNED = "learned."


def current_traits(observations: Sequence[TraitObservation]) -> dict[str, Trait]:
    """The latest observation of each trait (by observed_at), with the number of observations.

    >>> from datetime import datetime, UTC
    >>> jan = datetime(2024, 1, 1, tzinfo=UTC)
    >>> old = TraitObservation("city", "Leeds", "web", "shop", jan, None)
    >>> new = TraitObservation("city", "York", "store", "till", jan.replace(year=2025), None)
    >>> current_traits([new, old])["city"].value
    'York'
    """
    latest: dict[str, TraitObservation] = {}
    counts: dict[str, int] = {}
    for obs in observations:
        counts[obs.name] = counts.get(obs.name, 0) + 1
        known = latest.get(obs.name)
        if known is None or obs.observed_at >= known.observed_at:
            latest[obs.name] = obs
    return {
        name: Trait(name, o.value, o.touchpoint, o.source, o.observed_at, counts[name])
        for name, o in sorted(latest.items())
    }


def encode_cursor(at: datetime, event_id: int) -> str:
    raw = f"{at.astimezone(UTC).isoformat()}|{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, id_text = base64.urlsafe_b64decode(padded).decode().split("|")
        return datetime.fromisoformat(at_text), int(id_text)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor: not a cursor returned by this timeline") from None


class Profiles:
    """Customer reads for staff, with audit.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.access.caller import system_caller
    >>> profiles = Profiles(open_store("sqlite://", upgrade=True), Settings())
    >>> profiles.search(system_caller(), "nobody@example.com")
    []
    """

    def __init__(self, store: Store, settings: Settings, audit: AuditTrail | None = None) -> None:
        self.store = store
        self.settings = settings
        self.audit = audit or AuditTrail(store)
        self.normaliser = Normaliser(
            settings.identity,
            settings.default_phone_region,
            settings.shop_emails,
            settings.shop_phones,
        )

    # -- finding ------------------------------------------------------------------------------
    def _root(self, uow: UnitOfWork, ref: str) -> str:
        """The current root profile for an id, e-mail, phone or any identifier."""
        ref = ref.strip()
        if not ref or len(ref) > 512:
            raise InvalidInput("customer: give a profile id, e-mail, phone or identifier")
        if ref.startswith(("cus_", "acc_")):
            row = uow.customers.get(ref)
            if row is not None:
                return row[2]
        for kind, value in self.normaliser.guess(ref):
            found = uow.identifiers.find_by_value(value, None if kind == "*" else [kind])
            roots = sorted({root for _, root in found})
            if len(roots) == 1:
                return roots[0]
            if len(roots) > 1:
                raise InvalidInput(
                    "customer: that identifier belongs to several profiles; give a profile id"
                )
        raise NotFound("customer: no such customer")

    def find_root(self, uow: UnitOfWork, ref: str) -> str:
        """The current root profile for an id, e-mail, phone or any identifier, inside ``uow``
        (for other services that work on a customer named the way staff name them)."""
        return self._root(uow, ref)

    def search(self, caller: Caller, q: str, limit: int = 20) -> list[SearchHit]:
        """Customers whose identifiers equal ``q`` (normalised) or whose name contains it."""
        require_staff(caller)
        q = q.strip()
        if not q:
            raise InvalidInput("q: give a name, e-mail, phone or identifier to search for")
        if len(q) > 200:
            raise InvalidInput("q: longer than 200 characters")
        limit = max(1, min(limit, 100))
        with self.store.unit_of_work() as uow:
            matched: dict[str, str] = {}
            if q.startswith(("cus_", "acc_")):
                row = uow.customers.get(q)
                if row is not None:
                    matched[row[2]] = "id"
            for kind, value in self.normaliser.guess(q):
                for found_kind, root in uow.identifiers.find_by_value(
                    value, None if kind == "*" else [kind]
                ):
                    matched.setdefault(root, found_kind)
            if len(matched) < limit and len(q) >= 2:
                names = uow.traits.search_names(q, limit * 3)
                for root in uow.customers.roots_of(names).values():
                    matched.setdefault(root, "name")
            roots = list(matched)[:limit]
            hits = uow.search.hits(roots, matched)
        self.audit.record(caller, "search", None, f"{len(hits)} results")
        return hits

    # -- the 360 view ---------------------------------------------------------------------------
    def get(self, caller: Caller, ref: str) -> Profile:
        """Everything known about a customer: identifiers, traits with provenance, summary."""
        require_staff(caller)
        with self.store.unit_of_work() as uow:
            root = self._root(uow, ref)
            profile = self._profile(uow, root)
        self.audit.record(caller, "read_profile", root)
        return profile

    def _profile(self, uow: UnitOfWork, root: str) -> Profile:
        row = uow.customers.get(root)
        assert row is not None
        _, kind, _, created_at = row
        members = uow.customers.members(root)
        rows = uow.events.summary(members)
        by_tp: dict[str, int] = {}
        by_type: dict[str, int] = {}
        first: datetime | None = None
        last: datetime | None = None
        for tp, typ, n, lo, hi in rows:
            by_tp[tp] = by_tp.get(tp, 0) + n
            by_type[typ] = by_type.get(typ, 0) + n
            first = lo if first is None or lo < first else first
            last = hi if last is None or hi > last else last
        return Profile(
            id=root,
            kind=kind,
            created_at=created_at,
            merged_profiles=[m for m in members if m != root],
            identifiers=uow.identifiers.of_customers(members),
            traits=current_traits(uow.traits.of_customers(members)),
            summary=Summary(sum(by_tp.values()), by_tp, by_type, first, last),
            accounts=uow.accounts.accounts_of(members) if kind == "person" else [],
            members=uow.accounts.members_of(members) if kind == "account" else [],
            merges=uow.merges.involving(members),
        )

    def trait_history(self, caller: Caller, ref: str, name: str) -> list[TraitObservation]:
        """Every observation of one trait, oldest first, each with where it came from."""
        require_staff(caller)
        with self.store.unit_of_work() as uow:
            root = self._root(uow, ref)
            members = uow.customers.members(root)
            history = [o for o in uow.traits.of_customers(members) if o.name == name]
        self.audit.record(caller, "read_traits", root, name)
        return history

    def timeline(
        self,
        caller: Caller,
        ref: str,
        *,
        touchpoints: Sequence[str] = (),
        types: Sequence[str] = (),
        cursor: str | None = None,
        limit: int | None = None,
    ) -> TimelinePage:
        """The customer's events, newest first, filtered by touchpoint and type, keyset-paged."""
        require_staff(caller)
        for tp in touchpoints:
            if tp not in TOUCHPOINTS:
                raise InvalidInput(f"touchpoint: must be one of {', '.join(TOUCHPOINTS)}")
        for typ in types:
            if typ not in _EVENT_TYPES:
                raise InvalidInput(f"type: must be one of {', '.join(_EVENT_TYPES)}")
        size = limit or self.settings.timeline_page_size
        if not 1 <= size <= 500:
            raise InvalidInput("limit: must be between 1 and 500")
        before = decode_cursor(cursor) if cursor else None
        with self.store.unit_of_work() as uow:
            root = self._root(uow, ref)
            kind = uow.customers.get(root)
            members = uow.customers.members(root)
            events = uow.events.page(
                members,
                account_id=root if kind and kind[1] == "account" else None,
                touchpoints=touchpoints,
                types=types,
                before=before,
                limit=size + 1,
            )
        self.audit.record(caller, "read_timeline", root)
        more = len(events) > size
        events = events[:size]
        next_cursor = encode_cursor(events[-1].occurred_at, events[-1].id) if more else None
        return TimelinePage(root, events, next_cursor)

    # -- never asking twice ----------------------------------------------------------------------
    def prefill(self, caller: Caller, ref: str, form: str, now: datetime | None = None) -> Prefill:
        """Fill a named form from what the customer already told us, with source and age."""
        require_staff(caller)
        fields = self.settings.forms.get(form)
        if fields is None:
            known = ", ".join(sorted(self.settings.forms))
            raise NotFound(f"form: no such form; forms are: {known}")
        now = now or datetime.now(UTC)
        with self.store.unit_of_work() as uow:
            root = self._root(uow, ref)
            members = uow.customers.members(root)
            traits = current_traits(uow.traits.of_customers(members))
            identifiers = uow.identifiers.of_customers(members)
            learned = self._learned(uow, members, fields)
        self.audit.record(caller, "prefill", root, form)
        filled = [
            _fill_learned(name, learned, now) if name.startswith(LEARNED) else
            _fill(name, traits, identifiers, now)
            for name in fields
        ]  # fmt: skip
        return Prefill(root, form, filled, [f.field for f in filled if not f.known])

    def _learned(
        self, uow: UnitOfWork, members: list[str], fields: Sequence[str]
    ) -> dict[str, tuple[Any, datetime]]:
        """Learned scores a form asks for, unless the customer withdrew profiling."""
        if not any(f.startswith(LEARNED) for f in fields):
            return {}
        history = uow.consents.of_customers(members)
        if not granted(history, "profiling", self.settings.privacy.consent_defaults):
            return {}
        latest: dict[str, tuple[Any, datetime]] = {}
        for _, name, value, computed_at, _model in uow.learning.scores_of(members):
            if name not in latest or computed_at > latest[name][1]:
                latest[name] = (value, computed_at)
        return latest


def _fill_learned(
    name: str, learned: dict[str, tuple[Any, datetime]], now: datetime
) -> PrefillField:
    found = learned.get(name.removeprefix(LEARNED))
    if found is None:
        return PrefillField(name, None, False)
    value, computed_at = found
    age = round((now - computed_at).total_seconds() / 86400, 1)
    return PrefillField(name, value, True, "other", "cornerstore-learn", computed_at, age)


def _fill(
    name: str, traits: dict[str, Trait], identifiers: Sequence[Any], now: datetime
) -> PrefillField:
    head, _, rest = name.partition(".")
    trait = traits.get(head)
    value: Any = None
    if trait is not None:
        value = trait.value
        for part in rest.split(".") if rest else []:
            value = value.get(part) if isinstance(value, dict) else None
    if value not in (None, "") and trait is not None:
        age = (now - trait.observed_at).total_seconds() / 86400
        return PrefillField(
            name, value, True, trait.touchpoint, trait.source, trait.observed_at, round(age, 1)
        )
    # An e-mail or phone known only as an identifier still prefills.
    if name in ("email", "phone"):
        for ident in reversed(list(identifiers)):
            if ident.kind == name:
                age = (now - ident.first_seen_at).total_seconds() / 86400
                return PrefillField(
                    name,
                    ident.value,
                    True,
                    ident.touchpoint,
                    ident.source,
                    ident.first_seen_at,
                    round(age, 1),
                )
    return PrefillField(name, None, False)
