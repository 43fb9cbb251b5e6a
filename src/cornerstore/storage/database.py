"""Opening a store: the engine with the right pragmas, migrations, and units of work.

SQLite gets WAL (readers never wait for the writer), foreign keys and a busy timeout on every
connection; PostgreSQL is reached through psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DataError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cornerstore.errors import InvalidInput, OverBudget, Unavailable, Unstorable, WriteConflict
from cornerstore.storage.batches import sqlite_rows
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


# sqlite3 binds str, int, float and bytearray directly, but passes every other parameter, None
# included, through its adapter protocol: with no adapter registered for a type it looks up
# ``__adapt__`` and ``__conform__``, raising and clearing two AttributeErrors, about a
# microsecond a NULL (an intake event row binds six to eight). An adapter found in the registry
# is called at once instead. It maps None to None, so nothing bound changes (process-wide, as
# sqlite3's registry is): an empty dict's ``get`` answers None for every key, in C, where a
# Python function would run a frame for each NULL.
_NULL: dict[None, None] = {}
sqlite3.register_adapter(type(None), _NULL.get)

_REVISION = re.compile(r'^(down_)?revision(?:\s*:[^=]*)?\s*=\s*(?:"([^"]+)"|None)\s*$', re.M)


class _WithoutResultRows(logging.Filter):
    """Drops SQLAlchemy's DEBUG records of the engine: they print result rows, which are
    customer values (its statements, logged at INFO, stay; their parameters are hidden)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_ROWS_FILTER = _WithoutResultRows()


def normalise_database_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs; leave others alone.

    >>> normalise_database_url("postgres://localhost/shop")
    'postgresql+psycopg://localhost/shop'
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_file(url: str) -> Path | None:
    """The absolute path of the file a SQLite URL names; None for memory and other backends.

    >>> sqlite_file("sqlite:////srv/shop/cornerstore.db")
    PosixPath('/srv/shop/cornerstore.db')
    >>> sqlite_file("sqlite://") is None
    True
    """
    try:
        parsed = make_url(normalise_database_url(url))
    except Exception:
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return Path(database).absolute()


def sqlite_has_schema(path: Path) -> bool:
    """Whether a SQLite file holds a cornerstore schema, read without changing the file.

    Opening it through the store would switch any SQLite file to WAL mode for good; a file that
    is not a database at all (a CSV given as ``--db``) answers False.
    """
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
    return found is not None


def describe_database(url: str) -> str:
    """Where a URL points, fit to show: a SQLite file's absolute path, otherwise the URL with
    its password hidden.

    >>> describe_database("postgresql://shop:secret@db.example/shop")
    'postgresql+psycopg://shop:***@db.example/shop'
    """
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    try:
        return make_url(normalise_database_url(url)).render_as_string(hide_password=True)
    except Exception:
        return "the database URL given"


def head_revision() -> str:
    """The newest migration this cornerstore ships, read from the migration files.

    Reading ``revision = ...`` lines costs a millisecond; asking Alembic costs a tenth of a
    second of imports, which every command would pay. A branched history (a revision that
    more than one migration follows) is left to Alembic.
    """
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in MIGRATIONS.joinpath("versions").glob("*.py"):
        for down, revision in _REVISION.findall(script.read_text(encoding="utf-8")):
            if revision:
                (followed if down else revisions).add(revision)
    heads = revisions - followed
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)
    return str(ScriptDirectory.from_config(config).get_current_head())


