"""``NextActions``: gather what is known about a customer and decide the next best actions.

One service for the API, the CLI, the console and campaigns, so they cannot disagree. The facts
come from where they are kept, never from copies of their rules:

- value and churn risk: the scores ``cornerstore learn`` stored (``value.clv`` in the top
  ``high_value_share`` of all customers is "high value"; ``churn_risk.at_risk`` is "slipping
  away"), and its moments (moved house, new household signal, anniversary...);
- orders: the ``settings.learn.order_events`` of every profile row of the customer;
- open complaints: :func:`cornerstore.cases.complaints.customers_with_open_complaint`;
- contact caps: :class:`cornerstore.campaigns.contacts.ContactLog`;
- replenishment: the customer's suggestions whose reason is a regular buy that is due;
- consent: each purpose's current answer. Without ``profiling`` nothing learned is used.

Every read is a staff read of the ``next_actions`` section: the role policy is asked first and
the read is audited. A role that may not read ``cases`` sees "an open complaint" instead of its
category; a role that may not read ``suggestions`` gets no replenishment reason (and a note).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import READ, Policy
from cornerstore.actions.model import CustomerActions, Facts, Moment
from cornerstore.actions.rules import decide
from cornerstore.campaigns.contacts import ContactLog
from cornerstore.cases.complaints import customers_with_open_complaint
from cornerstore.cases.model import OPEN_STATUSES, CaseFilter
from cornerstore.errors import InvalidInput
from cornerstore.learn.service import MOMENT_NAMES
from cornerstore.privacy.answers import granted
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.settings import SERVICE_PURPOSE, Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

SECTION = "next_actions"
# The moment events learning writes, by event name.
MOMENT_EVENTS = {name: kind for kind, name in MOMENT_NAMES.items()}
# Suggestions looked through for regular buys that are due.
_SUGGESTIONS_SEEN = 20


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _detail(properties: str | None) -> str | None:
    try:
        found = orjson.loads(properties or "null")
    except orjson.JSONDecodeError:
        return None
    detail = found.get("detail") if isinstance(found, dict) else None
    return detail if isinstance(detail, str) else None


class NextActions:
    """The next best actions of customers, with their reasons.

    Examples
    --------
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.intake.service import Source
    >>> from cornerstore.services import Services
    >>> from cornerstore.storage import open_store
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> _ = services.intake.ingest([{"type": "identify", "userId": "u1"}],
    ...                            source=Source("shop", "web"))
    >>> found = services.actions.for_customer(system_caller(), "u1")
    >>> [a.summary for a in found.actions]
    ['nothing: no reason to reach out now']
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
        contacts: ContactLog,
        suggestions: Any,
        segments: Any,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.lookup = lookup
        self.contacts = contacts
        # Suggestions and Segments (numpy, polars) are passed as the services build them.
        self.suggestions = suggestions
        self.segments = segments
        self._threshold: tuple[datetime | None, float | None] | None = None
        self._threshold_lock = threading.Lock()

    def for_customer(
        self, caller: Caller, ref: str, now: datetime | None = None
    ) -> CustomerActions:
        """The customer's next best actions, best first, with what was held back and why (an
        audited read).

        Used like this::

            actions.for_customer(caller, "ann@example.com").actions[0].summary
            'call: high value, slipping away, unresolved delivery complaint'
        """
        self.policy.require(caller, SECTION, READ)
        now = _utc(now or datetime.now(UTC))
        notes: list[str] = []
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            facts = self._facts(uow, caller, root, now, notes)
        facts = self._with_caps_and_suggestions(caller, ref, root, facts, now, notes)
        decision = decide(facts, self.settings.actions, now)
        self.audit.record(caller, "read_next_actions", root, None, [SECTION])
        shown = self.lookup.shown_id(caller)(root)
        return CustomerActions(shown, decision.actions, decision.held_back, notes, now)

    def for_segment(
        self, caller: Caller, segment_id: str, limit: int = 50, now: datetime | None = None
    ) -> list[CustomerActions]:
        """The ``limit`` members of a segment with the most pressing next actions: customers
        with something to do first, then by their best action's priority. The first
        ``settings.actions.max_list`` members (in id order) are ranked, each read audited."""
        self.policy.require(caller, SECTION, READ)
        most = self.settings.actions.max_list
        if not 1 <= limit <= most:
            raise InvalidInput(f"limit: must be between 1 and {most}")
        page = self.segments.members(caller, segment_id, most)
        now = _utc(now or datetime.now(UTC))
        found = [self.for_customer(caller, member, now) for member in page.customers]
        return sorted(found, key=_rank)[:limit]

    # -- the facts -----------------------------------------------------------------------------
    def _facts(
        self, uow: UnitOfWork, caller: Caller, root: str, now: datetime, notes: list[str]
    ) -> Facts:
        cfg = self.settings
        members = uow.customers.members(root)
        history = uow.consents.of_customers(members)
        defaults = cfg.privacy.consent_defaults
        purposes = {r.purpose for r in cfg.actions.rules if r.purpose != SERVICE_PURPOSE}
        consents = {p: granted(history, p, defaults) for p in purposes}
        profiled = granted(history, "profiling", defaults)
        learned: dict[str, Any] = {}
        moments: list[Moment] = []
        names = list(cfg.learn.order_events)
        if profiled:
            for score in uow.learning.scores_of(members):
                if score.name in ("value", "churn_risk"):
                    learned[score.name] = score.value
            names += list(MOMENT_EVENTS)
            if not learned:
                notes.append("nothing learned yet: run `cornerstore learn`")
        else:
            notes.append("the customer did not allow profiling: value, risk and moments unused")
        orders = 0
        last_order: datetime | None = None
        for name, at, properties in uow.suggestions.track_events_of(members, names):
            if name in MOMENT_EVENTS:
                moments.append(Moment(MOMENT_EVENTS[name], _utc(at), _detail(properties)))
            elif _utc(at) <= now:
                orders += 1
                last_order = _utc(at)
        value = learned.get("value") or {}
        clv = value.get("clv") if isinstance(value, dict) else None
        threshold = self._high_value_threshold(uow)
        churn = learned.get("churn_risk") or {}
        return Facts(
            profiled=profiled,
            high_value=clv is not None and threshold is not None and float(clv) >= threshold,
            slipping_away=bool(isinstance(churn, dict) and churn.get("at_risk")),
            open_complaints=self._open_complaints(uow, caller, root, members),
            orders=orders,
            last_order_at=last_order,
            moments=tuple(moments),
            consents=consents,
        )

    def _open_complaints(
        self, uow: UnitOfWork, caller: Caller, root: str, members: Sequence[str]
    ) -> tuple[str, ...]:
        if not customers_with_open_complaint(uow, [root], self.settings.cases):
            return ()
        if not self.policy.may(caller, "cases"):
            return ("",)
        complaint = tuple(self.settings.cases.complaint_categories)
        cases = uow.cases.find(
            CaseFilter(customer_ids=tuple(members), status=OPEN_STATUSES, category=complaint)
        )
        return tuple(dict.fromkeys(case.category for case in cases)) or ("",)

    def _high_value_threshold(self, uow: UnitOfWork) -> float | None:
        """The lowest value in the top ``high_value_share`` of customers, computed once per
        learning run."""
        computed_at = uow.learning.last_computed_at()
        with self._threshold_lock:
            if self._threshold is None or self._threshold[0] != computed_at:
                values = sorted(
                    float(v["clv"])
                    for _, v in uow.learning.scores_named("value")
                    if isinstance(v, dict) and v.get("clv") is not None
                )
                share = self.settings.actions.high_value_share
                cut = (
                    values[min(len(values) - 1, int(len(values) * (1 - share)))] if values else None
                )
                self._threshold = (computed_at, cut)
            return self._threshold[1]

    def _with_caps_and_suggestions(
        self, caller: Caller, ref: str, root: str, facts: Facts, now: datetime, notes: list[str]
    ) -> Facts:
        rules = self.settings.actions.rules
        marketing = {r.channel for r in rules if r.purpose != SERVICE_PURPOSE}
        capped = {
            channel: hit.reason
            for channel in sorted(marketing)
            for hit in self.contacts.capped([root], channel, now).values()
        }
        due: tuple[str, ...] = ()
        if any(r.when == "replenishment_due" for r in rules):
            if self.policy.may(caller, "suggestions"):
                found = self.suggestions.for_customer(caller, ref, _SUGGESTIONS_SEEN, now)
                due = tuple(
                    s.name or s.item_id for s in found.suggestions if s.kind == "replenishment"
                )
            else:
                notes.append("replenishment not checked: your role may not read suggestions")
        return replace(facts, capped=capped, replenishment_due=due)


def _rank(found: CustomerActions) -> tuple[int, int, str]:
    best = found.actions[0]
    return (best.channel is None, best.priority, found.customer_id)
