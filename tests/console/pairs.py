"""A pair in the identity review queue for the console tests: Robert Smith from the web shop and
Bob Smith from the till, with the field weights a model would give (the tests need a pending
pair, not a trained model)."""

from __future__ import annotations

from datetime import UTC, datetime

from cornerstore.access.caller import system_caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from tests.factories import identify

ROBERT = {"first_name": "Robert", "last_name": "Smith", "email": "robert.smith@example.com"}
BOB = {"first_name": "Bob", "last_name": "Smith", "phone": "07700 900123"}
HOME = {"street": "12 High Street", "city": "London", "postal_code": "SW1A 1AA"}
FIELDS = [
    {"field": "first_name", "level": "nickname", "left": "robert", "right": "bob", "weight": 3.2},
    {"field": "last_name", "level": "exact", "left": "smith", "right": "smith", "weight": 4.1},
    {"field": "postcode", "level": "exact", "left": "SW1A1AA", "right": "SW1A1AA", "weight": 6.5},
    {
        "field": "email",
        "level": "missing",
        "left": "robert.smith@example.com",
        "right": None,
        "weight": 0.0,
    },
    {"field": "birth_year", "level": "different", "left": 1970, "right": 1985, "weight": -2.0},
]


def queue_pair(services: Services) -> tuple[int, str, str]:
    """Bring in Robert and Bob and queue them for review; returns the review id and both
    profile ids."""
    services.intake.ingest(
        [
            identify(anonymous_id="web-robert", address=HOME, **ROBERT)
            | {"messageId": "pair-robert"}
        ],
        source=Source("web-shop", "web"),
    )
    services.intake.ingest(
        [identify(anonymous_id="till-bob", address=HOME, **BOB) | {"messageId": "pair-bob"}],
        source=Source("till", "store"),
    )
    owner = system_caller()
    robert, bob = (services.profiles.get(owner, ref).id for ref in (ROBERT["email"], BOB["phone"]))
    ids = sorted([robert, bob])
    # The queue keeps ids in order, each field's values in the same order.
    fields = (
        FIELDS
        if ids[0] == robert
        else [f | {"left": f["right"], "right": f["left"]} for f in FIELDS]
    )
    with services.store.unit_of_work(write=True) as uow:
        uow.identity.add_reviews(
            [
                {
                    "left_id": ids[0],
                    "right_id": ids[1],
                    "match_probability": 0.62,
                    "match_weight": 0.7,
                    "fields": fields,
                    "created_at": datetime.now(UTC),
                }
            ]
        )
        review_id = uow.identity.pending(1)[0].id
    return review_id, ids[0], ids[1]
