"""Customer search as you type and the customer's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from cornerstore.api.deps import ServicesDep
from cornerstore.console.deps import ConsoleCaller, ConsoleRoute, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/customers")
def search(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The search page; for htmx (typing in the box) only its results."""
    hits = services.profiles.search(caller, q, 20) if q.strip() else None
    return render(request, "customers.html", {"q": q, "hits": hits})
