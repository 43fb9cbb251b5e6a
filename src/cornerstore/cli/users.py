"""``cornerstore users``: staff accounts, their roles and branches; ``cornerstore roles``.

A password the system chooses is printed once, on the last line of stdout.
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from cornerstore.access.users import NewPassword
from cornerstore.cli.common import Invocation, out, print_json, shared_options, when

app = typer.Typer(help="Staff users: create, grant roles and branches, list", no_args_is_help=True)
UserArgument = typer.Argument(..., help="The user's name")


def _print_new(created: NewPassword, what: str) -> None:
    out.print(f"{what}; one-time password (changed at first login, not shown again):")
    print(created.password)


@app.command("create")
@shared_options("db")
def create(
    run: Invocation,
    username: str = UserArgument,
    role: str = typer.Option(..., "--role", help="owner, support, shipping, billing, ..."),
    branch: str | None = typer.Option(None, help="Limit the user to one branch"),
    name: str | None = typer.Option(None, "--name", help="Display name"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin instead of choosing one"
    ),
) -> None:
    """Create a staff user; without --password-stdin a one-time password is printed last."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with run.services() as s:
        created = s.staff.create(
            run.caller(s), username, role, display_name=name, branch=branch, password=password
        )
    what = f"user {created.user.username} ({role}, {created.user.branch or 'every branch'})"
    if created.password:
        _print_new(created, what)
    else:
        out.print(f"{what} created")


@app.command("grant")
@shared_options("db")
def grant(
    run: Invocation,
    username: str = UserArgument,
    role: str = typer.Argument(..., help="The role to hold from now on"),
    branch: str | None = typer.Option(None, help="Limit the user to this branch"),
    every_branch: bool = typer.Option(False, "--every-branch", help="Lift a branch limit"),
) -> None:
    """Give a user a role (and a branch); it applies to their sessions and tokens at once."""
    with run.services() as s:
        user = s.staff.grant(
            run.caller(s), username, role, branch=branch, every_branch=every_branch
        )
    out.print(f"user {user.username} is {user.role} ({user.branch or 'every branch'})")


@app.command("list")
@shared_options("json", "db")
def list_users(
    run: Invocation,
    branch: str | None = typer.Option(None, help="Only users of this branch"),
) -> None:
    """List staff users (never a password or hash)."""
    with run.services() as s:
        users = s.staff.list(run.caller(s), branch)
    if run.json:
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
@shared_options("db")
def disable(
    run: Invocation,
    username: str = UserArgument,
) -> None:
    """Disable a user: no login, sessions end, personal tokens stop working."""
    with run.services() as s:
        s.staff.disable(run.caller(s), username)
    out.print(f"user {username} disabled")


@app.command("enable")
@shared_options("db")
def enable(
    run: Invocation,
    username: str = UserArgument,
) -> None:
    """Enable a disabled user again."""
    with run.services() as s:
        s.staff.enable(run.caller(s), username)
    out.print(f"user {username} enabled")


@app.command("reset-password")
@shared_options("db")
def reset_password(
    run: Invocation,
    username: str = UserArgument,
) -> None:
    """Choose a new one-time password (printed last), end sessions and lift the login wait."""
    with run.services() as s:
        created = s.staff.reset_password(run.caller(s), username)
    _print_new(created, f"user {created.user.username}: password reset")


@app.command("unlock")
@shared_options("db")
def unlock(
    run: Invocation,
    username: str = UserArgument,
) -> None:
    """Forget a user's failed logins, so they may try again at once."""
    with run.services() as s:
        cleared = s.staff.unlock(run.caller(s), username)
    out.print(f"user {username}: {cleared} waiting address(es) cleared")


@shared_options("json", "db")
def roles(
    run: Invocation,
) -> None:
    """The roles of this installation and the sections each may read and change."""
    with run.services() as s:
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
    if run.json:
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
