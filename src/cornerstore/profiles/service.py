"""Reading customers: find, show the 360 profile, page the timeline, prefill forms.

Every function takes the :class:`~cornerstore.access.caller.Caller`; access rules are checked and
every read is written to the audit trail here, so the API, CLI and console cannot disagree.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import LEARNED, Policy
from cornerstore.errors import Forbidden, InvalidInput, NotFound
from cornerstore.plural import counted
from cornerstore.privacy.answers import granted
from cornerstore.privacy.model import ConsentRecord
from cornerstore.profiles.forms import FormEntry, anchor_of, form_messages, staff_source
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.profiles.model import (
    Event,
    EventGroup,
    Prefill,
    PrefillField,
    Profile,
    ProfileFacts,
    SearchHit,
    Summary,
    TimelinePage,
    Trait,
    TraitObservation,
)
from cornerstore.profiles.name_search import find_by_name, looks_like_a_name
from cornerstore.settings import TOUCHPOINTS, Settings
from cornerstore.spec import MESSAGE_TYPES
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

# What search looks in: a role finds customers only by what it may read.
_SEARCHED = ("name", "contact", "identifiers")
# Form fields that come from what learning found (``learned.delivery_window``), not from traits.


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


def pending_claims(
    trusted: Sequence[TraitObservation], claims: Sequence[TraitObservation]
) -> list[TraitObservation]:
    """The unverified claims no trusted source has confirmed: a claim is confirmed once a trusted
    observation of the same trait holds the same value.

    >>> from datetime import datetime, UTC
    >>> at = datetime(2025, 1, 1, tzinfo=UTC)
    >>> known = TraitObservation("city", "Leeds", "web", "server", at, None)
    >>> claims = [TraitObservation(c, v, "web", "page", at, None)
    ...           for c, v in (("city", "Leeds"), ("city", "Fraud"))]
    >>> [c.value for c in pending_claims([known], claims)]
    ['Fraud']
    """
    seen: dict[str, list[Any]] = {}
    for obs in trusted:
        seen.setdefault(obs.name, []).append(obs.value)
    return [c for c in claims if c.value not in seen.get(c.name, [])]


def summarise(groups: Sequence[EventGroup]) -> Summary:
    """A profile's event summary from its event counts by touchpoint and type."""
    by_tp: dict[str, int] = {}
    by_type: dict[str, int] = {}
    first: datetime | None = None
    last: datetime | None = None
    for group in groups:
        by_tp[group.touchpoint] = by_tp.get(group.touchpoint, 0) + group.events
        by_type[group.type] = by_type.get(group.type, 0) + group.events
        first = group.first_at if first is None or group.first_at < first else first
        last = group.last_at if last is None or group.last_at > last else last
    return Summary(sum(by_tp.values()), by_tp, by_type, first, last)


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


PROFILE_SECTIONS = (
    "name",
    "contact",
    "addresses",
    "delivery_preferences",
    "payment",
    "traits",
    "identifiers",
    "summary",
    "accounts",
    "merges",
)


