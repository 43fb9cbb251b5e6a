"""ASGI entry point for servers that import an app by name (``uvicorn cornerstore.api.asgi:app``).

Settings come from the ``CORNERSTORE_`` environment; the schema must be migrated already.
"""

from cornerstore.api.app import create_app, freeze_startup_heap

app = create_app()
freeze_startup_heap()
