"""``/docs`` works offline: Swagger UI's assets come from the package, not from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from cornerstore.api.app import create_app
from cornerstore.settings import Settings
from tests.api.conftest import TestClient


@pytest.fixture
def docs_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url="sqlite://"))) as client:
        yield client


def test_the_docs_page_refers_only_to_this_servers_assets(docs_client: TestClient) -> None:
    page = docs_client.get("/docs")

    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert re.findall(r'(?:src|href)="([^"]*)"', page.text) == [
        "/docs/assets/swagger-ui.css",
        "/docs/assets/favicon-32x32.png",
        "/docs/assets/swagger-ui-bundle.js",
    ]
    assert "url: '/openapi.json'" in page.text
    assert "://" not in page.text


def test_the_swagger_ui_assets_are_served_with_their_content_types(
    docs_client: TestClient,
) -> None:
    assets = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]

    answers = [docs_client.get(f"/docs/assets/{name}") for name in assets]

    assert [(a.status_code, a.headers["content-type"]) for a in answers] == [
        (200, "text/javascript; charset=utf-8"),
        (200, "text/css; charset=utf-8"),
        (200, "image/png"),
    ]
    assert b"SwaggerUIBundle" in answers[0].content


def test_redoc_which_would_need_a_cdn_is_not_served(docs_client: TestClient) -> None:
    assert docs_client.get("/redoc").status_code == 404
