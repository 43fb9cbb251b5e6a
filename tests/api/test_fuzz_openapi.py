"""Every operation of ``/openapi.json`` fuzzed with schemathesis: no 5xx, every answer's status,
content type and body as documented, and a request the document allows is not refused.

Bounded and repeatable: a fixed number of examples per operation, derandomised, on SQLite and
PostgreSQL, with an owner token (and the web shop's write key for intake).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from cornerstore.api import create_app
from cornerstore.settings import Settings
from tests.api.conftest import Keys

# The document does not depend on the database: read it once to name one test per operation.
_DOCUMENT: dict[str, Any] = create_app(Settings(database_url="sqlite://")).openapi()
OPERATIONS = [
    (path, method) for path, methods in _DOCUMENT["paths"].items() for method in sorted(methods)
]
_INTAKE = {
    path
    for path, methods in _DOCUMENT["paths"].items()
    if any("intake" in op.get("tags", []) for op in methods.values())
}
# Where a request the schema allows may still be refused, because what the server checks is
# more than a JSON schema says: each answers 400 naming the field.
MAY_REFUSE_VALID = {
    # The Spec's rules across fields (a userId or an anonymousId; alias needs both ids; a
    # timestamp the parser reads) are the intake parser's, as in Segment's own API.
    **{(path, "post"): "Spec rules across fields" for path in _INTAKE},
    # A cursor is opaque: only one the timeline handed out is valid.
    ("/v1/customers/{customer_id}/timeline", "get"): "opaque cursor",
    # So is the review queue's (``after``, ``before``): it names a place in the queue.
    ("/v1/identity/reviews", "get"): "opaque cursor",
    # A segment's condition tree is checked against the scores and traits that exist.
    ("/v1/segments", "post"): "condition tree",
    # A campaign's templates must compile, its audience name a segment or a condition tree,
    # its purpose a consent purpose; a send or results need a campaign that was created or
    # sent; an unsubscribe token must carry the server's signature.
    ("/v1/campaigns", "post"): "templates, audience and purpose",
    ("/v1/campaigns/{campaign_id}/results", "get"): "a sent campaign",
    ("/v1/campaigns/{campaign_id}/recipients", "get"): "a known state",
    ("/v1/unsubscribe/{token}", "post"): "a signed token",
    # Personal tokens belong to staff users; the fuzzer calls with an installation token.
    ("/v1/me/tokens", "post"): "needs a staff user's credential",
    # A case's sender needs a customer, an e-mail or a phone; an owner names a staff user; a
    # note is written by staff (direction out).
    ("/v1/cases", "post"): "sender and owner",
    ("/v1/cases", "get"): "owner names a staff user",
    ("/v1/cases/{case_id}", "patch"): "owner names a staff user",
    ("/v1/cases/{case_id}/messages", "post"): "a note is staff's",
    # A period's order and length are rules across from and to.
    ("/v1/service/metrics", "get"): "from before to, at most outcomes.max_days apart",
}


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_every_operation_answers_as_documented_and_never_5xx(
    app: FastAPI, keys: Keys, path: str, method: str
) -> None:
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method.upper()]
    secret = keys.write_key if path in _INTAKE else keys.token
    excluded = [positive_data_acceptance] if (path, method) in MAY_REFUSE_VALID else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {secret}"}, excluded_checks=excluded
        )

    answers_as_documented()
