"""``/docs``: Swagger UI with its assets served from the package, so the docs work offline.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN and is blank without the internet; this
one points at ``/docs/assets/``, the files vendored in ``static/swagger-ui`` (see its README).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
ASSETS = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` and its assets at ``/docs/assets/`` (``app`` is built
    with ``docs_url=None`` so FastAPI's CDN page is not served)."""
    # RFC 9239's type for scripts; some systems' mime.types still say application/javascript.
    mimetypes.add_type("text/javascript", ".js")
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )
