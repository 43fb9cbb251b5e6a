"""A secret an owner page issues is shown exactly once by a real ``cornerstore serve --workers 2``:
the page after the redirect may be answered by the other worker process.

Every request opens its own connection, so the two workers share the rounds between them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cornerstore.console.flash import NOTICE_COOKIE
from cornerstore.demo.staff import add_demo_staff
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.console.conftest import ConsoleClient
from tests.crash_probe import Server

pytestmark = pytest.mark.slow

ROUNDS = 24


def once(text: str) -> list[str]:
    return re.findall(r'<code class="once">([^<]+)</code>', text)


def fresh(server: Server) -> httpx.Client:
    """A client that opens a new connection for every request (either worker may answer)."""
    return httpx.Client(
        base_url=server.url,
        timeout=60,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"Connection": "close"},
    )


def log_in(http: httpx.Client, role: str) -> str:
    """Log in through the console's form; the session's CSRF token."""
    console = ConsoleClient(http)  # type: ignore[arg-type]
    assert console.login(role).status_code == 303
    return console.csrf


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    add_demo_staff(Services.build(Settings(_env_file=None, database_url=url), store).staff)
    store.dispose()
    running = Server(url, tmp_path, workers=2, env={"CORNERSTORE_ACCESS__COOKIE_SECURE": "false"})
    running.start()
    yield running
    running.stop()


def test_every_secret_is_shown_exactly_once_whichever_worker_answers(server: Server) -> None:
    secrets_shown: list[str] = []
    with fresh(server) as http:
        csrf = log_in(http, "owner")

        for i in range(ROUNDS):
            made = http.post(
                "/admin/tokens",
                data={"csrf_token": csrf, "name": f"report {i}", "role": "analyst"},
            )
            sealed = made.cookies.get(NOTICE_COOKIE)
            shown = http.get(made.headers["location"])
            again = http.get("/admin/keys")

            assert made.status_code == 303 and sealed
            [secret] = once(shown.text)
            assert secret not in sealed and secret not in made.headers["location"]
            assert NOTICE_COOKIE not in http.cookies
            assert once(again.text) == [] and secret not in again.text
            secrets_shown.append(secret)

        works = httpx.get(
            f"{server.url}/v1/customers?q=nobody",
            headers={"Authorization": f"Bearer {secrets_shown[-1]}"},
            timeout=60,
        )

    assert len(set(secrets_shown)) == ROUNDS
    assert works.status_code != 401
    assert not any(secret in server.log() for secret in secrets_shown)


def test_a_sealed_notice_replayed_into_another_session_shows_nothing(server: Server) -> None:
    with fresh(server) as mine, fresh(server) as other:
        csrf = log_in(mine, "owner")
        log_in(other, "owner")
        made = mine.post(
            "/admin/tokens", data={"csrf_token": csrf, "name": "reports", "role": "analyst"}
        )
        other.cookies.set(NOTICE_COOKIE, made.cookies[NOTICE_COOKIE], path="/admin/keys")

        stolen = other.get("/admin/keys")
        shown = mine.get("/admin/keys")

    assert once(stolen.text) == []
    assert len(once(shown.text)) == 1
