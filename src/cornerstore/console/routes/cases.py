"""The contact centre's queue (every channel, with filters and assignment) and the case page:
the customer's whole story beside the conversation, replies and notes, the suggested remedy and
its grant or approval."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE
from cornerstore.api.deps import RowId, ServicesDep
from cornerstore.cases.model import CHANNELS, PRIORITIES, STATUSES, CaseLink
from cornerstore.cases.service import CaseOpening, CaseUpdate, NewMessage, Sender
from cornerstore.console.customer_view import score_view
from cornerstore.console.deps import ConsoleCaller, ConsoleRoute, redirect, render
from cornerstore.console.sections import Section, read_sections
from cornerstore.errors import InvalidInput
from cornerstore.services import Services
from cornerstore.settings import TOUCHPOINTS

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

QUEUE_LENGTH = 100
TIMELINE_EVENTS = 25
CUSTOMER_CASES = 50
Text = Annotated[str, Form(max_length=100_000)]
Short = Annotated[str, Form(max_length=512)]


@router.get("/cases")
def queue(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    status: Annotated[str, Query(max_length=16)] = "",
    channel: Annotated[str, Query(max_length=16)] = "",
    category: Annotated[str, Query(max_length=64)] = "",
    branch: Annotated[str, Query(max_length=64)] = "",
    owner: Annotated[str, Query(max_length=64)] = "",
    age: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """One queue for every channel: open and waiting cases by default, newest first, with
    filters (``status=all`` for every case)."""
    statuses = [status] if status in STATUSES else [] if status == "all" else ["open", "waiting"]
    where = services.cases.filter(
        caller,
        status=statuses,
        channel=[channel] if channel else [],
        category=[category] if category else [],
        branch=[branch] if branch else [],
        owner=(_username(caller) if owner == "me" else owner) or None,
        older_than_days=_days(age),
        limit=QUEUE_LENGTH,
    )
    cases = services.cases.queue(caller, where)
    may_change = services.policy.may(caller, "cases", CHANGE)
    pending = services.remedies.pending(caller) if may_change else []
    return render(
        request,
        "cases.html",
        {
            "cases": cases,
            "pending": pending,
            "limit": services.remedies.limit_of(caller.role),
            "me": _username(caller),
            "user_actor": caller.actor,
            "may_change": may_change,
            "chosen": {
                "status": status,
                "channel": channel,
                "category": category,
                "branch": branch,
                "owner": owner,
                "age": age,
            },
            "choices": {
                "status": ["", *STATUSES, "all"],
                "channel": CHANNELS,
                "category": services.settings.cases.categories,
                "priority": PRIORITIES,
            },
        },
    )


def _username(caller: Caller) -> str:
    """The staff username of a console caller (``user:sam`` acts as ``sam``)."""
    return caller.actor.split(":", 1)[1] if ":" in caller.actor else caller.actor


def _days(age: str) -> float | None:
    try:
        return float(age) if age.strip() else None
    except ValueError:
        raise InvalidInput("age: give a number of days") from None


@router.post("/cases")
async def open_case(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    sender: Short,
    channel: Annotated[str, Form(max_length=16)],
    subject: Annotated[str, Form(max_length=300)],
    body: Text = "",
    category: Annotated[str, Form(max_length=64)] = "other",
    order: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Open a case taken by phone, in store or from a letter: the sender is a customer id, an
    e-mail or a phone (an unknown one is placed through identity)."""
    who = sender.strip()
    known = who.startswith(("cus_", "acc_"))
    person = Sender(
        customer=who if known else None,
        email=who if "@" in who and not known else None,
        phone=who if "@" not in who and not known else None,
    )
    links = (CaseLink("order", order.strip()),) if order.strip() else ()
    opening = CaseOpening(
        person, channel, subject, body, category=category, links=links, owner=_username(caller)
    )
    detail = await run_in_threadpool(services.cases.open, caller, opening)
    return redirect(request, f"/cases/{detail.case.id}")


def _read_case(services: Services, caller: Caller, case_id: int) -> dict[str, Section]:
    """The case, then the customer's sections side by side, each one bounded read within its
    time budget; one audit entry lists what the page shows."""
    detail = services.cases.get(caller, case_id, audit=False)
    root = detail.case.customer_id
    found = read_sections(
        {
            "profile": lambda: services.profiles.get(caller, root, audit=False),
            "scores": lambda: services.learner.scores(caller, root, audit=False),
            "timeline": lambda: services.profiles.timeline(
                caller, root, limit=TIMELINE_EVENTS, audit=False
            ),
            "cases": lambda: services.cases.of_customer(caller, root, CUSTOMER_CASES, False),
            "suggestion": lambda: services.remedies.suggest(caller, case_id),
        },
        services.settings.console_section_ms / 1000,
        services.store.time_limit,
    )
    services.cases.record_view(caller, case_id, root, _shown_sections(services, caller, found))
    return {"case": Section(detail), **found}


