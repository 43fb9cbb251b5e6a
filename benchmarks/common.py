"""What every benchmark shares: where results go, the machine they ran on, tables, percentiles,
and fresh databases (a SQLite file, or a throw-away schema on PostgreSQL) with raw DB-API access.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CACHE = HERE / ".cache"
# Piped output (make bench | tee) would otherwise wrap tables at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 150)


def machine() -> dict[str, Any]:
    """The facts a reader needs to compare two result files."""
    import sqlalchemy

    import cornerstore

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
        "cornerstore": cornerstore.__version__,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        # Anything else running shares the two cores: a high figure means low results.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    return path


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(fmt(v) for v in row))
    console.print(table)


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "PASS" if value else "FAIL"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by nearest rank; 0.0 for no values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 99)
    (2.0, 4.0)
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[min(len(ordered), int(rank)) - 1]


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max of latencies given in seconds, in milliseconds."""
    return {
        "p50_ms": round(percentile(seconds, 50) * 1000, 2),
        "p90_ms": round(percentile(seconds, 90) * 1000, 2),
        "p99_ms": round(percentile(seconds, 99) * 1000, 2),
        "max_ms": round(max(seconds, default=0.0) * 1000, 2),
    }


# -- databases -----------------------------------------------------------------------------------
def backend_of(url: str | None) -> str:
    return "postgresql" if url and url.startswith("postgres") else "sqlite"


@contextmanager
def scratch_dir(tag: str) -> Iterator[Path]:
    """A directory under benchmarks/.cache (on the same disk a real install would use, not a
    tmpfs), removed afterwards."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{tag}-", dir=CACHE))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def scratch_services(cached: Path, tag: str) -> Iterator[Any]:
    """Services over a copy of the cached SQLite store ``cached``, with the demo staff, in a
    scratch directory (:func:`scratch_dir`); the store is closed and the copy removed
    afterwards, so a measurement never changes the cache."""
    from cornerstore.demo.staff import add_demo_staff
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    with scratch_dir(tag) as where:
        path = where / "cornerstore.db"
        shutil.copyfile(cached, path)
        url = f"sqlite:///{path}"
        settings = Settings(_env_file=None, database_url=url, secret_key="bench")
        services = Services.build(settings, open_store(url))
        add_demo_staff(services.staff)
        try:
            yield services
        finally:
            services.store.dispose()


@contextmanager
def fresh_database(base_url: str | None, tag: str) -> Iterator[str]:
    """A migrated, empty cornerstore database; SQLite by default, else a new PostgreSQL schema
    inside ``base_url``'s database, dropped afterwards."""
    from cornerstore.storage import open_store

    if backend_of(base_url) == "sqlite":
        with scratch_dir(tag) as where:
            url = f"sqlite:///{where / 'cornerstore.db'}"
            open_store(url, upgrade=True).dispose()
            yield url
        return
    assert base_url is not None
    from sqlalchemy import create_engine, text

    schema = f"bench_{tag}_{secrets.token_hex(4)}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options=-csearch_path%3D{schema}"
    try:
        open_store(url, upgrade=True).dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def services_taking_in(
    url: str, messages: Sequence[dict[str, Any]], source: Any, batch: int = 2_000
) -> tuple[Any, float]:
    """Services over the store at ``url`` (settings as a GB shop's), after taking ``messages``
    in through intake in batches; with the seconds intake took."""
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    settings = Settings(database_url=url, secret_key="bench", default_phone_region="GB")
    services = Services.build(settings, open_store(url))
    started = time.perf_counter()
    for i in range(0, len(messages), batch):
        services.intake.ingest(list(messages[i : i + batch]), source=source)
    return services, time.perf_counter() - started


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def dbapi_connect(url: str, synchronous: str = "NORMAL") -> Any:
    """A plain DB-API connection (no SQLAlchemy) to ``url``, in explicit-transaction mode.

    SQLite gets the pragmas cornerstore sets on its own connections (WAL, foreign keys, 64 MB
    cache) and ``synchronous``: a raw peer of writes passes the mode the app it is compared
    with runs (``Settings.sqlite_synchronous``, FULL by default), so both pay the same
    durability.
    """
    if backend_of(url) == "sqlite":
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=30)
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "cache_size=-65536",
        ):
            conn.execute(f"PRAGMA {pragma}")
        return conn
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    kwargs: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    if "options" in parsed.query:
        kwargs["options"] = parsed.query["options"]
    return psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None})


def placeholders(url: str, count: int) -> str:
    mark = "%s" if backend_of(url) == "postgresql" else "?"
    return ", ".join([mark] * count)


def begin(conn: Any, url: str) -> None:
    """Start a transaction (psycopg starts one by itself on the first statement)."""
    if backend_of(url) == "sqlite":
        conn.execute("BEGIN")


def executemany(conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if isinstance(conn, sqlite3.Connection):
        conn.executemany(sql, rows)
    else:
        with conn.cursor() as cur:
            cur.executemany(sql, rows)


def fetchall(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(sql, params).fetchall()
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
