"""Who a campaign reaches: the audience funnel and the control group.

The funnel runs segment (or rule) -> consent for the campaign's purpose -> frequency caps ->
no open complaint (unless the purpose is ``service``) -> an address to send to -> control. The
control group is drawn from the *eligible* customers only, by a keyed hash of (campaign,
customer): treatment and control pass the same filters, and the same customer always lands in
the same group of the same campaign.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cornerstore.campaigns.model import (
    CAPPED,
    CONTROL,
    ELIGIBLE,
    EXCLUDED,
    HELD_OUT,
    NOT_ASSIGNED,
    TREATMENT,
)

_SCALE = float(2**64)


def control_draw(key: bytes, campaign_id: int, customer_id: str) -> float:
    """A number in [0, 1), the same for the same key, campaign and customer (HMAC-SHA-256).

    >>> control_draw(b"k", 1, "cus_1") == control_draw(b"k", 1, "cus_1")
    True
    >>> 0 <= control_draw(b"k", 1, "cus_1") < 1
    True
    """
    mac = hmac.new(key, f"{campaign_id}:{customer_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(mac[:8], "big") / _SCALE


def arm_of(key: bytes, campaign_id: int, customer_id: str, control_share: float) -> str:
    """``control`` for a ``control_share`` of customers, ``treatment`` for the rest."""
    return CONTROL if control_draw(key, campaign_id, customer_id) < control_share else TREATMENT


@dataclass(frozen=True)
class Decision:
    """What the funnel decided for one customer."""

    customer_id: str
    arm: str
    state: str
    reason: str | None


@dataclass
class Funnel:
    """How many customers are left after each step, and what was decided for each."""

    audience: int = 0
    consented: int = 0
    under_caps: int = 0
    without_complaint: int = 0
    reachable: int = 0
    treatment: int = 0
    control: int = 0
    decisions: list[Decision] = field(default_factory=list, repr=False)

    def steps(self) -> list[tuple[str, int]]:
        """The funnel as (step, customers left) in order."""
        return [
            ("segment", self.audience),
            ("consent", self.consented),
            ("caps", self.under_caps),
            ("complaints", self.without_complaint),
            ("address", self.reachable),
            ("treatment", self.treatment),
            ("control", self.control),
        ]


def run_funnel(
    audience: Sequence[str],
    *,
    consented: set[str] | None,
    capped: Mapping[str, str],
    complaining: set[str] | None,
    addresses: set[str] | None,
    draw: Mapping[str, str],
    purpose: str,
) -> Funnel:
    """Apply the funnel's filters in order and assign the eligible to their arm.

    ``consented`` (None: no consent needed), ``capped`` (customer -> reason), ``complaining``
    (None: complaints do not hold the message back), ``addresses`` (None: no address needed)
    and ``draw`` (customer -> arm, for the eligible) come from the campaign service.

    Examples
    --------
    >>> f = run_funnel(["a", "b", "c", "d"], consented={"a", "b", "c"}, capped={"b": "3 times"},
    ...                complaining={"c"}, addresses=None, draw={"a": "control"},
    ...                purpose="marketing_email")
    >>> [(d.customer_id, d.state, d.reason) for d in f.decisions]  # doctest: +NORMALIZE_WHITESPACE
    [('a', 'held_out', 'control group'), ('b', 'capped', '3 times'),
     ('c', 'excluded', 'open complaint'), ('d', 'excluded', 'no consent for marketing_email')]
    >>> f.steps()[:5]
    [('segment', 4), ('consent', 3), ('caps', 2), ('complaints', 1), ('address', 1)]
    """
    funnel = Funnel(audience=len(audience))
    decisions: list[Decision] = []
    for customer in audience:
        if consented is not None and customer not in consented:
            decisions.append(
                Decision(customer, NOT_ASSIGNED, EXCLUDED, f"no consent for {purpose}")
            )
            continue
        funnel.consented += 1
        if customer in capped:
            decisions.append(Decision(customer, NOT_ASSIGNED, CAPPED, capped[customer]))
            continue
        funnel.under_caps += 1
        if complaining is not None and customer in complaining:
            decisions.append(Decision(customer, NOT_ASSIGNED, EXCLUDED, "open complaint"))
            continue
        funnel.without_complaint += 1
        if addresses is not None and customer not in addresses:
            decisions.append(Decision(customer, NOT_ASSIGNED, EXCLUDED, "no e-mail address"))
            continue
        funnel.reachable += 1
        if draw.get(customer) == CONTROL:
            funnel.control += 1
            decisions.append(Decision(customer, CONTROL, HELD_OUT, "control group"))
        else:
            funnel.treatment += 1
            decisions.append(Decision(customer, TREATMENT, ELIGIBLE, None))
    decisions.sort(key=lambda d: d.customer_id)
    funnel.decisions = decisions
    return funnel