class Profiles:
    """Customer reads for staff, with section policy and audit.

    Every read asks the policy first, from the caller's role alone: a role that may not read
    something is refused before any customer is looked up, so the answer never says whether
    a customer exists. Sections the role may not read are left out of the answer.

    Examples
    --------
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> from cornerstore.storage import open_store
    >>> profiles = Services.build(Settings(), open_store("sqlite://", upgrade=True)).profiles
    >>> profiles.search(system_caller(), "nobody@example.com")
    []
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.lookup = lookup

    # -- what a caller may see ------------------------------------------------------------------
    def _visible(self, caller: Caller, wanted: Sequence[str], what: str) -> frozenset[str]:
        """The sections of ``wanted`` the caller may read; Forbidden when none."""
        self.policy.grant_of(caller)
        visible = self.policy.visible_sections(caller)
        found = frozenset(s for s in wanted if s in visible)
        if not found:
            raise Forbidden(f"your role may not read {what}")
        return found

    def _trait_sections(self) -> list[str]:
        return sorted({*self.policy.trait_sections.values(), "traits"})

    # -- finding ------------------------------------------------------------------------------
    def may_search(self, caller: Caller) -> bool:
        """Whether the caller's role finds customers by name, contact or identifier: it must
        read one of them, and see real ids (a pseudonymised role finds none)."""
        visible = self.policy.visible_sections(caller)
        return not self.policy.pseudonymised(caller) and any(s in visible for s in _SEARCHED)

    def search(self, caller: Caller, q: str, limit: int = 20) -> list[SearchHit]:
        """Customers whose id or identifiers equal ``q`` (normalised; an e-mail-shaped query
        looks among e-mails, digits among phones, and among every kind only when that found
        nobody), then customers named like it, best first
        (:mod:`cornerstore.profiles.name_search`): the full name in either order, a part, a
        nickname, the beginning of a word or a typo.

        A role finds customers only by what it may read (names, contact details,
        identifiers), and hits show only those."""
        if not self.may_search(caller):
            raise Forbidden("your role may not read customer search")
        visible = self._visible(caller, _SEARCHED, "customer search")
        q = q.strip()
        if not q:
            raise InvalidInput("q: give a name, e-mail, phone or identifier to search for")
        if len(q) > 200:
            raise InvalidInput("q: longer than 200 characters")
        if "\x00" in q:  # no stored value holds one (PostgreSQL cannot even compare it)
            raise InvalidInput("q: contains a NUL character")
        limit = max(1, min(limit, 100))
        findable = self.lookup.findable_kinds(visible)
        with self.store.unit_of_work() as uow:
            matched: dict[str, str] = {}
            if q.startswith(("cus_", "acc_")):
                row = uow.customers.get(q)
                if row is not None:
                    matched[row.root_id] = "id"
            for kind, value in self.lookup.normaliser.guess(q):
                # Shape first: an e-mail-shaped query that found e-mails (digits that found
                # phones) looks no further among other kinds of identifier.
                if kind == "*" and matched:
                    break
                for found_kind, root in uow.identifiers.find_by_value(
                    value, None if kind == "*" else [kind]
                ):
                    if findable(found_kind):
                        matched.setdefault(root, found_kind)
            if "name" in visible and len(matched) < limit and looks_like_a_name(q):
                for hit in find_by_name(uow, q, limit):
                    matched.setdefault(hit.root_id, hit.matched)
            roots = list(matched)[:limit]
            hits = uow.search.hits(roots, matched)
        shown = sorted(visible & {"name", "contact"})
        hits = [
            replace(
                h,
                name=h.name if "name" in visible else None,
                email=h.email if "contact" in visible else None,
                phone=h.phone if "contact" in visible else None,
                sections=shown,
            )
            for h in hits
        ]
        self.audit.record(caller, "search", None, counted(len(hits), "result"), shown)
        return hits

    # -- the 360 view ---------------------------------------------------------------------------
    def record_view(self, caller: Caller, ref: str, sections: Sequence[str]) -> None:
        """One audit entry (``read_customer_page``) for a page that showed these sections of
        the customer ``ref``, read with ``audit=False``, instead of one entry per read."""
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
        self.audit.record(caller, "read_customer_page", root, None, sorted(set(sections)))

    def get(self, caller: Caller, ref: str, audit: bool = True) -> Profile:
        """Everything the caller's role may read about a customer: identifiers, traits with
        provenance, summary, accounts and merges. ``audit=False`` for a page that records one
        entry for all it shows (the profile's ``sections`` say what to list)."""
        return self._read_profiles(caller, [ref], audit)[0]

    def get_many(self, caller: Caller, refs: Sequence[str]) -> list[Profile]:
        """The profiles of ``refs`` in order, each read as :meth:`get` reads one, their
        ``read_profile`` entries (one per profile) written to the audit trail in one
        transaction rather than one commit each (a page that shows many customers)."""
        return self._read_profiles(caller, refs, audit=True)

    def _read_profiles(self, caller: Caller, refs: Sequence[str], audit: bool) -> list[Profile]:
        visible = self._visible(
            caller, (*PROFILE_SECTIONS, *self._trait_sections()), "customer profiles"
        )
        pseudonymise = self.lookup.pseudonymise(caller)
        profiles = [self._read_profile(caller, ref, visible) for ref in refs]
        if audit:
            reads = [(p.id, p.sections) for p in profiles]
            self.audit.record_many(caller, "read_profile", reads)
        if pseudonymise is None:
            return profiles
        return [
            replace(
                profile,
                id=pseudonymise(profile.id),
                unverified=None
                if profile.unverified is None
                else [
                    replace(c, customer_id=pseudonymise(c.customer_id)) for c in profile.unverified
                ],
            )
            for profile in profiles
        ]

    def _read_profile(self, caller: Caller, ref: str, visible: frozenset[str]) -> Profile:
        profile_id = self.lookup.profile_id(ref)
        with self.store.unit_of_work() as uow:
            # A profile id (staff's usual reference) is resolved in the read itself: one
            # statement for the whole profile.
            read = uow.customers.profile_of(profile_id) if profile_id is not None else None
            if read is None:
                read = uow.customers.profile(self.lookup.find_root(uow, ref, caller))
        # find_root gave a root; a merge committed since can have made it a member.
        if read is None:
            raise NotFound("customer: no such customer")
        facts, consents = read
        return self._profile(facts, self._consented(caller, consents, visible))

    def _consented(
        self, caller: Caller, consents: list[ConsentRecord], visible: frozenset[str]
    ) -> frozenset[str]:
        """``visible`` without the trait sections when the caller's role sees traits only with
        a consent the customer (the answers ``consents`` of their profile rows) has not given."""
        purpose = self.policy.consent_for(caller)
        if purpose is None:
            return visible
        if granted(consents, purpose, self.settings.privacy.consent_defaults):
            return visible
        return visible - set(self._trait_sections())

    def _profile(self, facts: ProfileFacts, visible: frozenset[str]) -> Profile:
        """The profile the caller sees of ``facts``: only the ``visible`` sections."""
        root, kind, created_at = facts.row.id, facts.row.kind, facts.row.created_at
        members = facts.members
        shown: set[str] = set()
        summary = None
        if "summary" in visible:
            summary = summarise(facts.events)
            shown.add("summary")
        ident_sections = visible & {"contact", "identifiers"}
        trait_sections = visible & set(self._trait_sections())
        identifiers = None
        if ident_sections:
            identifiers = [
                i for i in facts.identifiers if self.policy.identifier_section(i.kind) in visible
            ]
            shown |= ident_sections
        traits = unverified = None
        if trait_sections:
            traits = {
                name: t
                for name, t in current_traits(facts.observed).items()
                if self.policy.section_of(name) in visible
            }
            unverified = [
                c
                for c in pending_claims(facts.observed, facts.claims)
                if self.policy.section_of(c.name) in visible
            ]
            shown |= trait_sections
        accounts = members_of = household = None
        if "accounts" in visible:
            person = kind == "person"
            accounts = facts.accounts if person else []
            members_of = facts.account_members if kind == "account" else []
            household = facts.household if person else []
            shown.add("accounts")
        merged = merges = None
        if "merges" in visible:
            merged = [m for m in members if m != root]
            merges = facts.merges
            shown.add("merges")
        return Profile(
            id=root,
            kind=kind,
            created_at=created_at,
            merged_profiles=merged,
            identifiers=identifiers,
            traits=traits,
            unverified=unverified,
            summary=summary,
            accounts=accounts,
            members=members_of,
            household=household,
            merges=merges,
            sections=sorted(shown),
        )

    def trait_history(self, caller: Caller, ref: str, name: str) -> list[TraitObservation]:
        """Every observation of one trait, oldest first, each with where it came from."""
        section = self.policy.section_of(name)
        self.policy.require(caller, section)
        pseudonymise = self.lookup.pseudonymise(caller)
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            members = uow.customers.members(root)
            history = [o for o in uow.traits.of_customers(members) if o.name == name]
        self.audit.record(caller, "read_traits", root, name, [section])
        if pseudonymise is not None:
            history = [replace(o, customer_id=pseudonymise(o.customer_id)) for o in history]
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
        audit: bool = True,
    ) -> TimelinePage:
        """The customer's events, newest first, filtered by touchpoint and type, keyset-paged.

        A role sees the events of the departments (``timeline.<touchpoint>``) it may read;
        asking for another department is refused. ``audit=False`` for a page that records
        one entry for all it shows (the departments the role may read are what it holds)."""
        allowed = self._visible(
            caller, [self.policy.timeline_section(tp) for tp in TOUCHPOINTS], "the timeline"
        )
        for tp in touchpoints:
            if tp not in TOUCHPOINTS:
                raise InvalidInput(f"touchpoint: must be one of {', '.join(TOUCHPOINTS)}")
            self.policy.require(caller, self.policy.timeline_section(tp))
        for typ in types:
            if typ not in MESSAGE_TYPES:
                raise InvalidInput(f"type: must be one of {', '.join(MESSAGE_TYPES)}")
        size = limit or self.settings.timeline_page_size
        if not 1 <= size <= 500:
            raise InvalidInput("limit: must be between 1 and 500")
        before = decode_cursor(cursor) if cursor else None
        every = len(allowed) == len(TOUCHPOINTS)
        wanted = list(touchpoints) or ([] if every else [s.split(".", 1)[1] for s in allowed])
        visible = self.policy.visible_sections(caller)
        pseudonymise = self.lookup.pseudonymise(caller)
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            row = uow.customers.get(root)
            members = uow.customers.members(root)
            events = uow.events.page(
                members,
                account_id=root if row and row.kind == "account" else None,
                touchpoints=sorted(wanted),
                types=types,
                before=before,
                limit=size + 1,
            )
        sections = [self.policy.timeline_section(tp) for tp in wanted] or sorted(allowed)
        if audit:
            self.audit.record(caller, "read_timeline", root, None, sections)
        more = len(events) > size
        events = events[:size]
        next_cursor = encode_cursor(events[-1].occurred_at, events[-1].id) if more else None
        if pseudonymise is not None:
            events = [_pseudonymous_event(e, pseudonymise) for e in events]
            return TimelinePage(pseudonymise(root), events, next_cursor, withheld=True)
        withheld = "identifiers" not in visible
        if withheld:
            events = [_without_ids(e) for e in events]
        if not set(self._trait_sections()) <= visible:
            events = [self._screen(e, visible) for e in events]
        return TimelinePage(root, events, next_cursor, withheld=withheld)

    def _screen(self, event: Event, visible: frozenset[str]) -> Event:
        """An event without the traits it carries that the caller's role may not read: an
        identify or group message's properties are traits, and any message may carry some in
        ``context.traits``."""
        properties = event.properties
        if event.type in ("identify", "group"):
            properties = {
                k: v for k, v in properties.items() if self.policy.section_of(k) in visible
            }
        context = event.context
        carried = context.get("traits")
        if isinstance(carried, dict):
            kept = {k: v for k, v in carried.items() if self.policy.section_of(k) in visible}
            context = (
                {**context, "traits": kept}
                if kept
                else {k: v for k, v in context.items() if k != "traits"}
            )
        if properties is event.properties and context is event.context:
            return event
        return replace(event, properties=properties, context=context)

    # -- never asking twice ----------------------------------------------------------------------
    def prefill(self, caller: Caller, ref: str, form: str, now: datetime | None = None) -> Prefill:
        """Fill a named form from what the customer already told us, with source and age.

        Fields of sections the caller's role may not read are left out of the form."""
        self.policy.require_any(caller, PROFILE_SECTIONS)
        fields = self.settings.forms.get(form)
        if fields is None:
            known = ", ".join(sorted(self.settings.forms))
            raise NotFound(f"form: no such form; forms are: {known}")
        visible = self.policy.visible_sections(caller)
        fields = [f for f in fields if self.policy.section_of(f) in visible]
        if not fields:
            raise Forbidden("your role may not read any field of this form")
        pseudonymise = self.lookup.pseudonymise(caller)
        now = now or datetime.now(UTC)
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            members = uow.customers.members(root)
            traits = current_traits(uow.traits.of_customers(members))
            identifiers = uow.identifiers.of_customers(members)
            learned = self._learned(uow, members, fields)
        sections = sorted({self.policy.section_of(f) for f in fields})
        self.audit.record(caller, "prefill", root, form, sections)
        filled = [
            _fill_learned(name, learned, now) if name.startswith(LEARNED) else
            _fill(name, traits, identifiers, now)
            for name in fields
        ]  # fmt: skip
        shown_id = pseudonymise(root) if pseudonymise else root
        return Prefill(shown_id, form, filled, [f.field for f in filled if not f.known])

    def form_entry(
        self,
        caller: Caller,
        ref: str,
        form: str,
        answers: Mapping[str, str],
        questions: Mapping[str, str],
        now: datetime | None = None,
    ) -> FormEntry:
        """The messages a form filled in by staff becomes (:mod:`cornerstore.profiles.forms`),
        for intake to take in like any touchpoint's. ``answers`` may hold only the form's fields
        the caller's role may read (learned ones are never typed in); a pseudonymised role
        fills in no form."""
        if self.policy.pseudonymised(caller):
            raise Forbidden("your role may not fill in forms about customers")
        fields = self.settings.forms.get(form)
        if fields is None:
            raise NotFound(
                f"form: no such form; forms are: {', '.join(sorted(self.settings.forms))}"
            )
        visible = self.policy.visible_sections(caller)
        allowed = {
            f for f in fields if self.policy.section_of(f) in visible and not f.startswith(LEARNED)
        }
        for name in sorted(answers):
            if name not in allowed:
                raise InvalidInput(f"{name}: not a field of the {form} form your role fills in")
        given = {name: value.strip() for name, value in answers.items() if value.strip()}
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            anchor = anchor_of(uow.identifiers.of_customers(uow.customers.members(root)), root)
        messages = form_messages(form, anchor, given, questions, now or datetime.now(UTC))
        sections = sorted({self.policy.section_of(name) for name in given})
        self.audit.record(caller, "form_entry", root, form, sections)
        return FormEntry(staff_source(caller.branch), messages)

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
        for score in uow.learning.scores_of(members):
            if score.name not in latest or score.computed_at > latest[score.name][1]:
                latest[score.name] = (score.value, score.computed_at)
        return latest


