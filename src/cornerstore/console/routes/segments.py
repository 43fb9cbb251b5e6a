"""Segments and value: value by segment, churn risk, loyalty tiers, retention, members and
what customers said against what they did."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.access.policy import CHANGE
from cornerstore.api.deps import ServicesDep
from cornerstore.console.curves import column_chart, line_chart
from cornerstore.console.deps import ConsoleCaller, ConsoleRoute, redirect, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

MEMBERS_PAGE = 50


@router.get("/segments")
def segments_page(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    segment: Annotated[str, Query(max_length=64)] = "",
    after: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The overview; with ``segment`` also a page of its members (pseudonyms for the
    analyst)."""
    overview = services.learner.overview(caller)
    segments = services.segments.list(caller)
    members = (
        services.segments.members(caller, segment, MEMBERS_PAGE, after or None) if segment else None
    )
    learned = overview.customers > 0
    charts = {}
    if learned:
        charts = {
            "alive": column_chart(
                "Chance a customer still buys",
                [(c.label, c.customers, str(c.customers)) for c in overview.alive],
            ),
            "tiers": column_chart(
                "Customers per loyalty tier",
                [(c.label, c.customers, str(c.customers)) for c in overview.tiers],
            ),
            "retention": line_chart(
                "Share still buying, months after the first purchase",
                [(str(p.month), p.share) for p in overview.retention],
            ),
        }
    say_do = services.learner.say_vs_do(caller) if learned else None
    top_value = max((s.clv_sum or 0.0 for s in segments), default=0.0)
    return render(
        request,
        "segments.html",
        {
            "overview": overview,
            "learned": learned,
            "charts": charts,
            "segments": segments,
            "top_value": top_value,
            "members": members,
            "say_do": say_do,
            "may_learn": services.policy.may(caller, "scores", CHANGE),
        },
    )


@router.post("/segments/learn")
async def learn_now(request: Request, services: ServicesDep, caller: ConsoleCaller) -> Response:
    """Run the learning now (``cornerstore learn``): the owner's button on an empty page."""
    await run_in_threadpool(services.learner.run, caller)
    return redirect(request, "/segments")
