"""``Campaigns``: create a personal campaign, see its audience funnel, preview a customer's
message, send it (or export it), and measure it against its control group.

Every recipient keeps a state with its reason (eligible, held out, capped, excluded, rendered,
sent, failed); a send after a partial one sends only what is still unsent or failed. Every
message rendered is an audited read of the customer (one row per customer, written with the
batch). See docs/campaigns.md.
"""

from __future__ import annotations

import builtins
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from cornerstore.access.audit import AuditTrail, entry_fields
from cornerstore.access.caller import Caller, system_caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.campaigns.audience import Decision, Funnel, arm_of, run_funnel
from cornerstore.campaigns.contacts import ContactLog
from cornerstore.campaigns.delivery import (
    Delivered,
    Outgoing,
    SmtpSender,
    export_rows,
    open_export,
    read_unsubscribe,
    sign_unsubscribe,
)
from cornerstore.campaigns.model import (
    CAPPED,
    CONTROL,
    ELIGIBLE,
    EXCLUDED,
    FAILED,
    NOT_ASSIGNED,
    RENDERED,
    SENT,
    STATES,
    TREATMENT,
    CampaignRecord,
    Contact,
    CouponRecord,
    Offer,
    Recipient,
)
from cornerstore.campaigns.results import Results, compare, spend_per_customer
from cornerstore.campaigns.templates import (
    Budget,
    MessageTemplate,
    RenderedMessage,
    TemplateFailure,
)
from cornerstore.cases.complaints import customers_with_open_complaint
from cornerstore.errors import Conflict, InvalidInput, NotFound
from cornerstore.learn.segment_service import (
    add_needed_facts,
    stored_facts,
    with_customers_who_never_bought,
)
from cornerstore.learn.segments import MAX_NODES, check_condition, members
from cornerstore.privacy.consent import Consents, check_purpose
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.settings import SERVICE_PURPOSE, Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SECTION = "campaigns"
CHANNELS = ("email", "export")
BATCH = 1000
# How long a send may go without renewing its lease (it renews at every batch) before another
# send may take the campaign over, as after a crash.
SENDING_LEASE = timedelta(minutes=10)
KEY_NAME = "campaign_key"
_NAME_TRAITS = ("first_name", "firstName", "last_name", "lastName", "name")
_COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


@dataclass(frozen=True)
class Preview:
    """One customer's message as the campaign would send it, or why it would not be.

    ``assigned`` False: the campaign is a draft, and ``arm``, ``state`` and ``reason`` are what
    the funnel decides for the customer as it stands now (it may change until the first send).
    """

    customer_id: str
    arm: str | None
    state: str | None
    reason: str | None
    message: RenderedMessage | None
    assigned: bool = True


@dataclass
class SendReport:
    """What one send did."""

    campaign_id: int
    treatment: int = 0
    control: int = 0
    rendered: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    """Recipients sent already by an earlier run."""
    failures: dict[str, int] = field(default_factory=dict)
    """Reason -> how many recipients failed for it."""
    output: str | None = None
    stopped: str | None = None
    """Why the send stopped before trying everyone (the SMTP server could not be reached);
    those not tried keep their state, and a rerun sends them."""

    def summary(self) -> str:
        """What the send did in one line, as the CLI and the console say it."""
        return (
            f"{self.sent} sent, {self.failed} failed, {self.skipped} sent before; "
            f"{self.treatment} treatment, {self.control} control"
        )


@dataclass(frozen=True)
class RecipientPage:
    campaign_id: int
    recipients: list[Recipient]
    next_after: str | None


@dataclass(frozen=True)
class Unsubscribed:
    purpose: str
    changed: bool
    """False when the customer had withdrawn it already (the link works any number of times)."""


@dataclass(frozen=True)
class Redemption:
    """One coupon event from intake: redeemed, or refused with the reason."""

    code: str
    message_id: str
    redeemed: bool
    reason: str | None


