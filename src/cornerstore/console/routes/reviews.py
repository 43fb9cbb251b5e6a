"""The identity review queue: pairs side by side with each field's weight, accept or reject,
recent merges and a customer's merge history, each merge with its undo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.access.caller import Caller
from cornerstore.api.deps import RowId, ServicesDep
from cornerstore.console.deps import ConsoleCaller, ConsoleRoute, is_fragment, redirect, render
from cornerstore.services import Services

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

QUEUE_LENGTH = 10


@router.get("/reviews")
def review_queue(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    customer: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The pending pairs, the latest merges and, given ``customer``, that customer's merges."""
    reviews = services.identity.pending(caller, QUEUE_LENGTH)
    recent = services.identity.recent_merges(caller)
    history = services.profiles.get(caller, customer.strip()) if customer.strip() else None
    return render(
        request,
        "reviews.html",
        {"reviews": reviews, "recent": recent, "customer": customer, "history": history},
    )


def _decided(
    request: Request, services: Services, caller: Caller, review_id: int, accept: bool
) -> Response:
    decision = services.identity.decide(caller, review_id, accept=accept)
    if not is_fragment(request):
        return redirect(request, "/reviews")
    # The decided pair's card, and the recent merges swapped in beside it (out of band).
    recent = services.identity.recent_merges(caller) if accept else None
    return render(request, "_review_decided.html", {"decision": decision, "recent": recent})


@router.post("/reviews/{review_id}/accept")
def accept_review(
    request: Request, services: ServicesDep, caller: ConsoleCaller, review_id: RowId
) -> Response:
    """Merge the pair (the same safeguards and record as the API's accept)."""
    return _decided(request, services, caller, review_id, accept=True)


@router.post("/reviews/{review_id}/reject")
def reject_review(
    request: Request, services: ServicesDep, caller: ConsoleCaller, review_id: RowId
) -> Response:
    """Keep the pair apart for good."""
    return _decided(request, services, caller, review_id, accept=False)


@router.post("/reviews/merges/{merge_id}/undo")
async def undo_merge(
    request: Request, services: ServicesDep, caller: ConsoleCaller, merge_id: RowId
) -> Response:
    """Undo a merge, as ``POST /v1/merges/{id}/undo`` does; htmx gets the merges list again."""
    await run_in_threadpool(services.merges.unmerge, caller, merge_id)
    if not is_fragment(request):
        return redirect(request, "/reviews")
    recent = await run_in_threadpool(services.identity.recent_merges, caller)
    return render(request, "_merges.html", {"recent": recent, "undone": merge_id})
