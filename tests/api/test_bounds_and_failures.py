"""Numbers too large for a row id, and unexpected failures, answered cleanly over real HTTP."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.client import HTTPConnection

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.api import bearer
from tests.api.conftest import LiveServer

TOO_BIG = 2**63


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "param"),
    [
        ("POST", f"/v1/merges/{TOO_BIG}/undo", "path.merge_id"),
        ("POST", f"/v1/identity/reviews/{TOO_BIG}/accept", "path.review_id"),
        ("POST", f"/v1/identity/reviews/{TOO_BIG}/reject", "path.review_id"),
        ("GET", f"/v1/audit?after={TOO_BIG}", "query.after"),
        ("DELETE", f"/v1/me/tokens/{TOO_BIG}", "path.token_id"),
        ("DELETE", f"/v1/tokens/{TOO_BIG}", "path.token_id"),
        # Tokens are numbered with 32-bit integers.
        ("DELETE", f"/v1/tokens/{2**31}", "path.token_id"),
    ],
)
def test_an_id_of_2_to_the_63_or_more_is_a_400_naming_the_parameter(
    http: httpx.Client, server: LiveServer, method: str, path: str, param: str
) -> None:
    response = http.request(method, path, headers=bearer(server.token))

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{param}: ")
    assert str(TOO_BIG) not in response.text and str(2**31) not in response.text


def test_the_largest_row_id_is_simply_not_found(http: httpx.Client, server: LiveServer) -> None:
    response = http.post(f"/v1/merges/{TOO_BIG - 1}/undo", headers=bearer(server.token))

    assert response.status_code == 404


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    """The real app with one route that fails the way a bug would (a test-only route: no real
    route can be made to fail on purpose)."""

    def broken() -> None:
        raise RuntimeError("card 4111 1111 1111 1111 in the statement")

    app.add_api_route("/broken", broken)
    return app


def test_an_unexpected_error_answers_500_logs_its_type_only_and_closes_in_order(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(failing_app, log_level="info"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        with caplog.at_level(logging.INFO):
            connection = HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/broken")
            answer = connection.getresponse()
            body = answer.read()
            connection.close()
            health = httpx.get(f"http://127.0.0.1:{port}/health")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    assert answer.status == 500
    assert answer.getheader("Connection") == "close"
    assert body == b'{"code":"internal","message":"internal error; the request can be retried"}'
    assert health.status_code == 200
    assert "unexpected error: RuntimeError" in caplog.text
    assert "4111" not in caplog.text and "Traceback" not in caplog.text
