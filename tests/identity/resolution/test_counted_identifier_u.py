"""An exact e-mail's or phone's u is counted on every pair that shares one, not sampled: a shared
mailbox or mobile says "one person" as strongly at a million records as at a thousand, unless the
file's own values say that strangers share them (a family's landline, a till's made-up e-mail)."""

from __future__ import annotations

import math
from dataclasses import replace

from cornerstore.identity.resolution.comparisons import (
    Comparison,
    email_comparison,
    phone_comparison,
)
from cornerstore.identity.resolution.records import PreparedRecords, prepare_records
from cornerstore.identity.resolution.splink_engine import (
    IDENTIFIER_STRANGER_SHARE,
    _with_counted_identifier_u,
    shared_value_pairs,
)


def _trained(comparison: Comparison, m_exact: float, u_sampled: float) -> Comparison:
    levels = list(comparison.levels)
    levels[1] = replace(levels[1], m=m_exact, u=u_sampled)
    return replace(comparison, levels=tuple(levels))


def _records(emails: list[str]) -> PreparedRecords:
    rows = [{"first_name": "x", "last_name": "y", "email": e} for e in emails]
    return prepare_records(rows, list(range(len(rows))), ["first_name", "last_name", "email"])


def test_pairs_sharing_a_value_are_counted_among_pairs_that_both_have_one() -> None:
    records = _records(["a@x.com", "a@x.com", "a@x.com", "b@x.com", ""])

    assert shared_value_pairs(records, "email") == (3.0, 6.0)


def test_mailboxes_each_held_by_one_person_make_a_shared_email_99_to_1_one_person() -> None:
    # 150 people, two records each, each with a mailbox of their own.
    emails = [f"person{i}@example.com" for i in range(150) for _ in range(2)]
    records = _records(emails)
    match_rate = 1.0 / (len(emails) - 1)  # one match a record
    sampled = _trained(email_comparison(), m_exact=0.999, u_sampled=1e-3)

    counted = _with_counted_identifier_u(sampled, records, match_rate)

    exact = counted.levels[1]
    assert exact.m is not None and exact.u is not None
    prior_odds = match_rate / (1 - match_rate)
    posterior_odds = prior_odds * exact.m / exact.u
    assert round(posterior_odds) == round(0.999 / IDENTIFIER_STRANGER_SHARE)  # about 99 to 1


def test_a_made_up_email_many_strangers_typed_is_no_evidence_of_one_person() -> None:
    # A till that types "none@shop.com" for 100 walk-ins, beside 200 customers' own mailboxes.
    emails = ["none@shop.com"] * 100 + [f"c{i}@example.com" for i in range(200)]
    records = _records(emails)
    match_rate = 1.0 / (len(emails) - 1)
    sampled = _trained(email_comparison(), m_exact=0.95, u_sampled=0.1)  # sampling sees them too

    counted = _with_counted_identifier_u(sampled, records, match_rate)

    exact = counted.levels[1]
    assert exact.m is not None and exact.u is not None
    weight = math.log2(exact.m / exact.u) + math.log2(match_rate / (1 - match_rate))
    assert weight < 0  # the pair is more likely two people than one


def test_too_few_shared_emails_leave_the_sampled_u() -> None:
    # Stored customers come stitched on their e-mails: no two share one.
    records = _records([f"c{i}@example.com" for i in range(300)])
    sampled = _trained(email_comparison(), m_exact=0.95, u_sampled=2e-6)

    counted = _with_counted_identifier_u(sampled, records, 1.0 / 299)

    assert counted == sampled


def test_an_exact_phone_is_counted_and_housemates_sharing_a_landline_stay_strangers() -> None:
    # 150 people with a mobile of their own, two records each; and 50 homes of three housemates
    # who each gave the home's landline once.
    mobiles = [f"+4477009{i:05d}" for i in range(150) for _ in range(2)]
    landlines = [f"+441214960{h:03d}" for h in range(50) for _ in range(3)]
    rows = [{"first_name": "x", "last_name": "y", "phone": p} for p in mobiles + landlines]
    records = prepare_records(rows, list(range(len(rows))), ["first_name", "last_name", "phone"])
    match_rate = 150 / (len(rows) * (len(rows) - 1) / 2)
    sampled = _trained(phone_comparison(), m_exact=1.0, u_sampled=1e-2)

    counted = _with_counted_identifier_u(sampled, records, match_rate)

    exact = counted.levels[1]
    assert exact.u is not None
    shared, both = shared_value_pairs(records, "phone")
    assert (shared, both) == (150.0 + 150.0, 450.0 * 449.0 / 2)
    # What is left once the matches are taken out is the housemates' 150 pairs: strangers.
    assert math.isclose(exact.u, 150 / both)
