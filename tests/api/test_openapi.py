"""The OpenAPI document lists every route and documents what each reads; /docs serves it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from cornerstore.api.routes import (
    campaigns,
    cases,
    customers,
    identity,
    intake,
    learn,
    privacy,
    segments,
    suggest,
)
from tests.api.conftest import TestClient

ROUTES = {
    "/health": ["get"],
    "/v1/batch": ["post"],
    "/v1/identify": ["post"],
    "/v1/track": ["post"],
    "/v1/page": ["post"],
    "/v1/screen": ["post"],
    "/v1/group": ["post"],
    "/v1/alias": ["post"],
    "/v1/customers": ["get"],
    "/v1/customers/{customer_id}": ["delete", "get"],
    "/v1/customers/{customer_id}/timeline": ["get"],
    "/v1/customers/{customer_id}/traits/{name}": ["get"],
    "/v1/customers/{customer_id}/prefill": ["get"],
    "/v1/customers/{customer_id}/merge": ["post"],
    "/v1/merges/{merge_id}/undo": ["post"],
    "/v1/customers/{customer_id}/consents": ["get", "put"],
    "/v1/customers/{customer_id}/anonymous": ["put"],
    "/v1/customers/{customer_id}/export": ["get"],
    "/v1/privacy/events": ["get"],
    "/v1/customers/{customer_id}/scores": ["get"],
    "/v1/learn/at-risk": ["get"],
    "/v1/segments": ["get", "post"],
    "/v1/segments/{segment_id}": ["delete", "get"],
    "/v1/segments/{segment_id}/members": ["get"],
    "/v1/surveys/say-vs-do": ["get"],
    "/v1/session": ["delete", "get", "post"],
    "/v1/session/password": ["put"],
    "/v1/me/tokens": ["get", "post"],
    "/v1/me/tokens/{token_id}": ["delete"],
    "/v1/tokens": ["get"],
    "/v1/tokens/{token_id}": ["delete"],
    "/v1/audit": ["get"],
    "/v1/identity/reviews": ["get"],
    "/v1/identity/reviews/{review_id}/accept": ["post"],
    "/v1/identity/reviews/{review_id}/reject": ["post"],
    "/v1/identity/explain": ["get"],
    "/v1/identity/place/{customer_id}": ["post"],
    "/v1/customers/{customer_id}/suggestions": ["get"],
    "/v1/customers/{customer_id}/next-actions": ["get"],
    "/v1/cases": ["get", "post"],
    "/v1/cases/{case_id}": ["get", "patch"],
    "/v1/cases/{case_id}/messages": ["post"],
    "/v1/cases/{case_id}/customer": ["put"],
    "/v1/cases/{case_id}/remedies": ["post"],
    "/v1/cases/{case_id}/remedies/suggestion": ["get"],
    "/v1/remedies/pending": ["get"],
    "/v1/remedies/{remedy_id}/decision": ["post"],
    "/v1/service/metrics": ["get"],
    "/v1/service/surveys/send": ["post"],
    "/v1/service/surveys/export": ["post"],
    "/v1/cases/{case_id}/survey-link": ["post"],
    "/v1/feedback/{token}": ["get", "post"],
    "/v1/campaigns": ["get", "post"],
    "/v1/campaigns/{campaign_id}": ["get"],
    "/v1/campaigns/{campaign_id}/audience": ["get"],
    "/v1/campaigns/{campaign_id}/preview": ["get"],
    "/v1/campaigns/{campaign_id}/send": ["post"],
    "/v1/campaigns/{campaign_id}/recipients": ["get"],
    "/v1/campaigns/{campaign_id}/results": ["get"],
    "/v1/unsubscribe/{token}": ["get", "post"],
}


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_openapi_document_lists_every_route_with_its_methods(client: TestClient) -> None:
    declared: dict[str, list[str]] = {}
    for router in (
        intake.router,
        customers.router,
        privacy.router,
        learn.router,
        segments.router,
        identity.router,
        suggest.router,
        cases.router,
        campaigns.router,
        campaigns.public,
        campaigns.public_page,
    ):
        for route in router.routes:
            if isinstance(route, APIRoute):
                declared.setdefault(route.path, []).extend(m.lower() for m in route.methods)
    declared = {path: sorted(methods) for path, methods in declared.items()}

    doc = client.get("/openapi.json").json()

    assert {path: sorted(ops) for path, ops in doc["paths"].items()} == ROUTES
    assert {path: ROUTES[path] for path in declared} == declared


def test_every_reference_in_the_openapi_document_resolves(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()

    refs = sorted(set(_refs(doc)))
    unresolved = [ref for ref in refs if not ref.startswith("#/components/schemas/")]
    missing = [ref for ref in refs if ref.split("/")[-1] not in doc["components"]["schemas"]]

    assert (unresolved, missing) == ([], [])


def test_the_intake_routes_document_their_request_body(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()

    bodies = {
        path: ops["post"]["requestBody"]
        for path, ops in doc["paths"].items()
        if path.startswith("/v1/")
        and not path.startswith(
            (
                "/v1/customers",
                "/v1/merges",
                "/v1/privacy",
                "/v1/learn",
                "/v1/segments",
                "/v1/surveys",
                "/v1/session",
                "/v1/me/",
                "/v1/tokens",
                "/v1/audit",
                "/v1/identity",
                "/v1/cases",
                "/v1/remedies",
                "/v1/service",
                "/v1/feedback",
                "/v1/campaigns",
                "/v1/unsubscribe",
            )
        )
    }
    batch = _resolve(doc, "#/components/schemas/BatchIn")
    message = _resolve(doc, "#/components/schemas/MessageIn")

    assert bodies == {
        path: {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "$ref": "#/components/schemas/"
                        + ("BatchIn" if path == "/v1/batch" else "MessageIn")
                    }
                }
            },
        }
        for path in bodies
    }
    assert (batch["required"], batch["properties"]["batch"]["items"]) == (
        ["batch"],
        {"$ref": "#/components/schemas/MessageIn"},
    )
    assert sorted(batch["properties"]) == [
        "batch",
        "context",
        "integrations",
        "sentAt",
        "writeKey",
    ]
    assert {"type", "messageId", "userId", "anonymousId", "event", "traits", "context"} <= set(
        message["properties"]
    )


def test_the_documented_error_answers_are_the_error_shape(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()

    answers = {
        (path, method, status): response
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        for status, response in op["responses"].items()
        if status.startswith(("4", "5"))
    }

    # 422 is the safeguards refusing a merge: by hand, or by accepting a review; and a case
    # from a person who was erased.
    refusable = ("merge", "/accept")
    refused = [k for k in answers if k[2] == "422" and not any(r in k[0] for r in refusable)]
    assert refused == [("/v1/cases", "post", "422")]
    assert {
        key: response["content"]["application/json"]["schema"] for key, response in answers.items()
    } == {key: {"$ref": "#/components/schemas/ErrorOut"} for key in answers}


def test_the_interactive_docs_answer_200(client: TestClient) -> None:
    response = client.get("/docs")

    assert (response.status_code, response.headers["content-type"]) == (
        200,
        "text/html; charset=utf-8",
    )
    assert "/openapi.json" in response.text
