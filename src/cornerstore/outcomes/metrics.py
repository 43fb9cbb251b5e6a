"""The contact centre's outcome metrics, defined over plain records (docs/service-metrics.md).

Every figure is about cases *opened* in the period, judged at ``as_of``:

- **resolution rate**: cases whose status at ``as_of`` is resolved or closed ÷ cases opened;
- **first-contact resolution**: a resolved case with at most one agent reply, no handover (one
  owner, one replying agent), never reopened, and no new contact from the same customer (after
  identity resolution) about the same category or order on any channel from its opening until 7
  days after it was resolved. Over resolved cases whose 7 days have passed and whose customer is
  known;
- **reopen rate**: cases resolved at least once that left resolved/closed again ÷ cases resolved
  at least once;
- **repeat contact within 7 days**: cases followed, within 7 days of opening, by another contact
  from the same customer about the same category or order, on any channel ÷ cases whose 7 days
  have passed and whose customer is known;
- **time to resolution**: opening to the (latest) resolution of resolved cases, median and 90th
  percentile, in hours;
- **resolution confirmed by the customer**: cases whose customer answered the follow-up survey
  "yes, resolved" ÷ cases with an answer; answers through a link staff handed out are counted
  apart (``confirmed_solicited``);
- **response time**: opening to the first agent reply (reported, never the headline).

Rates carry n and a 95 % Wilson score interval (``estimates``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cornerstore.errors import InvalidInput
from cornerstore.outcomes.afterwards import follow_customers
from cornerstore.outcomes.estimates import summarise_hours, wilson_rate
from cornerstore.outcomes.model import (
    GROUPINGS,
    RESOLVED_STATUSES,
    CaseRecord,
    Contact,
    MetricsGroup,
    OutcomeMetrics,
    Purchase,
    Rate,
    ServiceMetricsReport,
    SurveyAnswer,
)

#: A new contact about the same matter within this many days counts against the case.
REPEAT_WINDOW = timedelta(days=7)

_NONE = "(none)"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the definitions need to know about one case at ``as_of``."""

    resolved_at: datetime | None
    """Start of the current resolved (or closed) spell; ``None`` unless resolved at ``as_of``."""
    ever_resolved: bool
    reopened: bool
    agent_replies: int
    handover: bool
    first_reply_at: datetime | None


def case_facts(case: CaseRecord, as_of: datetime) -> CaseFacts:
    """Read a case's history and messages as they stood at ``as_of``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from cornerstore.outcomes.model import CaseRecord, StatusChange
    >>> t = lambda day: datetime(2026, 3, day, tzinfo=timezone.utc)
    >>> changes = [StatusChange(t(day), status) for day, status in
    ...     [(1, "open"), (2, "resolved"), (3, "open"), (4, "closed")]]
    >>> case = CaseRecord(1, "c1", "email", "delivery", t(1), tuple(changes))
    >>> facts = case_facts(case, t(9))
    >>> facts.resolved_at == t(4), facts.reopened
    (True, True)
    """
    resolved_at: datetime | None = None
    ever_resolved = reopened = False
    for change in case.history:
        if change.at > as_of:
            break
        if change.status in RESOLVED_STATUSES:
            if resolved_at is None:
                resolved_at = change.at
            ever_resolved = True
        elif resolved_at is not None:
            reopened = True
            resolved_at = None
    replies = [m for m in case.messages if m.author == "agent" and m.at <= as_of]
    repliers = {m.agent for m in replies if m.agent is not None}
    return CaseFacts(
        resolved_at=resolved_at,
        ever_resolved=ever_resolved,
        reopened=reopened,
        agent_replies=len(replies),
        handover=len(set(case.owners)) > 1 or len(repliers) > 1,
        first_reply_at=min((m.at for m in replies), default=None),
    )


def same_matter(contact: Contact, case: CaseRecord) -> bool:
    """A contact is about the same matter as a case when it names the same category or one of
    the same orders."""
    same_category = case.category is not None and contact.category == case.category
    return same_category or bool(contact.order_ids & case.order_ids)


