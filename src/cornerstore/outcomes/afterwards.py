"""What customers did after a resolved case, against comparable customers without one.

Each customer with a case resolved in the period is followed for ``window_days`` after their
first such resolution: did they buy again, how often, how much, and their P(alive) as last
learned. Comparable customers are those of the same segment with no case at all; each is
followed over the window of one case customer of their segment (assigned in turn, in the order
of the windows), so both groups are judged over the same calendar weeks and every customer is
counted once. Windows not yet over at ``as_of`` are left out, as in the say-vs-do report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from cornerstore.outcomes.estimates import wilson_rate
from cornerstore.outcomes.model import Afterwards, CaseRecord, GroupOutcome, Purchase


def follow_customers(
    cases: Sequence[CaseRecord],
    resolved_at: Sequence[datetime | None],
    *,
    cases_anywhere: set[str],
    purchases: Iterable[Purchase],
    segments: Mapping[str, str | None],
    p_alive: Mapping[str, float],
    as_of: datetime,
    window_days: int = 90,
) -> Afterwards:
    """Purchases and P(alive) after a resolved case, for the case customers and comparable ones.

    ``resolved_at`` is parallel to ``cases`` (``None`` for a case not resolved);
    ``cases_anywhere`` holds every customer with a case, in or out of the period (none of them
    is comparable); ``segments`` lists the customers that may be compared, with their segment.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from cornerstore.outcomes.model import CaseRecord, Purchase, StatusChange
    >>> t = lambda month, day: datetime(2026, month, day, tzinfo=timezone.utc)
    >>> case = CaseRecord(1, "ann", "chat", None, t(1, 1), (StatusChange(t(1, 1), "open"),))
    >>> after = follow_customers([case], [t(1, 2)], cases_anywhere={"ann"},
    ...     purchases=[Purchase("ann", t(2, 1), 30.0)], segments={"ann": "a", "bob": "a"},
    ...     p_alive={}, as_of=t(6, 1))
    >>> after.after_case.bought_again.count, after.comparable.bought_again.count
    (1, 0)
    """
    window = timedelta(days=window_days)
    first: dict[str, datetime] = {}
    for case, resolved in zip(cases, resolved_at, strict=True):
        if case.customer_id is None or resolved is None or resolved + window > as_of:
            continue
        if case.customer_id not in first or resolved < first[case.customer_id]:
            first[case.customer_id] = resolved
    windows_by_segment: dict[str | None, list[datetime]] = defaultdict(list)
    for customer, start in first.items():
        windows_by_segment[segments.get(customer)].append(start)
    for segment_starts in windows_by_segment.values():
        segment_starts.sort()
    comparable: dict[str, datetime] = {}
    taken: dict[str | None, int] = defaultdict(int)
    for customer in sorted(segments):
        segment = segments[customer]
        starts = windows_by_segment.get(segment)
        if customer in cases_anywhere or not starts:
            continue
        comparable[customer] = starts[taken[segment] % len(starts)]
        taken[segment] += 1
    bought: dict[str, list[Purchase]] = defaultdict(list)
    followed = first.keys() | comparable.keys()
    for purchase in purchases:
        if purchase.customer_id in followed:
            bought[purchase.customer_id].append(purchase)
    return Afterwards(
        window_days=window_days,
        after_case=_outcome(first, bought, p_alive, window),
        comparable=_outcome(comparable, bought, p_alive, window),
    )


def _outcome(
    starts: Mapping[str, datetime],
    bought: Mapping[str, list[Purchase]],
    p_alive: Mapping[str, float],
    window: timedelta,
) -> GroupOutcome:
    counts: list[int] = []
    spends: list[float] = []
    for customer, start in starts.items():
        inside = [p for p in bought.get(customer, ()) if start < p.at <= start + window]
        counts.append(len(inside))
        spends.append(sum(p.amount for p in inside))
    alive = [p_alive[c] for c in starts if c in p_alive]
    n = len(starts)
    return GroupOutcome(
        customers=n,
        bought_again=wilson_rate(sum(1 for c in counts if c > 0), n),
        mean_purchases=sum(counts) / n if n else None,
        mean_spend=sum(spends) / n if n else None,
        mean_p_alive=sum(alive) / len(alive) if alive else None,
    )
