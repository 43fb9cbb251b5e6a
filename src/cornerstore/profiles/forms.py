"""What a member of staff fills in for a known customer, as the messages any touchpoint sends.

A prefilled form (new order, shipping, contact, returns) asks only for what is not known. What
is typed goes through intake like any other touchpoint's messages, so the privacy firewall
screens every note and stitching places the messages on the customer's profile: an
``identify`` with the new traits and a ``track`` event naming the form.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cornerstore.errors import InvalidInput
from cornerstore.profiles.model import Identifier

if TYPE_CHECKING:
    from cornerstore.intake.service import Source

# The event each form records, and the form's own questions beyond the customer's traits.
FORM_EVENTS: dict[str, str] = {
    "order": "Order Completed",
    "shipping": "Delivery Details Given",
    "contact": "Customer Contacted",
    "returns": "Return Requested",
}
FORM_QUESTIONS: dict[str, tuple[str, ...]] = {
    "order": ("items", "total", "note"),
    "shipping": ("note",),
    "contact": ("note",),
    "returns": ("order_id", "note"),
}
# How a message reaches a known customer, strongest first: the identifier it carries.
_ANCHORS = ("user_id", "email", "phone", "anonymous_id")
STAFF_TOUCHPOINT = "store"
MAX_ANSWER = 1000


@dataclass(frozen=True, slots=True)
class FormEntry:
    """The messages a submitted form becomes, and the source they come from."""

    source: Source
    messages: list[dict[str, Any]]


def staff_source(branch: str | None) -> Source:
    """The console of a branch, or of the whole shop: touchpoint ``store``.

    >>> staff_source("Leeds")
    Source(name='console-Leeds', touchpoint='store', client_side=False)
    """
    # Imported here: intake's consent handling reads profiles, which build these entries.
    from cornerstore.intake.service import Source

    return Source(f"console-{branch}" if branch else "console", STAFF_TOUCHPOINT)


def anchor_of(identifiers: Sequence[Identifier], root: str) -> dict[str, Any]:
    """The ids that make intake place a message on this customer: their user id when they
    have one, else an e-mail or phone (as an external id) beside an anonymous id of the console.
    """
    by_kind = {ident.kind: ident.value for ident in identifiers}
    for kind in _ANCHORS:
        value = by_kind.get(kind)
        if value is None:
            continue
        if kind == "user_id":
            return {"userId": value}
        if kind == "anonymous_id":
            return {"anonymousId": value}
        return {
            "anonymousId": f"console-{root}",
            "context": {"externalIds": [{"type": kind, "id": value}]},
        }
    raise InvalidInput("customer: has no identifier a form could be recorded against")


def _traits(answers: Mapping[str, str]) -> dict[str, Any]:
    """Form fields as traits: ``address.city`` goes into the ``address`` object."""
    traits: dict[str, Any] = {}
    for name, value in answers.items():
        head, _, rest = name.partition(".")
        if rest:
            traits.setdefault(head, {})[rest] = value
        else:
            traits[name] = value
    return traits


def _properties(form: str, questions: Mapping[str, str], at: datetime) -> dict[str, Any]:
    properties: dict[str, Any] = {"form": form}
    note = questions.get("note", "")
    if note:
        properties["note"] = note
    if form == "order":
        try:
            total = round(float(questions.get("total", "").replace(",", ".")), 2)
        except ValueError:
            raise InvalidInput("total: give the order's total as a number") from None
        if total < 0:
            raise InvalidInput("total: must not be negative")
        items = [i.strip() for i in questions.get("items", "").split(",") if i.strip()]
        properties.update(
            order_id=f"C{at:%y%m%d}-{secrets.token_hex(3)}",
            total=total,
            channel=STAFF_TOUCHPOINT,
            products=[{"name": item, "quantity": 1} for item in items[:50]],
        )
    if form == "returns" and questions.get("order_id"):
        properties["order_id"] = questions["order_id"]
    return properties


def form_messages(
    form: str,
    anchor: Mapping[str, Any],
    answers: Mapping[str, str],
    questions: Mapping[str, str],
    at: datetime,
) -> list[dict[str, Any]]:
    """The Spec messages of one submitted form: an ``identify`` when new traits were given,
    then the form's event.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 1, 2, tzinfo=UTC)
    >>> [m["type"] for m in form_messages("contact", {"userId": "u1"},
    ...                                   {"phone": "07700 900123"}, {"note": "Rang"}, at)]
    ['identify', 'track']
    """
    if form not in FORM_EVENTS:
        raise InvalidInput(f"form: must be one of {', '.join(sorted(FORM_EVENTS))}")
    for name, value in [*answers.items(), *questions.items()]:
        if len(value) > MAX_ANSWER:
            raise InvalidInput(f"{name}: at most {MAX_ANSWER} characters")
    stamp = at.isoformat()
    messages: list[dict[str, Any]] = []
    if answers:
        messages.append(
            {**anchor, "type": "identify", "traits": _traits(answers), "timestamp": stamp}
        )
    messages.append(
        {
            **anchor,
            "type": "track",
            "event": FORM_EVENTS[form],
            "properties": _properties(form, questions, at),
            "timestamp": stamp,
        }
    )
    return messages
