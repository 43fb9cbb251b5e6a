"""Fixtures of the console tests: a small demo shop, the app in-process, and a real server
driven by Debian's Chromium through Playwright.

Browser tests run the console as a user does: uvicorn on 127.0.0.1 in a thread, Chromium at
``/usr/bin/chromium`` (never a downloaded browser). Every request the page makes is recorded and
any that would leave 127.0.0.1 is stopped and fails the test. Without Chromium the browser tests
skip locally; under ``CI=true`` they fail instead, so CI never passes without running them.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.api import create_app
from cornerstore.demo.load import load_demo
from cornerstore.demo.staff import DEMO_ROLES, add_demo_staff, demo_password
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.api.conftest import serve
from tests.conftest import IN_CI
from tests.factories import identify, track

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

CHROMIUM = Path("/usr/bin/chromium")
AXE = "/static/vendor/axe-core-4.14.1/axe.min.js"
SCREENSHOTS = Path(__file__).parents[2] / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}


@dataclass(frozen=True)
class Shopper:
    """A demo customer whose details the tests know."""

    first_name: str
    last_name: str
    email: str
    phone: str
    user_id: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


ANN = Shopper("Annabel", "Whitfield", "annabel.whitfield@example.com", "07700 900461", "web-ann")
# A customer whose name is markup: it must show as text, never run.
MALLORY = Shopper(
    "<script>alert(1)</script>", "Mallory", "mallory@example.com", "07700 900999", "web-mallory"
)


CASE_TEXT = "Kettle arrived broken, wants a replacement"
# The sections of a customer page support sees, in page order (no scores, no segments).
SUPPORT_SECTIONS = [
    "Who they are",
    "Next best action",
    "Suggestions",
    "Cases",
    "Activity",
    "Recent moments",
    "Consents",
    "Accounts and household",
    "Merge history",
    "Timeline",
]


def add_known_shoppers(services: Services) -> None:
    """Ann and Mallory: each buys on the web, gets a shipment and opens a support case; Ann
    allows personalisation, Mallory withdrew it (with the traits marketing would see)."""
    web, shipping, support = (
        Source("web-shop", "web"),
        Source("shipping", "shipping"),
        Source("support-desk", "support"),
    )
    for who, favourite in ((ANN, "loose-leaf tea"), (MALLORY, "filter coffee")):
        uid = who.user_id
        services.intake.ingest(
            [
                identify(
                    uid,
                    firstName=who.first_name,
                    lastName=who.last_name,
                    email=who.email,
                    phone=who.phone,
                    favourite_category=favourite,
                    address={"street": "12 Kirkgate", "city": "Leeds", "postalCode": "LS1 6BA"},
                ),
                track(
                    "Order Completed",
                    uid,
                    timestamp="2026-11-02T10:00:00Z",
                    orderId=f"o-{uid}",
                    total=42.5,
                ),
            ],
            source=web,
        )
        services.intake.ingest(
            [
                track(
                    "Shipment Dispatched",
                    uid,
                    timestamp="2026-11-03T09:00:00Z",
                    shipment_id=f"s-{uid}",
                    carrier="DPD",
                )
            ],
            source=shipping,
        )
        services.intake.ingest(
            [
                track(
                    "Case Opened",
                    uid,
                    timestamp="2026-11-05T11:00:00Z",
                    case_id=f"c-{uid}",
                    text=CASE_TEXT,
                )
            ],
            source=support,
        )
    services.consents.change(system_caller(), MALLORY.email, {"personalisation": False})


def build_shop(database_url: str) -> Services:
    """A migrated database with a small demo business, the demo staff and the known shoppers."""
    settings = Settings(database_url=database_url)
    services = Services.build(settings, open_store(database_url, upgrade=True))
    load_demo(services.intake, customers=30, seed=1)
    add_known_shoppers(services)
    add_demo_staff(services.staff)
    services.learner.run(system_caller())
    return services


@pytest.fixture(scope="session")
def shop_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The small demo shop, built once per run and copied by each user of it."""
    path = tmp_path_factory.mktemp("console") / "shop.db"
    build_shop(f"sqlite:///{path}").store.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def shop(shop_url: str, tmp_path: Path) -> Services:
    """Services over this test's own copy of the demo shop (changes stay in the test)."""
    copy = tmp_path / "shop.db"
    copy.write_bytes(Path(shop_url.removeprefix("sqlite:///")).read_bytes())
    settings = Settings(database_url=f"sqlite:///{copy}")
    return Services.build(settings, open_store(settings.database_url))