def _without_ids(event: Event) -> Event:
    """An event without the identifiers it carries (user and anonymous ids, the context with
    device ids and addresses, integrations), for roles that may not read identifiers."""
    return replace(event, user_id=None, anonymous_id=None, context={}, integrations={})


def _pseudonymous_event(event: Event, pseudonymise: Callable[[str], str]) -> Event:
    """An event without what could name or reach a person: ids become pseudonyms, user and
    anonymous ids, context and integrations go, and only numbers and yes/no values of the
    properties stay (amounts, counts), since free text may name someone."""
    return replace(
        _without_ids(event),
        customer_id=pseudonymise(event.customer_id),
        account_id=pseudonymise(event.account_id) if event.account_id else None,
        properties={k: v for k, v in event.properties.items() if isinstance(v, bool | int | float)},
    )


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


def household_of(uow: UnitOfWork, root: str, members: Sequence[str]) -> list[str]:
    """The other customers in a household relation with any of ``members`` (the profiles of the
    customer ``root``), named by the customers their profiles belong to now."""
    others = {
        r.other_id if r.customer_id in members else r.customer_id
        for r in uow.identity.relations_involving(members)
        if r.kind == "household"
    }
    roots = uow.customers.roots_of(sorted(others))
    return sorted({roots[o] for o in others if o in roots} - {root})
