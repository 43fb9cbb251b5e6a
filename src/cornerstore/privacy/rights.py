"""A customer's rights over their data: a copy of everything held (export), and erasure.

Export gathers every row about the person across their merged profiles: identifiers, every trait
observation with its provenance, every event, accounts, merges, consent history and the scores
learned about them, as JSON and
as a readable HTML page meant for the customer: Yes and No, dates to the minute, nested data as
small tables and lists, never JSON (written with the standard library's escaping, every value
escaped: one static page needs no template engine, and keeping it here keeps the domain free of
web packages).

Erasure removes the person from every table, merged-away profiles included, in one transaction;
only keyed hashes of their identifiers stay behind, in the suppression list, so events replayed
later do not bring them back (:mod:`cornerstore.privacy.suppression`). The audit trail keeps that
an erasure happened, with counts, and nothing about the person.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import Policy
from cornerstore.plural import counted
from cornerstore.privacy.consent import current_consents, is_anonymous
from cornerstore.privacy.suppression import SUPPRESSION_KEY, suppression_digest
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.profiles.model import Event
from cornerstore.profiles.service import current_traits, household_of
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

EXPORT_FORMAT = "cornerstore.export/1"
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure removed (counts only) and how many identifiers are now suppressed."""

    customer_id: str
    profiles: int
    identifiers: int
    traits: int
    events: int
    consents: int
    merges: int
    suppressed_identifiers: int


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _all_events(uow: UnitOfWork, members: list[str], account_id: str | None) -> list[Event]:
    events: list[Event] = []
    before: tuple[datetime, int] | None = None
    while True:
        page = uow.events.page(members, account_id=account_id, before=before, limit=_PAGE)
        events += page
        if len(page) < _PAGE:
            break
        before = (page[-1].occurred_at, page[-1].id)
    events.reverse()  # oldest first: a history reads forwards
    return events


class Rights:
    """Export and erasure for staff acting on a customer's request; both are audited.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.intake.service import Source
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> intake = services.intake
    >>> _ = intake.ingest([{"type": "identify", "userId": "u1", "traits": {"name": "Ann"}}],
    ...                   source=Source("shop", "web"))
    >>> rights = services.rights
    >>> rights.export(system_caller(), "u1")["current_traits"]
    {'name': 'Ann'}
    >>> rights.erase(system_caller(), "u1").events
    1
    >>> intake.ingest([{"type": "track", "userId": "u1", "event": "Hi"}],
    ...               source=Source("shop", "web")).suppressed
    1
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.lookup = lookup

    def export(self, caller: Caller, ref: str, now: datetime | None = None) -> dict[str, Any]:
        """Everything held about the customer, as plain JSON-ready data (the owner only: it is
        every section at once)."""
        self.policy.require_staff_admin(caller)
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            row = uow.customers.get(root)
            assert row is not None
            kind, created_at = row.kind, row.created_at
            members = uow.customers.members(root)
            observations = uow.traits.of_customers(members)
            history = uow.consents.of_customers(members)
            events = _all_events(uow, members, root if kind == "account" else None)
            data: dict[str, Any] = {
                "format": EXPORT_FORMAT,
                "business": self.settings.business_name,
                "exported_at": (now or datetime.now(UTC)).isoformat(),
                "customer": {
                    "id": root,
                    "kind": kind,
                    "created_at": created_at.isoformat(),
                    "merged_profiles": [m for m in members if m != root],
                },
                "identifiers": [asdict(i) for i in uow.identifiers.of_customers(members)],
                "current_traits": {
                    name: t.value for name, t in current_traits(observations).items()
                },
                "traits": [asdict(o) for o in observations],
                # What a public write key claimed about them: held, so theirs to see.
                "unverified_traits": [
                    asdict(o) for o in uow.unverified_traits.of_customers(members)
                ],
                "events": [asdict(e) for e in events],
                "accounts": uow.accounts.accounts_of(members) if kind == "person" else [],
                "household": household_of(uow, root, members) if kind == "person" else [],
                "members": uow.accounts.members_of(members) if kind == "account" else [],
                "merges": [asdict(m) for m in uow.merges.involving(members)],
                "scores": [
                    {
                        "name": score.name,
                        "value": score.value,
                        "computed_at": score.computed_at,
                        "model": score.model,
                    }
                    for score in uow.learning.scores_of(members)
                ],
            }
        states = current_consents(history, self.settings.privacy.consent_defaults)
        data["consents"] = {
            "anonymous": is_anonymous(states),
            "current": [asdict(s) for s in states.values()],
            "history": [asdict(r) for r in history],
        }
        self.audit.record(caller, "export", root)
        return dict(_plain(data))

    def erase(self, caller: Caller, ref: str, now: datetime | None = None) -> ErasureReport:
        """Remove the customer from every table and suppress their identifiers (the owner only)."""
        self.policy.require_staff_admin(caller)
        now = now or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            root = self.lookup.find_root(uow, ref, caller)
            members = uow.customers.members(root)
            identifiers = uow.identifiers.of_customers(members)
            key = uow.installation_secrets.get_or_make(SUPPRESSION_KEY, now)
            digests = {suppression_digest(key, i.kind, i.value) for i in identifiers}
            uow.suppressions.add_many(sorted(digests), now)
            counts = uow.erasure.erase(members)
            erased_tables = list(uow.erasure.tables)
        self.store.scrub(erased_tables)
        report = ErasureReport(
            customer_id=root,
            profiles=counts.profiles,
            identifiers=counts.identifiers,
            traits=counts.traits,
            events=counts.events,
            consents=counts.consents,
            merges=counts.merges,
            suppressed_identifiers=len(digests),
        )
        self.audit.record(
            caller,
            "erase",
            root,
            f"{counted(report.profiles, 'profile')}, "
            f"{counted(report.identifiers, 'identifier')}, {counted(report.events, 'event')}",
        )
        return report


# -- the readable page ----------------------------------------------------------------------------
_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td{word-break:break-word}
table.nested{width:auto;font-size:12px}table.nested th{background:none;font-weight:600}
td ul{margin:0;padding-left:1.1rem}
.muted{color:#666}
"""


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def _readable_text(text: str) -> str:
    """A date as people write it ("4 December 2026"), a moment to the minute in UTC ("4 December
    2026, 21:44 UTC"); any other text as it is."""
    try:
        if _ISO_DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return f"{day.day} {day:%B %Y}"
        if _ISO_MOMENT.fullmatch(text):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC)
            return f"{moment.day} {moment:%B %Y, %H:%M}" + (" UTC" if moment.tzinfo else "")
    except ValueError:
        pass
    return text


