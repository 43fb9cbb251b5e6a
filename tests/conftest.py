"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, and the services over it.

PostgreSQL tests use the server on 127.0.0.1:5432 (database ``test``); each test gets its own
schema, so parallel runs never collide. Without the server they skip locally, but under
``CI=true`` a missing server fails the run instead of silently skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from cornerstore.access.caller import Caller, system_caller
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store, open_store

PG_ADMIN_URL = os.environ.get(
    "CORNERSTORE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cornerstore.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret", default_phone_region="GB")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
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
