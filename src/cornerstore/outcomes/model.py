"""Plain records of the contact centre's outcome metrics: what the metrics read (cases with
their status history and messages, other contacts, survey answers, purchases) and the figures
they return. No database or web types here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: Statuses in which a case counts as resolved (a closed case was resolved first).
RESOLVED_STATUSES = frozenset({"resolved", "closed"})

#: What the figures may be broken down by.
GROUPINGS = ("channel", "category", "agent", "branch", "segment", "week", "month")


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The case entered ``status`` at ``at`` (open, waiting, resolved or closed)."""

    at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class CaseMessage:
    """One message on a case. ``author`` is ``customer``, ``agent`` or ``note`` (an internal note,
    never seen by the customer); ``agent`` names the member of staff who wrote it."""

    at: datetime
    author: str
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as the metrics read it.

    ``customer_id`` is the customer after identity resolution (the surviving profile of a
    merge), ``None`` while the sender waits in the identity review queue. ``history`` lists the
    status changes in time order, starting with the opening one; ``owners`` the members of staff
    the case was assigned to, in order (a change of owner is a handover); ``agent`` the one who
    holds it now (the breakdown by agent).
    """

    id: int
    customer_id: str | None
    channel: str
    category: str | None
    opened_at: datetime
    history: tuple[StatusChange, ...]
    messages: tuple[CaseMessage, ...] = ()
    owners: tuple[str, ...] = ()
    agent: str | None = None
    branch: str | None = None
    order_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Contact:
    """A customer getting in touch about something, on any channel: every case's opening is one,
    and so is a support event on the timeline that did not open a case (a call logged at the
    till, a chat that was answered at once). ``case_id`` names the case it opened, if any."""

    customer_id: str
    at: datetime
    channel: str
    category: str | None = None
    order_ids: frozenset[str] = field(default_factory=frozenset)
    case_id: int | None = None


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """The customer's answer to the follow-up survey of a case: was the problem resolved.
    ``solicited`` is true when the answer came through a link a member of staff handed out
    rather than the one the system sent."""

    case_id: int
    answered_at: datetime
    resolved: bool
    solicited: bool
    score: int | None = None


@dataclass(frozen=True, slots=True)
class Purchase:
    """A purchase of a customer (after identity resolution)."""

    customer_id: str
    at: datetime
    amount: float


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` of ``n`` with the share and its 95 % Wilson score interval; no share without
    cases (``n`` = 0)."""

    count: int
    n: int
    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Durations:
    """Median and 90th percentile, in hours, of ``n`` durations (none when ``n`` = 0)."""

    n: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True, slots=True)
class OutcomeMetrics:
    """The outcome figures of one set of cases (all, or one group of a breakdown).

    ``resolution`` is resolved ÷ opened; ``first_contact_resolution`` and ``reopen`` are over
    resolved cases; ``repeat_contact`` over opened cases; ``confirmed`` over cases whose
    customer answered the survey the system sent, ``confirmed_solicited`` over answers given
    through a link handed out by staff (kept apart: they run higher). ``response_time``
    (opening to first agent reply) is reported, never the headline.
    """

    opened: int
    resolution: Rate
    first_contact_resolution: Rate
    reopen: Rate
    repeat_contact: Rate
    time_to_resolution: Durations
    confirmed: Rate
    confirmed_solicited: Rate
    response_time: Durations


@dataclass(frozen=True, slots=True)
class MetricsGroup:
    """One group of a breakdown: its key (a channel, an agent, a week's Monday ...) and figures."""

    key: str
    metrics: OutcomeMetrics


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    """What one group of customers did in the window after a resolved case (or the same
    windows, for comparable customers without a case)."""

    customers: int
    bought_again: Rate
    mean_purchases: float | None
    mean_spend: float | None
    mean_p_alive: float | None


@dataclass(frozen=True, slots=True)
class Afterwards:
    """Customers after a resolved case against comparable customers (same segment, no case)
    over the same windows."""

    window_days: int
    after_case: GroupOutcome
    comparable: GroupOutcome


@dataclass(frozen=True, slots=True)
class ServiceMetricsReport:
    """The service dashboard's figures: cases opened in ``[start, end)``, judged at ``as_of``."""

    start: datetime | None
    end: datetime | None
    as_of: datetime
    overall: OutcomeMetrics
    group_by: str | None
    groups: tuple[MetricsGroup, ...]
    afterwards: Afterwards


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """A follow-up survey of a case as stored. ``handed_out_by`` names the member of staff who
    handed the link out (its answer is solicited); ``None`` for the one the system sends."""

    id: int
    case_id: int
    customer_id: str
    category: str
    opened_at: datetime
    created_at: datetime
    handed_out_by: str | None
    exported_at: datetime | None
    answered_at: datetime | None
    resolved: bool | None
    score: int | None

    @property
    def solicited(self) -> bool:
        return self.handed_out_by is not None


@dataclass(frozen=True, slots=True)
class SurveyLink:
    """A survey with the link its customer answers through (the token is the only credential)."""

    survey_id: int
    case_id: int
    customer_id: str
    solicited: bool
    url: str


@dataclass(frozen=True, slots=True)
class SurveyDelivery:
    """What one e-mail run of the follow-up surveys did: surveys made, e-mails sent, those the
    server refused (by answer, ``smtp 550``) and those waiting for want of an address."""

    made: int
    sent: int
    failed: int
    no_address: int
    failures: dict[str, int]
