"""The HTTP API: ``create_app(settings)`` builds a FastAPI app over the same services as the CLI."""

from cornerstore.api.app import create_app

__all__ = ["create_app"]
