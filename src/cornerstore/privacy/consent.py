"""Consent per purpose, and the one question every use of customer data asks: ``may``.

Answers are kept as an append-only history per profile (granted or withdrawn, when, from which
touchpoint and source); the newest answer across a customer's merged profiles is the current one,
and a purpose never asked about takes the default from settings. "Anonymous, please" is the
withdrawal of profiling and personalisation together: the customer is still served and still
recognised, but gets no learned traits and no personal suggestions.

Consent arrives with events too: RudderStack's clients send ``context.consentManagement``
(``allowedConsentIds`` / ``deniedConsentIds``), Segment's send ``context.consent``
(``categoryPreferences``). Category names or ids are mapped to purposes by
``settings.privacy.consent_categories``; a purpose's own name always maps to itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller, system_caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.errors import InvalidInput
from cornerstore.privacy.answers import granted, latest_answers
from cornerstore.privacy.model import ConsentRecord
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.settings import PURPOSES, TOUCHPOINTS, Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

# Withdrawn together when a customer asks to be left unprofiled.
ANONYMOUS_PURPOSES = ("profiling", "personalisation")
_SPELLINGS = {"personalization": "personalisation"}
_PLAIN_NAME = re.compile(r"[A-Za-z_ -]{1,40}")


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The current answer for one purpose; ``asked`` is False when it is the default."""

    purpose: str
    granted: bool
    asked: bool
    at: datetime | None = None
    touchpoint: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerConsents:
    """A customer's current answers, whether they asked to be anonymous, and the history."""

    customer_id: str
    anonymous: bool
    consents: list[ConsentState]
    history: list[ConsentRecord]


def allowed_in(
    uow: UnitOfWork, customer_ids: Sequence[str], purpose: str, defaults: Mapping[str, bool]
) -> set[str]:
    """Which of these root profile ids may be used for ``purpose``, read in ``uow`` (for bulk
    uses inside another unit of work; :meth:`Consents.allowed` opens its own)."""
    answers = uow.consents.of_roots(list(customer_ids), purpose)
    return {root for root in customer_ids if granted(answers.get(root, []), purpose, defaults)}


def check_purpose(purpose: str) -> str:
    """The purpose's canonical name, or InvalidInput naming the known ones."""
    name = _SPELLINGS.get(purpose.strip().lower(), purpose.strip().lower())
    if name not in PURPOSES:
        # Echo the name only when it cannot hold a number (no card or ID comes back in an error).
        shown = f"{purpose!r} " if _PLAIN_NAME.fullmatch(purpose) else ""
        raise InvalidInput(f"purpose: {shown}is not one of {', '.join(PURPOSES)}")
    return name


def _purposes_of(name: Any, categories: Mapping[str, list[str]]) -> list[str]:
    if not isinstance(name, str):
        return []
    key = name.strip().lower()
    key = _SPELLINGS.get(key, key)
    if key in PURPOSES:
        return [key]
    return categories.get(key, [])


def consent_from_context(
    context: Mapping[str, Any], categories: Mapping[str, list[str]]
) -> dict[str, bool]:
    """The purposes a message's context grants (True) or withdraws (False).

    When one message both grants and withdraws a purpose (two categories map to it), the
    withdrawal wins.

    Examples
    --------
    >>> cats = {"marketing": ["marketing_email", "marketing_sms"]}
    >>> consent_from_context({"consentManagement": {"allowedConsentIds": ["profiling"],
    ...     "deniedConsentIds": ["Marketing"]}}, cats)
    {'profiling': True, 'marketing_email': False, 'marketing_sms': False}
    >>> consent_from_context({"consent": {"categoryPreferences": {"sharing": False}}}, cats)
    {'sharing': False}
    """
    answers: dict[str, bool] = {}

    def note(names: Iterable[Any], granted: bool) -> None:
        for name in names:
            for purpose in _purposes_of(name, categories):
                answers[purpose] = answers.get(purpose, True) and granted

    managed = context.get("consentManagement")
    if isinstance(managed, dict):
        for field, granted in (("allowedConsentIds", True), ("deniedConsentIds", False)):
            ids = managed.get(field)
            if isinstance(ids, dict):  # some clients send {id: name}
                ids = [*ids.keys(), *ids.values()]
            if isinstance(ids, list):
                note(ids[:200], granted)
    segment = context.get("consent")
    if isinstance(segment, dict):
        prefs = segment.get("categoryPreferences")
        if isinstance(prefs, dict):
            for name, value in list(prefs.items())[:200]:
                if isinstance(value, bool):
                    note([name], value)
    return answers


def current_consents(
    history: Sequence[ConsentRecord], defaults: Mapping[str, bool]
) -> dict[str, ConsentState]:
    """The current answer per purpose (see :func:`latest_answers`), or the default for
    purposes never asked."""
    latest = latest_answers(history)
    states: dict[str, ConsentState] = {}
    for purpose in PURPOSES:
        r = latest.get(purpose)
        if r is None:
            states[purpose] = ConsentState(purpose, defaults.get(purpose, False), asked=False)
        else:
            states[purpose] = ConsentState(purpose, r.granted, True, r.at, r.touchpoint, r.source)
    return states


def is_anonymous(states: Mapping[str, ConsentState]) -> bool:
    return not any(states[p].granted for p in ANONYMOUS_PURPOSES)


