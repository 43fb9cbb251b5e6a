"""The contact centre's outcome metrics and follow-up surveys, for the API, CLI and console.

``ServiceOutcomes.metrics`` reads the cases opened in a period (and the week after, whose
openings are repeat contacts), their survey answers, the purchases that followed and the
customers to compare with, and hands them to :func:`~cornerstore.outcomes.metrics.service_metrics`.

Follow-up surveys are made by the system once a case is resolved (``send_surveys``): one per
case, its link waiting as *pending* until the shop's mailer takes it (``export_pending``). A
member of staff may hand a customer a link too (``hand_out``): its answer is flagged solicited
and counted apart. A link carries the survey's id signed with an installation secret (HMAC-
SHA256), so nothing that opens it is stored; it stops working after ``survey_valid_days``.
An answer is kept on the survey and as a ``Survey Answered`` event (survey ``service``) on the
customer's timeline, where the say-vs-do report reads it with the solicited ones apart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from cornerstore.access.audit import AuditTrail, entry_fields
from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.campaigns.delivery import Delivered, Outgoing, SmtpSender
from cornerstore.campaigns.model import Contact
from cornerstore.errors import Conflict, InvalidInput, NotFound, Unavailable
from cornerstore.outcomes.metrics import REPEAT_WINDOW, service_metrics
from cornerstore.outcomes.model import (
    GROUPINGS,
    CaseRecord,
    Purchase,
    ServiceMetricsReport,
    SurveyAnswer,
    SurveyDelivery,
    SurveyLink,
    SurveyRecord,
)
from cornerstore.plural import counted
from cornerstore.settings import SERVICE_PURPOSE, Settings
from cornerstore.spec import SURVEY_ANSWERED
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

#: The installation secret survey links are signed with.
SURVEY_SECRET = "service-survey-links"
#: The source of the Survey Answered events written for answers.
SURVEY_SOURCE = "cornerstore-service-survey"
#: Surveys are e-mailed only about cases resolved this recently.
EMAIL_WITHIN = timedelta(days=30)
_SIGNATURE_CHARS = 22  # 128 bits of HMAC-SHA256, base64url


class ServiceOutcomes:
    """Outcome metrics of the contact centre, and the follow-up surveys behind "confirmed".

    Examples
    --------
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> from cornerstore.storage import open_store
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> services.outcomes.metrics(system_caller()).overall.opened
    0
    """

    def __init__(self, store: Store, settings: Settings, policy: Policy, audit: AuditTrail) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        # The campaigns' SMTP delivery (replaceable, as the campaigns' is).
        self.sender_factory: Callable[[], SmtpSender] = lambda: SmtpSender(settings.campaigns)

    def _send_mail(self, outgoing: list[Outgoing]) -> tuple[list[Delivered], str | None]:
        """What became of each message, and why the SMTP server could not be reached (None
        when it could)."""
        if not outgoing:
            return [], None
        with self.sender_factory() as sender:
            delivered = [sender.send(m) for m in outgoing]
        return delivered, sender.unreachable

    # -- metrics -------------------------------------------------------------------------------
    def metrics(
        self,
        caller: Caller,
        start: datetime | None = None,
        end: datetime | None = None,
        group_by: str | None = None,
        now: datetime | None = None,
    ) -> ServiceMetricsReport:
        """The outcome figures of cases opened in ``[start, end)`` (by default the last
        ``outcomes.default_days`` days), overall and by ``group_by``. A member of staff limited
        to a branch sees that branch's cases (their customers' contacts at other branches still
        count as repeat contacts)."""
        if group_by is not None and group_by not in GROUPINGS:
            raise InvalidInput(f"group_by: must be one of {', '.join(GROUPINGS)}")
        read = self._read(caller, start, end, now, group_by)
        return read.report(group_by)

    def dashboard(
        self,
        caller: Caller,
        start: datetime | None = None,
        end: datetime | None = None,
        group_by: str = "channel",
        now: datetime | None = None,
    ) -> tuple[ServiceMetricsReport, ServiceMetricsReport]:
        """The console's service dashboard from one read: the figures by ``group_by``, and the
        same by week (by month over more than half a year) for the trend."""
        if group_by not in GROUPINGS:
            raise InvalidInput(f"group_by: must be one of {', '.join(GROUPINGS)}")
        read = self._read(caller, start, end, now, group_by)
        weeks = read.end - read.start <= timedelta(days=183)
        return read.report(group_by), read.report("week" if weeks else "month")

    def _read(
        self,
        caller: Caller,
        start: datetime | None,
        end: datetime | None,
        now: datetime | None,
        group_by: str | None,
    ) -> _Read:
        self.policy.require(caller, "service_metrics", READ)
        cfg = self.settings.outcomes
        now = now or datetime.now(UTC)
        end = _utc(end) if end is not None else now
        start = _utc(start) if start is not None else end - timedelta(days=cfg.default_days)
        if start >= end:
            raise InvalidInput("from: must be before to")
        if end - start > timedelta(days=cfg.max_days):
            raise InvalidInput(
                f"from, to: the period may span at most {counted(cfg.max_days, 'day')}"
            )
        learn = self.settings.learn
        with self.store.unit_of_work() as uow:
            cases = uow.outcomes.case_records(start, end + REPEAT_WINDOW, cfg.max_cases + 1)
            if len(cases) > cfg.max_cases:
                raise InvalidInput(
                    f"from, to: more than {counted(cfg.max_cases, 'case')} in the period; "
                    "ask for a shorter one"
                )
            measured = [c for c in cases if c.opened_at < end and _in_branch(c, caller.branch)]
            answers = uow.outcomes.answers([c.id for c in measured])
            customers = sorted({c.customer_id for c in measured if c.customer_id is not None})
            segments = self._segments(uow, customers)
            followed = sorted(segments)
            purchases = uow.outcomes.purchases(
                followed, learn.order_events, learn.amount_properties, start, now
            )
            p_alive = {
                s.customer_id: float(s.value["probability_alive"])
                for s in uow.learning.scores_of(followed)
                if s.name == "value"
                and isinstance(s.value, dict)
                and isinstance(s.value.get("probability_alive"), int | float)
            }
        detail = f"{start:%Y-%m-%d}..{end:%Y-%m-%d}" + (f" by {group_by}" if group_by else "")
        self.audit.record(caller, "read_service_metrics", None, detail, ["service_metrics"])
        return _Read(
            cases, caller.branch, answers, purchases, segments, p_alive, start, end, now,
            cfg.follow_days,
        )  # fmt: skip

    def _segments(self, uow: UnitOfWork, customers: list[str]) -> dict[str, str | None]:
        """Segments (learned clusters) of the case customers and of up to ``max_comparable``
        customers of the same segments without a case, chosen by a stable hash of their id
        so the same shop compares with the same customers every time."""
        members = uow.learning.cluster_members()
        clusters = dict(zip(members["customer_id"], members["segment"], strict=True))
        segments: dict[str, str | None] = {c: clusters.get(c) for c in customers}
        wanted = {s for s in segments.values() if s is not None}
        with_case = set(customers)
        candidates = sorted(
            (c for c, s in clusters.items() if s in wanted and c not in with_case),
            key=lambda c: hashlib.sha256(c.encode()).digest(),
        )
        for customer in candidates[: self.settings.outcomes.max_comparable]:
            segments[customer] = clusters[customer]
        return segments

    # -- surveys -------------------------------------------------------------------------------
    def send_surveys(self, caller: Caller, now: datetime | None = None) -> list[SurveyLink]:
        """Make the follow-up survey of every resolved case that has none yet (at most
        ``outcomes.survey_batch``); they wait as pending until exported."""
        self.policy.require(caller, "cases", CHANGE)
        now = now or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            made = [
                uow.outcomes.add_survey(case_id, profile, now, None)
                for case_id, profile in uow.outcomes.resolved_without_survey(
                    self.settings.outcomes.survey_batch
                )
            ]
            links = [self._link(uow, s) for s in map(uow.outcomes.survey, made) if s]
        self.audit.record(caller, "send_service_surveys", None, counted(len(links), "survey"))
        return links

    def export_pending(self, caller: Caller, now: datetime | None = None) -> list[SurveyLink]:
        """The links of surveys waiting for the shop's mailer, marked as exported: each is
        handed out once."""
        self.policy.require(caller, "cases", CHANGE)
        now = now or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            pending = uow.outcomes.pending(self.settings.outcomes.survey_batch)
            links = [self._link(uow, s) for s in pending]
            uow.outcomes.mark_exported([s.id for s in pending], now)
        self.audit.record(caller, "export_service_surveys", None, counted(len(links), "survey"))
        return links

    def deliver_surveys(self, caller: Caller, now: datetime | None = None) -> SurveyDelivery:
        """Make the follow-up survey of every resolved case that has none yet, then e-mail
        each one the system made and has not handed over yet, through the campaigns' SMTP
        delivery (``campaigns.smtp_*`` settings).

        A survey is a service message (purpose ``service``): it needs no marketing consent,
        an open complaint does not hold it back and it counts against no frequency cap, so it
        carries nothing but the question and its link (no offer, no coupon). Each one sent is
        marked exported (never sent twice) and logged as a contact; one the server refused
        or a customer without an e-mail address stays pending, for the next run or for
        ``export_pending``. Only cases resolved in the last 30 days (``EMAIL_WITHIN``) are
        e-mailed: nobody is asked about a problem of long ago (the first run on an old shop
        mails none of its history; those surveys stay for ``export_pending``).

        Raises :class:`Conflict` when no SMTP server is configured (nothing is made), and
        :class:`Unavailable` when the server could not be reached for any of them (the
        surveys made stay pending for the next run)."""
        self.policy.require(caller, "cases", CHANGE)
        if not self.settings.campaigns.smtp_configured:
            raise Conflict(
                "deliver: smtp needs an SMTP server (campaigns.smtp_host); without one, "
                "export the surveys for the shop's mailer"
            )
        now = now or datetime.now(UTC)
        made = self.send_surveys(caller, now)
        with self.store.unit_of_work(write=True) as uow:
            pending = uow.outcomes.pending(
                self.settings.outcomes.survey_batch, resolved_since=now - EMAIL_WITHIN
            )
            links = [self._link(uow, s) for s in pending]
            addresses = uow.campaign_facts.emails_of_roots(sorted({s.customer_id for s in pending}))
        mail = [
            (survey, survey_message(survey, link, addresses[survey.customer_id]))
            for survey, link in zip(pending, links, strict=True)
            if survey.customer_id in addresses
        ]
        delivered, unreachable = self._send_mail([m for _, m in mail])
        sent = list(zip([s for s, _ in mail], delivered, strict=True))
        at = datetime.now(UTC)
        done = [survey for survey, d in sent if d.sent]
        with self.store.unit_of_work(write=True) as uow:
            uow.outcomes.mark_exported([s.id for s in done], at)
            uow.contacts.add_many(
                [
                    Contact(s.customer_id, "email", SERVICE_PURPOSE, at, f"survey:{s.id}")
                    for s in done
                ]
            )
            uow.audit.add_many(
                [
                    entry_fields(
                        caller,
                        "service_survey_email",
                        s.customer_id,
                        f"case {s.case_id}",
                        ["cases", "contact"],
                        at,
                    )
                    for s in done
                ]
            )
        failures: dict[str, int] = {}
        for _, d in sent:
            if not d.sent:
                key = (d.reason or "failed").split(":")[0][:120]
                failures[key] = failures.get(key, 0) + 1
        if sent and not done and unreachable:
            raise Unavailable(
                f"deliver: the SMTP server could not be reached; "
                f"{counted(len(pending), 'survey stays', 'surveys stay')} pending for the next run",
                retry_after=60,
            )
        return SurveyDelivery(
            made=len(made),
            sent=len(done),
            failed=len(sent) - len(done),
            no_address=len(pending) - len(mail),
            failures=failures,
        )

    def hand_out(self, caller: Caller, case_id: int, now: datetime | None = None) -> SurveyLink:
        """A survey link for the customer of a case, handed out by the caller: its answer is
        flagged solicited."""
        self.policy.require(caller, "cases", CHANGE)
        now = now or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            case = uow.cases.get(case_id)
            if case is None:
                raise NotFound(f"case {case_id}: no such case")
            self.policy.require_branch(caller, case.branch)
            survey_id = uow.outcomes.add_survey(case_id, case.profile_id, now, caller.actor)
            survey = uow.outcomes.survey(survey_id)
            assert survey is not None
            link = self._link(uow, survey)
        self.audit.record(caller, "hand_out_service_survey", case.customer_id, f"case {case_id}")
        return link

    def open_survey(self, token: str, now: datetime | None = None) -> SurveyRecord:
        """The survey a link leads to (no login: the token is the credential)."""
        with self.store.unit_of_work() as uow:
            return self._by_token(uow, token, now or datetime.now(UTC))

    def answer(
        self, token: str, resolved: bool, score: int, now: datetime | None = None
    ) -> SurveyRecord:
        """Keep the customer's answer: was the problem resolved, and a score of 1 to 5."""
        if not 1 <= score <= 5:
            raise InvalidInput("score: must be a whole number from 1 to 5")
        now = now or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            survey = self._by_token(uow, token, now)
            if not uow.outcomes.record_answer(survey.id, now, resolved, score):
                raise Conflict("survey: this survey was answered already")
            uow.events.add_many([_answer_event(survey, resolved, score, now)])
            answered = uow.outcomes.survey(survey.id)
        assert answered is not None
        return answered

    def _link(self, uow: UnitOfWork, survey: SurveyRecord) -> SurveyLink:
        token = f"{survey.id}.{_signature(self._secret(uow), survey.id)}"
        return SurveyLink(
            survey.id,
            survey.case_id,
            survey.customer_id,
            survey.solicited,
            self.settings.outcomes.survey_url + token,
        )

    def _secret(self, uow: UnitOfWork) -> str:
        return uow.installation_secrets.get_or_make(SURVEY_SECRET, datetime.now(UTC))

    def _by_token(self, uow: UnitOfWork, token: str, now: datetime) -> SurveyRecord:
        unknown = NotFound("survey: this link is not valid")
        number, _, signature = token.partition(".")
        if not number.isdigit() or len(number) > 18:
            raise unknown
        expected = _signature(self._secret(uow), int(number))
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise unknown
        survey = uow.outcomes.survey(int(number))
        if survey is None:
            raise unknown
        if now - survey.created_at > timedelta(days=self.settings.outcomes.survey_valid_days):
            raise NotFound("survey: this link has expired")
        return survey