class ContactIndex:
    """Every contact of every customer, in time order: each case's opening and the other
    contacts given."""

    def __init__(self, cases: Iterable[CaseRecord], contacts: Iterable[Contact]) -> None:
        by_customer: dict[str, list[Contact]] = defaultdict(list)
        for case in cases:
            if case.customer_id is not None:
                by_customer[case.customer_id].append(
                    Contact(
                        customer_id=case.customer_id,
                        at=case.opened_at,
                        channel=case.channel,
                        category=case.category,
                        order_ids=case.order_ids,
                        case_id=case.id,
                    )
                )
        for contact in contacts:
            by_customer[contact.customer_id].append(contact)
        self._by_customer = {
            c: sorted(found, key=lambda k: k.at) for c, found in by_customer.items()
        }

    def followed_up(self, case: CaseRecord, until: datetime) -> bool:
        """Did the case's customer get in touch again about the same matter after the case was
        opened and no later than ``until`` (any channel, any other case)?"""
        if case.customer_id is None:
            return False
        return any(
            case.opened_at < k.at <= until and k.case_id != case.id and same_matter(k, case)
            for k in self._by_customer.get(case.customer_id, ())
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """One case judged at ``as_of`` by every definition; ``None`` where a definition does not
    judge it yet (its 7 days are not over, or its customer is not known)."""

    resolved_at: datetime | None
    ever_resolved: bool
    reopened: bool
    repeat_contact: bool | None
    first_contact: bool | None
    hours_to_resolution: float | None
    hours_to_response: float | None
    confirmed: bool | None
    confirmed_solicited: bool | None


def judge(
    case: CaseRecord,
    contacts: ContactIndex,
    answers: Sequence[SurveyAnswer],
    as_of: datetime,
) -> Verdict:
    """Judge one case at ``as_of``. ``answers`` are its survey answers; only those given by
    ``as_of`` count, the latest of each kind (sent by the system, or handed out by staff)
    deciding."""
    facts = case_facts(case, as_of)
    known = case.customer_id is not None
    repeat = None
    if known and case.opened_at + REPEAT_WINDOW <= as_of:
        repeat = contacts.followed_up(case, case.opened_at + REPEAT_WINDOW)
    first_contact = None
    if known and facts.resolved_at is not None and facts.resolved_at + REPEAT_WINDOW <= as_of:
        first_contact = (
            facts.agent_replies <= 1
            and not facts.handover
            and not facts.reopened
            and not contacts.followed_up(case, facts.resolved_at + REPEAT_WINDOW)
        )
    system, staff = (_latest_answer(answers, solicited, as_of) for solicited in (False, True))
    return Verdict(
        resolved_at=facts.resolved_at,
        ever_resolved=facts.ever_resolved,
        reopened=facts.reopened,
        repeat_contact=repeat,
        first_contact=first_contact,
        hours_to_resolution=(
            None if facts.resolved_at is None else _hours(facts.resolved_at - case.opened_at)
        ),
        hours_to_response=(
            None if facts.first_reply_at is None else _hours(facts.first_reply_at - case.opened_at)
        ),
        confirmed=None if system is None else system.resolved,
        confirmed_solicited=None if staff is None else staff.resolved,
    )


def summarise(verdicts: Sequence[Verdict]) -> OutcomeMetrics:
    """The outcome figures of a set of judged cases (all of a period, or one group)."""

    def rate(values: Iterable[bool | None]) -> Rate:
        judged = [v for v in values if v is not None]
        return wilson_rate(sum(judged), len(judged))

    return OutcomeMetrics(
        opened=len(verdicts),
        resolution=wilson_rate(sum(v.resolved_at is not None for v in verdicts), len(verdicts)),
        first_contact_resolution=rate(v.first_contact for v in verdicts),
        reopen=rate(v.reopened for v in verdicts if v.ever_resolved),
        repeat_contact=rate(v.repeat_contact for v in verdicts),
        time_to_resolution=summarise_hours(
            [v.hours_to_resolution for v in verdicts if v.hours_to_resolution is not None]
        ),
        confirmed=rate(v.confirmed for v in verdicts),
        confirmed_solicited=rate(v.confirmed_solicited for v in verdicts),
        response_time=summarise_hours(
            [v.hours_to_response for v in verdicts if v.hours_to_response is not None]
        ),
    )


def group_key(group_by: str, segments: Mapping[str, str | None]) -> Callable[[CaseRecord], str]:
    """The function putting a case in its group of a breakdown (``GROUPINGS``)."""
    keys: dict[str, Callable[[CaseRecord], str]] = {
        "channel": lambda c: c.channel,
        "category": lambda c: c.category or _NONE,
        "agent": lambda c: c.agent or "(unassigned)",
        "branch": lambda c: c.branch or _NONE,
        "segment": lambda c: (segments.get(c.customer_id) if c.customer_id else None) or _NONE,
        "week": lambda c: (c.opened_at - timedelta(days=c.opened_at.weekday())).date().isoformat(),
        "month": lambda c: c.opened_at.strftime("%Y-%m"),
    }
    if group_by not in keys:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPINGS)}")
    return keys[group_by]


