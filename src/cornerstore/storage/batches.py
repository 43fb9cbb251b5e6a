"""Statements in batches: IN lists cut to what a backend accepts, inserts in one statement.

The intake path inserts a table's rows of a batch at once, straight through the driver (an
``executemany`` on SQLite, a ``COPY`` on PostgreSQL): per-row ORM objects, or SQLAlchemy's
per-parameter processing, would cost more than all of intake's own work.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, StatementError

from cornerstore.storage import tables as t

# SQLite allows 32766 bound parameters; stay far below for IN lists.
CHUNK = 900


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """``items`` in slices of at most ``size``, for IN lists.

    >>> [list(c) for c in chunks([1, 2, 3], size=2)]
    [[1, 2], [3]]
    """
    for start in range(0, len(items), size):
        yield items[start : start + size]


_INSERT_SQL: dict[tuple[str, tuple[str, ...]], tuple[str, list[int]]] = {}


def _sqlite_time(value: datetime) -> str:
    # The exact text SQLAlchemy's SQLite DateTime stores, so comparisons and parsing agree.
    if value.tzinfo is UTC:
        # Intake's times are UTC already: the same text without converting. Formatted with %,
        # which costs less than isoformat with a timespec (C sprintf with positional fields).
        return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
        )
    if value.tzinfo is None:
        # As UTCDateTime refuses it: astimezone would take it as the server's local time.
        raise ValueError("naive datetimes are not stored; give a timezone")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def bulk_insert(conn: Connection, table: t.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) in one statement: ``executemany`` on SQLite,
    ``COPY`` on PostgreSQL (see :func:`insert_values`)."""
    if not rows:
        return
    columns = tuple(rows[0])
    insert_values(conn, table, columns, [tuple([row[c] for c in columns]) for row in rows])


def insert_values(
    conn: Connection, table: t.Table, columns: tuple[str, ...], values: list[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples of ``columns``' values in one statement: ``executemany`` on
    SQLite, ``COPY`` on PostgreSQL.

    The statement goes straight to the driver with values converted here: SQLAlchemy's
    per-parameter processing costs more than the insert itself on the intake's hot path, and
    tuples built by the caller spare a dict a row.
    """
    if not values:
        return
    if conn.dialect.name == "postgresql":
        _bulk_insert_postgresql(conn, table, columns, values)
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in values])
        return
    cached = _INSERT_SQL.get((table.name, columns))
    if cached is None:
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, t.UTCDateTime)]
        cached = (f"INSERT INTO {table.name} ({names}) VALUES ({marks})", times)
        _INSERT_SQL[(table.name, columns)] = cached
    sql, times = cached
    if times:
        texts: dict[datetime, str] = {}  # rows of one message share its time
        params = []
        for row in values:
            converted = list(row)
            for i in times:
                value = converted[i]
                if value is not None:
                    text = texts.get(value)
                    if text is None:
                        text = texts[value] = _sqlite_time(value)
                    converted[i] = text
            params.append(tuple(converted))
        sqlite_executemany(conn, sql, params)
    else:
        sqlite_executemany(conn, sql, values)


def sqlite_executemany(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``executemany`` of ``sql`` on the SQLite driver connection beneath ``conn``, in its
    transaction.

    SQLAlchemy's ``exec_driver_sql`` checks each row of an ``executemany`` and builds an
    execution context and a result: about 0.3 us a row and 12 us a statement, more than a
    short row's insert. Errors are raised as SQLAlchemy raises them (:func:`_as_statement_error`),
    so a unit of work maps them as it maps any other statement's.
    """
    raw = conn.connection.driver_connection
    try:
        raw.executemany(sql, rows)  # type: ignore[union-attr]
    except sqlite3.Error as exc:
        raise _as_statement_error(conn, sql, exc) from exc


def sqlite_rows(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Every row of one SQLite statement run on the driver connection beneath ``conn``, as
    :func:`sqlite_executemany` runs its inserts (intake's lookups of a batch)."""
    raw = conn.connection.driver_connection
    try:
        return raw.execute(sql, params).fetchall()  # type: ignore[union-attr]
    except sqlite3.Error as exc:
        raise _as_statement_error(conn, sql, exc) from exc


def _as_statement_error(conn: Connection, sql: str, exc: Exception) -> StatementError:
    """A driver error as SQLAlchemy raises it for a statement of ``conn``: its class by the
    DB-API error (``IntegrityError``, ``OperationalError``...), parameters hidden, and the
    connection invalidated when the error says it was lost."""
    lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)  # type: ignore[arg-type]
    if lost:
        conn.invalidate(exc)
    return DBAPIError.instance(
        sql,
        None,
        exc,
        sqlite3.Error,
        hide_parameters=True,
        connection_invalidated=lost,
        dialect=conn.dialect,
    )


def _bulk_insert_postgresql(
    conn: Connection, table: t.Table, columns: tuple[str, ...], values: list[tuple[Any, ...]]
) -> None:
    """``COPY ... FROM STDIN`` through psycopg: one statement and one stream of rows, which costs
    the client about half of what ``executemany`` does and the server far less than a
    statement per row. psycopg binds timezone-aware datetimes to ``timestamptz`` itself; a
    naive one is refused, as :class:`~cornerstore.storage.tables.UTCDateTime` refuses it.

    The driver's errors are raised as SQLAlchemy raises them for a statement (a conflict as
    ``IntegrityError``, a value the database cannot hold as ``DataError``, a lost connection
    invalidated), so the unit of work maps them as for any other statement.
    """
    import psycopg
    from sqlalchemy.exc import DBAPIError

    times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, t.UTCDateTime)]
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    for value in values:
        for i in times:
            at = value[i]
            if at is not None and at.tzinfo is None:
                raise ValueError("naive datetimes are not stored; give a timezone")
    raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for value in values:
                write(value)
    except psycopg.Error as exc:
        lost = conn.dialect.is_disconnect(
            exc,  # type: ignore[arg-type]  # psycopg's errors are the DB-API module's
            conn.connection.dbapi_connection,
            None,
        )
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql,
            None,
            exc,
            psycopg.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=conn.dialect,
        ) from exc
