"""The identity review queue, a page at a time: pairs side by side with each field's weight,
accept or reject (the reviewer stays on the page), recent merges and a customer's merge history,
each merge with its undo."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.access.caller import Caller
from cornerstore.api.deps import RowId, ServicesDep
from cornerstore.console.deps import ConsoleCaller, ConsoleRoute, is_fragment, redirect, render
from cornerstore.services import Services

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

#: Pairs on one page of the queue.
PAGE_SIZE = 20

# A cursor as the queue gives it (URL-safe base64), so it can go back into a link as it is.
_CURSOR = r"^[A-Za-z0-9_-]*$"


def _place(after: str, before: str) -> dict[str, str]:
    """Which page of the queue: the query (or form) parameter that names it, if any."""
    return {"after": after} if after else {"before": before} if before else {}


def page_asked(
    after: Annotated[str, Query(max_length=64, pattern=_CURSOR)] = "",
    before: Annotated[str, Query(max_length=64, pattern=_CURSOR)] = "",
) -> dict[str, str]:
    """The page a link asked for (``?after=`` or ``?before=`` a cursor; the first without)."""
    return _place(after, before)


def page_decided_on(
    after: Annotated[str, Form(max_length=64, pattern=_CURSOR)] = "",
    before: Annotated[str, Form(max_length=64, pattern=_CURSOR)] = "",
) -> dict[str, str]:
    """The page a decision was made on (the form carries the page's cursor), to go back to."""
    return _place(after, before)


PageAsked = Annotated[dict[str, str], Depends(page_asked)]
PageDecidedOn = Annotated[dict[str, str], Depends(page_decided_on)]


@router.get("/reviews")
def review_queue(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    here: PageAsked,
    customer: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """A page of the pending pairs (``after`` or ``before`` a cursor), how many wait, the
    latest merges and, given ``customer``, that customer's merges. htmx gets the page of pairs
    alone (paging swaps it in)."""
    page = services.identity.review_page(caller, PAGE_SIZE, here.get("after"), here.get("before"))
    if is_fragment(request):
        return render(request, "reviews.html", {"page": page, "here": here})
    recent = services.identity.recent_merges(caller)
    history = services.profiles.get(caller, customer.strip()) if customer.strip() else None
    return render(
        request,
        "reviews.html",
        {
            "page": page,
            "here": here,
            "recent": recent,
            "customer": customer,
            "history": history,
            "fragment": False,
        },
    )


def _decided(
    request: Request,
    services: Services,
    caller: Caller,
    review_id: int,
    accept: bool,
    here: dict[str, str],
) -> Response:
    decision = services.identity.decide(caller, review_id, accept=accept)
    if not is_fragment(request):
        # Back to the page the pair was on (its pairs after or before the same place).
        return redirect(request, f"/reviews?{urlencode(here)}" if here else "/reviews")
    # The decided pair's card, the count waiting and the recent merges swapped in beside it
    # (out of band).
    recent = services.identity.recent_merges(caller) if accept else None
    waiting = services.identity.waiting(caller)
    return render(
        request,
        "_review_decided.html",
        {"decision": decision, "recent": recent, "waiting": waiting},
    )


@router.post("/reviews/{review_id}/accept")
def accept_review(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    review_id: RowId,
    here: PageDecidedOn,
) -> Response:
    """Merge the pair (the same safeguards and record as the API's accept)."""
    return _decided(request, services, caller, review_id, True, here)


@router.post("/reviews/{review_id}/reject")
def reject_review(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    review_id: RowId,
    here: PageDecidedOn,
) -> Response:
    """Keep the pair apart for good."""
    return _decided(request, services, caller, review_id, False, here)


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
