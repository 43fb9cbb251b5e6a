"""Cases from every channel: opened, attached to the right customer, answered, moved through
their statuses and read, with the role policy and the audit trail on every call.

The sender of a case is placed the way every other entrance places a person: an identify
message through intake (exact identifiers first: an e-mail or phone already known joins that
customer), after which identity resolution scores the new profile as it scores every arrival
(merged above the match probability, queued for review in the grey zone, never merged on a
guess). A case is filed with the sender's profile row and read through the customer that row
belongs to now, so a merge or an unmerge carries it along.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller, require_staff, system_caller
from cornerstore.access.policy import CHANGE, Policy
from cornerstore.cases.categories import guess_category
from cornerstore.cases.model import (
    AUTHOR_KINDS,
    CHANNELS,
    DIRECTIONS,
    LINK_KINDS,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    Attachment,
    Case,
    CaseDetail,
    CaseFilter,
    CaseLink,
    CaseMessage,
    QueueEntry,
)
from cornerstore.cases.screening import screen
from cornerstore.cases.spec_events import CaseEvent, read_case_event
from cornerstore.errors import Conflict, InvalidInput, NotFound, Refused
from cornerstore.intake.messages import Message
from cornerstore.intake.service import Intake, Source
from cornerstore.plural import counted
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.settings import Settings
from cornerstore.spec import CASE_OPENED, CASE_RESOLVED
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SECTION = "cases"
# The source name of what the contact centre writes on a customer's timeline.
TIMELINE_SOURCE = "contact-centre"
# Which status may follow which (a resolved or closed case reopens to open).
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "open": ("waiting", "resolved", "closed"),
    "waiting": ("open", "resolved", "closed"),
    "resolved": ("open", "closed"),
    "closed": ("open",),
}


def fold_category(value: str) -> str:
    """A category as stored: lower case, words separated by single spaces.

    >>> fold_category("  Damaged_Item ")
    'damaged item'
    """
    return " ".join(value.replace("_", " ").replace("-", " ").lower().split())


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote in: a customer staff already know (id, e-mail or phone), or the contact
    details the message came with (placed through identity)."""

    customer: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    # street, city, postal_code, country: weighed by identity resolution with the name.
    address: dict[str, str] | None = None

    def traits(self) -> dict[str, Any]:
        pairs = (
            ("email", self.email),
            ("phone", self.phone),
            ("first_name", self.first_name),
            ("last_name", self.last_name),
        )
        found: dict[str, Any] = {
            name: value.strip() for name, value in pairs if value and value.strip()
        }
        address = {k: v.strip() for k, v in (self.address or {}).items() if v and v.strip()}
        if address:
            found["address"] = address
        return found


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to add to a case. ``direction`` in: from the customer (typed by them, or
    noted by the agent who took the call); out: to the customer. ``internal``: a note for
    staff only (always out)."""

    body: str
    direction: str = "out"
    internal: bool = False
    at: datetime | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseOpening:
    """What opens a case: the sender, the channel, what it is about and the first message."""

    sender: Sender
    channel: str
    subject: str
    body: str = ""
    category: str = "other"
    priority: str = "normal"
    branch: str | None = None
    links: tuple[CaseLink, ...] = ()
    owner: str | None = None  # a staff username
    at: datetime | None = None
    external_ref: str | None = None
    message_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    touchpoint: str = "support"


@dataclass(frozen=True, slots=True)
class CaseUpdate:
    """Changes to a case; None leaves a field as it is. ``owner`` "" unassigns."""

    status: str | None = None
    owner: str | None = None
    category: str | None = None
    priority: str | None = None
    branch: str | None = None


@dataclass
class _Written:
    """What one transaction wrote on the timeline and the firewall removed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    privacy: list[dict[str, Any]] = field(default_factory=list)


