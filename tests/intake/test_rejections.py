"""Each rejected message carries the error that answers a request of nothing but such messages."""

from __future__ import annotations

import orjson

from cornerstore.errors import InvalidInput, TooLarge
from cornerstore.intake.service import Rejection, Source
from cornerstore.services import Services
from tests.factories import track


def test_a_message_over_the_size_limit_is_rejected_as_too_large_and_a_malformed_one_as_invalid(
    services: Services,
) -> None:
    big = track("Note Added", user_id="u-1", note="x" * 33_000)
    size = len(orjson.dumps(big))
    malformed = {"type": "purchase", "userId": "u-1"}

    result = services.intake.ingest(
        [track("Signed Up", user_id="u-1"), big, malformed], source=Source("web-shop", "web")
    )

    assert (result.accepted, result.rejected) == (
        1,
        [
            Rejection(
                1, f"batch[1]: message is {size} bytes, over the limit of 32768 bytes", TooLarge
            ),
            Rejection(
                2,
                "batch[2].type: must be one of identify, track, page, screen, group, alias",
                InvalidInput,
            ),
        ],
    )