class Consents:
    """Consent answers: read and change them (staff, audited), and ``may`` for every use.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.intake.service import Source
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> _ = services.intake.ingest([{"type": "identify", "userId": "u1"}],
    ...                            source=Source("shop", "web"))
    >>> consents = services.consents
    >>> consents.may("u1", "profiling")
    True
    >>> _ = consents.set_anonymous(system_caller(), "u1", True)
    >>> consents.may("u1", "profiling"), consents.may("u1", "marketing_email")
    (False, False)
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

    # -- the question every use asks -----------------------------------------------------------
    def may(self, customer: str, purpose: str) -> bool:
        """Whether the customer's data may be used for ``purpose`` now.

        ``customer`` is a profile id (a merged-away profile counts as its survivor) or any
        identifier. Library callers (learning, audiences, campaigns, suggestions) ask this
        before each use; it is not an audited staff read.
        """
        purpose = check_purpose(purpose)
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, customer, system_caller())
            members = uow.customers.members(root)
            history = uow.consents.of_customers(members)
        return current_consents(history, self.settings.privacy.consent_defaults)[purpose].granted

    def allowed(self, customer_ids: Sequence[str], purpose: str) -> set[str]:
        """Which of these root profile ids may be used for ``purpose`` (for bulk uses)."""
        purpose = check_purpose(purpose)
        with self.store.unit_of_work() as uow:
            return allowed_in(uow, customer_ids, purpose, self.settings.privacy.consent_defaults)

    def refused(self, customer_ids: Sequence[str], purpose: str) -> set[str]:
        """Which of these root profile ids may not be used for ``purpose`` (for bulk uses)."""
        return set(customer_ids) - self.allowed(customer_ids, purpose)

    # -- staff ---------------------------------------------------------------------------------
    def get(self, caller: Caller, ref: str) -> CustomerConsents:
        """A customer's current answers with their history (an audited read)."""
        self.policy.require(caller, "consents", READ)
        with self.store.unit_of_work() as uow:
            view = self._view(uow, self.lookup.find_root(uow, ref, caller))
        self.audit.record(caller, "read_consents", view.customer_id, None, ["consents"])
        return view

    def change(
        self,
        caller: Caller,
        ref: str,
        answers: Mapping[str, bool],
        *,
        touchpoint: str | None = None,
        at: datetime | None = None,
    ) -> CustomerConsents:
        """Record the customer's answers (purpose -> granted), as told to a member of staff."""
        self.policy.require(caller, "consents", CHANGE)
        if not answers:
            raise InvalidInput("consents: give at least one purpose with true or false")
        checked = {check_purpose(p): bool(v) for p, v in answers.items()}
        touchpoint = touchpoint or self.settings.default_touchpoint
        if touchpoint not in TOUCHPOINTS:
            raise InvalidInput(f"touchpoint: must be one of {', '.join(TOUCHPOINTS)}")
        at = at or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            root = self.lookup.find_root(uow, ref, caller)
            uow.consents.add_many(
                [
                    {
                        "customer_id": root,
                        "purpose": purpose,
                        "granted": granted,
                        "at": at,
                        "touchpoint": touchpoint,
                        "source": f"staff:{caller.actor}"[:128],
                        "message_id": None,
                    }
                    for purpose, granted in checked.items()
                ]
            )
            view = self._view(uow, root)
        detail = ", ".join(f"{p}={'granted' if g else 'withdrawn'}" for p, g in checked.items())
        self.audit.record(caller, "change_consents", root, detail, ["consents"])
        return view

    def set_anonymous(
        self, caller: Caller, ref: str, anonymous: bool, *, touchpoint: str | None = None
    ) -> CustomerConsents:
        """ "Anonymous, please": withdraw (or grant again) profiling and personalisation."""
        answers = dict.fromkeys(ANONYMOUS_PURPOSES, not anonymous)
        return self.change(caller, ref, answers, touchpoint=touchpoint)

    def _view(self, uow: UnitOfWork, root: str) -> CustomerConsents:
        history = uow.consents.of_customers(uow.customers.members(root))
        states = current_consents(history, self.settings.privacy.consent_defaults)
        return CustomerConsents(root, is_anonymous(states), list(states.values()), history)


def consent_rows_for_batch(
    uow: UnitOfWork, pending: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The consent rows of a batch of messages worth storing: only answers that change the
    customer's current one (every page view may repeat the same consent context).

    ``pending`` holds rows of the consents table in message order; profiles must exist.
    """
    if not pending:
        return []
    targets = list({row["customer_id"] for row in pending})
    roots = uow.customers.roots_of(targets)
    members = uow.customers.members_of_roots(list(set(roots.values())))
    root_of_member = {m: root for root, ms in members.items() for m in ms}
    by_root: dict[str, list[ConsentRecord]] = {}
    for record in uow.consents.of_customers(list(root_of_member)):
        by_root.setdefault(root_of_member[record.customer_id], []).append(record)
    latest = {
        (root, purpose): record
        for root, history in by_root.items()
        for purpose, record in latest_answers(history).items()
    }
    rows = []
    for row in sorted(pending, key=lambda r: r["at"]):
        key = (roots.get(row["customer_id"], row["customer_id"]), row["purpose"])
        known = latest.get(key)
        if known is not None and (known.granted == row["granted"] or row["at"] < known.at):
            continue
        rows.append(row)
        answer = ConsentRecord(
            row["customer_id"],
            row["purpose"],
            row["granted"],
            row["at"],
            row["touchpoint"],
            row["source"],
            row["message_id"],
        )
        latest[key] = latest_answers([*([known] if known else []), answer])[row["purpose"]]
    return rows