@dataclass(frozen=True)
class _Read:
    """What one metrics request read, to be figured out once or several times."""

    cases: list[CaseRecord]
    branch: str | None
    answers: list[SurveyAnswer]
    purchases: list[Purchase]
    segments: dict[str, str | None]
    p_alive: dict[str, float]
    start: datetime
    end: datetime
    now: datetime
    follow_days: int

    def report(self, group_by: str | None) -> ServiceMetricsReport:
        return service_metrics(
            self.cases,
            as_of=self.now,
            start=self.start,
            end=self.end,
            group_by=group_by,
            branch=self.branch,
            answers=self.answers,
            purchases=self.purchases,
            segments=self.segments,
            p_alive=self.p_alive,
            window_days=self.follow_days,
        )


def _in_branch(case: CaseRecord, branch: str | None) -> bool:
    return branch is None or case.branch == branch


def _signature(secret: str, survey_id: int) -> str:
    digest = hmac.new(secret.encode(), f"survey:{survey_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]


def _answer_event(
    survey: SurveyRecord, resolved: bool, score: int, now: datetime
) -> dict[str, Any]:
    properties = {
        "survey": "service",
        "score": score,
        "resolved": resolved,
        "solicited_by_employee": survey.solicited,
        "case_id": str(survey.case_id),
    }
    return {
        "message_id": f"service-survey-{survey.id}",
        "customer_id": survey.customer_id,
        "account_id": None,
        "type": "track",
        "name": SURVEY_ANSWERED,
        "touchpoint": "survey",
        "source": SURVEY_SOURCE,
        "user_id": None,
        "anonymous_id": None,
        "occurred_at": now,
        "original_timestamp": None,
        "sent_at": None,
        "received_at": now,
        "properties": orjson.dumps(properties).decode(),
        "context": None,
        "integrations": None,
    }


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def survey_message(survey: SurveyRecord, link: SurveyLink, to: str) -> Outgoing:
    """The follow-up survey as an e-mail: the question and its link, nothing else (a service
    message carries no marketing). The case's subject is not quoted: it is the customer's text.

    >>> at = datetime(2026, 3, 1, tzinfo=UTC)
    >>> survey = SurveyRecord(7, 12, "cus_1", "delivery", at, at, None, None, None, None, None)
    >>> link = SurveyLink(7, 12, "cus_1", False, "https://shop.example/s/7.x")
    >>> mail = survey_message(survey, link, "ann@example.com")
    >>> mail.subject, mail.unsubscribe_url, mail.coupon
    ('Was your problem solved? (case 12)', None, None)
    """
    text = (
        f"You contacted us on {survey.opened_at:%d %B %Y} about {survey.category} "
        f"(case {survey.case_id}), and we marked it resolved.\n\n"
        "Was your problem solved? Two questions, one click:\n"
        f"{link.url}\n\n"
        "The link works once and only for this case."
    )
    subject = f"Was your problem solved? (case {survey.case_id})"
    return Outgoing(survey.customer_id, to, subject, text, None, None)