def create_store_engine(
    url: str, busy_timeout_ms: int = 10_000, synchronous: str = "FULL", writer: bool = False
) -> Engine:
    """Create the engine for ``url`` with cornerstore's connection settings.

    ``writer``: the engine of a SQLite file's one writer connection (see :class:`Store`): a
    pool of one, whose callers queue for it as long as the busy timeout allows.

    Statement parameters and result rows are customer values: with ``hide_parameters``
    SQLAlchemy leaves parameters out of its errors and its log, and its DEBUG records of rows
    are dropped, even with ``echo`` or DEBUG logging on.

    ``synchronous`` is SQLite's: ``FULL`` fsyncs the write-ahead log at every commit, so an
    acknowledged write survives a power cut; ``NORMAL`` only at checkpoints, so a power cut
    (not a process crash) can lose the last commits (docs/configuration.md has the numbers).
    """
    if synchronous not in ("FULL", "NORMAL"):
        raise InvalidInput("sqlite synchronous: give FULL or NORMAL")
    url = normalise_database_url(url)
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if _ROWS_FILTER not in engine_log.filters:
        engine_log.addFilter(_ROWS_FILTER)
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InvalidInput("database URL is not a valid SQLAlchemy URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        memory = database in ("", ":memory:")
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            # As many kept-open connections as the API's worker threads: a connection opened
            # for one request and closed after it starts with a cold cache every time.
            "pool_size": 40,
            "max_overflow": 0,
            "pool_timeout": 30,
        }
        if writer:
            kwargs.update(pool_size=1, pool_timeout=busy_timeout_ms / 1000)
        if memory:
            from sqlalchemy.pool import StaticPool

            kwargs = {"connect_args": kwargs["connect_args"], "poolclass": StaticPool}
        else:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling breaks SAVEPOINT and DDL; SQLAlchemy issues BEGIN.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            # The one writer connection may keep more pages than each pooled reader: intake's
            # inserts touch index pages all over the events and identifiers tables.
            cur.execute(f"PRAGMA cache_size={-65536 if writer else -16384}")
            # Checkpoint (copy the WAL into the database and fsync) every ~40 MB rather than
            # every 4 MB: far fewer fsyncs for the same data.
            cur.execute("PRAGMA wal_autocheckpoint=10000")
            # Deleted rows are overwritten with zeros, so an erased customer cannot be read back
            # from free pages of the file (intake only inserts, so this costs it nothing).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock at the start so two writers never deadlock on lock upgrade.
            # Through the driver, as intake's statements: every unit of work begins here.
            sqlite_rows(conn, "BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    if backend == "postgresql":
        # Kept-open connections for every thread a server process runs database work in (the
        # API's two pools, the audit writer, placements): a connection closed after use and
        # opened again costs PostgreSQL a new backend process each time.
        engine = create_engine(url, pool_size=24, max_overflow=16, hide_parameters=True)
        _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
        return engine
    raise InvalidInput(f"database backend {backend!r} is not supported: use sqlite or postgresql")


# A pooled PostgreSQL connection unused for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it sat unused for ``idle_seconds``.

    A connection a restart or an idle timeout killed is found by the ping and replaced (the
    pool raises ``DisconnectionError`` and hands out a new one), so the request that takes it
    never sees the loss. A connection in steady use skips the ping: under load that is one
    round trip and a statement on each side less for every unit of work. One that dies while
    in use fails its unit of work with a retryable ``Unavailable`` (:meth:`Store.unit_of_work`),
    and the pool renews the others.
    """

    @event.listens_for(engine, "checkin")
    def _note_idle(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just opened, or in steady use
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection was lost") from exc


# When the statements of this thread's current read must stop (``time.monotonic()``), if ever.
_deadline: ContextVar[float | None] = ContextVar("cornerstore_deadline", default=None)
# SQLite calls the progress handler every this many virtual-machine steps (well under 1 ms).
_SQLITE_CHECK_EVERY = 10_000


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop every statement run inside the block (in this thread) once ``seconds`` have passed:
    the database itself abandons it (``statement_timeout`` on PostgreSQL, an interrupt from
    SQLite's progress handler) and the unit of work raises
    :class:`~cornerstore.errors.OverBudget`. A unit of work
    opened after the time is up raises at once. Limits nest: the earlier deadline holds.

    Examples
    --------
    >>> store = open_store("sqlite://", upgrade=True)
    >>> with time_limit(0.0), store.unit_of_work() as uow:
    ...     uow.customers.count()
    Traceback (most recent call last):
    ...
    cornerstore.errors.OverBudget: the read ran over its time budget
    >>> store.dispose()
    """
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def _left_ms(deadline: float) -> int:
    left = int((deadline - time.monotonic()) * 1000)
    if left <= 0:
        raise OverBudget
    return left


@contextmanager
def _bounded(conn: Connection, deadline: float | None) -> Iterator[None]:
    """Make the database stop the statements of ``conn``'s transaction at ``deadline``."""
    if deadline is None:
        yield
        return
    left = _left_ms(deadline)
    if conn.dialect.name == "postgresql":
        # SET LOCAL ends with the transaction: the pooled connection keeps no limit.
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {left}")
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), _SQLITE_CHECK_EVERY)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