def service_metrics(
    cases: Sequence[CaseRecord],
    *,
    as_of: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    group_by: str | None = None,
    branch: str | None = None,
    contacts: Iterable[Contact] = (),
    answers: Iterable[SurveyAnswer] = (),
    purchases: Iterable[Purchase] = (),
    segments: Mapping[str, str | None] | None = None,
    p_alive: Mapping[str, float] | None = None,
    window_days: int = 90,
) -> ServiceMetricsReport:
    """The service dashboard's figures for cases opened in ``[start, end)``.

    ``cases`` may reach past ``end``: every case given is a contact of its customer, so a case
    opened just after the period still counts as a repeat contact for one opened just before.
    ``segments`` maps customers (those of the cases and the comparable ones) to their segment;
    ``p_alive`` gives the last learned probability that a customer is still active. With
    ``branch``, only that branch's cases are measured (all still count as contacts).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from cornerstore.outcomes.model import CaseRecord, StatusChange
    >>> t = lambda day: datetime(2026, 3, day, tzinfo=timezone.utc)
    >>> opened = lambda i, day, *more: CaseRecord(
    ...     i, f"c{i}", "chat", "delivery", t(day), (StatusChange(t(day), "open"), *more))
    >>> report = service_metrics(
    ...     [opened(1, 1, StatusChange(t(2), "resolved")), opened(2, 1)], as_of=t(20))
    >>> report.overall.resolution.count, report.overall.resolution.n
    (1, 2)
    """
    if start is not None and end is not None and start >= end:
        raise InvalidInput("from must be before to")
    in_period = [
        c
        for c in cases
        if (start is None or c.opened_at >= start)
        and (end is None or c.opened_at < end)
        and (branch is None or c.branch == branch)
    ]
    index = ContactIndex(cases, contacts)
    by_case: dict[int, list[SurveyAnswer]] = defaultdict(list)
    for answer in answers:
        by_case[answer.case_id].append(answer)
    segments = segments or {}
    verdicts = [judge(c, index, by_case.get(c.id, ()), as_of) for c in in_period]
    groups: list[MetricsGroup] = []
    if group_by is not None:
        key = group_key(group_by, segments)
        grouped: dict[str, list[Verdict]] = defaultdict(list)
        for case, verdict in zip(in_period, verdicts, strict=True):
            grouped[key(case)].append(verdict)
        groups = [MetricsGroup(name, summarise(members)) for name, members in grouped.items()]
        if group_by in ("week", "month"):
            groups.sort(key=lambda g: g.key)
        else:
            groups.sort(key=lambda g: (-g.metrics.opened, g.key))
    return ServiceMetricsReport(
        start=start,
        end=end,
        as_of=as_of,
        overall=summarise(verdicts),
        group_by=group_by,
        groups=tuple(groups),
        afterwards=follow_customers(
            in_period,
            [v.resolved_at for v in verdicts],
            cases_anywhere={c.customer_id for c in cases if c.customer_id is not None},
            purchases=purchases,
            segments=segments,
            p_alive=p_alive or {},
            as_of=as_of,
            window_days=window_days,
        ),
    )


def _latest_answer(
    answers: Iterable[SurveyAnswer], solicited: bool, as_of: datetime
) -> SurveyAnswer | None:
    given = [a for a in answers if a.solicited == solicited and a.answered_at <= as_of]
    return max(given, key=lambda a: a.answered_at, default=None)


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600
