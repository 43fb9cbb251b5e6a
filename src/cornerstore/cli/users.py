"""``cornerstore users``: staff accounts, their roles and branches; ``cornerstore roles``.

A password the system chooses is printed once, on the last line of stdout.
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from cornerstore.access.users import NewPassword
from cornerstore.cli.common import (
    DbOption,
    JsonOption,
    cli_caller,
    handle_errors,
    out,
    print_json,
    services,
    when,
)

app = typer.Typer(help="Staff users: create, grant roles and branches, list", no_args_is_help=True)
UserArgument = typer.Argument(..., help="The user's name")


def _print_new(created: NewPassword, what: str) -> None:
    out.print(f"{what}; one-time password (changed at first login, not shown again):")
    print(created.password)


@app.command("create")
@handle_errors
def create(
    username: str = UserArgument,
    role: str = typer.Option(..., "--role", help="owner, support, shipping, billing, ..."),
    branch: str | None = typer.Option(None, help="Limit the user to one branch"),
    name: str | None = typer.Option(None, "--name", help="Display name"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin instead of choosing one"
    ),
    db: str | None = DbOption,
) -> None:
    """Create a staff user; without --password-stdin a one-time password is printed last."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with services(db) as s:
        created = s.staff.create(
            cli_caller(), username, role, display_name=name, branch=branch, password=password
        )
    what = f"user {created.user.username} ({role}, {created.user.branch or 'every branch'})"
    if created.password:
        _print_new(created, what)
    else:
        out.print(f"{what} created")


@app.command("grant")
@handle_errors
def grant(
    username: str = UserArgument,
    role: str = typer.Argument(..., help="The role to hold from now on"),
    branch: str | None = typer.Option(None, help="Limit the user to this branch"),
    every_branch: bool = typer.Option(False, "--every-branch", help="Lift a branch limit"),
    db: str | None = DbOption,
) -> None:
    """Give a user a role (and a branch); it applies to their sessions and tokens at once."""
    with services(db) as s:
        user = s.staff.grant(cli_caller(), username, role, branch=branch, every_branch=every_branch)
    out.print(f"user {user.username} is {user.role} ({user.branch or 'every branch'})")


@app.command("list")
@handle_errors
def list_users(
    branch: str | None = typer.Option(None, help="Only users of this branch"),
    json: bool = JsonOption,
    db: str | None = DbOption,
) -> None:
    """List staff users (never a password or hash)."""
    with services(db) as s:
        users = s.staff.list(cli_caller(), branch)
    if json:
        print_json(users)
        return
    table = Table("username", "name", "role", "branch", "created", "disabled", "must change")
    for u in users:
        table.add_row(
            u.username,
            u.display_name,
            u.role,
            u.branch or "every",
            when(u.created_at),
            when(u.disabled_at),
            "yes" if u.must_change_password else "no",
        )
    out.print(table)


@app.command("disable")
@handle_errors
def disable(username: str = UserArgument, db: str | None = DbOption) -> None:
    """Disable a user: no login, sessions end, personal tokens stop working."""
    with services(db) as s:
        s.staff.disable(cli_caller(), username)
    out.print(f"user {username} disabled")


@app.command("enable")
@handle_errors
def enable(username: str = UserArgument, db: str | None = DbOption) -> None:
    """Enable a disabled user again."""
    with services(db) as s:
        s.staff.enable(cli_caller(), username)
    out.print(f"user {username} enabled")


@app.command("reset-password")
@handle_errors
def reset_password(username: str = UserArgument, db: str | None = DbOption) -> None:
    """Choose a new one-time password (printed last), end sessions and lift the login wait."""
    with services(db) as s:
        created = s.staff.reset_password(cli_caller(), username)
    _print_new(created, f"user {created.user.username}: password reset")


@app.command("unlock")
@handle_errors
def unlock(username: str = UserArgument, db: str | None = DbOption) -> None:
    """Forget a user's failed logins, so they may try again at once."""
    with services(db) as s:
        cleared = s.staff.unlock(cli_caller(), username)
    out.print(f"user {username}: {cleared} waiting address(es) cleared")


@handle_errors
def roles(json: bool = JsonOption, db: str | None = DbOption) -> None:
    """The roles of this installation and the sections each may read and change."""
    with services(db) as s:
        policy = s.policy
    rows = [
        {
            "role": name,
            "read": list(grant.read),
            "change": list(grant.change),
            "pseudonymised": grant.pseudonymised,
        }
        for name, grant in sorted(policy.roles.items())
    ]
    if json:
        print_json(rows)
        return
    table = Table("role", "reads", "changes", "pseudonymised")
    for r in rows:
        table.add_row(
            str(r["role"]),
            ", ".join(r["read"]),  # type: ignore[arg-type]
            ", ".join(r["change"]) or "-",  # type: ignore[arg-type]
            "yes" if r["pseudonymised"] else "no",
        )
    out.print(table)
