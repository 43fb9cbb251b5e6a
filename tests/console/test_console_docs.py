"""docs/console.md names every console page, as docs/api.md names every API route."""

from __future__ import annotations

from pathlib import Path

from cornerstore.console import console_routers
from cornerstore.console.deps import ConsoleRoute

DOCS = Path(__file__).parents[2] / "docs"


def test_every_console_page_is_documented() -> None:
    text = (DOCS / "console.md").read_text()
    pages = sorted(
        f"{method} {route.path}"
        for router in console_routers()
        for route in router.routes
        if isinstance(route, ConsoleRoute)
        for method in route.methods - {"HEAD"}
    )

    missing = [page for page in pages if page not in text]

    assert len(pages) >= 10 and missing == []
