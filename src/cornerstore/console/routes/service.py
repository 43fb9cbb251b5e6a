"""The service dashboard (outcome metrics of the contact centre) and the public page where a
customer answers a follow-up survey."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.api.deps import ServicesDep
from cornerstore.console.curves import line_chart
from cornerstore.console.deps import ConsoleCaller, ConsoleRoute, render
from cornerstore.errors import InvalidInput
from cornerstore.outcomes.model import GROUPINGS, MetricsGroup, Rate

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

Token = Annotated[str, Path(min_length=3, max_length=64)]


@router.get("/service")
def service_page(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    by: Annotated[str, Query(max_length=16)] = "channel",
) -> Response:
    """Outcome metrics of the cases opened in the period, their intervals, a breakdown and
    the trend by week."""
    if by not in GROUPINGS:
        raise InvalidInput(f"by: must be one of {', '.join(GROUPINGS)}")
    report, trend = services.outcomes.dashboard(caller, _day(start, "from"), _day(end, "to"), by)
    return render(
        request,
        "service.html",
        {
            "report": report,
            "trend": trend,
            "charts": _charts(trend.groups, trend.group_by or "week"),
            "groupings": GROUPINGS,
            "by": by,
            "start": report.start.date().isoformat() if report.start else "",
            "end": report.end.date().isoformat() if report.end else "",
        },
    )


def _day(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{name}: a date such as 2026-03-01") from None


def _charts(groups: tuple[MetricsGroup, ...], unit: str) -> dict[str, object]:
    def rows(pick: str) -> list[tuple[str, float]]:
        found: list[tuple[str, float]] = []
        for g in groups:
            rate: Rate = getattr(g.metrics, pick)
            if rate.value is not None:
                found.append((g.key[5:] if unit == "week" else g.key, rate.value))
        return found

    charts: dict[str, object] = {}
    for pick, title in (
        ("resolution", f"Resolution rate by {unit} opened"),
        ("first_contact_resolution", f"First-contact resolution by {unit} opened"),
    ):
        points = rows(pick)
        if len(points) >= 2:
            charts[pick] = line_chart(title, points)
    return charts


@router.get("/feedback/{token}")
def feedback_page(request: Request, services: ServicesDep, token: Token) -> Response:
    """The follow-up survey a link leads to: no login, the link is the credential."""
    survey = services.outcomes.open_survey(token)
    return render(request, "feedback.html", {"survey": survey, "token": token})


@router.post("/feedback/{token}")
async def answer_feedback(
    request: Request,
    services: ServicesDep,
    token: Token,
    resolved: Annotated[Literal["yes", "no"], Form()],
    score: Annotated[int, Form(ge=1, le=5)],
) -> Response:
    """Keep the customer's answer and thank them."""
    survey = await run_in_threadpool(services.outcomes.answer, token, resolved == "yes", score)
    return render(request, "feedback.html", {"survey": survey, "token": token, "thanks": True})
