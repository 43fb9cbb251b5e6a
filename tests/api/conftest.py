"""Fixtures of the API tests: the app in-process, a real uvicorn server, keys and tokens.

Every fixture stands on ``services``, so each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from cornerstore.access.caller import Caller
from cornerstore.api import create_app
from cornerstore.services import Services

with warnings.catch_warnings():
    # Starlette deprecates driving its TestClient with httpx in favour of httpx2, which this
    # project does not install; the client works the same.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@dataclass(frozen=True)
class Keys:
    """A write key of the source ``web-shop`` (touchpoint web) and a staff API token."""

    write_key: str
    token: str
    token_id: int


@dataclass(frozen=True)
class LiveServer:
    """A running uvicorn server: its base URL and the credentials to talk to it."""

    base_url: str
    write_key: str
    token: str


@pytest.fixture
def keys(services: Services, owner: Caller) -> Keys:
    token = services.credentials.create_token(owner, "tests", "owner")
    return Keys(
        write_key=services.credentials.create_write_key(owner, "web-shop", "web").secret,
        token=token.secret,
        token_id=token.id,
    )


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services.settings, services)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The app in-process: fast, and the same code as behind the real server."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def client_with(services: Services) -> Iterator[Callable[..., TestClient]]:
    """Build an in-process client with some settings changed, over the same database.

    ``client_with(intake=IntakeLimits(burst=5), timeline_page_size=3)``
    """
    opened: list[TestClient] = []

    def build(**changes: Any) -> TestClient:
        settings = services.settings.model_copy(update=changes)
        test_client = TestClient(create_app(settings, Services.build(settings, services.store)))
        opened.append(test_client.__enter__())
        return test_client

    yield build
    for test_client in opened:
        test_client.__exit__(None, None, None)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """uvicorn on 127.0.0.1 in a background thread, on a port the OS chose; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app=app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    # The socket stays bound from the port's choice to the server's start: no other process
    # can take the port in between.
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def server(services: Services, keys: Keys) -> Iterator[LiveServer]:
    """uvicorn on 127.0.0.1 in a background thread, on a port the OS chose."""
    with serve(create_app(services.settings, services)) as url:
        yield LiveServer(url, keys.write_key, keys.token)
