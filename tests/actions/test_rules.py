"""Each next-best-action rule on plain facts, and the gates that hold marketing back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from cornerstore.actions.model import Facts, Moment
from cornerstore.actions.rules import decide
from cornerstore.settings import ActionRule, ActionSettings

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CFG = ActionSettings()
EMAIL_OK = {"marketing_email": True}


def summaries(facts: Facts, cfg: ActionSettings = CFG) -> list[str]:
    return [a.summary for a in decide(facts, cfg, NOW).actions]


def test_a_high_value_customer_slipping_away_with_an_open_complaint_gets_one_call():
    facts = Facts(high_value=True, slipping_away=True, open_complaints=("delivery",))

    decision = decide(facts, CFG, NOW)

    assert [a.summary for a in decision.actions] == [
        "call: high value, slipping away, unresolved delivery complaint"
    ]
    assert (decision.actions[0].channel, decision.actions[0].purpose) == ("phone", "service")


def test_an_ordinary_customer_slipping_away_gets_a_win_back_offer():
    assert summaries(Facts(slipping_away=True, consents=EMAIL_OK)) == ["offer: slipping away"]


def test_a_due_regular_buy_is_an_offer_naming_the_product():
    facts = Facts(replenishment_due=("coffee beans",), consents=EMAIL_OK)

    assert summaries(facts) == ["offer: replenishment due: coffee beans"]


def test_the_tenth_order_is_thanked_while_it_is_recent():
    recent = Facts(orders=10, last_order_at=NOW - timedelta(days=3), consents=EMAIL_OK)
    old = Facts(orders=10, last_order_at=NOW - timedelta(days=40), consents=EMAIL_OK)
    ninth = Facts(orders=9, last_order_at=NOW - timedelta(days=3), consents=EMAIL_OK)

    assert summaries(recent) == ["thank: 10th order"]
    assert summaries(old) == summaries(ninth) == ["nothing: no reason to reach out now"]


def test_recent_moments_prompt_their_actions_and_old_ones_do_not():
    facts = Facts(
        moments=(
            Moment("moved_house", NOW - timedelta(days=5)),
            Moment("new_household_signal", NOW - timedelta(days=2), "first purchase in baby"),
            Moment("purchase_anniversary", NOW - timedelta(days=90)),
        ),
        consents=EMAIL_OK,
    )

    assert summaries(facts) == ["offer: moved house, new household signal (first purchase in baby)"]


def test_actions_are_ranked_by_priority():
    facts = Facts(
        high_value=True,
        slipping_away=True,
        replenishment_due=("tea",),
        orders=25,
        last_order_at=NOW - timedelta(days=1),
        consents=EMAIL_OK,
    )

    assert summaries(facts) == [
        "call: high value, slipping away",
        "offer: replenishment due: tea",
        "thank: 25th order",
    ]


def test_no_marketing_while_a_complaint_is_open_but_the_call_stays():
    facts = Facts(open_complaints=("damaged item",), replenishment_due=("tea",), consents=EMAIL_OK)

    decision = decide(facts, CFG, NOW)

    assert [a.summary for a in decision.actions] == ["call: unresolved damaged item complaint"]
    assert [(h.action, h.reasons, h.why) for h in decision.held_back] == [
        (
            "offer",
            ["replenishment due: tea"],
            "a complaint is open: no marketing until it is resolved",
        )
    ]


def test_without_consent_marketing_is_held_back_and_nothing_says_why():
    facts = Facts(replenishment_due=("tea",), consents={"marketing_email": False})

    assert summaries(facts) == ["nothing: no consent to marketing email"]


def test_a_capped_customer_gets_nothing_with_the_cap_in_words():
    cap = "contacted 3 times in all in the last 30 days (at most 3)"
    facts = Facts(replenishment_due=("tea",), consents=EMAIL_OK, capped={"email": cap})

    assert summaries(facts) == [f"nothing: {cap}"]


def test_caps_close_only_their_channel():
    rules = [
        ActionRule(
            when="replenishment_due", action="offer", channel="sms", purpose="marketing_sms"
        ),
    ]
    cfg = ActionSettings(rules=rules)
    facts = Facts(
        replenishment_due=("tea",),
        consents={"marketing_sms": True},
        capped={"email": "contacted 2 times by email in the last 7 days (at most 2)"},
    )

    assert summaries(facts, cfg) == ["offer: replenishment due: tea"]


def test_service_actions_ignore_consent_and_caps():
    facts = Facts(open_complaints=("billing",), capped={"phone": "contacted often"})

    assert summaries(facts) == ["call: unresolved billing complaint"]


def test_a_customer_with_nothing_going_on_gets_nothing():
    assert summaries(Facts(consents=EMAIL_OK)) == ["nothing: no reason to reach out now"]


def test_rules_come_from_settings():
    cfg = ActionSettings(
        rules=[ActionRule(when="slipping_away", action="call", channel="phone", priority=1)]
    )

    assert summaries(Facts(slipping_away=True), cfg) == ["call: slipping away"]
    assert summaries(Facts(replenishment_due=("tea",), consents=EMAIL_OK), cfg) == [
        "nothing: no reason to reach out now"
    ]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"when": "slipping_away", "action": "nothing", "channel": "email"}, "action"),
        ({"when": "slipping_away", "action": "offer", "channel": "pigeon"}, "channel"),
        (
            {"when": "slipping_away", "action": "offer", "channel": "email", "purpose": "x"},
            "purpose",
        ),
        (
            {"when": "moment", "action": "offer", "channel": "email", "moments": ["wedding"]},
            "moments",
        ),
        ({"when": "birthday", "action": "offer", "channel": "email"}, "when"),
    ],
)
def test_a_rule_with_an_unknown_value_is_refused_naming_the_field(rule, field):
    with pytest.raises(ValidationError) as raised:
        ActionSettings(rules=[rule])

    assert raised.value.errors()[0]["loc"][-1] == field


def test_the_moments_rules_may_name_are_those_learning_finds():
    from cornerstore.learn.service import MOMENT_NAMES
    from cornerstore.settings import MOMENT_KINDS

    assert set(MOMENT_KINDS) == set(MOMENT_NAMES)
