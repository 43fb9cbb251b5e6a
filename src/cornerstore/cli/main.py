"""The ``cornerstore`` command: every command calls one service function; errors are mapped here.

An error from the core becomes one line on stderr (``error: ...``) and exit code 1; a usage error
(an unknown option, a value of the wrong kind) becomes one line too and keeps Typer's exit code 2.
No traceback reaches the user and no input value is echoed.
"""

from __future__ import annotations

import errno
import logging
import sys
from typing import Any

import typer

# Typer 0.29 vendors Click; its usage errors are these classes, not the ``click`` package's.
from typer._click.exceptions import BadParameter, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from cornerstore.cli import (
    actions,
    audit,
    campaigns,
    clv,
    credentials,
    customers,
    database,
    demo,
    identity,
    importer,
    learn,
    privacy,
    rights,
    segments,
    serve,
    service,
    suggest,
    users,
)
from cornerstore.cli.common import connection_lost, err
from cornerstore.errors import CornerstoreError

log = logging.getLogger("cornerstore.cli")


_GIVEN = "cornerstore.arguments"


def _undecodable(arg: str) -> bool:
    """Whether a command-line argument held bytes that are not UTF-8 (kept as surrogates)."""
    return any("\udc80" <= char <= "\udcff" for char in arg)


def _not_utf8(exc: Exception, given: list[str]) -> str | None:
    """The error line for text that came in as bytes that are not UTF-8 (a Latin-1 terminal or
    file): Python keeps them as lone surrogates, which no database, hash or file can take.
    Where they came from is said, never the value."""
    if not (isinstance(exc, UnicodeEncodeError) and _undecodable(str(exc.object))):
        return None
    if any(_undecodable(arg) for arg in given):
        return (
            "error: the command line holds text that is not UTF-8 (a terminal set to Latin-1?): "
            "type it again in a UTF-8 terminal"
        )
    return (
        "error: the input holds text that is not UTF-8 (a terminal or file set to Latin-1?): "
        "give it as UTF-8"
    )


def _usage_line(exc: UsageError) -> str:
    """One line for a usage error, naming the command and the option but never the value given:
    Click's own message quotes it ("'x' is not one of ...", "'x' is not a valid integer")."""
    message = exc.format_message()
    if isinstance(exc, BadParameter) and exc.param is not None:
        given = exc.ctx.meta.get(_GIVEN, ()) if exc.ctx is not None else ()
        # Option names stay ("--limit"); every other word of the command line may be the value.
        for value in {arg.partition("=")[2] if arg.startswith("-") else arg for arg in given}:
            if value:
                message = message.replace(repr(value), "the value given")
                message = message.replace(f'"{value}"', "the value given")
        message = message.replace("Value error, ", "")
    command = exc.ctx.command_path if exc.ctx is not None else "cornerstore"
    return f"error: {command}: {' '.join(message.split())} (see --help)"


class _Commands(TyperGroup):
    """The root group: every command runs inside its ``invoke``, so its errors are mapped here."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[_GIVEN] = list(args)
        return super().parse_args(ctx, args)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            err.print(_usage_line(exc))
            raise typer.Exit(exc.exit_code) from None

    def invoke(self, ctx: Any) -> Any:
        if sys.stdout is None:
            # Started with stdout closed (`cornerstore ... >&-`): the answer would be lost, and
            # an exit code 0 would say it was given.
            err.print("error: standard output is closed: the command's answer has nowhere to go")
            raise typer.Exit(1)
        try:
            return super().invoke(ctx)
        except CornerstoreError as exc:
            err.print(f"error: {exc.message}")
            raise typer.Exit(1) from None
        except BrokenPipeError:
            # The reader went away (`cornerstore ... | head`): stop quietly, as Unix tools do.
            # Click's own handling of a closed pipe (the one `cornerstore --help | head` meets)
            # wants the errno: then it silences stdout, so nothing fails again at exit.
            raise OSError(errno.EPIPE, "the reader closed the pipe") from None
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            err.print(_usage_line(exc))
            raise typer.Exit(exc.exit_code) from None
        except (typer.TyperException, typer.Exit, typer.Abort):
            # Typer's own answers: --help, a declined confirmation.
            raise
        except Exception as exc:
            if (line := _not_utf8(exc, ctx.meta.get(_GIVEN, ()))) is not None:
                err.print(line)
                raise typer.Exit(1) from None
            if connection_lost(exc):
                # Work done in finished transactions stays; the one under way was rolled back.
                err.print("error: the connection to the database was lost; the command stopped")
                raise typer.Exit(1) from None
            # Only the type: the text of an unexpected error may quote customer data.
            log.debug("unexpected error", exc_info=True)
            err.print(f"error: unexpected {type(exc).__name__}; the command stopped")
            raise typer.Exit(1) from None


app = typer.Typer(
    name="cornerstore",
    help="Know each customer the way the corner-store owner did.",
    cls=_Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(database.app, name="db")
app.add_typer(credentials.keys_app, name="keys")
app.add_typer(credentials.tokens_app, name="tokens")
rights.register(customers.app)
customers.app.command("scores")(learn.scores)
customers.app.command("at-risk")(learn.at_risk)
app.add_typer(customers.app, name="customers")
app.add_typer(privacy.app, name="privacy")
app.add_typer(clv.app, name="clv")
app.add_typer(segments.app, name="segments")
app.add_typer(learn.surveys_app, name="surveys")
app.command("learn")(learn.learn)
app.add_typer(suggest.app, name="suggest")
app.command("actions")(actions.actions)
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.add_typer(service.app, name="service")
app.command("roles")(users.roles)
app.add_typer(identity.app, name="identity")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("import")(importer.import_file)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
