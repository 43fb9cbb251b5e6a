"""A case from a new sender is placed by identity resolution like every arrival: a sure match
joins the customer (and the case follows), someone merely alike is never merged on a guess."""

from __future__ import annotations

from cornerstore.access.caller import Caller
from cornerstore.cases.service import CaseOpening, Sender
from cornerstore.services import Services
from tests.identity.resolution.test_arrivals import learned, root_of, store_shop  # noqa: F401


def _open(services: Services, owner: Caller, sender: Sender) -> str:
    opened = services.cases.open(owner, CaseOpening(sender, "phone", "Where is my parcel?"))
    assert services.identity.drain(timeout=120)
    return services.cases.get(owner, opened.case.id).case.customer_id


def test_a_caller_who_is_surely_a_known_customer_joins_them_with_the_case(
    learned: Services,  # noqa: F811
    owner: Caller,
) -> None:
    robert = root_of(learned, "robert")
    # Bob Smith on the phone: a nickname, a new number, Robert's address written short.
    bob = Sender(
        phone="07700 900123",
        first_name="Bob",
        last_name="Smith",
        address={"street": "12 High St", "city": "London", "postal_code": "sw1a 1aa"},
    )

    assert _open(learned, owner, bob) == robert


def test_a_caller_merely_alike_is_kept_apart_and_their_case_with_them(
    learned: Services,  # noqa: F811
    owner: Caller,
) -> None:
    john = root_of(learned, "john")
    # Mary Leeming, John's household: same surname and address, another person.
    mary = Sender(
        email="mary.l@example.net",
        first_name="Mary",
        last_name="Leeming",
        address={"street": "3 Mill Lane", "city": "Leeds", "postal_code": "LS1 4AB"},
    )

    placed = _open(learned, owner, mary)

    assert placed != john
    assert learned.profiles.get(owner, john).household == [placed]
