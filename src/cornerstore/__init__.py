"""cornerstore: know each customer the way the corner-store owner did.

The library is the product: :class:`cornerstore.Settings` configures it,
:func:`cornerstore.storage.open_store` opens the store, :meth:`cornerstore.services.Services.build`
wires the services on it, and the service modules (``cornerstore.intake.service``,
``cornerstore.profiles.service``, ``cornerstore.identity.merge``) do the work that the API, CLI
and console expose.
"""

from typing import TYPE_CHECKING, Any

from cornerstore.errors import (
    Conflict,
    CornerstoreError,
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    TooLarge,
    Unauthorized,
)

if TYPE_CHECKING:
    from cornerstore.settings import Settings

__version__ = "0.1.0"

__all__ = [
    "Conflict",
    "CornerstoreError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Refused",
    "Settings",
    "TooLarge",
    "Unauthorized",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # Settings (pydantic) is loaded when first asked for, so that `import cornerstore` stays
    # light: the command line's entry point must be running before anything slow is imported.
    if name == "Settings":
        from cornerstore.settings import Settings

        return Settings
    raise AttributeError(f"module 'cornerstore' has no attribute {name!r}")
