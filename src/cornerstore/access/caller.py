"""The caller every service call receives: who is asking, through which entrance, with which rights.

Until staff roles and section policies arrive, staff tokens and the local CLI act with owner
rights and write keys may only send events; policies plug in here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from cornerstore.errors import Forbidden

STAFF_ROLES = frozenset({"owner"})
WRITER = "writer"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking. ``actor`` names them in the audit trail (never a secret)."""

    actor: str
    role: str
    via: str  # api | cli | console | library
    remote: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def require_staff(caller: Caller) -> None:
    """Refuse anything but staff: write keys may send events but never read customers."""
    if not caller.is_staff:
        raise Forbidden("this credential may only send events; reading needs a staff API token")


def system_caller(via: str = "library", actor: str = "system") -> Caller:
    """The local operator (CLI on the server, library code): owner rights."""
    return Caller(actor=actor, role="owner", via=via)