class Store:
    """A cornerstore database: hands out units of work, runs migrations.

    A SQLite file may be given a ``writer`` engine: every writing unit of work then runs on its
    one connection. SQLite lets one transaction write at a time anyway; queued in the pool,
    writers of this process wait for each other's commit without polling the file lock, and
    the writer's page cache stays warm (a pooled connection another thread read on last finds
    its cache stale after every write).

    Examples
    --------
    >>> store = open_store("sqlite://", upgrade=True)
    >>> with store.unit_of_work() as uow:
    ...     uow.customers.count()
    0
    >>> store.dispose()
    """

    def __init__(self, engine: Engine, writer: Engine | None = None) -> None:
        self.engine = engine
        self.writer = writer

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @staticmethod
    def time_limit(seconds: float) -> AbstractContextManager[None]:
        """Stop the statements of the units of work opened in the block (in this thread) once
        ``seconds`` have passed: :func:`time_limit`."""
        return time_limit(seconds)

    @contextmanager
    def unit_of_work(self, write: bool = False) -> Iterator[UnitOfWork]:
        """Open one transaction; commit when the block ends normally, roll back otherwise."""
        deadline = _deadline.get()
        if deadline is not None:
            _left_ms(deadline)
        engine = self.writer if write and self.writer is not None else self.engine
        try:
            with engine.connect() as conn:
                conn.info["write"] = write
                with conn.begin(), _bounded(conn, deadline):
                    yield UnitOfWork(conn)
        except IntegrityError as exc:
            # Only the constraint's kind: the driver's text quotes the conflicting values.
            raise WriteConflict("a concurrent write stored the same key first") from exc
        except DataError as exc:
            # A value the database cannot hold (PostgreSQL: SQLSTATE class 22); the driver's
            # text may quote it, so only the kind is said.
            raise Unstorable("the database cannot store a value of this input") from exc
        except PoolTimeout as exc:
            # The writer connection stayed taken for the whole busy timeout.
            raise Unavailable("the database is busy; retry shortly", retry_after=1) from exc
        except OperationalError as exc:
            if deadline is not None and _stopped(exc):
                raise OverBudget from exc
            if _lost_to_concurrent_write(exc):
                # A deadlock, serialisation failure or a row lock not granted at once.
                raise WriteConflict("a concurrent write held the same rows") from exc
            if _is_busy(exc):
                raise Unavailable("the database is busy; retry shortly", retry_after=1) from exc
            if _cannot_connect_now(exc):
                raise Unavailable(
                    "the database takes no more connections now; retry shortly"
                ) from exc
            if exc.connection_invalidated:
                # The connection was lost during the unit of work (a restarted or unreachable
                # server); the pool's other connections are renewed. A retry is safe where
                # repeating is: intake's messageIds make a resent batch a duplicate.
                raise Unavailable("the database connection was lost; retry shortly") from exc
            raise

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to run on an up-to-date database)."""
        from alembic import command

        with self.engine.begin() as conn:
            config = _alembic_config(conn)
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        """The migration the schema is at; None when cornerstore's schema was never created."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def scrub(self, tables: list[str]) -> None:
        """Make deleted rows unreadable from the files where the backend allows it.

        SQLite (with secure_delete on) has zeroed the pages; a truncating checkpoint copies them
        into the database file and empties the write-ahead log, which still holds the old page
        images. PostgreSQL keeps deleted rows as dead tuples until VACUUM removes them from
        the tables' pages. Best effort: a busy database is scrubbed by later checkpoints and
        autovacuum instead.
        """
        try:
            if self.backend == "sqlite":
                # Outside any transaction: SQLAlchemy's connections always BEGIN first.
                raw = self.engine.raw_connection()
                try:
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
                finally:
                    raw.close()
            elif self.backend == "postgresql":
                with self.engine.connect() as conn:
                    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                    for name in tables:
                        conn.exec_driver_sql(f'VACUUM "{name}"')
        except (OperationalError, sqlite3.OperationalError):
            log.info("scrub after erasure deferred: the database is busy")

    def is_current(self) -> bool:
        """Whether the schema is at the newest migration this cornerstore knows."""
        return self.current_revision() == head_revision()

    def is_empty(self) -> bool:
        return "customers" not in inspect(self.engine).get_table_names()

    def ping(self) -> None:
        """Run the cheapest query there is; raises when the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self.writer is not None:
            self.writer.dispose()


def _alembic_config(conn: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


# PostgreSQL's SQLSTATEs of a transaction that lost to another and may simply be run again.
_LOST_TO_CONCURRENT_WRITE = frozenset({"40001", "40P01", "55P03"})


def _lost_to_concurrent_write(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _LOST_TO_CONCURRENT_WRITE


# How PostgreSQL refuses a connection for now: too many connections (of the server or the role)
# or a server starting, shutting down or recovering. A refused connection carries no SQLSTATE
# in psycopg (53300 and 57P03 on the server side), only the server's message.
_REFUSED_FOR_NOW = re.compile(
    r"too many (connections|clients)|database system is (starting up|shutting down|in recovery)"
)


def _cannot_connect_now(exc: OperationalError) -> bool:
    """PostgreSQL refused a connection for now (see ``_REFUSED_FOR_NOW``)."""
    if getattr(exc.orig, "sqlstate", None) in ("53300", "57P03"):
        return True
    return _REFUSED_FOR_NOW.search(str(exc.orig)) is not None


def _stopped(exc: OperationalError) -> bool:
    """A statement cancelled by ``statement_timeout`` (57014) or interrupted on SQLite."""
    if getattr(exc.orig, "sqlstate", None) == "57014":
        return True
    return exc.orig is not None and "interrupted" in str(exc.orig).lower()


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return "database is locked" in text or "database is busy" in text


def open_store(
    url: str, busy_timeout_ms: int = 10_000, upgrade: bool = False, synchronous: str = "FULL"
) -> Store:
    """Open the store at ``url``; with ``upgrade`` bring its schema up to date first."""
    writer = None
    if sqlite_file(url) is not None:
        writer = create_store_engine(url, busy_timeout_ms, synchronous, writer=True)
    store = Store(create_store_engine(url, busy_timeout_ms, synchronous), writer)
    if upgrade:
        store.upgrade()
    return store


__all__ = [
    "Store",
    "create_store_engine",
    "describe_database",
    "head_revision",
    "normalise_database_url",
    "open_store",
    "sqlite_file",
    "sqlite_has_schema",
    "time_limit",
]