def _shortened(text: str, limit: int = 80) -> str:
    """``text`` cut at a word boundary near ``limit`` characters, for a subject.

    >>> _shortened("The kettle I ordered last week arrived broken and leaking", 30)
    'The kettle I ordered last…'
    """
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def sender_anonymous_id(kind: str, value: str) -> str:
    """The anonymous id a case sender is stitched with: a digest, so the contact detail is not
    repeated as an identifier."""
    digest = hashlib.sha256(f"{kind}\0{value.strip().lower()}".encode()).hexdigest()[:24]
    return f"contact-{digest}"


def timeline_event(
    message_id: str, profile: str, name: str, at: datetime, properties: dict[str, Any]
) -> dict[str, Any]:
    """The row of a Spec track event the contact centre writes on a customer's timeline
    (support department), filed with the case's profile row."""
    return {
        "message_id": message_id,
        "customer_id": profile,
        "account_id": None,
        "type": "track",
        "name": name,
        "touchpoint": "support",
        "source": TIMELINE_SOURCE,
        "user_id": None,
        "anonymous_id": None,
        "occurred_at": at,
        "original_timestamp": None,
        "sent_at": None,
        "received_at": datetime.now(UTC),
        "properties": orjson.dumps(properties).decode(),
        "context": orjson.dumps({"touchpoint": "support"}).decode(),
        "integrations": None,
        "channel": "server",
        "version": None,
    }


