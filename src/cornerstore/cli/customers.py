"""``cornerstore customers``: find, show, timeline, prefill, merge and unmerge."""

from __future__ import annotations

import json as jsonlib

import typer
from rich.table import Table
from rich.text import Text

from cornerstore.cli.common import Invocation, id_column, out, print_json, shared_options, when
from cornerstore.cli.terminal import styled
from cornerstore.plural import counted
from cornerstore.profiles.model import Profile

app = typer.Typer(help="Customers: find, show, timeline, prefill, merge", no_args_is_help=True)
RefArgument = typer.Argument(..., help="Profile id, e-mail, phone or another identifier")


def _show(value: object) -> str:
    """A customer's value as table text (the CLI's consoles never read it as markup)."""
    return value if isinstance(value, str) else jsonlib.dumps(value, ensure_ascii=False)


@app.command("search")
@shared_options("json", "acting", "db")
def search(
    run: Invocation,
    q: str = typer.Argument(..., help="Name, e-mail, phone or identifier"),
    limit: int = typer.Option(20, min=1, max=100),
) -> None:
    """Find customers by identifier or by name (full name in either order, a part, a nickname
    or a typo), best match first."""
    with run.services() as s:
        hits = s.profiles.search(run.caller(s), q, limit)
    if run.json:
        print_json([h.visible() for h in hits])
        return
    if not hits:
        out.print(f'No customer matches "{q.strip()}".', markup=False)
        return
    columns = list(hits[0].visible())
    table = Table(*(id_column(c, (h.id for h in hits)) if c == "id" else c for c in columns))
    for h in hits:
        # Customer values are shown as text, never read as Rich markup.
        table.add_row(*((str(v) if v is not None else "-") for v in h.visible().values()))
    out.print(table)


def _print_profile(p: Profile) -> None:
    """The profile's sections the caller may read; absent ones are not mentioned."""
    out.print(styled(p.id, "bold"), f"  {p.kind}, known since {when(p.created_at)}", sep="")
    if p.merged_profiles:
        out.print(f"merged profiles: {', '.join(p.merged_profiles)}")
    s = p.summary
    if s is not None:
        spread = ", ".join(f"{k} {v}" for k, v in sorted(s.by_touchpoint.items()))
        out.print(
            f"{counted(s.events, 'event')} ({spread or 'none'}); first {when(s.first_seen_at)}, "
            f"last {when(s.last_seen_at)}"
        )
    if p.identifiers is not None:
        idents = Table(
            "identifier", "value", "source", "touchpoint", "first seen", title="Identifiers"
        )
        for i in p.identifiers:
            idents.add_row(i.kind, i.value, i.source, i.touchpoint, when(i.first_seen_at))
        out.print(idents)
    if p.traits is not None:
        traits = Table("trait", "value", "from", "observed", "times", title="Traits")
        for name, t in p.traits.items():
            traits.add_row(
                name,
                _show(t.value),
                f"{t.touchpoint}/{t.source}",
                when(t.observed_at),
                str(t.observations),
            )
        out.print(traits)
    if p.unverified:
        claims = Table("trait", "value", "from", "observed", title="Unverified (claimed, not used)")
        for o in p.unverified:
            claims.add_row(
                o.name, _show(o.value), f"{o.touchpoint}/{o.source}", when(o.observed_at)
            )
        out.print(claims)
    if p.accounts:
        out.print(f"accounts: {', '.join(p.accounts)}")
    if p.household:
        out.print(f"household: {', '.join(p.household)}")
    if p.members:
        out.print(f"members: {', '.join(p.members)}")
    for m in p.merges or []:
        state = f"undone {when(m.undone_at)}" if m.undone_at else "active"
        out.print(f"merge {m.id}: {m.loser_id} into {m.winner_id} ({m.reason}, {state})")


@app.command("show")
@shared_options("json", "acting", "db")
def show(
    run: Invocation,
    ref: str = RefArgument,
) -> None:
    """The 360 profile: identifiers, traits with provenance, summary."""
    with run.services() as s:
        profile = s.profiles.get(run.caller(s), ref)
    if run.json:
        print_json(profile.visible())
        return
    _print_profile(profile)


@app.command("timeline")
@shared_options("json", "acting", "db")
def timeline(
    run: Invocation,
    ref: str = RefArgument,
    touchpoint: list[str] = typer.Option([], help="Only this touchpoint (repeatable)"),
    type: list[str] = typer.Option([], "--type", help="Only this message type (repeatable)"),
    limit: int = typer.Option(50, min=1, max=500),
    cursor: str | None = typer.Option(None, help="Cursor of the next page"),
) -> None:
    """The customer's events, newest first."""
    with run.services() as s:
        page = s.profiles.timeline(
            run.caller(s),
            ref,
            touchpoints=touchpoint,
            types=type,
            cursor=cursor,
            limit=limit,
        )
    if run.json:
        print_json(page.visible())
        return
    table = Table("when", "touchpoint", "type", "name", "source", title=page.customer_id)
    for e in page.events:
        table.add_row(when(e.occurred_at), e.touchpoint, e.type, e.name or "-", e.source)
    out.print(table)
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}")


@app.command("prefill")
@shared_options("json", "acting", "db")
def prefill(
    run: Invocation,
    ref: str = RefArgument,
    form: str = typer.Option(..., help="Form name (see settings: contact, shipping, returns)"),
) -> None:
    """A form filled from what the customer already told us."""
    with run.services() as s:
        filled = s.profiles.prefill(run.caller(s), ref, form)
    if run.json:
        print_json(filled)
        return
    table = Table("field", "value", "from", "age (days)", title=f"{form} for {filled.customer_id}")
    for f in filled.fields:
        table.add_row(
            f.field,
            _show(f.value) if f.known else Text("unknown", style="dim"),
            f"{f.touchpoint}/{f.source}" if f.known else "-",
            f"{f.age_days:g}" if f.age_days is not None else "-",
        )
    out.print(table)


@app.command("merge")
@shared_options("json", "acting", "db")
def merge(
    run: Invocation,
    a: str = typer.Argument(..., help="Profile id, e-mail, phone or identifier"),
    b: str = typer.Argument(..., help="The customer to merge with it, named the same ways"),
) -> None:
    """Merge two profiles by hand (recorded and reversible)."""
    with run.services() as s:
        record = s.merges.merge(run.caller(s), a, b)
    if run.json:
        print_json(record)
        return
    out.print(f"merge {record.id}: {record.loser_id} into {record.winner_id}")


@app.command("unmerge")
@shared_options("json", "acting", "db")
def unmerge_cmd(
    run: Invocation,
    ref: str = typer.Argument(
        ..., help="A merge id, or the id of the profile that was merged away"
    ),
) -> None:
    """Undo a merge, restoring both profiles exactly."""
    with run.services() as s:
        record = s.merges.unmerge(run.caller(s), ref)
    if run.json:
        print_json(record)
        return
    out.print(f"merge {record.id} undone: {record.loser_id} is its own profile again")
