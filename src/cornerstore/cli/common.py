"""What every command shares: its shared options as one :class:`Invocation`, the services over
an up-to-date database, and output.

A command names the shared options it takes with :func:`shared_options`; errors are mapped once,
by the ``cornerstore`` command itself (:mod:`cornerstore.cli.main`).
"""

from __future__ import annotations

import codecs
import getpass
import inspect
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import typer
from rich.table import Column
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from cornerstore.access.caller import Caller, system_caller
from cornerstore.access.users import user_caller
from cornerstore.cli.terminal import TerminalConsole, terminal_json, visible_lines
from cornerstore.errors import CornerstoreError, Forbidden, InvalidInput, NotFound
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import (
    Store,
    describe_database,
    head_revision,
    normalise_database_url,
    open_store,
    sqlite_file,
    sqlite_has_schema,
)

P = ParamSpec("P")
R = TypeVar("R")

# Customer values are printed, never interpreted: no markup, control characters made visible.
out = TerminalConsole(highlight=False, soft_wrap=True)
err = TerminalConsole(stderr=True, highlight=False, soft_wrap=True)


def load_settings(db: str | None = None) -> Settings:
    settings = Settings()
    if db:
        settings = settings.model_copy(update={"database_url": db})
    return settings


def cli_caller() -> Caller:
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "unknown"
    return system_caller(via="cli", actor=f"cli:{user}")


@dataclass(frozen=True)
class Invocation:
    """What a command's shared options say: the database (``--db``), JSON or a table
    (``--json``), and who acts and why (``--as``, ``--reason``)."""

    db: str | None = None
    json: bool = False
    as_user: str | None = None
    reason: str | None = None

    def settings(self) -> Settings:
        """The settings from the environment, with ``--db`` when given."""
        return load_settings(self.db)

    @contextmanager
    def services(self, create: bool = False) -> Iterator[Services]:
        """Services over an up-to-date database; only ``create`` (``demo``) may create or
        migrate it (see :func:`open_cli_store`)."""
        settings = self.settings()
        store = self.store(create=create)
        try:
            bring_up_to_date(store, settings, upgrade=create, named_by=self.named_by)
            yield Services.build(settings, store)
        finally:
            store.dispose()

    @property
    def named_by(self) -> str | None:
        """The option that named the database, for error lines: ``--db`` when it was given."""
        return "--db" if self.db else None

    def store(self, create: bool = False) -> Store:
        """The store the command works on (see :func:`open_cli_store`); the caller disposes
        of it."""
        return open_cli_store(self.settings(), create=create, named_by=self.named_by)

    def caller(self, s: Services) -> Caller:
        """Who acts: the local operator (owner rights), or with ``--as`` a staff user, so the
        CLI gives exactly the answer the API and console give that user; ``--reason`` says
        why."""
        caller = cli_caller()
        if self.as_user:
            user = s.staff.get(caller, self.as_user)
            if user.disabled_at is not None:
                raise Forbidden("user: is disabled")
            caller = user_caller(user, "cli", None)
        return caller.because(self.reason)


