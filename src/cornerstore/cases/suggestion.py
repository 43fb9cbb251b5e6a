"""A suggested remedy sized by what is at stake, with the reason in words.

Plain arithmetic over what the agent sees on the case page, so the reason can say exactly
why (never a model staff cannot question):

1. **Kind**: what resolved similar cases (the same category) most often; with no history, the
   category's natural remedy (a replacement for a damaged or wrong item, a refund for a
   refund request, a credit for a delivery or billing problem, a coupon otherwise).
2. **Base amount**: the median granted on similar cases; with no history, the order's value
   for a replacement or refund, else a tenth of it (at least 5); with no order, 10.
3. **At stake**: a customer still likely to buy (P(alive) at least 0.5) whose expected value
   over the next year (CLV) is above 200 gets half as much again; a valuable customer who is
   slipping away (P(alive) below 0.5, CLV above 100) gets double, since keeping them is worth
   more than the remedy.
4. **Never above the role's limit**: the amount is capped at what the agent may grant at once,
   and the reason says so (a supervisor can approve more).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

NATURAL_KIND = {
    "damaged item": "replacement",
    "wrong item": "replacement",
    "refund": "refund",
    "delivery": "credit",
    "billing": "credit",
}
VALUABLE_CLV = 200.0
AT_RISK_CLV = 100.0


@dataclass(frozen=True, slots=True)
class RemedyFacts:
    """What the suggestion weighs: the case's category and order, the customer's learned value
    (None before learning ran) and the remedies granted on similar resolved cases."""

    category: str
    order_value: float | None = None
    order_ref: str | None = None
    clv: float | None = None
    probability_alive: float | None = None
    similar: Sequence[tuple[str, float]] = ()  # (kind, amount) granted on similar cases
    limit: float = math.inf  # the most the agent may grant at once
    # False for a role that may not read scores: the reason weighs them without the figures.
    show_value: bool = True


@dataclass(frozen=True, slots=True)
class RemedySuggestion:
    kind: str
    amount: float
    reason: str
    capped: bool = False


def _money(value: float) -> str:
    return f"{value:,.2f}"


def suggest_remedy(facts: RemedyFacts) -> RemedySuggestion:
    """The remedy to offer, sized by what is at stake.

    Examples
    --------
    >>> s = suggest_remedy(RemedyFacts("damaged item", order_value=42.5, order_ref="A-1",
    ...                                clv=320.0, probability_alive=0.8, limit=20))
    >>> s.kind, s.amount, s.capped
    ('replacement', 20.0, True)
    >>> print(s.reason)
    A damaged item case on order A-1 (42.50): a replacement is the usual remedy. Base 42.50. \
The customer is still likely to buy (P(alive) 0.80) and worth 320.00 over the next year: \
half as much again, 63.75. Capped at your limit of 20.00; a supervisor can approve more.
    """
    category = facts.category
    similar = [(k, a) for k, a in facts.similar if a > 0]
    article = "An" if category[:1].lower() in "aeiou" else "A"
    about = f"{article} {category} case"
    if facts.order_ref is not None:
        about += f" on order {facts.order_ref}"
        if facts.order_value is not None:
            about += f" ({_money(facts.order_value)})"
    parts: list[str] = []
    if similar:
        counts = Counter(k for k, _ in similar)
        kind, times = counts.most_common(1)[0]
        amount = float(median(a for k, a in similar if k == kind))
        parts.append(
            f"{about}: similar cases were resolved with a {kind} ({times} of {len(similar)}),"
            f" median {_money(amount)}."
        )
    else:
        kind = NATURAL_KIND.get(category, "coupon")
        if facts.order_value is not None and facts.order_value > 0:
            whole = kind in ("replacement", "refund")
            amount = facts.order_value if whole else max(5.0, round(facts.order_value / 10, 2))
        else:
            amount = 10.0
        parts.append(f"{about}: a {kind} is the usual remedy. Base {_money(amount)}.")
    alive, clv = facts.probability_alive, facts.clv
    if alive is not None and clv is not None:
        shown = facts.show_value
        if alive < 0.5 and clv > AT_RISK_CLV:
            amount *= 2
            worth = f" {_money(clv)}" if shown else " a lot"
            chance = f" (P(alive) {alive:.2f})" if shown else ""
            parts.append(
                f"The customer is worth{worth} over the next year but slipping away{chance}:"
                f" doubled to keep them, {_money(amount)}."
            )
        elif alive >= 0.5 and clv > VALUABLE_CLV:
            amount *= 1.5
            chance = f" (P(alive) {alive:.2f})" if shown else ""
            worth = f" {_money(clv)}" if shown else " much"
            parts.append(
                f"The customer is still likely to buy{chance} and worth{worth} over the next"
                f" year: half as much again, {_money(amount)}."
            )
    else:
        parts.append("No learned value yet (run cornerstore learn): sized by the case alone.")
    amount = round(amount, 2)
    capped = amount > facts.limit
    if capped:
        amount = round(float(facts.limit), 2)
        parts.append(f"Capped at your limit of {_money(amount)}; a supervisor can approve more.")
    return RemedySuggestion(kind, amount, " ".join(parts), capped)
