"""The messy customers: what the generator promises about people holds for every person."""

from __future__ import annotations

from collections import Counter

from cornerstore.demo.cast import mailbox
from cornerstore.demo.messy import MessyCustomers
from cornerstore.identity.normalise import is_landline


def test_no_two_people_share_a_mailbox_under_the_mail_providers_rules() -> None:
    # Arrange: enough people that gmail.com and googlemail.com spellings of one local part meet.
    people = list(MessyCustomers(people=20_000, seed=0).people())

    # Act
    owners = Counter(mailbox(p.email) for p in people if p.email)

    # Assert
    assert [box for box, n in owners.items() if n > 1] == []


def test_every_household_landline_is_a_fixed_line_by_the_numbering_plan() -> None:
    # Arrange
    people = list(MessyCustomers(people=5_000, seed=0).people())

    # Act
    landlines = {p.landline for p in people if p.landline}
    not_fixed = sorted(n for n in landlines if not is_landline("+44" + n[1:]))

    # Assert
    assert len(landlines) > 1_000
    assert not_fixed == []
