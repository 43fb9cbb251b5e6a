"""Decide a customer's next best actions from plain facts and the rules in settings.

Each rule of ``settings.actions.rules`` looks for one condition; those that hold propose their
action with the reasons in words. Rules proposing the same action on the same channel for the
same purpose become one action carrying all their reasons ("call: high value, slipping away,
unresolved delivery complaint"). Marketing (a purpose other than ``service``) is then held back
when the customer did not consent to that purpose, while a complaint is open (no marketing while
the shop owes an answer) and when a frequency cap closes the channel. What is left is ranked by
priority; when nothing is left the answer is ``nothing`` with the reason ("contacted 3 times in
all in the last 30 days (at most 3)").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cornerstore.actions.model import Decision, Facts, HeldBack, NextAction
from cornerstore.settings import NO_ACTION, SERVICE_PURPOSE, ActionRule, ActionSettings

NOTHING_TO_DO = "no reason to reach out now"
COMPLAINT_OPEN = "a complaint is open: no marketing until it is resolved"


def ordinal(n: int) -> str:
    """``10th``, ``21st``, ``112th``.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 112)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st', '112th']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def complaint_words(category: str) -> str:
    """``unresolved delivery complaint``; without a category (a role that may not read cases)
    or for the plain ``complaint`` category, ``unresolved complaint``.

    >>> complaint_words("delivery"), complaint_words("complaint"), complaint_words("")
    ('unresolved delivery complaint', 'unresolved complaint', 'unresolved complaint')
    """
    if category in ("", "complaint"):
        return "unresolved complaint"
    return f"unresolved {category} complaint"


def moment_words(kind: str, detail: str | None) -> str:
    """A moment as staff say it: ``moved house``, ``new household signal (first purchase in
    baby)``."""
    words = kind.replace("_", " ")
    return f"{words} ({detail})" if detail and kind == "new_household_signal" else words


def reasons_for(rule: ActionRule, facts: Facts, cfg: ActionSettings, now: datetime) -> list[str]:
    """The reasons ``rule`` finds in ``facts`` (empty when its condition does not hold).

    Examples
    --------
    >>> from cornerstore.settings import ActionRule, ActionSettings
    >>> rule = ActionRule(when="high_value_slipping_away", action="call", channel="phone")
    >>> reasons_for(rule, Facts(high_value=True, slipping_away=True), ActionSettings(),
    ...             datetime(2026, 5, 1))
    ['high value', 'slipping away']
    """
    if rule.when == "open_complaint":
        return [complaint_words(c) for c in facts.open_complaints]
    if rule.when == "high_value_slipping_away":
        return ["high value", "slipping away"] if facts.high_value and facts.slipping_away else []
    if rule.when == "slipping_away":
        return ["slipping away"] if facts.slipping_away and not facts.high_value else []
    if rule.when == "replenishment_due":
        return [due_words(facts.replenishment_due)] if facts.replenishment_due else []
    if rule.when == "order_milestone":
        recent = facts.last_order_at is not None and facts.last_order_at >= now - timedelta(
            days=cfg.milestone_days
        )
        return (
            [f"{ordinal(facts.orders)} order"]
            if recent and facts.orders in cfg.order_milestones
            else []
        )
    since = now - timedelta(days=cfg.moment_days)
    found = [m for m in facts.moments if m.kind in rule.moments and m.at >= since]
    return list(dict.fromkeys(moment_words(m.kind, m.detail) for m in found))


def due_words(names: Sequence[str], shown: int = 3) -> str:
    """The products due again, the first few by name: one reason, however many are due.

    Examples
    --------
    >>> due_words(["tea"])
    'replenishment due: tea'
    >>> due_words(["tea", "milk", "bread", "jam", "eggs"])
    'replenishment due: tea, milk, bread and 2 more'
    """
    named = ", ".join(names[:shown])
    more = len(names) - shown
    return f"replenishment due: {named}" + (f" and {more} more" if more > 0 else "")


def _why_held(rule: ActionRule, facts: Facts) -> str | None:
    """Why a marketing action may not happen now (None when it may, or it is service)."""
    if rule.purpose == SERVICE_PURPOSE:
        return None
    if not facts.consents.get(rule.purpose, False):
        return f"no consent to {rule.purpose.replace('_', ' ')}"
    if facts.open_complaints:
        return COMPLAINT_OPEN
    return facts.capped.get(rule.channel)


def decide(
    facts: Facts, cfg: ActionSettings, now: datetime, rules: Sequence[ActionRule] | None = None
) -> Decision:
    """The ranked next best actions for ``facts`` under ``cfg.rules`` (or ``rules``).

    Examples
    --------
    >>> from cornerstore.settings import ActionSettings
    >>> now = datetime(2026, 5, 1)
    >>> facts = Facts(high_value=True, slipping_away=True, open_complaints=("delivery",),
    ...               replenishment_due=("tea",), consents={"marketing_email": True})
    >>> decision = decide(facts, ActionSettings(), now)
    >>> [a.summary for a in decision.actions]
    ['call: high value, slipping away, unresolved delivery complaint']
    >>> [(h.action, h.why) for h in decision.held_back]
    [('offer', 'a complaint is open: no marketing until it is resolved')]
    """
    proposed: dict[tuple[str, str, str], tuple[ActionRule, list[str]]] = {}
    for rule in sorted(cfg.rules if rules is None else rules, key=lambda r: r.priority):
        found = reasons_for(rule, facts, cfg, now)
        if found:
            _, reasons = proposed.setdefault((rule.action, rule.channel, rule.purpose), (rule, []))
            reasons += [r for r in found if r not in reasons]
    actions: list[NextAction] = []
    held: list[HeldBack] = []
    for rule, reasons in proposed.values():
        why = _why_held(rule, facts)
        if why is None:
            actions.append(
                NextAction(rule.action, rule.channel, rule.purpose, rule.priority, reasons)
            )
        else:
            held.append(HeldBack(rule.action, rule.channel, rule.purpose, reasons, why))
    actions.sort(key=lambda a: (a.priority, a.action, a.channel or ""))
    if not actions:
        why_not = list(dict.fromkeys(h.why for h in held)) or [NOTHING_TO_DO]
        actions = [NextAction(NO_ACTION, None, None, 0, why_not)]
    return Decision(actions, held)