def _option(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# Each shared option as the parameter a command takes; "acting" is --reason and --as together,
# so a command that acts as a staff user always records why.
_SHARED: dict[str, tuple[inspect.Parameter, ...]] = {
    "json": (
        _option("json", typer.Option(False, "--json", help="Print the answer as JSON"), bool),
    ),
    "acting": (
        _option(
            "reason",
            typer.Option(
                None, "--reason", help="Why you look or change (recorded in the audit trail)"
            ),
            str | None,
        ),
        _option(
            "as_user",
            typer.Option(
                None, "--as", help="Act as this staff user: their role's sections and their branch"
            ),
            str | None,
        ),
    ),
    "db": (
        _option(
            "db",
            typer.Option(
                None,
                "--db",
                help="Database URL (default: CORNERSTORE_DATABASE_URL or sqlite:///cornerstore.db)",
            ),
            str | None,
        ),
    ),
}
SharedOption = Literal["json", "acting", "db"]


def shared_options(
    *names: SharedOption,
) -> Callable[[Callable[Concatenate[Invocation, P], R]], Callable[P, R]]:
    """Give a command the shared options ``names`` after its own, handed to it as one
    :class:`Invocation` in its first argument.

    ``@shared_options("json", "acting", "db")`` adds ``--json``, ``--reason``, ``--as`` and
    ``--db``; a command that reads or changes a customer takes ``"acting"``.
    """
    shared = [param for name in names for param in _SHARED[name]]

    def decorate(fn: Callable[Concatenate[Invocation, P], R]) -> Callable[P, R]:
        own = list(inspect.signature(fn, eval_str=True).parameters.values())[1:]

        @wraps(fn)
        def command(*args: P.args, **kwargs: P.kwargs) -> R:
            given: dict[str, Any] = {p.name: kwargs.pop(p.name) for p in shared}
            return fn(Invocation(**given), *args, **kwargs)

        # Typer reads the options from the signature: the command's own, then the shared ones.
        command.__signature__ = inspect.Signature(own + shared)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in own + shared}
        return command

    return decorate


def _how_to_create(url: str) -> str:
    shown = f"sqlite:///{path}" if (path := sqlite_file(url)) else describe_database(url)
    return f"`cornerstore db upgrade --db {shown}` or `cornerstore demo --db {shown}`"


def _prefix(named_by: str | None) -> str:
    return f"{named_by}: " if named_by else ""


def _no_schema(url: str, named_by: str | None = None) -> NotFound:
    return NotFound(
        f"{_prefix(named_by)}the database at {describe_database(url)} has no cornerstore tables: "
        f"set it up with {_how_to_create(url)}"
    )


#: The first bytes of every SQLite database file (https://www.sqlite.org/fileformat.html, 1.3).
SQLITE_HEADER = b"SQLite format 3\x00"


def _not_a_store(url: str, path: Path, named_by: str | None) -> CornerstoreError | None:
    """Why the existing path of a SQLite URL cannot be a cornerstore store, or None when it is
    a SQLite database: a folder, a file of something else (a CSV, a text file), an empty file."""
    said = _prefix(named_by)
    if path.is_dir():
        return InvalidInput(f"{said}{path} is a folder, not a SQLite database file")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError:
        return CornerstoreError(f"{said}cannot read the SQLite database at {path}")
    if not header:
        return NotFound(
            f"{said}{path} is an empty file, not a cornerstore database: set it up with "
            f"{_how_to_create(url)}"
        )
    if header != SQLITE_HEADER:
        return InvalidInput(f"{said}{path} is not a SQLite database")
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # another process writes it; the command waits for it as usual
        # Never offer to set it up: it may be a store cut short by a copy or a full disk.
        return InvalidInput(f"{said}{path} is a damaged SQLite database: SQLite cannot read it")
    return None


def open_cli_store(settings: Settings, create: bool = False, named_by: str | None = None) -> Store:
    """Open the database a command works on; only ``create`` may make a new SQLite file.

    The commands that set a database up (``db upgrade``, ``serve``, ``demo``) pass ``create``;
    every other command refuses a SQLite file or folder that does not exist, naming the path it
    looked for, and creates nothing: a mistyped ``--db``, or a command run from another folder,
    must not answer "no such customer" from a new empty database. A path that holds something
    else (a folder, a CSV, an empty file) is refused by every command and left as it was; error
    lines start with ``named_by`` (``--db``) when that option named the database.
    """
    url = settings.database_url
    said = _prefix(named_by)
    try:
        make_url(normalise_database_url(url))
    except ArgumentError:
        # Never the value: a URL may hold a password.
        raise InvalidInput(
            f"{said}not a database URL; a SQLite file is given as sqlite:///shop.db (relative) "
            "or sqlite:////srv/shop.db (absolute)"
        ) from None
    path = sqlite_file(url)
    if path is not None and path.exists():
        refused = _not_a_store(url, path, named_by)
        # An empty file (NotFound) is a database yet to be set up: a command that sets one up
        # may; any other command refuses it.
        if refused is not None and not (create and isinstance(refused, NotFound)):
            raise refused
    if not create and path is not None:
        if not path.is_file():
            folder = "" if path.parent.is_dir() else f" (no folder {path.parent})"
            raise NotFound(
                f"{said}no cornerstore database at {path}{folder}: create it with "
                f"{_how_to_create(url)}"
            )
        if not sqlite_has_schema(path):
            raise _no_schema(url, named_by)
    store = open_store(
        url, settings.sqlite_busy_timeout_ms, synchronous=settings.sqlite_synchronous
    )
    try:
        with store.engine.connect():
            pass
    except DBAPIError as exc:
        store.dispose()
        raise _unreachable(url, exc, named_by) from None
    return store


