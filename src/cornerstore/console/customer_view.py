"""How the customer page shows what the services read: chart rows, words, filter choices.

Presentation only: every number here was computed (and every rule applied) by a service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cornerstore.access.caller import Caller
from cornerstore.access.policy import Policy
from cornerstore.console.charts import BarChart, bar_chart, gauge
from cornerstore.plural import counted
from cornerstore.profiles.model import Event, Profile, TimelinePage
from cornerstore.settings import TOUCHPOINTS
from cornerstore.spec import MESSAGE_TYPES

MOMENT_SOURCE = "cornerstore-learn"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    """The timeline filters of the page: one department and one event type, or all."""

    touchpoint: str = ""
    type: str = ""
    cursor: str | None = None

    @classmethod
    def of(cls, touchpoint: str, type: str, cursor: str = "") -> TimelineFilter:
        return cls(touchpoint.strip(), type.strip(), cursor.strip() or None)

    @property
    def touchpoints(self) -> list[str]:
        return [self.touchpoint] if self.touchpoint else []

    @property
    def types(self) -> list[str]:
        return [self.type] if self.type else []

    @staticmethod
    def choices(policy: Policy, caller: Caller) -> dict[str, list[str]]:
        """The departments whose events the caller's role may read, and the event types."""
        return {
            "touchpoints": [
                tp for tp in TOUCHPOINTS if policy.may(caller, policy.timeline_section(tp))
            ],
            "types": list(MESSAGE_TYPES),
        }


def moments_of(page: TimelinePage) -> list[Event]:
    """The moments learning found (moved house, first complaint...) among the page's events."""
    return [event for event in page.events if event.source == MOMENT_SOURCE]


def activity_chart(profile: Profile | None) -> BarChart | None:
    """Events per department, most first, from the profile's summary."""
    if profile is None or profile.summary is None or not profile.summary.by_touchpoint:
        return None
    counts = sorted(profile.summary.by_touchpoint.items(), key=lambda kv: (-kv[1], kv[0]))
    return bar_chart("Events per department", [(tp, n, str(n)) for tp, n in counts])


@dataclass(frozen=True, slots=True)
class ScoreView:
    """Value, loyalty, churn risk and the delivery window, as charts and sentences."""

    profiled: bool
    value_words: str | None = None
    loyalty: BarChart | None = None
    loyalty_words: str | None = None
    active: BarChart | None = None
    at_risk: bool = False
    risk_words: list[str] | None = None
    delivery: BarChart | None = None
    delivery_words: list[str] | None = None
    computed_at: Any = None


def _money(amount: float) -> str:
    return f"{amount:,.2f}"


def score_view(found: Any) -> ScoreView:
    """Charts and words for a :class:`~cornerstore.learn.service.CustomerScores`."""
    if not found.profiled:
        return ScoreView(profiled=False)
    scores = found.scores
    view: dict[str, Any] = {"profiled": True}
    value = scores.get("value")
    if value is not None:
        v = value.value
        view["value_words"] = (
            f"About {v.get('expected_purchases', 0):.1f} more purchases expected, "
            f"{_money(v.get('expected_spend', 0))} on average each; worth about "
            f"{_money(v.get('clv', 0))} over the coming period."
        )
        view["computed_at"] = value.computed_at
        alive = float(v.get("probability_alive", 0))
        view["active"] = gauge("Chance they still buy", alive, f"{alive:.0%}")
    loyalty = scores.get("loyalty")
    if loyalty is not None:
        v = loyalty.value
        points = float(v.get("loyalty", 0))
        view["loyalty"] = gauge("Loyalty score", points / 100, f"{points:.0f} of 100")
        orders, recency = int(v.get("orders", 0)), int(float(v.get("recency_days", 0)))
        last = {0: "today", 1: "yesterday"}.get(recency, f"{recency} days ago")
        view["loyalty_words"] = (
            f"{str(v.get('loyalty_tier', 'unknown')).capitalize()}: {counted(orders, 'order')}, "
            f"{_money(v.get('spend', 0))} spent, the last "
            f"{last}."
        )
    churn = scores.get("churn_risk")
    if churn is not None:
        v = churn.value
        view["at_risk"] = bool(v.get("at_risk"))
        view["risk_words"] = list(v.get("reasons") or []) or (
            ["Not at risk: buying as usual."] if not v.get("at_risk") else []
        )
    window = scores.get("delivery_window")
    if window is not None and isinstance(window.value, list):
        days = {d.get("weekday"): d for d in window.value if isinstance(d, dict)}
        rows = [
            (
                day,
                float(days[day].get("p_home", 0)),
                f"{days[day]['from_hour']}-{days[day]['to_hour']}h",
            )
            for day in WEEKDAYS
            if day in days
        ]
        view["delivery"] = bar_chart("Likely at home", rows, maximum=1.0)
        view["delivery_words"] = [
            f"{day.capitalize()}: {days[day]['from_hour']}:00 to {days[day]['to_hour']}:00, "
            f"{float(days[day].get('p_home', 0)):.0%} at home ({days[day].get('confidence')})"
            for day in WEEKDAYS
            if day in days
        ]
    return ScoreView(**view)


_ADDRESS_ORDER = (
    "street",
    "line1",
    "line2",
    "city",
    "postal_code",
    "postalcode",
    "state",
    "country",
)


def address_line(value: Mapping[str, Any]) -> str:
    """An object trait (an address) on one line, in the order it is written on an envelope.

    >>> address_line({"city": "Leeds", "street": "12 Kirkgate", "postal_code": "LS1 6BA"})
    '12 Kirkgate, Leeds, LS1 6BA'
    """

    def rank(key: str) -> int:
        plain = key.lower().replace("_", "")
        for i, known in enumerate(_ADDRESS_ORDER):
            if plain == known.replace("_", ""):
                return i
        return len(_ADDRESS_ORDER)

    parts = sorted(value.items(), key=lambda kv: (rank(kv[0]), kv[0]))
    return ", ".join(str(v) for _, v in parts if v not in (None, ""))


def age_in_words(when: datetime, now: datetime | None = None) -> str:
    """How long ago, as staff say it.

    >>> at = datetime(2026, 1, 10, 12, tzinfo=UTC)
    >>> [age_in_words(datetime(2026, 1, d, 9, tzinfo=UTC), at) for d in (10, 9, 1)]
    ['today', 'yesterday', '9 days ago']
    >>> age_in_words(datetime(2024, 1, 10, tzinfo=UTC), at)
    '2 years ago'
    """
    days = ((now or datetime.now(UTC)) - when).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 60:
        return f"{days} days ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"
