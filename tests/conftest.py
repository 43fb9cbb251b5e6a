"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, and the services over it.

PostgreSQL tests use the server on 127.0.0.1:5432 (database ``test``). ``pg_url`` gives a test
its own schema of ``test``; ``database_url`` gives it its own database, so parallel runs never
collide. Without the server they skip locally, but under ``CI=true`` a missing server fails the
run instead of silently skipping.

Migrating costs a third of a second per backend, so the suite migrates once per
session into a template (a SQLite file, a PostgreSQL template database), and the database of
each test that opens the ``store`` starts as a copy of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, make_url, text

from cornerstore.access.caller import Caller, system_caller
from cornerstore.identity.resolution import splink_engine
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store, open_store

# Scripts that write the test data when run; imported (as --doctest-modules would), they would
# write it again.
collect_ignore_glob = ["data/*.py"]

PG_ADMIN_URL = os.environ.get(
    "CORNERSTORE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The console's pages are what their tests check, not the time budget of each section: a CI
# machine busy with other work must not turn a section "unavailable" (the budget has its own
# tests, with a short budget of their own). Servers the tests start inherit it too.
os.environ.setdefault("CORNERSTORE_CONSOLE_SECTION_MS", "30000")


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


_PG = _pg_available()

# CI runs the same examples every time (and never fails on a slow machine's deadline).
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if IN_CI else "dev")


def require_postgres() -> None:
    if not _PG:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but {PG_ADMIN_URL} is not reachable")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema of the ``test`` database."""
    require_postgres()
    schema = "cs_" + secrets.token_hex(6)
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cornerstore.db'}"


@contextmanager
def _pg_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """The name of a new database on the server (a clone of ``template`` when one is named),
    dropped on leaving."""
    name = prefix + secrets.token_hex(6)
    clone = f' TEMPLATE "{template}"' if template else ""
    # CREATE and DROP DATABASE cannot run inside a transaction.
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{clone}')
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def _pg_database_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision, to copy rather than migrate again."""
    path = tmp_path_factory.mktemp("template") / "cornerstore.db"
    open_store(f"sqlite:///{path}", upgrade=True).dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """The name of a PostgreSQL database migrated to the newest revision, to clone with
    ``CREATE DATABASE ... TEMPLATE`` (which needs it to have no connections)."""
    require_postgres()
    with _pg_database("cs_template_") as name:
        open_store(_pg_database_url(name), upgrade=True).dispose()
        yield name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs once on SQLite and once on PostgreSQL, in a database of its
    own: a copy of the migrated template when the test opens the ``store``, else empty."""
    migrated = "store" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "cornerstore.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    require_postgres()
    template = request.getfixturevalue("pg_template") if migrated else None
    with _pg_database("cs_test_", template) as name:
        yield _pg_database_url(name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret", default_phone_region="GB")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """The test's database, migrated (``database_url`` made it a copy of a migrated template,
    so upgrading only checks the revision)."""
    s = open_store(settings.database_url, upgrade=True)
    yield s
    s.dispose()


@pytest.fixture
def services(settings: Settings, store: Store) -> Services:
    return Services.build(settings, store)


@pytest.fixture
def owner() -> Caller:
    return system_caller(via="library", actor="test-owner")


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2id parameters for tests that log in many times; one test keeps the real ones
    (tests/access/test_users.py)."""
    from argon2 import PasswordHasher

    from cornerstore.access import users

    monkeypatch.setattr(
        users,
        "PasswordHasher",
        lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )


# A model's JSON and the progress it reported, by what it was learned from (see below).
_LEARNED: dict[str, tuple[str, list[str]]] = {}


def _training_key(records: PreparedRecords, options: dict[str, Any]) -> str:
    """What a training depends on: the records' values whatever their ids and order, which
    fields were given, and the options (seed, engine, pair limits). Not ``registered``: the
    same records in a database, whose text names a connection's address, so it would make
    every key new."""
    rows = sorted(
        json.dumps(
            {name: value for name, value in records.row(i).items() if name != "unique_id"},
            sort_keys=True,
            default=str,
        )
        for i in range(len(records))
    )
    given = (
        sorted(records.fields),
        records.source,
        sorted((k, v) for k, v in options.items() if k != "registered"),
    )
    return hashlib.sha256(json.dumps([rows, given], default=str).encode()).hexdigest()


@pytest.fixture(autouse=True)
def learn_each_shop_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Splink takes seconds to learn a shop, and many tests learn the same shop (both backends,
    one fixture for a whole module): the identity service learns a model once per session for
    the same records, seed and engine, and later trainings load its JSON and repeat its progress.
    Tests of training itself call ``splink_engine.train_model`` directly and always train."""
    train = splink_engine.train_model

    def train_once(
        records: PreparedRecords,
        *,
        progress: Callable[[str], None] | None = None,
        **options: Any,
    ) -> IdentityModel:
        key = _training_key(records, options)
        if key not in _LEARNED:
            said: list[str] = []
            model = train(records, progress=said.append, **options)
            _LEARNED[key] = model.to_json(), said
        learned, said = _LEARNED[key]
        for message in said:
            if progress is not None:
                progress(message)
        return IdentityModel.from_json(learned)

    monkeypatch.setattr(splink_engine, "train_model", train_once)