def _unreachable(url: str, exc: DBAPIError, named_by: str | None = None) -> CornerstoreError:
    """One line on why the database at ``url`` cannot be opened, naming where it is, never its
    password; the driver's own text (which may quote the URL) is only matched, never shown."""
    path = sqlite_file(url)
    said = str(exc.orig).lower()
    if path is not None:
        if "not a database" in said:
            return InvalidInput(f"{_prefix(named_by)}{path} is not a SQLite database")
        return CornerstoreError(f"{_prefix(named_by)}cannot open the SQLite database at {path}")
    parsed = make_url(normalise_database_url(url))
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    if "role" in said and "does not exist" in said:
        return Forbidden(f"the database server at {where} does not know the user name")
    if "does not exist" in said:
        return NotFound(f"no database {parsed.database or ''!s} on the server at {where}")
    if "authentication failed" in said or "password" in said:
        return Forbidden(f"the database server at {where} refused the user name or password")
    return CornerstoreError(f"cannot reach the database at {where}")


# SQLSTATEs of a connection that is gone: class 08 (connection exception) and the server ending
# it (57P01 terminated by an administrator, 57P02 crash shutdown, 57P03 cannot connect now).
_CONNECTION_GONE = ("08", "57P01", "57P02", "57P03")


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection to the database went away while a command ran (the
    server restarted, or its backend was terminated), rather than the command being at fault."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    driver = exc.orig if isinstance(exc, DBAPIError) else exc
    state = getattr(driver, "sqlstate", None)
    return isinstance(state, str) and state.startswith(_CONNECTION_GONE)


def bring_up_to_date(
    store: Store, settings: Settings, upgrade: bool = False, named_by: str | None = None
) -> None:
    """Make sure the schema is the newest, or refuse with one line that says what to run.

    With ``upgrade`` the schema is created or migrated. Without it a SQLite file that holds an
    older cornerstore schema is migrated (it is the laptop's own, as ``serve`` does), while a
    database without cornerstore's tables, or a PostgreSQL schema that is behind, is refused.
    """
    revision = store.current_revision()
    if revision == head_revision():
        return
    if upgrade or (store.backend == "sqlite" and revision is not None):
        store.upgrade()
        return
    if revision is None:
        raise _no_schema(settings.database_url, named_by)
    raise CornerstoreError(
        f"the database schema at {describe_database(settings.database_url)} is at revision "
        f"{revision}, older than this cornerstore: run `cornerstore db upgrade`"
    )


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(type(value).__name__)