def _readable_number(number: float) -> str:
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:,.2f}" if abs(number) >= 0.01 else f"{number:.2g}"


def _label(key: str) -> str:
    """A field name as a heading: ``first_seen_at`` -> ``First seen at``."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _cell(value: Any) -> str:
    """A value for people, escaped: Yes / No, dates to the minute, numbers rounded, nested
    data as small tables and lists, never JSON or Python literals."""
    if value is None or value == [] or value == {}:
        return '<span class="muted">-</span>'
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return _readable_number(float(value))
    if isinstance(value, datetime | date):
        return _cell(value.isoformat())
    if isinstance(value, dict):
        rows = "".join(
            f"<tr><th>{html.escape(_label(str(k)))}</th><td>{_cell(v)}</td></tr>"
            for k, v in value.items()
        )
        return f'<table class="nested">{rows}</table>'
    if isinstance(value, list | tuple):
        return "<ul>" + "".join(f"<li>{_cell(v)}</li>" for v in value) + "</ul>"
    return html.escape(_readable_text(str(value)))


def _labelled(rows: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    """``rows`` with the field names in ``column`` written as headings (``first_name`` ->
    ``First name``)."""
    return [{**row, column: _label(str(row[column]))} for row in rows]


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return '<p class="muted">Nothing held.</p>'
    head = "".join(f"<th>{html.escape(_label(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def export_html(data: dict[str, Any]) -> str:
    """The export as one self-contained, readable HTML page (every value escaped)."""
    customer = data["customer"]
    consents = data["consents"]
    business = html.escape(str(data["business"]))
    traits = [{"trait": _label(k), "value": v} for k, v in data["current_traits"].items()]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>What {business} holds about you</title><style>{_STYLE}</style></head><body>",
        f"<h1>What {business} holds about you</h1>",
        f"<p>Customer <strong>{_cell(customer['id'])}</strong>, known since "
        f"{_cell(customer['created_at'])}. Exported {_cell(data['exported_at'])}.</p>",
    ]
    if customer["merged_profiles"]:
        merged = ", ".join(_cell(m) for m in customer["merged_profiles"])
        parts.append(f"<p>Records joined into this profile: {merged}</p>")
    anonymous = _cell(bool(consents["anonymous"]))
    sections = [
        ("What you told us", _table(traits, ["trait", "value"])),
        (
            "How we recognise you",
            _table(data["identifiers"], ["kind", "value", "source", "touchpoint", "first_seen_at"]),
        ),
        (
            f"Your choices (not profiled: {anonymous})",
            _table(
                _labelled(consents["current"], "purpose"),
                ["purpose", "granted", "asked", "at", "touchpoint"],
            ),
        ),
        (
            "Every change of your choices",
            _table(
                _labelled(consents["history"], "purpose"),
                ["purpose", "granted", "at", "touchpoint", "source"],
            ),
        ),
        (
            "Every value you gave, with where it came from",
            _table(
                _labelled(data["traits"], "name"),
                ["name", "value", "touchpoint", "source", "observed_at"],
            ),
        ),
        (
            "What others claimed about you, which we do not use",
            _table(
                data["unverified_traits"], ["name", "value", "touchpoint", "source", "observed_at"]
            ),
        ),
        (
            "Your history with us",
            _table(
                data["events"],
                ["occurred_at", "type", "name", "touchpoint", "source", "properties"],
            ),
        ),
        (
            "What we worked out from your history",
            _table(_labelled(data["scores"], "name"), ["name", "value", "computed_at", "model"]),
        ),
        (
            "Records joined or separated",
            _table(data["merges"], ["id", "winner_id", "loser_id", "reason", "created_at"]),
        ),
    ]
    for title, body in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>{body}")
    if data["accounts"]:
        parts.append(f"<h2>Accounts</h2><p>{', '.join(_cell(a) for a in data['accounts'])}</p>")
    if data.get("household"):
        people = ", ".join(_cell(h) for h in data["household"])
        parts.append(f"<h2>Household</h2><p>Customers recorded as living with you: {people}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