class Cases:
    """The contact centre's cases.

    Examples
    --------
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.settings import IdentityRules
    >>> settings = Settings(identity=IdentityRules(place_arrivals=False))
    >>> services = Services.build(settings, open_store("sqlite://", upgrade=True))
    >>> opened = services.cases.open(system_caller(), CaseOpening(
    ...     Sender(email="ann@example.com"), "email", "Parcel never came", "Where is it?",
    ...     category="delivery"))
    >>> opened.case.status, opened.case.category, opened.messages[0].body
    ('open', 'delivery', 'Where is it?')
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
        intake: Intake,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.lookup = lookup
        self.intake = intake

    # -- checks --------------------------------------------------------------------------------
    def require(self, caller: Caller, action: str = "read") -> None:
        require_staff(caller)
        self.policy.require(caller, SECTION, action)

    def _category(self, value: str) -> str:
        category = fold_category(value)
        if not category or len(category) > 64:
            raise InvalidInput("category: give a category of at most 64 characters")
        return category

    @staticmethod
    def _one_of(name: str, value: str, allowed: Sequence[str]) -> str:
        value = value.strip().lower()
        if value not in allowed:
            raise InvalidInput(f"{name}: must be one of {', '.join(allowed)}")
        return value

    def _owner_id(self, uow: UnitOfWork, username: str | None) -> int | None:
        if not username:
            return None
        user = uow.staff.user(username=username.strip())
        if user is None or user.disabled_at is not None:
            raise InvalidInput("owner: no such active staff user")
        return user.id

    # -- placing the sender --------------------------------------------------------------------
    def place_sender(self, caller: Caller, sender: Sender, touchpoint: str = "support") -> str:
        """The profile row a case from ``sender`` is filed with.

        A customer given by id, e-mail or phone is looked up as the caller's role may; contact
        details go through intake like any other entrance, so an e-mail or phone already known
        joins that customer and a new person is placed by identity resolution afterwards."""
        if sender.customer:
            with self.store.unit_of_work() as uow:
                return self.lookup.find_root(uow, sender.customer, caller, "sender.customer")
        traits = sender.traits()
        kind, value = next(
            ((k, traits[k]) for k in ("email", "phone") if k in traits), (None, None)
        )
        if kind is None or value is None:
            raise InvalidInput("sender: give a customer, an e-mail or a phone")
        anonymous_id = sender_anonymous_id(kind, value)
        message = {"type": "identify", "anonymousId": anonymous_id, "traits": traits}
        result = self.intake.ingest(
            [message],
            source=Source(TIMELINE_SOURCE, touchpoint),
            actor=caller.actor,
            where="sender",
            entrance="cases",
        )
        if result.rejected:
            raise InvalidInput(result.rejected[0].reason)
        if result.suppressed:
            raise Refused("sender: this person was erased; nothing from them is kept")
        key = ("anonymous_id", self.intake.normaliser.identifier("anonymous_id", anonymous_id))
        with self.store.unit_of_work() as uow:
            owner = uow.identifiers.lookup([(key[0], str(key[1]))]).get((key[0], str(key[1])))
        if owner is None:  # pragma: no cover - intake stored it just now
            raise Conflict("sender: could not be placed; try again")
        return owner.customer_id

    # -- opening and writing -------------------------------------------------------------------
    def open(self, caller: Caller, opening: CaseOpening) -> CaseDetail:
        """Open a case (or, for an ``external_ref`` already seen, return that case unchanged)."""
        self.require(caller, CHANGE)
        channel = self._one_of("channel", opening.channel, CHANNELS)
        priority = self._one_of("priority", opening.priority, PRIORITIES)
        category = self._category(opening.category)
        for link in opening.links:
            self._one_of("links.kind", link.kind, LINK_KINDS)
            if not link.ref.strip() or len(link.ref) > 128:
                raise InvalidInput("links.ref: give an id of at most 128 characters")
        texts = screen({"subject": opening.subject, "body": opening.body}, self.settings.privacy)
        subject = " ".join(texts.fields["subject"].split())[:300]
        if not subject:
            raise InvalidInput("subject: give a subject")
        body = self._body(texts.fields["body"])
        self.policy.require_branch(caller, opening.branch)
        if opening.external_ref:
            with self.store.unit_of_work() as uow:
                known = uow.cases.id_by_ref(opening.external_ref)
            if known is not None:
                return self.get(caller, known)
        profile = self.place_sender(caller, opening.sender, opening.touchpoint)
        at = opening.at or datetime.now(UTC)
        written = _Written()
        with self.store.unit_of_work(write=True) as uow:
            owner_id = self._owner_id(uow, opening.owner)
            checked = replace(
                opening,
                channel=channel,
                priority=priority,
                category=category,
                subject=subject,
                body=body,
                at=at,
            )
            case_id = self._insert(uow, caller, profile, checked, owner_id)
            self._privacy(written, texts.findings, f"case {case_id}")
            props = {"case_id": str(case_id), "category": category, "channel": channel}
            self._event(written, case_id, profile, CASE_OPENED, "opened", at, props, checked)
            self._flush(uow, written)
            root = uow.customers.roots_of([profile])[profile]
            self.audit.record_in(uow, caller, "open_case", root, f"case {case_id}", [SECTION])
        return self.get(caller, case_id, audit=False)

    def _insert(
        self,
        uow: UnitOfWork,
        caller: Caller,
        profile: str,
        opening: CaseOpening,
        owner_id: int | None = None,
    ) -> int:
        """Store a checked opening: the case, its links, its first status and message."""
        at = opening.at or datetime.now(UTC)
        case_id = uow.cases.add(
            {
                "customer_id": profile,
                "channel": opening.channel,
                "status": "open",
                "owner_id": owner_id,
                "category": opening.category,
                "priority": opening.priority,
                "branch": (opening.branch or "").strip()[:64] or None,
                "subject": opening.subject,
                "opened_at": at,
                "updated_at": at,
                "reopened": 0,
                "external_ref": opening.external_ref,
                "created_by": caller.actor[:160],
            }
        )
        uow.cases.add_links(case_id, profile, opening.links)
        self._change(uow, caller, case_id, profile, "status", None, "open", at)
        if owner_id is not None:
            self._change(uow, caller, case_id, profile, "owner", None, opening.owner, at)
        if opening.body:
            first = NewMessage(
                opening.body,
                "in",
                at=at,
                message_id=opening.message_id,
                attachments=opening.attachments,
            )
            self._add_message(uow, caller, case_id, profile, opening.channel, first)
        return case_id

    def file_spec_events(self, events: Sequence[tuple[str, Message]]) -> int:
        """File ``Case Opened``, ``Case Message`` and ``Case Resolved`` events intake stored
        (each with the profile it was stitched to) as cases and messages; how many were
        filed. Intake calls this after each batch is committed."""
        caller = system_caller(via="library", actor=f"source:{TIMELINE_SOURCE}")
        filed = 0
        with self.store.unit_of_work(write=True) as uow:
            for profile, msg in events:
                event = read_case_event(profile, msg)
                if event is not None:
                    filed += self._file(uow, caller, event)
        return filed

    def _file(self, uow: UnitOfWork, caller: Caller, event: CaseEvent) -> int:
        case_id = uow.cases.id_by_ref(event.ref)
        if case_id is None:
            first_line = " ".join(event.body.split())
            subject = event.subject or _shortened(first_line) or event.category.capitalize()
            category = event.category
            if category == "other" and event.body:
                category = guess_category(event.body, self.settings.cases.categories)
            opening = CaseOpening(
                Sender(),
                event.channel,
                subject,
                self._body(event.body),
                category=self._category(category),
                priority=event.priority,
                branch=event.branch,
                links=event.links,
                at=event.at,
                external_ref=event.ref,
                message_id=event.message_id,
            )
            case_id = self._insert(uow, caller, event.profile_id, opening)
            if event.kind == "opened":
                return 1
        elif event.kind == "opened":
            return 0
        case = uow.cases.get(case_id)
        assert case is not None
        if event.kind == "message" and event.body:
            if uow.cases.case_of_messages([event.message_id]):
                return 0
            message = NewMessage(
                self._body(event.body), event.direction, at=event.at, message_id=event.message_id
            )
            author = self._spec_agent(uow, caller, case, event)
            self._add_message(uow, author, case_id, case.profile_id, case.channel, message)
            if event.direction == "in" and case.status in ("waiting", "resolved"):
                self._set_status(uow, caller, case, "open", event.at)
        elif event.kind == "resolved" and case.status in OPEN_STATUSES:
            self._set_status(uow, caller, case, "resolved", event.at)
        return 1

    def _spec_agent(self, uow: UnitOfWork, caller: Caller, case: Case, event: CaseEvent) -> Caller:
        """Who wrote an outgoing Case Message: the active staff user its ``agent`` names, who
        then owns the case (as a help desk assigns the agent who answers; a second agent
        answering is a handover). Anyone else: ``caller``, the author left unknown."""
        if event.direction != "out" or not event.agent:
            return caller
        user = uow.staff.user(username=event.agent)
        if user is None or user.disabled_at is not None:
            return caller
        if case.owner_id != user.id:
            uow.cases.update(case.id, {"owner_id": user.id})
            self._change(uow, caller, case.id, case.profile_id, "owner", case.owner,
                         user.username, event.at)  # fmt: skip
        return replace(caller, user_id=user.id)

    def _body(self, body: str) -> str:
        body = body.strip()
        limit = self.settings.cases.max_message_chars
        return body if len(body) <= limit else body[:limit] + " [cut]"

    def add_message(self, caller: Caller, case_id: int, message: NewMessage) -> CaseMessage:
        """Add a message or an internal note to a case. A customer writing on a waiting or
        resolved case reopens it (a closed case stays closed: a new contact opens a new case)."""
        self.require(caller, CHANGE)
        direction = self._one_of("direction", message.direction, DIRECTIONS)
        if message.internal and direction != "out":
            raise InvalidInput("internal: a note is written by staff (direction out)")
        texts = screen({"body": message.body}, self.settings.privacy)
        body = self._body(texts.fields["body"])
        if not body:
            raise InvalidInput("body: give the message text")
        at = message.at or datetime.now(UTC)
        written = _Written()
        with self.store.unit_of_work(write=True) as uow:
            case = self.case_in(uow, caller, case_id)
            if direction == "in" and case.status == "closed":
                raise Conflict("case: it is closed; open a new case for a new contact")
            added = self._add_message(
                uow, caller, case_id, case.profile_id, case.channel, replace(message, body=body)
            )
            if direction == "in" and case.status != "open":
                self._set_status(uow, caller, case, "open", at)
            self._privacy(written, texts.findings, f"case {case_id}")
            self._flush(uow, written)
            self.audit.record_in(
                uow, caller, "write_case", case.customer_id, f"case {case_id}", [SECTION]
            )
        return added

    def _add_message(
        self,
        uow: UnitOfWork,
        caller: Caller,
        case_id: int,
        profile: str,
        channel: str,
        message: NewMessage,
    ) -> CaseMessage:
        author_kind = "customer" if message.direction == "in" else "agent"
        assert author_kind in AUTHOR_KINDS
        files = [
            {"filename": a.filename[:255], "content_type": a.content_type[:127], "size": a.size}
            for a in message.attachments
        ]
        at = message.at or datetime.now(UTC)
        mail_id = message.message_id[:512] if message.message_id else None
        reply_to = message.in_reply_to[:512] if message.in_reply_to else None
        row = {
            "case_id": case_id,
            "customer_id": profile,
            "direction": message.direction,
            "author_kind": author_kind,
            "author_id": caller.user_id,
            "internal": message.internal,
            "channel": channel,
            "body": message.body,
            "sent_at": at,
            "message_id": mail_id,
            "in_reply_to": reply_to,
            "attachments": orjson.dumps(files).decode() if files else None,
        }
        message_id = uow.cases.add_message(row)
        uow.cases.update(case_id, {"updated_at": at})
        user = uow.staff.user(user_id=caller.user_id) if caller.user_id else None
        return CaseMessage(
            message_id,
            case_id,
            message.direction,
            author_kind,
            caller.user_id,
            user.username if user else None,
            message.internal,
            channel,
            message.body,
            at,
            mail_id,
            reply_to,
            message.attachments,
        )

    # -- changing ------------------------------------------------------------------------------
    def update(self, caller: Caller, case_id: int, changes: CaseUpdate) -> Case:
        """Change a case's status, owner, category, priority or branch; each change is kept
        with who made it and when."""
        self.require(caller, CHANGE)
        at = datetime.now(UTC)
        written = _Written()
        with self.store.unit_of_work(write=True) as uow:
            case = self.case_in(uow, caller, case_id)
            if changes.status is not None:
                status = self._one_of("status", changes.status, STATUSES)
                if status != case.status:
                    if status not in NEXT_STATUSES[case.status]:
                        raise Conflict(f"status: a {case.status} case cannot become {status}")
                    self._set_status(uow, caller, case, status, at)
                    if status == "resolved":
                        props = {"case_id": str(case.id), "category": case.category}
                        self._event(written, case.id, case.profile_id, CASE_RESOLVED, "resolved",
                                    at, props, None, case.reopened)  # fmt: skip
            if changes.owner is not None and changes.owner != (case.owner or ""):
                owner_id = self._owner_id(uow, changes.owner)
                uow.cases.update(case.id, {"owner_id": owner_id, "updated_at": at})
                self._change(uow, caller, case.id, case.profile_id, "owner", case.owner,
                             changes.owner or None, at)  # fmt: skip
            if changes.category is not None:
                category = self._category(changes.category)
                if category != case.category:
                    uow.cases.update(case.id, {"category": category, "updated_at": at})
                    self._change(uow, caller, case.id, case.profile_id, "category",
                                 case.category, category, at)  # fmt: skip
            if changes.priority is not None:
                priority = self._one_of("priority", changes.priority, PRIORITIES)
                uow.cases.update(case.id, {"priority": priority, "updated_at": at})
            if changes.branch is not None:
                self.policy.require_branch(caller, changes.branch or None)
                uow.cases.update(case.id, {"branch": changes.branch.strip()[:64] or None})
            self._flush(uow, written)
            self.audit.record_in(
                uow, caller, "change_case", case.customer_id, f"case {case_id}", [SECTION]
            )
            updated = uow.cases.get(case_id)
        assert updated is not None
        return updated

    def _set_status(
        self, uow: UnitOfWork, caller: Caller, case: Case, new: str, at: datetime
    ) -> None:
        values: dict[str, Any] = {"status": new, "updated_at": at}
        if new == "resolved":
            values["resolved_at"] = at
        elif new == "closed":
            values["closed_at"] = at
            if case.resolved_at is None:
                values["resolved_at"] = at
        elif case.status in ("resolved", "closed"):
            values.update(resolved_at=None, closed_at=None, reopened=case.reopened + 1)
        uow.cases.update(case.id, values)
        self._change(uow, caller, case.id, case.profile_id, "status", case.status, new, at)

    def reattach(self, caller: Caller, case_id: int, customer_ref: str) -> Case:
        """File a case (its messages, changes and remedies too) with another customer."""
        self.require(caller, CHANGE)
        at = datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            case = self.case_in(uow, caller, case_id)
            root = self.lookup.find_root(uow, customer_ref, caller, "customer")
            if root != case.customer_id:
                uow.cases.move(case.id, root)
                self._change(uow, caller, case.id, root, "customer", case.customer_id, root, at)
                uow.cases.update(case.id, {"updated_at": at})
                for who in (case.customer_id, root):
                    self.audit.record_in(
                        uow, caller, "reattach_case", who, f"case {case_id}", [SECTION]
                    )
            moved = uow.cases.get(case_id)
        assert moved is not None
        return moved

    def _change(
        self,
        uow: UnitOfWork,
        caller: Caller,
        case_id: int,
        profile: str,
        name: str,
        old: str | None,
        new: str | None,
        at: datetime,
    ) -> None:
        uow.cases.add_change(
            {
                "case_id": case_id,
                "customer_id": profile,
                "at": at,
                "actor": caller.actor[:160],
                "actor_id": caller.user_id,
                "field": name,
                "old": old[:64] if old else None,
                "new": new[:64] if new else None,
            }
        )

    # -- timeline and firewall records ---------------------------------------------------------
    def _event(
        self,
        written: _Written,
        case_id: int,
        profile: str,
        name: str,
        what: str,
        at: datetime,
        properties: dict[str, Any],
        opening: CaseOpening | None,
        reopened: int = 0,
    ) -> None:
        """A Spec track event on the customer's timeline (support department), filed with the
        case's profile row."""
        if opening is not None:
            properties["subject"] = opening.subject[:120]
            for link in opening.links:
                properties.setdefault(f"{link.kind}_id", link.ref)
        message_id = f"case-{case_id}-{what}-{reopened}"
        written.events.append(timeline_event(message_id, profile, name, at, properties))

    @staticmethod
    def _privacy(written: _Written, findings: Sequence[Any], where: str) -> None:
        written.privacy += [
            {
                "at": datetime.now(UTC),
                "entrance": "cases",
                "source": where[:128],
                "kind": f.kind,
                "field": f.path[:512],
                "action": f.action,
                "message_id": None,
            }
            for f in findings
        ]

    @staticmethod
    def _flush(uow: UnitOfWork, written: _Written) -> None:
        existing = uow.events.existing_message_ids([e["message_id"] for e in written.events])
        events = [e for e in written.events if e["message_id"] not in existing]
        if events:
            uow.events.add_many(events)
        if written.privacy:
            uow.privacy_events.add_many(written.privacy)

    # -- reading -------------------------------------------------------------------------------
    def case_in(self, uow: UnitOfWork, caller: Caller, case_id: int) -> Case:
        """A case the caller's branch may see, inside ``uow``; NotFound otherwise."""
        case = uow.cases.get(case_id)
        if case is None or (caller.branch is not None and case.branch not in (None, caller.branch)):
            raise NotFound("case: no such case")
        return case

    def get(self, caller: Caller, case_id: int, audit: bool = True) -> CaseDetail:
        """A case with its messages, changes and remedies."""
        self.require(caller)
        with self.store.unit_of_work() as uow:
            case = self.case_in(uow, caller, case_id)
            detail = CaseDetail(
                case,
                tuple(uow.cases.messages(case_id)),
                tuple(uow.cases.changes(case_id)),
                tuple(uow.cases.remedies([case_id])),
            )
        if audit:
            self.audit.record(caller, "read_case", case.customer_id, f"case {case_id}", [SECTION])
        return detail

    def record_view(self, caller: Caller, case_id: int, root: str, sections: Iterable[str]) -> None:
        """One audit entry for the case page: the case and every section of the customer it
        showed (read with ``audit=False``), instead of one entry per section."""
        self.audit.record(caller, "read_case", root, f"case {case_id}", [SECTION, *sections])

    def filter(
        self,
        caller: Caller,
        *,
        status: Sequence[str] = (),
        channel: Sequence[str] = (),
        category: Sequence[str] = (),
        branch: Sequence[str] = (),
        owner: str | None = None,
        older_than_days: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> CaseFilter:
        """The queue's filter from what staff picked (``owner`` a username, or "none" for
        cases nobody owns; ``older_than_days`` the age of a case)."""
        for name, values, allowed in (("status", status, STATUSES), ("channel", channel, CHANNELS)):
            for value in values:
                self._one_of(name, value, allowed)
        owner_id, unassigned = None, False
        if owner is not None and owner.strip():
            if owner.strip().lower() == "none":
                unassigned = True
            else:
                with self.store.unit_of_work() as uow:
                    user = uow.staff.user(username=owner.strip())
                if user is None:
                    raise InvalidInput("owner: no such staff user")
                owner_id = user.id
        opened_before = None
        if older_than_days is not None:
            if not 0 <= older_than_days <= 36_500:
                raise InvalidInput("age: give a number of days from 0 to 36500")
            opened_before = datetime.now(UTC) - timedelta(days=older_than_days)
        return CaseFilter(
            status=tuple(s.strip().lower() for s in status),
            channel=tuple(c.strip().lower() for c in channel),
            category=tuple(fold_category(c) for c in category if c.strip()),
            branch=tuple(b.strip() for b in branch if b.strip()),
            owner_id=owner_id,
            unassigned=unassigned,
            opened_before=opened_before,
            limit=limit,
            offset=offset,
        )

    def find(
        self, caller: Caller, where: CaseFilter, customer: str | None = None, audit: bool = True
    ) -> list[Case]:
        """The cases ``where`` selects (of one customer, given by id, e-mail or phone), newest
        first. A staff member of a branch sees that branch's cases and those of no branch.
        ``audit=False`` for a page that records one entry for all it shows."""
        self.require(caller)
        if not 1 <= where.limit <= 1000:
            raise InvalidInput("limit: give a number from 1 to 1000")
        root = None
        where = replace(where, visible_to_branch=caller.branch)
        with self.store.unit_of_work() as uow:
            if customer is not None:
                root = self.lookup.find_root(uow, customer, caller)
                where = replace(where, customer_ids=tuple(uow.customers.members(root)))
            found = uow.cases.find(where)
        if audit:
            self.audit.record(caller, "list_cases", root, counted(len(found), "case"), [SECTION])
        return found

    def queue(self, caller: Caller, where: CaseFilter) -> list[QueueEntry]:
        """The queue: the cases ``where`` selects, newest first, each with its customer's
        name read in one query for all of them (when the caller's role may read names) and
        its id as the role sees it (a pseudonym for a pseudonymised role)."""
        self.require(caller)
        if not 1 <= where.limit <= 1000:
            raise InvalidInput("limit: give a number from 1 to 1000")
        with self.store.unit_of_work() as uow:
            found = uow.cases.find(replace(where, visible_to_branch=caller.branch))
            roots = sorted({c.customer_id for c in found})
            names = self.lookup.names_of(uow, caller, roots)
        shown = self.lookup.shown_id(caller)
        sections = [SECTION, "name"] if names else [SECTION]
        self.audit.record(caller, "list_cases", None, counted(len(found), "case"), sections)
        return [
            QueueEntry(
                replace(c, customer_id=shown(c.customer_id), profile_id=shown(c.profile_id)),
                names.get(c.customer_id),
            )
            for c in found
        ]

    def of_customer(
        self, caller: Caller, root: str, limit: int = 200, audit: bool = True
    ) -> list[Case]:
        """Every case of a customer (a root id the caller already read), newest first."""
        return self.find(caller, CaseFilter(limit=limit), root, audit)