def print_json(value: Any, indent: int | None = None) -> None:
    """Print ``value`` as JSON: written as it is (never read as markup), terminal-safe escapes."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    elif isinstance(value, list):
        value = [asdict(v) if is_dataclass(v) and not isinstance(v, type) else v for v in value]
    sys.stdout.write(terminal_json(value, indent=indent, default=_default) + "\n")


def print_document(text: str) -> None:
    """Print a whole document (CSV, HTML) as it is, its control characters made visible."""
    sys.stdout.write(visible_lines(text))


#: The largest id a database row can have (a signed 64-bit integer); a larger one names no row.
LARGEST_ROW_ID = 2**63 - 1


def row_id_argument(help: str) -> Any:
    """A required row-id argument bounded to what a row id can be, 1 to 2**63 - 1: past that
    the databases cannot even look it up, and the user gets a usage error, not a crash."""
    return typer.Argument(..., min=1, max=LARGEST_ROW_ID, help=help)


def count_option(default: int, *flags: str, help: str, least: int = 1) -> Any:
    """An integer option (a count, a number of days, a seed) bounded to ``least`` ..
    2**63 - 1 at the edge: a larger one overflows the databases and numpy, and the user gets a
    usage error naming the option rather than a crash."""
    return typer.Option(default, *flags, min=least, max=LARGEST_ROW_ID, help=help)


def input_file(path: Path, what: str) -> Path:
    """``path`` when it names a file to read for ``what`` (``--transactions``); otherwise one
    line saying it is a folder or does not exist."""
    if path.is_dir():
        raise InvalidInput(f"{what}: {path} is a folder, not a file")
    if not path.is_file():
        raise InvalidInput(f"{what}: no such file {path}")
    return path


def _is_parquet(path: Path) -> bool:
    """Whether the file opens as Parquet does (its magic bytes): binary, so never judged as
    text, and the reader's own error (a column it lacks) is the one to show."""
    try:
        with path.open("rb") as file:
            return file.read(4) == b"PAR1"
    except OSError:
        return False


def _not_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return True
    except OSError:
        return False
    return False


@contextmanager
def reading_file(path: Path, what: str) -> Iterator[Path]:
    """Read a data file (CSV, text) named for ``what`` inside the block: a folder or a missing
    file is refused before, and when the reader refuses the file, an empty file or one that is
    not UTF-8 text (Latin-1, a database) is said as such rather than as the parser's error.

    Used like this::

        with reading_file(path, "--transactions"):
            frame = read_transactions(path, ...)
    """
    input_file(path, what)
    try:
        yield path
    except InvalidInput as exc:
        # Looked at only when the reader failed: a large file is not read twice when it is fine.
        if path.stat().st_size == 0:
            raise InvalidInput(f"{what}: {path} is empty") from None
        if not _is_parquet(path) and _not_utf8(path):
            raise InvalidInput(f"{what}: {path} is not UTF-8 text (save it as UTF-8)") from None
        raise exc


def parse_moment(text: str | None, option: str) -> datetime | None:
    """An ISO date or time given for ``option`` (``--from``), or one line naming the option
    and what it takes, never the value.

    >>> parse_moment("2026-03-01", "--from")
    datetime.datetime(2026, 3, 1, 0, 0)
    """
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option}: give a date like 2026-03-01 or a time like 2026-03-01T09:30"
        ) from None


def read_text_file(path: Path, what: str) -> str:
    """The text of the file a user named for ``what`` (``--rule``, ``--model``), or one line
    saying why it cannot be read: missing, a folder, unreadable or not UTF-8 text."""
    input_file(path, what)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidInput(f"{what}: cannot read {path} as UTF-8 text") from None


def writable_file(path: Path, what: str) -> None:
    """Refuse, before any work is done, a file to write that cannot be: a folder, or a file in a
    folder that does not exist (an export marks its rows as handed over only once written)."""
    if path.is_dir():
        raise InvalidInput(f"{what}: {path} is a folder, not a file")
    if not path.parent.is_dir():
        raise InvalidInput(f"{what}: no folder {path.parent}")


@contextmanager
def written_whole(path: Path, what: str) -> Iterator[Path]:
    """A path beside ``path`` to write the file for ``what`` (``--output``) to, moved onto
    ``path`` only when the block ends normally and removed otherwise (Ctrl-C, a full disk): a
    reader never finds half a file, and a file already there stays as it was until then."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        partial.replace(path)
    except OSError:
        raise InvalidInput(f"{what}: cannot write {path}") from None
    finally:
        partial.unlink(missing_ok=True)


def id_column(header: str, ids: Iterable[str]) -> Column:
    """A table column of ids, never cut short: staff copy them into the next command."""
    return Column(header, no_wrap=True, min_width=max((len(i) for i in ids), default=0))


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"
