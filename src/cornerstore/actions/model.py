"""Records of the next best action: the facts it decides from and what it proposes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Moment:
    """A moment learning found (see :mod:`cornerstore.learn.moments`)."""

    kind: str
    at: datetime
    detail: str | None = None


@dataclass(frozen=True)
class Facts:
    """What is known about one customer when the rules run.

    ``consents`` holds the current answer per purpose; ``capped`` the channels a frequency cap
    closes now, with the reason in words. Learned facts (value, churn, moments) are empty for
    a customer who did not allow profiling.
    """

    profiled: bool = True
    high_value: bool = False
    slipping_away: bool = False
    open_complaints: tuple[str, ...] = ()
    """The categories of the customer's open complaints (empty without one; ``""`` for one
    whose category the caller may not read)."""
    replenishment_due: tuple[str, ...] = ()
    """Names of products the customer buys regularly that are due again."""
    orders: int = 0
    last_order_at: datetime | None = None
    moments: tuple[Moment, ...] = ()
    consents: Mapping[str, bool] = field(default_factory=dict)
    capped: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NextAction:
    """One proposed action with its reasons in words, best first by ``priority``."""

    action: str
    channel: str | None
    purpose: str | None
    priority: int
    reasons: list[str]
    summary: str = field(init=False)
    """``"call: high value, slipping away, unresolved delivery complaint"``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "summary", f"{self.action}: {', '.join(self.reasons)}")


@dataclass(frozen=True)
class HeldBack:
    """An action a rule proposed that may not happen now, and why (consent, complaint, cap)."""

    action: str
    channel: str
    purpose: str
    reasons: list[str]
    why: str


@dataclass(frozen=True)
class Decision:
    """The ranked actions (``nothing`` with its reason when none may happen) and those held
    back."""

    actions: list[NextAction]
    held_back: list[HeldBack]


@dataclass(frozen=True)
class CustomerActions:
    """The next best actions of one customer as a caller may see them."""

    customer_id: str
    actions: list[NextAction]
    held_back: list[HeldBack]
    notes: list[str]
    as_of: datetime