class Campaigns:
    """Personal campaigns, to API, CLI and console alike.

    Examples
    --------
    >>> from cornerstore.services import Services
    >>> from cornerstore.storage import open_store
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> _ = services.segments.create(system_caller(), "Everyone", {"score": "loyalty.orders",
    ...                                                            "op": ">=", "value": 0})
    >>> c = services.campaigns.create(system_caller(), name="Spring", purpose="marketing_email",
    ...     channel="email", audience={"segment": "everyone"}, subject="Spring is here",
    ...     body="Hello {{ customer.first_name or 'there' }}")
    >>> services.campaigns.audience(system_caller(), c.id).steps()[0]
    ('segment', 0)
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
        consents: Consents,
        contacts: ContactLog,
        suggest: Callable[[Caller, Sequence[str], str], dict[str, list[dict[str, Any]]]]
        | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.cfg = settings.campaigns
        self.policy = policy
        self.audit = audit
        self.lookup = lookup
        self.consents = consents
        self.contacts = contacts
        self.suggest = suggest
        self.sender_factory: Callable[[], SmtpSender] = lambda: SmtpSender(self.cfg)
        self._key: bytes | None = None

    # -- defining --------------------------------------------------------------------------------
    def create(
        self,
        caller: Caller,
        *,
        name: str,
        purpose: str,
        channel: str,
        audience: dict[str, Any],
        subject: str,
        body: str,
        html: str | None = None,
        offer: Offer | None = None,
        control_share: float = 0.1,
        window_days: int = 30,
        now: datetime | None = None,
    ) -> CampaignRecord:
        """Define a campaign (a draft: nothing is assigned or sent until :meth:`send`)."""
        self.policy.require(caller, SECTION, CHANGE)
        texts = {"name": name, "subject": subject, "body": body, "html": html or ""}
        if offer is not None:
            texts["offer.description"] = offer.description
        for field_name, text in texts.items():
            # Refused alike on every database (PostgreSQL cannot hold one, SQLite would).
            if "\x00" in text:
                raise InvalidInput(f"{field_name}: contains a NUL character")
        name = " ".join(name.split())
        if not 1 <= len(name) <= 128:
            raise InvalidInput("name: 1-128 characters")
        if purpose.strip().lower() != SERVICE_PURPOSE:
            purpose = check_purpose(purpose)
        else:
            purpose = SERVICE_PURPOSE
        if channel not in CHANNELS:
            raise InvalidInput(f"channel: must be one of {', '.join(CHANNELS)}")
        audience = _check_audience(audience)
        if not 0 < control_share < 1:
            raise InvalidInput("control_share: must be between 0 and 1 (exclusive)")
        if not 1 <= window_days <= 365:
            raise InvalidInput("window_days: must be between 1 and 365")
        if offer is not None:
            if not 1 <= len(offer.description.strip()) <= 300:
                raise InvalidInput("offer.description: 1-300 characters")
            if not 1 <= offer.expires_days <= 365:
                raise InvalidInput("offer.expires_days: must be between 1 and 365")
        MessageTemplate.compile(subject, body, html)  # InvalidInput names the part and line
        now = now or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            if "segment" in audience and uow.segments.get(audience["segment"]) is None:
                raise NotFound("audience.segment: no such segment")
            campaign_id = uow.campaigns.add(
                {
                    "name": name,
                    "purpose": purpose,
                    "channel": channel,
                    "audience": orjson.dumps(audience).decode(),
                    "subject": subject,
                    "body": body,
                    "html": html,
                    "offer": orjson.dumps(
                        {
                            "description": offer.description.strip(),
                            "expires_days": offer.expires_days,
                        }
                    ).decode()
                    if offer
                    else None,
                    "control_share": control_share,
                    "window_days": window_days,
                    "role": caller.role,
                    "status": "draft",
                    "created_at": now,
                    "created_by": caller.actor[:160],
                }
            )
            record = uow.campaigns.get(campaign_id)
        assert record is not None
        self.audit.record(caller, "create_campaign", None, f"campaign {campaign_id}")
        return record

    def list(self, caller: Caller) -> builtins.list[CampaignRecord]:
        """Every campaign, newest first."""
        self.policy.require(caller, SECTION, READ)
        with self.store.unit_of_work() as uow:
            return uow.campaigns.all()

    def get(self, caller: Caller, campaign_id: int) -> CampaignRecord:
        self.policy.require(caller, SECTION, READ)
        with self.store.unit_of_work() as uow:
            return _campaign(uow, campaign_id)

    # -- audience --------------------------------------------------------------------------------
    def audience(self, caller: Caller, campaign_id: int, now: datetime | None = None) -> Funnel:
        """The funnel: as it stands now for a draft, as assigned once the campaign was sent."""
        self.policy.require(caller, SECTION, READ)
        with self.store.unit_of_work() as uow:
            campaign = _campaign(uow, campaign_id)
            if campaign.status != "draft":
                return _stored_funnel(uow.campaigns.funnel_counts(campaign_id))
        return self._funnel(campaign, now or datetime.now(UTC))

    def _funnel(self, campaign: CampaignRecord, now: datetime, only: str | None = None) -> Funnel:
        """The funnel of the campaign's audience now; with ``only``, of that one root profile
        (no decision when it is not in the audience)."""
        with self.store.unit_of_work() as uow:
            roots = self._audience_roots(uow, campaign, now)
            if only is not None:
                roots = [r for r in roots if r == only]
            complaining = (
                None
                if campaign.purpose == SERVICE_PURPOSE
                else customers_with_open_complaint(uow, roots, self.settings.cases)
            )
            addresses = (
                set(uow.campaign_facts.emails_of_roots(roots))
                if campaign.channel == "email"
                else None
            )
        service = campaign.purpose == SERVICE_PURPOSE
        consented = None if service else self.consents.allowed(roots, campaign.purpose)
        capped: dict[str, str] = {}
        if not service:
            hits = self.contacts.capped(roots, _contact_channel(campaign), now)
            capped = {customer: hit.reason for customer, hit in hits.items()}
        key = self._signing_key()
        draw = {r: arm_of(key, campaign.id, r, campaign.control_share) for r in roots}
        return run_funnel(
            roots,
            consented=consented,
            capped=capped,
            complaining=complaining,
            addresses=addresses,
            draw=draw,
            purpose=campaign.purpose,
        )

    def _audience_roots(
        self, uow: UnitOfWork, campaign: CampaignRecord, now: datetime
    ) -> builtins.list[str]:
        audience = campaign.audience
        if "segment" in audience:
            segment_id = str(audience["segment"])
            if uow.segments.get(segment_id) is None:
                raise NotFound("audience.segment: no such segment")
            ids: builtins.list[str] = []
            after: str | None = None
            while True:
                page = uow.segments.members(segment_id, after, 10_000)
                ids += page
                if len(page) < 10_000:
                    break
                after = page[-1]
        else:
            definition: Any = audience["rule"]
            facts = with_customers_who_never_bought(
                uow, stored_facts(uow), self.settings.privacy.consent_defaults
            )
            facts = add_needed_facts(uow, facts, [definition], now)
            ids = members(facts, definition)
        return sorted(uow.campaign_facts.person_roots(ids))

    # -- preview ---------------------------------------------------------------------------------
    def preview(self, caller: Caller, campaign_id: int, ref: str) -> Preview:
        """The message one customer would get (an audited read of them), with their group and
        state; for a customer held out or filtered the state says why nothing is sent."""
        self.policy.require(caller, SECTION, READ)
        with self.store.unit_of_work() as uow:
            campaign = _campaign(uow, campaign_id)
            root = self.lookup.find_root(uow, ref, caller)
            recipient = uow.campaigns.recipient(campaign_id, root)
            coupon = uow.coupons.of_campaign(campaign_id, [root]).get(root)
        template = MessageTemplate.compile(campaign.subject, campaign.body, campaign.html)
        coupon_view = None
        if campaign.offer is not None:
            if coupon is None:
                expires = datetime.now(UTC) + timedelta(days=campaign.offer.expires_days)
                coupon = CouponRecord("PREVIEW-CODE", campaign_id, root, expires, None, None)
            coupon_view = coupon
        views, sections = self._views(campaign, template, [root], {root: coupon_view})
        self.audit.record(
            caller, "preview_campaign", root, f"campaign {campaign_id}", [SECTION, *sections]
        )
        shown = self.lookup.shown_id(caller)(root)
        assigned = campaign.status != "draft"
        decision = (
            Decision(root, recipient.arm, recipient.state, recipient.reason)
            if recipient is not None
            else self._decision(campaign, root, assigned)
        )
        arm, state, reason = decision.arm, decision.state, decision.reason
        try:
            message = template.render(views[root], self._budget())
        except TemplateFailure as exc:
            return Preview(shown, arm, FAILED, exc.reason, None, assigned)
        return Preview(shown, arm, state, reason, message, assigned)

    def _decision(self, campaign: CampaignRecord, root: str, assigned: bool) -> Decision:
        """What the funnel decides for one customer with no stored state: as it stands now for
        a draft; for an assigned campaign, the customer was not in its audience then."""
        if assigned:
            return Decision(
                root, NOT_ASSIGNED, EXCLUDED, "not in the audience when it was assigned"
            )
        found = self._funnel(campaign, datetime.now(UTC), only=root).decisions
        if not found:
            return Decision(root, NOT_ASSIGNED, EXCLUDED, "not in the audience")
        return found[0]

    # -- sending ---------------------------------------------------------------------------------
    def send(
        self,
        caller: Caller,
        campaign_id: int,
        *,
        output: Path | None = None,
        now: datetime | None = None,
    ) -> SendReport:
        """Assign the audience (on the first send), then render and deliver each treatment
        customer's message; a rerun sends only what is unsent or failed. An export campaign
        writes ``output`` (a new CSV file) instead of sending."""
        self.policy.require(caller, SECTION, CHANGE)
        now = now or datetime.now(UTC)
        with self.store.unit_of_work() as uow:
            campaign = _campaign(uow, campaign_id)
        if campaign.channel == "export" and output is None:
            raise InvalidInput("output: an export campaign writes a CSV file; name one")
        template = MessageTemplate.compile(campaign.subject, campaign.body, campaign.html)
        lease = secrets.token_hex(16)
        self._hold_sending_lease(campaign_id, lease)
        try:
            return self._send_holding_lease(caller, campaign, template, lease, output, now)
        finally:
            with self.store.unit_of_work(write=True) as uow:
                uow.campaigns.end_sending_lease(campaign_id, lease)

    def _hold_sending_lease(self, campaign_id: int, lease: str) -> None:
        """Take or renew the campaign's sending lease; Conflict while another send holds it,
        so two sends of one campaign (from any process) never deliver a message twice."""
        clock = datetime.now(UTC)  # the real clock, whatever ``now`` a send was given
        with self.store.unit_of_work(write=True) as uow:
            held = uow.campaigns.take_sending_lease(
                campaign_id, lease, clock, clock + SENDING_LEASE
            )
        if not held:
            raise Conflict(
                f"campaign {campaign_id} is being sent by another send; try again when it "
                "has finished (a send that stopped half-way frees it within 10 minutes)"
            )

    def _send_holding_lease(
        self,
        caller: Caller,
        campaign: CampaignRecord,
        template: MessageTemplate,
        lease: str,
        output: Path | None,
        now: datetime,
    ) -> SendReport:
        campaign_id = campaign.id
        if campaign.status == "draft":
            self._assign(campaign, now)
        report = SendReport(campaign_id)
        with self.store.unit_of_work() as uow:
            counts = uow.campaigns.state_counts(campaign_id)
            todo = uow.campaigns.pending(campaign_id, [ELIGIBLE, RENDERED, FAILED])
        report.treatment = sum(n for (arm, _), n in counts.items() if arm == TREATMENT)
        report.control = sum(n for (arm, _), n in counts.items() if arm == CONTROL)
        report.skipped = counts.get((TREATMENT, SENT), 0)
        if campaign.offer is not None:
            self._issue_coupons(campaign, todo, now)
        export = (
            open_export(output) if output is not None and campaign.channel == "export" else None
        )
        try:
            for start in range(0, len(todo), BATCH):
                self._hold_sending_lease(campaign_id, lease)
                self._send_batch(
                    caller, campaign, template, todo[start : start + BATCH], report, export
                )
                if report.stopped:
                    break
        finally:
            if export is not None:
                export.close()
        with self.store.unit_of_work(write=True) as uow:
            if campaign.sent_at is None and report.sent:
                uow.campaigns.set(campaign_id, sent_at=now, status="sent")
        report.output = str(output) if export is not None else None
        self.audit.record(
            caller,
            "send_campaign",
            None,
            f"campaign {campaign_id}: {report.sent} sent, {report.failed} failed",
        )
        return report

    def _assign(self, campaign: CampaignRecord, now: datetime) -> None:
        funnel = self._funnel(campaign, now)
        with self.store.unit_of_work(write=True) as uow:
            current = _campaign(uow, campaign.id)
            if current.status != "draft":  # another send assigned it meanwhile
                return
            uow.campaigns.add_recipients(
                campaign.id,
                [
                    {
                        "customer_id": d.customer_id,
                        "arm": d.arm,
                        "state": d.state,
                        "reason": d.reason,
                        "updated_at": now,
                    }
                    for d in funnel.decisions
                ],
            )
            uow.campaigns.set(campaign.id, status="assigned", assigned_at=now)

    def _issue_coupons(
        self, campaign: CampaignRecord, customers: Sequence[str], now: datetime
    ) -> None:
        """A personal code for each treatment customer who has none yet (never for control)."""
        assert campaign.offer is not None
        expires = now + timedelta(days=campaign.offer.expires_days)
        with self.store.unit_of_work(write=True) as uow:
            for start in range(0, len(customers), BATCH):
                part = customers[start : start + BATCH]
                have = uow.coupons.of_campaign(campaign.id, part)
                uow.coupons.add_many(
                    [
                        {
                            "code": new_coupon_code(),
                            "campaign_id": campaign.id,
                            "customer_id": customer,
                            "expires_at": expires,
                        }
                        for customer in part
                        if customer not in have
                    ]
                )

    def _send_batch(
        self,
        caller: Caller,
        campaign: CampaignRecord,
        template: MessageTemplate,
        customers: Sequence[str],
        report: SendReport,
        export: Any,
    ) -> None:
        now = datetime.now(UTC)
        with self.store.unit_of_work() as uow:
            coupons: dict[str, CouponRecord | None] = dict(
                uow.coupons.of_campaign(campaign.id, customers)
            )
            emails = uow.campaign_facts.emails_of_roots(customers)
        views, sections = self._views(campaign, template, customers, coupons, emails)
        changes: list[tuple[str, str, str | None]] = []
        outgoing: list[Outgoing] = []
        budget = self._budget()
        for customer in customers:
            try:
                message = template.render(views[customer], budget)
            except TemplateFailure as exc:
                changes.append((customer, FAILED, exc.reason))
                continue
            report.rendered += 1
            to = emails.get(customer)
            if to is None and campaign.channel == "email":
                changes.append((customer, FAILED, "no e-mail address"))
                continue
            coupon = coupons.get(customer)
            outgoing.append(
                Outgoing(
                    customer,
                    to or "",
                    message.subject,
                    message.text,
                    message.html,
                    views[customer]["unsubscribe_url"],
                    coupon.code if coupon else None,
                )
            )
        # Rendered is recorded before an SMTP delivery: a crash mid-send leaves who was
        # rendered (an export is written at once, with the final states).
        rendered = [(m.customer_id, RENDERED, None) for m in outgoing]
        with self.store.unit_of_work(write=True) as uow:
            if campaign.channel == "email":
                uow.campaigns.set_states(campaign.id, rendered, now)
            uow.audit.add_many(
                [
                    entry_fields(
                        caller,
                        "campaign_message",
                        m.customer_id,
                        f"campaign {campaign.id}",
                        [SECTION, *sections],
                        now,
                    )
                    for m in outgoing
                ]
            )
        delivered = self._deliver(campaign, outgoing, export, report)
        for d in delivered:
            changes.append((d.customer_id, SENT if d.sent else FAILED, d.reason))
        at = datetime.now(UTC)
        sent = [d.customer_id for d in delivered if d.sent]
        with self.store.unit_of_work(write=True) as uow:
            uow.campaigns.set_states(campaign.id, changes, at)
            uow.contacts.add_many(
                [
                    Contact(
                        c,
                        _contact_channel(campaign),
                        campaign.purpose,
                        at,
                        f"campaign:{campaign.id}",
                        campaign.id,
                    )
                    for c in sent
                ]
            )
        report.sent += len(sent)
        for _, state, why in changes:
            if state == FAILED:
                report.failed += 1
                key = (
                    (why or "failed").split(":")[0]
                    if why and why.startswith("smtp")
                    else (why or "failed")
                )
                report.failures[key[:120]] = report.failures.get(key[:120], 0) + 1

    def _deliver(
        self,
        campaign: CampaignRecord,
        outgoing: Sequence[Outgoing],
        export: Any,
        report: SendReport,
    ) -> builtins.list[Delivered]:
        """Deliver one batch; with the SMTP server unreachable the rest of the batch fails at
        once with that reason and ``report.stopped`` ends the send after it."""
        if not outgoing:
            return []
        if campaign.channel == "export":
            return export_rows(export, outgoing)
        with self.sender_factory() as sender:
            delivered = [sender.send(m) for m in outgoing]
        report.stopped = sender.unreachable
        return delivered

    # -- the view templates see ------------------------------------------------------------------
    def _views(
        self,
        campaign: CampaignRecord,
        template: MessageTemplate,
        customers: Sequence[str],
        coupons: dict[str, CouponRecord | None],
        known_emails: dict[str, str] | None = None,
    ) -> tuple[dict[str, dict[str, Any]], builtins.list[str]]:
        """Plain values per customer, as far as the campaign's role may see them, and the
        sections read. Never a database row."""
        role = _role_caller(campaign)
        visible = self.policy.visible_sections(role)
        needs_consent = self.policy.consent_for(role)
        sections: builtins.list[str] = []
        names: dict[str, dict[str, Any]] = {}
        emails: dict[str, str] = {}
        allowed: set[str] = set(customers)
        with self.store.unit_of_work() as uow:
            if "name" in visible and "customer" in template.names:
                names = uow.campaign_facts.traits_of_roots(customers, _NAME_TRAITS)
                sections.append("name")
            if "contact" in visible and "customer" in template.names:
                emails = (
                    known_emails
                    if known_emails is not None
                    else uow.campaign_facts.emails_of_roots(customers)
                )
                sections.append("contact")
        if needs_consent is not None and (names or emails):
            allowed = self.consents.allowed(customers, needs_consent)
        suggested: dict[str, builtins.list[dict[str, Any]]] = {}
        if "suggestions" in template.names and "suggestions" in visible and self.suggest:
            # One read for the whole batch (one audit entry naming the campaign), not one
            # audited lookup per customer; each message's own audit row names the section.
            suggested = self.suggest(role, customers, f"campaign {campaign.id}")
            sections.append("suggestions")
        views = {}
        shop = {"name": self.settings.business_name}
        offer = campaign.offer.description if campaign.offer else None
        for customer in customers:
            traits = names.get(customer, {}) if customer in allowed else {}
            first = _text(traits.get("first_name", traits.get("firstName")))
            last = _text(traits.get("last_name", traits.get("lastName")))
            full = _text(traits.get("name")) or " ".join(p for p in (first, last) if p) or None
            coupon = coupons.get(customer)
            views[customer] = {
                "customer": {
                    "first_name": first,
                    "last_name": last,
                    "name": full,
                    "email": emails.get(customer) if customer in allowed else None,
                },
                "suggestions": suggested.get(customer, []),
                "coupon": (
                    {
                        "code": coupon.code,
                        "expires": coupon.expires_at.date().isoformat(),
                        "offer": offer,
                    }
                    if coupon is not None
                    else None
                ),
                "offer": offer,
                "shop": shop,
                "unsubscribe_url": self.unsubscribe_url(campaign, customer),
            }
        return views, sections

    def unsubscribe_url(self, campaign: CampaignRecord, customer_id: str) -> str:
        token = sign_unsubscribe(self._signing_key(), campaign.id, customer_id, campaign.purpose)
        return f"{self.cfg.public_url.rstrip('/')}/v1/unsubscribe/{token}"

    def _budget(self) -> Budget:
        return Budget(self.cfg.render_ms / 1000, self.cfg.max_message_chars)

    def _signing_key(self) -> bytes:
        if self._key is None:
            if self.cfg.signing_key:
                self._key = self.cfg.signing_key.encode()
            else:
                with self.store.unit_of_work(write=True) as uow:
                    made = uow.installation_secrets.get_or_make(KEY_NAME, datetime.now(UTC))
                self._key = made.encode()
        return self._key

    # -- recipients ------------------------------------------------------------------------------
    def recipients(
        self,
        caller: Caller,
        campaign_id: int,
        state: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> RecipientPage:
        """A page of recipients with their group and state (pseudonyms for a role that sees
        no ids); pass ``next_after`` back as ``after``."""
        self.policy.require(caller, SECTION, READ)
        if state is not None and state not in STATES:
            raise InvalidInput(f"state: must be one of {', '.join(STATES)}")
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit: must be between 1 and 1000")
        with self.store.unit_of_work() as uow:
            _campaign(uow, campaign_id)
            found = uow.campaigns.recipients(
                campaign_id, [state] if state else None, after, limit + 1
            )
        self.audit.record(
            caller,
            "read_campaign_recipients",
            None,
            f"campaign {campaign_id}: {min(len(found), limit)}",
            [SECTION],
        )
        more = len(found) > limit
        found = found[:limit]
        shown = self.lookup.shown_id(caller)
        page = [
            Recipient(shown(r.customer_id), r.arm, r.state, r.reason, r.attempts, r.updated_at)
            for r in found
        ]
        return RecipientPage(campaign_id, page, found[-1].customer_id if more else None)

    # -- unsubscribing ---------------------------------------------------------------------------
    def unsubscribe(self, token: str, now: datetime | None = None) -> Unsubscribed:
        """Withdraw the purpose the link's campaign was sent for (RFC 8058 one-click); again
        and again is harmless."""
        campaign_id, customer, purpose = read_unsubscribe(self._signing_key(), token)
        if purpose == SERVICE_PURPOSE:
            return Unsubscribed(purpose, False)
        if not self.consents.may(customer, purpose):
            return Unsubscribed(purpose, False)
        link = system_caller(via="api", actor=f"unsubscribe:campaign:{campaign_id}")
        self.consents.change(link, customer, {purpose: False}, touchpoint="web", at=now)
        return Unsubscribed(purpose, True)

    # -- results ---------------------------------------------------------------------------------
    def results(self, caller: Caller, campaign_id: int, now: datetime | None = None) -> Results:
        """Conversion and revenue per assigned customer, treatment against control, in the
        window after the first send (see :mod:`cornerstore.campaigns.results`)."""
        self.policy.require(caller, SECTION, READ)
        now = now or datetime.now(UTC)
        order_events = self.settings.learn.order_events
        with self.store.unit_of_work() as uow:
            campaign = _campaign(uow, campaign_id)
            if campaign.sent_at is None:
                raise InvalidInput("campaign: not sent yet; results start with the first send")
            start = campaign.sent_at
            end = start + timedelta(days=campaign.window_days)
            arms = uow.campaigns.assigned(campaign_id)
            assigned = sorted(arms)
            facts = uow.campaign_facts
            during = facts.track_events_of_roots(assigned, order_events, start, min(end, now))
            pre = start - timedelta(days=self.cfg.pre_period_days)
            before = facts.track_events_of_roots(assigned, order_events, pre, start)
            redeemed = len(uow.coupons.redeemed_in(campaign_id))
        amounts = self.settings.learn.amount_properties
        found = compare(
            campaign_id,
            arms,
            (start, end),
            now,
            spend_per_customer(during, amounts),
            spend_per_customer(before, amounts)[0],
            campaign.control_share,
            redeemed,
            self.cfg.srm_threshold,
        )
        self.audit.record(caller, "read_campaign_results", None, f"campaign {campaign_id}")
        return found

    # -- coupons ---------------------------------------------------------------------------------
    def redeem(self, message_ids: Sequence[str]) -> builtins.list[Redemption]:
        """Redeem the coupons named by these stored track events (``coupon`` property): only
        the customer the code was issued to, once, before it expires. Refusals are recorded,
        never raised (intake calls this after each batch)."""
        done: builtins.list[Redemption] = []
        with self.store.unit_of_work(write=True) as uow:
            for message_id, root, _, at, properties in uow.campaign_facts.events_by_message(
                message_ids
            ):
                code = _coupon_in(properties)
                if code is None:
                    continue
                coupon = uow.coupons.get(code)
                reason = None
                if coupon is None:
                    reason = "unknown"
                elif (
                    coupon.customer_id != root
                    and uow.customers.roots_of([coupon.customer_id]).get(coupon.customer_id) != root
                ):
                    reason = "not_theirs"
                elif coupon.redeemed_at is not None:
                    reason = "used"
                elif at > coupon.expires_at:
                    reason = "expired"
                elif not uow.coupons.redeem(code, at, message_id):
                    reason = "used"
                if reason is not None:
                    uow.coupons.refuse(code, root, reason, message_id, at)
                done.append(Redemption(code, message_id, reason is None, reason))
        return done

    def coupon(
        self, caller: Caller, code: str
    ) -> tuple[CouponRecord, builtins.list[tuple[str, str, datetime]]]:
        """A coupon with its refused redemptions (staff, audited as a read of its customer)."""
        self.policy.require(caller, SECTION, READ)
        with self.store.unit_of_work() as uow:
            found = uow.coupons.get(code.strip().upper())
            if found is None:
                raise NotFound("coupon: no such code")
            refusals = uow.coupons.refusals(found.code)
        self.audit.record(
            caller, "read_coupon", found.customer_id, f"campaign {found.campaign_id}", [SECTION]
        )
        shown = self.lookup.shown_id(caller)
        coupon = CouponRecord(
            found.code,
            found.campaign_id,
            shown(found.customer_id),
            found.expires_at,
            found.redeemed_at,
            found.redeemed_message_id,
        )
        return coupon, [(shown(c), reason, at) for c, reason, at in refusals]


def new_coupon_code() -> str:
    """A random code such as ``CS-7KQ2-M9XH-PT4W`` (60 random bits; unguessable, easy to read:
    no 0/O or 1/I).

    >>> len(new_coupon_code())
    17
    """
    bits = int.from_bytes(secrets.token_bytes(8), "big")
    raw = "".join(_COUPON_ALPHABET[(bits >> (5 * i)) & 31] for i in range(12))
    return f"CS-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _coupon_in(properties: str | None) -> str | None:
    if not properties:
        return None
    try:
        found = orjson.loads(properties)
    except orjson.JSONDecodeError:
        return None
    code = found.get("coupon") if isinstance(found, dict) else None
    if not isinstance(code, str) or not 1 <= len(code.strip()) <= 32:
        return None
    return code.strip().upper()


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _contact_channel(campaign: CampaignRecord) -> str:
    return campaign.channel


def _role_caller(campaign: CampaignRecord) -> Caller:
    return Caller(actor=campaign.created_by, role=campaign.role, via="library")


def _campaign(uow: UnitOfWork, campaign_id: int) -> CampaignRecord:
    found = uow.campaigns.get(campaign_id) if 0 < campaign_id < 2**31 else None
    if found is None:
        raise NotFound("campaign: no such campaign")
    return found


def _check_audience(audience: Any) -> dict[str, Any]:
    if not isinstance(audience, dict) or len(audience) != 1:
        raise InvalidInput('audience: give {"segment": ID} or {"rule": CONDITION}')
    if "segment" in audience:
        if not isinstance(audience["segment"], str) or not audience["segment"].strip():
            raise InvalidInput("audience.segment: give a segment id")
        if "\x00" in audience["segment"]:
            raise InvalidInput("audience.segment: contains a NUL character")
        return {"segment": audience["segment"].strip()}
    if "rule" in audience:
        if check_condition(audience["rule"], "audience.rule") > MAX_NODES:
            raise InvalidInput(f"audience.rule: more than {MAX_NODES} conditions")
        return {"rule": audience["rule"]}
    raise InvalidInput('audience: give {"segment": ID} or {"rule": CONDITION}')


def _stored_funnel(counts: dict[tuple[str, str, str | None], int]) -> Funnel:
    """The funnel as assigned, from the recipients' groups, states and reasons."""
    total = sum(counts.values())

    def excluded(test: Callable[[str], bool]) -> int:
        return sum(
            n for (_, state, why), n in counts.items() if state == EXCLUDED and test(why or "")
        )

    consented = total - excluded(lambda why: why.startswith("no consent"))
    under_caps = consented - sum(n for (_, state, _), n in counts.items() if state == CAPPED)
    without_complaint = under_caps - excluded(lambda why: why == "open complaint")
    return Funnel(
        audience=total,
        consented=consented,
        under_caps=under_caps,
        without_complaint=without_complaint,
        reachable=without_complaint - excluded(lambda why: why == "no e-mail address"),
        treatment=sum(n for (arm, _, _), n in counts.items() if arm == TREATMENT),
        control=sum(n for (arm, _, _), n in counts.items() if arm == CONTROL),
    )
