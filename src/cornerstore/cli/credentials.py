"""``cornerstore keys`` (intake write keys) and ``cornerstore tokens`` (staff API tokens).

A new secret is printed once, on the last line of stdout, so scripts can capture it with
``tail -n 1``.
"""

from __future__ import annotations

import typer
from rich.table import Table

from cornerstore.access.credentials import key_source
from cornerstore.cli.common import (
    Invocation,
    out,
    print_json,
    row_id_argument,
    shared_options,
    when,
)

keys_app = typer.Typer(help="Intake write keys (send events only)", no_args_is_help=True)
tokens_app = typer.Typer(help="Staff API tokens (read customers)", no_args_is_help=True)


@keys_app.command("create")
@shared_options("db")
def create_key(
    run: Invocation,
    name: str = typer.Option(..., "--name", help="What sends with it, e.g. web-shop"),
    touchpoint: str = typer.Option("web", help="Department its messages come from"),
    source: str | None = typer.Option(
        None,
        help="client (public in pages and apps: its claims about existing customers stay "
        "unverified) or server (kept secret, trusted); default: client for web and app",
    ),
) -> None:
    """Create a write key; it is shown once, on the last line."""
    with run.services() as s:
        issued = s.credentials.create_write_key(run.caller(s), name, touchpoint, source)
    out.print(
        f"write key {issued.id} '{issued.name}' ({touchpoint}, "
        f"{key_source(source, touchpoint)}-side); "
        "store it now, it is shown once:"
    )
    print(issued.secret)


@keys_app.command("list")
@shared_options("json", "db")
def list_keys(
    run: Invocation,
) -> None:
    """List write keys (never the secrets)."""
    with run.services() as s:
        keys = s.credentials.list_write_keys(run.caller(s))
    if run.json:
        print_json(keys)
        return
    table = Table("id", "name", "touchpoint", "source", "prefix", "created", "revoked")
    for k in keys:
        table.add_row(
            str(k.id),
            k.name,
            k.touchpoint,
            k.source,
            k.prefix + "...",
            when(k.created_at),
            when(k.revoked_at),
        )
    out.print(table)


@keys_app.command("revoke")
@shared_options("db")
def revoke_key(
    run: Invocation,
    key_id: int = row_id_argument("The key's id"),
) -> None:
    """Revoke a write key: its messages are refused from now on."""
    with run.services() as s:
        s.credentials.revoke_write_key(run.caller(s), key_id)
    out.print(f"write key {key_id} revoked")


@tokens_app.command("create")
@shared_options("db")
def create_token(
    run: Invocation,
    name: str = typer.Option(..., "--name", help="Who or what uses it"),
    role: str | None = typer.Option(
        None, help="Role of the token (see `cornerstore roles`); required unless --user"
    ),
    expires: str | None = typer.Option(
        None, help="Lifetime such as 12h, 30d, 2w, at most 10 years, or never (default: 90d)"
    ),
    user: str | None = typer.Option(
        None, "--user", help="A personal token acting as this staff user (with their role)"
    ),
) -> None:
    """Create a staff API token; it is shown once, on the last line."""
    with run.services() as s:
        caller = run.caller(s)
        user_id = s.staff.get(caller, user).id if user else None
        issued = s.credentials.create_token(caller, name, role, expires, user_id=user_id)
    what = f"user {user}" if user else role
    lasts = f"expires {when(issued.expires_at)}" if issued.expires_at else "never expires"
    out.print(
        f"API token {issued.id} '{issued.name}' ({what}, {lasts}); "
        "store it now, it is not shown again:"
    )
    print(issued.secret)


@tokens_app.command("list")
@shared_options("json", "db")
def list_tokens(
    run: Invocation,
) -> None:
    """List API tokens (never the secrets)."""
    with run.services() as s:
        tokens = s.credentials.list_tokens(run.caller(s))
    if run.json:
        print_json(tokens)
        return
    table = Table("id", "name", "role", "user", "prefix", "created", "expires", "revoked")
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.role,
            t.user or "-",
            t.prefix + "...",
            when(t.created_at),
            when(t.expires_at) if t.expires_at else "never",
            when(t.revoked_at),
        )
    out.print(table)


@tokens_app.command("revoke")
@shared_options("db")
def revoke_token(
    run: Invocation,
    token_id: int = row_id_argument("The token's id"),
) -> None:
    """Revoke an API token at once."""
    with run.services() as s:
        s.credentials.revoke_token(run.caller(s), token_id)
    out.print(f"API token {token_id} revoked")
