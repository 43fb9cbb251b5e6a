"""Customer search as you type, the customer's page, its timeline and the prefilled forms."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, LEARNED
from cornerstore.api.deps import RowId, ServicesDep
from cornerstore.cases.model import CaseFilter
from cornerstore.console.customer_view import (
    TimelineFilter,
    activity_chart,
    moments_of,
    score_view,
)
from cornerstore.console.deps import ConsoleCaller, ConsoleRoute, redirect, render
from cornerstore.console.sections import Section, read_sections
from cornerstore.errors import InvalidInput, NotFound
from cornerstore.profiles.forms import FORM_QUESTIONS
from cornerstore.services import Services
from cornerstore.settings import TOUCHPOINTS

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

SEARCH_HITS = 20
TIMELINE_EVENTS = 25
MOMENTS = 8
SUGGESTIONS = 5
CASES = 10


def timeline_filter(
    touchpoint: Annotated[str, Query(max_length=32)] = "",
    type: Annotated[str, Query(max_length=32)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> TimelineFilter:
    """The timeline's filters from the query (the page's reason is the caller's)."""
    return TimelineFilter.of(touchpoint, type, cursor)


TimelineFilterDep = Annotated[TimelineFilter, Depends(timeline_filter)]


@router.get("/customers")
def search(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The search page; for htmx (typing in the box) only its results. The query's shape
    decides where to look (an e-mail looks up e-mails, digits phones, words names). A role
    that sees pseudonyms only does not search: it opens the customer of a pseudonym."""
    may_search = services.profiles.may_search(caller)
    pseudonymised = services.policy.pseudonymised(caller)
    if pseudonymised and q.strip():
        return redirect(request, f"/customers/{quote(q.strip(), safe='')}")
    hits = services.profiles.search(caller, q, SEARCH_HITS) if may_search and q.strip() else None
    return render(
        request,
        "customers.html",
        {"q": q, "hits": hits, "may_search": may_search, "pseudonymised": pseudonymised},
    )


def _timeline_reader(services: Services, caller: Caller, ref: str, wanted: TimelineFilter) -> Any:
    return lambda: services.profiles.timeline(
        caller,
        ref,
        touchpoints=wanted.touchpoints,
        types=wanted.types,
        cursor=wanted.cursor,
        limit=TIMELINE_EVENTS,
        audit=False,
    )


def _read_customer(
    services: Services, caller: Caller, ref: str, wanted: TimelineFilter
) -> dict[str, Section]:
    """Every section of the customer page, each one bounded read of its own service. The
    reads of the profile, timeline, moments, scores and cases write no entry of their own:
    the page records one listing what they showed (:func:`_record_view`)."""
    return read_sections(
        {
            "profile": lambda: services.profiles.get(caller, ref, audit=False),
            "timeline": _timeline_reader(services, caller, ref, wanted),
            "moments": lambda: moments_of(
                services.profiles.timeline(
                    caller, ref, touchpoints=["other"], limit=MOMENTS, audit=False
                )
            ),
            "scores": lambda: services.learner.scores(caller, ref, audit=False),
            "next_actions": lambda: services.actions.for_customer(caller, ref),
            "suggestions": lambda: services.suggestions.for_customer(caller, ref, SUGGESTIONS),
            "cases": lambda: services.cases.find(caller, CaseFilter(limit=CASES), ref, False),
            "segments": lambda: services.segments.of_customer(caller, ref),
            "consents": lambda: services.consents.get(caller, ref),
        },
        services.settings.console_section_ms / 1000,
        services.store.time_limit,
    )


def _record_view(
    services: Services, caller: Caller, ref: str, wanted: TimelineFilter, found: dict[str, Section]
) -> None:
    """One audit entry for what the page's unaudited reads showed (those that answered)."""
    policy = services.policy
    profile = found["profile"].value
    sections: list[str] = list(profile.sections) if profile is not None else []
    timeline = found["timeline"].value is not None
    touchpoints = tuple(wanted.touchpoints or TOUCHPOINTS) if timeline else ()
    if found["moments"].value is not None:
        touchpoints = (*touchpoints, "other")
    sections += [
        policy.timeline_section(tp)
        for tp in touchpoints
        if policy.may(caller, policy.timeline_section(tp))
    ]
    sections += [name for name in ("scores", "cases") if found[name].value is not None]
    if sections:
        services.profiles.record_view(caller, ref, sections)


@router.get("/customers/{ref}")
def customer(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    ref: str,
    wanted: TimelineFilterDep,
) -> Response:
    """The customer's whole story on one page; each section only for roles that may read it."""
    found = _read_customer(services, caller, ref, wanted)
    profile = found["profile"]
    if isinstance(profile.error, NotFound | InvalidInput):
        raise profile.error
    _record_view(services, caller, ref, wanted, found)
    scores = found["scores"]
    return render(
        request,
        "customer.html",
        {
            "ref": ref,
            "reason": caller.reason or "",
            "sections": found,
            "filter": wanted,
            "filters": TimelineFilter.choices(services.policy, caller),
            "activity": activity_chart(profile.value),
            "scores": score_view(scores.value) if scores.value is not None else None,
            "may_undo": services.policy.may(caller, "merges", CHANGE),
            "forms": []
            if services.policy.pseudonymised(caller)
            else sorted(f for f in services.settings.forms if f in FORM_QUESTIONS),
        },
    )


@router.get("/customers/{ref}/timeline")
def timeline(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    ref: str,
    wanted: TimelineFilterDep,
) -> Response:
    """The timeline with its filters (htmx swaps it into the customer page)."""
    found = read_sections(
        {"timeline": _timeline_reader(services, caller, ref, wanted)},
        services.settings.console_section_ms / 1000,
        services.store.time_limit,
    )
    if found["timeline"].error is not None:
        raise found["timeline"].error
    return render(
        request,
        "timeline.html",
        {
            "ref": ref,
            "reason": caller.reason or "",
            "timeline": found["timeline"],
            "filter": wanted,
            "filters": TimelineFilter.choices(services.policy, caller),
        },
    )


@router.get("/customers/{ref}/forms/{form}")
def form_page(
    request: Request, services: ServicesDep, caller: ConsoleCaller, ref: str, form: str
) -> Response:
    """A prefilled form: what is known, with its source and age, and questions for the rest."""
    if form not in FORM_QUESTIONS:
        raise NotFound(f"form: no such form; forms are: {', '.join(sorted(FORM_QUESTIONS))}")
    prefill = services.profiles.prefill(caller, ref, form)
    return render(
        request,
        "form.html",
        {
            "ref": ref,
            "prefill": prefill,
            # Learned fields are shown when known, never typed in.
            "missing": [
                f for f in prefill.fields if not f.known and not f.field.startswith(LEARNED)
            ],
            "questions": FORM_QUESTIONS[form],
        },
    )


@router.post("/customers/{ref}/forms/{form}")
async def submit_form(
    request: Request, services: ServicesDep, caller: ConsoleCaller, ref: str, form: str
) -> Response:
    """Record the form through intake (touchpoint ``store``), where the firewall screens it."""
    if form not in FORM_QUESTIONS:
        raise NotFound(f"form: no such form; forms are: {', '.join(sorted(FORM_QUESTIONS))}")
    submitted = await request.form()
    fields = {k.removeprefix("field:"): v for k, v in submitted.items() if k.startswith("field:")}
    questions = {q: submitted.get(q, "") for q in FORM_QUESTIONS[form]}
    answers = {k: v for k, v in fields.items() if isinstance(v, str)}
    asked = {k: v.strip() for k, v in questions.items() if isinstance(v, str)}
    entry = await run_in_threadpool(services.profiles.form_entry, caller, ref, form, answers, asked)
    result = await run_in_threadpool(
        lambda: services.intake.ingest(
            entry.messages, source=entry.source, actor=caller.actor, entrance="console"
        )
    )
    if result.rejected:
        raise InvalidInput(f"{form} form: {result.rejected[0].reason}")
    return redirect(request, f"/customers/{quote(ref, safe='')}?saved={quote(form)}#timeline")


@router.post("/customers/{ref}/merges/{merge_id}/undo")
async def undo_merge(
    request: Request, services: ServicesDep, caller: ConsoleCaller, ref: str, merge_id: RowId
) -> Response:
    """Undo a merge from the customer's merge history (as ``POST /v1/merges/{id}/undo``)."""
    record = await run_in_threadpool(services.merges.unmerge, caller, merge_id)
    return redirect(
        request, f"/customers/{quote(record.winner_id, safe='')}?undone={record.id}#merges"
    )
