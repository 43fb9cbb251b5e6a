"""Identity resolution for staff: the review queue of candidate pairs, decisions, explanations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from cornerstore.api.deps import RowId, ServicesDep, StaffCaller
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.identity import DecisionOut, ExplanationOut, PlacedOut, ReviewOut
from cornerstore.identity.resolution.review import MOST_PER_PAGE

router = APIRouter(
    prefix="/v1/identity", tags=["identity"], responses=error_answers(400, 401, 403, 404)
)


# The queue answers a page as a list, as it always did; where it goes on is in the headers.
_PAGE_HEADERS = {
    "X-Total-Count": {
        "description": "How many pairs wait for a decision in all",
        "schema": {"type": "integer"},
    },
    "X-Next-After": {
        "description": "The cursor of the next page, to pass as `after` (absent on the last)",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next and previous pages\' URLs (`rel="next"`, `rel="prev"`)',
        "schema": {"type": "string"},
    },
}
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A cursor from the X-Next-After header or a Link URL",
    ),
]


@router.get(
    "/reviews",
    response_model=list[ReviewOut],
    response_model_exclude_unset=True,
    responses={200: {"headers": _PAGE_HEADERS}},
)
def list_reviews(
    request: Request,
    response: Response,
    services: ServicesDep,
    caller: StaffCaller,
    limit: Annotated[int, Query(ge=1, le=MOST_PER_PAGE)] = 20,
    after: Cursor = None,
    before: Cursor = None,
) -> list[ReviewOut]:
    """Pairs waiting for a decision, strongest first, side by side with each field's weight:
    a page of ``limit``, after the cursor ``after`` (or before ``before``). The total waiting
    and the next page's cursor are in the headers."""
    page = services.identity.review_page(caller, limit, after, before)
    response.headers["X-Total-Count"] = str(page.waiting)
    links = []
    if page.next_after is not None:
        response.headers["X-Next-After"] = page.next_after
        links.append(_link(request, "next", limit, after=page.next_after))
    if page.previous_before is not None:
        links.append(_link(request, "prev", limit, before=page.previous_before))
    if links:
        response.headers["Link"] = ", ".join(links)
    return [ReviewOut.model_validate(r) for r in page.reviews]


def _link(request: Request, rel: str, limit: int, **cursor: str) -> str:
    url = request.url.remove_query_params(["after", "before"]).include_query_params(
        limit=limit, **cursor
    )
    return f'<{url}>; rel="{rel}"'


@router.post(
    "/reviews/{review_id}/accept", response_model=DecisionOut, responses=error_answers(409, 422)
)
def accept_review(services: ServicesDep, caller: StaffCaller, review_id: RowId) -> DecisionOut:
    """Merge the two customers (recorded and reversible, under the usual safeguards)."""
    return DecisionOut.model_validate(services.identity.decide(caller, review_id, accept=True))


@router.post(
    "/reviews/{review_id}/reject", response_model=DecisionOut, responses=error_answers(409)
)
def reject_review(services: ServicesDep, caller: StaffCaller, review_id: RowId) -> DecisionOut:
    """Keep the two customers apart: later resolution never merges or queues them again."""
    return DecisionOut.model_validate(services.identity.decide(caller, review_id, accept=False))


@router.get("/explain", response_model=ExplanationOut)
def explain_pair(
    services: ServicesDep,
    caller: StaffCaller,
    a: Annotated[str, Query(min_length=1, max_length=512, description="A customer")],
    b: Annotated[str, Query(min_length=1, max_length=512, description="The other customer")],
) -> ExplanationOut:
    """Each field's match weight for two stored customers under the active model."""
    return ExplanationOut.model_validate(services.identity.explain(caller, a, b))


@router.post("/place/{customer_id}", response_model=PlacedOut)
def place_customer(services: ServicesDep, caller: StaffCaller, customer_id: str) -> PlacedOut:
    """Score one customer against all the others now: merge it into the same person, queue the
    pair for review, or leave it (households are recorded, never merged)."""
    return PlacedOut.model_validate(services.identity.place(caller, customer_id))
