"""Remedies: a credit, refund, replacement or coupon given on a case, within limits.

Each role may give up to its limit at once (``cases.remedy_limits`` in settings: support 20,
supervisor 200 by default; the owner any amount unless limited there; a role not listed
nothing). Above the limit the remedy waits until someone whose limit covers it approves or
refuses it, in one step; nobody decides their own. Every remedy is an event on the customer's
timeline (``Remedy Granted``, ``Remedy Requested``, ``Remedy Refused``, in the support
department, naming the case and the order) and is audited.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, Policy
from cornerstore.cases.model import REMEDY_KINDS, Case, Remedy
from cornerstore.cases.screening import screen
from cornerstore.cases.service import SECTION, Cases, timeline_event
from cornerstore.cases.suggestion import RemedyFacts, RemedySuggestion, suggest_remedy
from cornerstore.errors import Conflict, Forbidden, InvalidInput, NotFound
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

REMEDY_GRANTED = "Remedy Granted"
REMEDY_REQUESTED = "Remedy Requested"
REMEDY_REFUSED = "Remedy Refused"
MAX_AMOUNT = 1_000_000.0


class Remedies:
    """Granting, approving and suggesting remedies.

    Examples
    --------
    >>> from cornerstore.access.caller import Caller, system_caller
    >>> from cornerstore.cases.service import CaseOpening, Sender
    >>> from cornerstore.services import Services
    >>> from cornerstore.settings import IdentityRules
    >>> from cornerstore.storage import open_store
    >>> settings = Settings(identity=IdentityRules(place_arrivals=False))
    >>> services = Services.build(settings, open_store("sqlite://", upgrade=True))
    >>> case = services.cases.open(system_caller(), CaseOpening(
    ...     Sender(email="ann@example.com"), "phone", "Mug arrived broken")).case
    >>> sam = Caller("sam", "support", "api")
    >>> services.remedies.grant(sam, case.id, "credit", 15).status
    'granted'
    >>> services.remedies.grant(sam, case.id, "refund", 45).status
    'pending'
    """

    def __init__(
        self, store: Store, settings: Settings, policy: Policy, audit: AuditTrail, cases: Cases
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.cases = cases

    def limit_of(self, role: str) -> float:
        """The most one remedy given by ``role`` may be without approval."""
        limits = self.settings.cases.remedy_limits
        if role in limits:
            return float(limits[role])
        return math.inf if role == "owner" else 0.0

    def grant(
        self,
        caller: Caller,
        case_id: int,
        kind: str,
        amount: float,
        order_ref: str | None = None,
        note: str | None = None,
    ) -> Remedy:
        """Give a remedy: granted at once within the caller's limit, else waiting for approval."""
        self.cases.require(caller, CHANGE)
        kind = kind.strip().lower()
        if kind not in REMEDY_KINDS:
            raise InvalidInput(f"kind: must be one of {', '.join(REMEDY_KINDS)}")
        if not math.isfinite(amount) or not 0 < amount <= MAX_AMOUNT:
            raise InvalidInput(f"amount: give a positive amount up to {MAX_AMOUNT:,.0f}")
        amount = round(float(amount), 2)
        if order_ref is not None and (not order_ref.strip() or len(order_ref) > 128):
            raise InvalidInput("order: give an order id of at most 128 characters")
        if note is not None:
            note = screen({"note": note}, self.settings.privacy).fields["note"][:500] or None
        granted = amount <= self.limit_of(caller.role)
        now = datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            case = self.cases.case_in(uow, caller, case_id)
            if order_ref is None:
                order_ref = next((k.ref for k in case.links if k.kind == "order"), None)
            remedy_id = uow.cases.add_remedy(
                {
                    "case_id": case.id,
                    "customer_id": case.profile_id,
                    "kind": kind,
                    "amount": amount,
                    "order_ref": order_ref,
                    "status": "granted" if granted else "pending",
                    "note": note,
                    "requested_by": caller.actor[:160],
                    "requested_by_id": caller.user_id,
                    "requested_role": caller.role[:32],
                    "requested_at": now,
                    "decided_by": caller.actor[:160] if granted else None,
                    "decided_by_id": caller.user_id if granted else None,
                    "decided_at": now if granted else None,
                }
            )
            name = REMEDY_GRANTED if granted else REMEDY_REQUESTED
            self._timeline(
                uow, remedy_id, case.profile_id, name, now, case.id, kind, amount, order_ref
            )
            action = "grant_remedy" if granted else "request_remedy"
            detail = f"case {case.id}: {kind} {amount:.2f}"
            self.audit.record_in(uow, caller, action, case.customer_id, detail, [SECTION])
            remedy = uow.cases.remedy(remedy_id)
        assert remedy is not None
        return remedy

    def decide(self, caller: Caller, remedy_id: int, approve: bool) -> Remedy:
        """Approve or refuse a waiting remedy: by someone else whose limit covers it."""
        self.cases.require(caller, CHANGE)
        now = datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            remedy = uow.cases.remedy(remedy_id)
            case = uow.cases.get(remedy.case_id) if remedy is not None else None
            if (
                remedy is None
                or case is None
                or (caller.branch is not None and case.branch not in (None, caller.branch))
            ):
                raise NotFound("remedy: no such remedy")
            if remedy.status != "pending":
                raise Conflict(f"remedy: it was {remedy.status} already")
            own = remedy.requested_by == caller.actor or (
                caller.user_id is not None and remedy.requested_by_id == caller.user_id
            )
            if own:
                raise Forbidden("remedy: nobody approves or refuses their own remedy")
            if approve and remedy.amount > self.limit_of(caller.role):
                raise Forbidden(
                    f"remedy: {remedy.amount:.2f} is above your limit of "
                    f"{self.limit_of(caller.role):.2f}"
                )
            status = "granted" if approve else "refused"
            if not uow.cases.decide_remedy(remedy_id, status, caller.actor, caller.user_id, now):
                raise Conflict("remedy: someone decided it meanwhile")
            name = REMEDY_GRANTED if approve else REMEDY_REFUSED
            self._timeline(uow, remedy.id, case.profile_id, name, now, case.id, remedy.kind,
                           remedy.amount, remedy.order_ref)  # fmt: skip
            detail = f"case {case.id}: {remedy.kind} {remedy.amount:.2f} {status}"
            self.audit.record_in(uow, caller, "decide_remedy", case.customer_id, detail, [SECTION])
            decided = uow.cases.remedy(remedy_id)
        assert decided is not None
        return decided

    def pending(self, caller: Caller, limit: int = 200) -> list[Remedy]:
        """Remedies waiting for approval, oldest first."""
        self.cases.require(caller)
        with self.store.unit_of_work() as uow:
            found = uow.cases.remedies(status="pending", limit=limit)
        self.audit.record(caller, "list_remedies", None, f"{len(found)} pending", [SECTION])
        return found

    @staticmethod
    def _timeline(
        uow: UnitOfWork,
        remedy_id: int,
        profile: str,
        name: str,
        at: datetime,
        case_id: int,
        kind: str,
        amount: float,
        order_ref: str | None,
    ) -> None:
        props: dict[str, Any] = {"case_id": str(case_id), "remedy": kind, "amount": amount}
        if order_ref:
            props["order_id"] = order_ref
        what = name.split()[-1].lower()
        uow.events.add_many(
            [timeline_event(f"remedy-{remedy_id}-{what}", profile, name, at, props)]
        )

    # -- suggestion ----------------------------------------------------------------------------
    def suggest(self, caller: Caller, case_id: int, case: Case | None = None) -> RemedySuggestion:
        """The remedy to offer on a case, sized by what is at stake, never above the caller's
        limit (see :mod:`cornerstore.cases.suggestion`). ``case``: the case as the caller
        already read it (the case page), not read again."""
        self.cases.require(caller)
        with self.store.unit_of_work() as uow:
            if case is None or case.id != case_id:
                case = self.cases.case_in(uow, caller, case_id)
            members = uow.customers.members(case.customer_id)
            order_ref = next((k.ref for k in case.links if k.kind == "order"), None)
            clv, alive = self._value(uow, members)
            facts = RemedyFacts(
                category=case.category,
                order_ref=order_ref,
                order_value=self._order_value(uow, members, order_ref),
                similar=[(k, a) for _, k, a in uow.cases.resolved_remedies([case.category], 50)],
                limit=self.limit_of(caller.role),
                clv=clv,
                probability_alive=alive,
                show_value=self.policy.may(caller, "scores"),
            )
        return suggest_remedy(facts)

    def _order_value(
        self, uow: UnitOfWork, members: list[str], order_ref: str | None
    ) -> float | None:
        if order_ref is None:
            return None
        learn = self.settings.learn
        for raw in uow.cases.events_mentioning(members, learn.order_events, order_ref):
            props = orjson.loads(raw)
            if str(props.get("order_id", "")) != order_ref:
                continue
            for name in learn.amount_properties:
                value = props.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    return float(value)
        return None

    @staticmethod
    def _value(uow: UnitOfWork, members: list[str]) -> tuple[float | None, float | None]:
        """(CLV, P(alive)) learned for the customer, (None, None) before learning ran."""
        for score in uow.learning.scores_of(members):
            if score.name == "value" and isinstance(score.value, dict):
                clv, alive = score.value.get("clv"), score.value.get("probability_alive")
                if isinstance(clv, int | float) and isinstance(alive, int | float):
                    return float(clv), float(alive)
        return None, None