# -- in-process: the app without a browser -------------------------------------------------------
class ConsoleClient:
    """A TestClient that logs in through the console's form, as a browser does."""

    def __init__(self, client: TestClient) -> None:
        self.http = client

    def login(self, role: str, password: str | None = None) -> Any:
        form = self.http.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None
        return self.http.post(
            "/login",
            data={
                "username": f"demo-{role}",
                "password": password or demo_password(role),
                "login_token": token.group(1),
            },
            follow_redirects=False,
        )

    @property
    def csrf(self) -> str:
        return str(self.http.cookies.get("cs_csrf", ""))


@pytest.fixture
def console(shop: Services) -> Iterator[ConsoleClient]:
    # https: the session cookies are Secure, as in production.
    with TestClient(create_app(shop.settings, shop), base_url="https://testserver") as client:
        yield ConsoleClient(client)


# -- a real server --------------------------------------------------------------------------------
@dataclass
class LiveConsole:
    base_url: str
    services: Services


@pytest.fixture
def live(shop: Services) -> Iterator[LiveConsole]:
    """The console served over this test's copy of the demo shop."""
    with serve(create_app(shop.settings, shop)) as url:
        yield LiveConsole(url, shop)


@pytest.fixture
def live_with(shop: Services) -> Iterator[Callable[..., LiveConsole]]:
    """Serve the same shop with some settings changed: ``live_with(access=AccessRules(...))``."""
    with ExitStack() as running:

        def start(**changes: Any) -> LiveConsole:
            settings = shop.settings.model_copy(update=changes)
            services = Services.build(settings, shop.store)
            app = create_app(settings, services)
            return LiveConsole(running.enter_context(serve(app)), services)

        yield start


# -- the browser ----------------------------------------------------------------------------------
def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (Debian package chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; no browser download)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if IN_CI:
            pytest.fail(f"the console's browser tests must run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@dataclass
class Recorder:
    """Every request a page made, and what must fail the test: a request for another host,
    a page error, or a Content-Security-Policy violation."""

    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def route(self, route: Any) -> None:
        url = route.request.url
        self.requests.append(url)
        if urlsplit(url).hostname != "127.0.0.1":
            self.problems.append(f"request left 127.0.0.1: {url}")
            route.abort()
        else:
            route.continue_()

    def console_message(self, message: Any) -> None:
        # A page answered 401 or 429 on purpose is the test's to check, not a fault.
        answered = message.text.startswith("Failed to load resource: the server responded")
        if message.type == "error" and not answered:
            self.problems.append(f"browser console: {message.text}")


@pytest.fixture
def page(browser: Any, live: LiveConsole) -> Iterator[Any]:
    """A fresh browser tab on the live console (desktop size); the test fails if the page
    reached for another host, broke the CSP or threw."""
    context = browser.new_context(base_url=live.base_url, viewport=DESKTOP)
    recorder = Recorder()
    context.route("**/*", recorder.route)
    tab = context.new_page()
    tab.on("console", recorder.console_message)
    tab.on("pageerror", lambda error: recorder.problems.append(f"page error: {error}"))
    tab.recorder = recorder
    yield tab
    context.close()
    assert recorder.problems == []
    assert recorder.requests, "the page made no request"


def login(page: Any, role: str, password: str | None = None) -> None:
    """Log in through the form as ``demo-<role>``."""
    page.goto("/login")
    page.get_by_label("Username").fill(f"demo-{role}")
    page.get_by_label("Password").fill(password or demo_password(role))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def check_accessibility(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (served by the console itself, so the CSP allows it) on the page; returns
    the serious and critical violations, each with its rule and the first offending element."""
    page.add_script_tag(url=AXE)
    results = page.evaluate("async () => await axe.run(document)")
    return [
        {"rule": v["id"], "impact": v["impact"], "where": v["nodes"][0]["target"]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


_RUN = os.environ.get("CORNERSTORE_SCREENSHOT_RUN") or datetime.now(UTC).strftime(
    "run-%Y%m%d-%H%M%S"
)


def screenshot(page: Any, name: str) -> list[Path]:
    """Save the page at desktop and tablet width under ``screenshots/<run>/`` (git-ignored)."""
    folder = SCREENSHOTS / _RUN
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for label, size in (("desktop", DESKTOP), ("tablet", TABLET)):
        page.set_viewport_size(size)
        path = folder / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    page.set_viewport_size(DESKTOP)
    return saved


__all__ = [
    "ANN",
    "CASE_TEXT",
    "DEMO_ROLES",
    "MALLORY",
    "SUPPORT_SECTIONS",
    "check_accessibility",
    "login",
    "screenshot",
]