def _shown_sections(services: Services, caller: Caller, found: dict[str, Section]) -> list[str]:
    """The policy sections of what the page's sections read (those that answered)."""
    sections: list[str] = []
    profile = found["profile"].value
    if profile is not None:
        sections += profile.sections
    if found["timeline"].value is not None:
        every = (services.policy.timeline_section(tp) for tp in TOUCHPOINTS)
        sections += [s for s in every if services.policy.may(caller, s)]
    if found["scores"].value is not None:
        sections.append("scores")
    return sections


@router.get("/cases/{case_id}")
def case_page(
    request: Request, services: ServicesDep, caller: ConsoleCaller, case_id: RowId
) -> Response:
    """The case with the customer's whole story: who they are and how to reach them, value,
    loyalty and churn risk, their other cases and their history across departments."""
    found = _read_case(services, caller, case_id)
    detail = found["case"].value
    scores = found["scores"]
    return render(
        request,
        "case.html",
        {
            "detail": detail,
            "case": detail.case,
            "sections": found,
            "scores": score_view(scores.value) if scores.value is not None else None,
            "may_change": services.policy.may(caller, "cases", CHANGE),
            "limit": services.remedies.limit_of(caller.role),
            "me": _username(caller),
            "actor": caller.actor,
            "statuses": STATUSES,
            "categories": services.settings.cases.categories,
            "priorities": PRIORITIES,
            "kinds": ("credit", "refund", "replacement", "coupon"),
        },
    )


def _back(request: Request, case_id: int, anchor: str = "") -> Response:
    return redirect(request, f"/cases/{case_id}{anchor}")


@router.post("/cases/{case_id}/messages")
async def add_message(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    case_id: RowId,
    body: Text,
    kind: Annotated[str, Form(max_length=16)] = "reply",
) -> Response:
    """A reply to the customer, a note for staff, or what the customer said (a call noted)."""
    if kind not in ("reply", "note", "customer"):
        raise InvalidInput("kind: reply, note or customer")
    message = NewMessage(body, "in" if kind == "customer" else "out", internal=kind == "note")
    await run_in_threadpool(services.cases.add_message, caller, case_id, message)
    return _back(request, case_id, "#conversation")


@router.post("/cases/{case_id}/update")
async def update_case(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    case_id: RowId,
    status: Annotated[str, Form(max_length=16)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    category: Annotated[str, Form(max_length=64)] = "",
    priority: Annotated[str, Form(max_length=16)] = "",
    take: Annotated[str, Form(max_length=8)] = "",
    back: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Change the status, category or priority, assign it (``take``: to me), as the API's
    ``PATCH /v1/cases/{id}``."""
    who = _username(caller) if take else (owner.strip() or None)
    changes = CaseUpdate(
        status=status or None,
        owner=who,
        category=category or None,
        priority=priority or None,
    )
    await run_in_threadpool(services.cases.update, caller, case_id, changes)
    return redirect(request, "/cases") if back == "queue" else _back(request, case_id)


@router.post("/cases/{case_id}/customer")
async def reattach(
    request: Request, services: ServicesDep, caller: ConsoleCaller, case_id: RowId, customer: Short
) -> Response:
    """File the case with another customer."""
    await run_in_threadpool(services.cases.reattach, caller, case_id, customer)
    return _back(request, case_id)


@router.post("/cases/{case_id}/remedies")
async def grant_remedy(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    case_id: RowId,
    kind: Annotated[str, Form(max_length=16)],
    amount: Annotated[str, Form(max_length=16)],
    order: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Give a remedy: at once within the role's limit, else it waits for approval."""
    try:
        value = float(amount)
    except ValueError:
        raise InvalidInput("amount: give a number such as 12.50") from None
    await run_in_threadpool(
        services.remedies.grant, caller, case_id, kind, value, order.strip() or None
    )
    return _back(request, case_id, "#remedies")


@router.post("/remedies/{remedy_id}/{decision}")
async def decide_remedy(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    remedy_id: RowId,
    decision: str,
    back: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Approve or refuse a waiting remedy in one click (not one's own)."""
    if decision not in ("approve", "refuse"):
        raise InvalidInput("decision: approve or refuse")
    remedy = await run_in_threadpool(
        services.remedies.decide, caller, remedy_id, decision == "approve"
    )
    return redirect(request, "/cases") if back == "queue" else _back(request, remedy.case_id)
