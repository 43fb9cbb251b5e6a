"""The caller every service call receives: who is asking, through which entrance, with which rights.

Staff act with a role (what each role may see is :mod:`cornerstore.access.policy`); the local CLI
acts with owner rights; write keys may only send events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cornerstore.errors import Forbidden

# The built-in staff roles; installations add their own in settings (``access.roles``).
STAFF_ROLES = frozenset(
    {"owner", "support", "supervisor", "shipping", "billing", "marketing", "analyst"}
)
WRITER = "writer"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking. ``actor`` names them in the audit trail (never a secret)."""

    actor: str
    role: str
    via: str  # api | cli | console | library
    remote: str | None = None
    reason: str | None = None  # why they ask, recorded in the audit trail
    branch: str | None = None  # the branch a staff member works for; None: every branch
    user_id: int | None = None  # the staff user behind a session or personal token

    @property
    def is_staff(self) -> bool:
        return self.role != WRITER

    def because(self, reason: str | None) -> Caller:
        """The same caller giving a reason (trimmed; blank means none).

        >>> Caller("ann", "support", "cli").because("  refund  ").reason
        'refund'
        """
        reason = "".join(ch for ch in (reason or "") if ch.isprintable()).strip()[:500] or None
        return replace(self, reason=reason)


def require_staff(caller: Caller) -> None:
    """Refuse anything but staff: write keys may send events but never read customers."""
    if not caller.is_staff:
        raise Forbidden("this credential may only send events; reading needs a staff API token")


def system_caller(via: str = "library", actor: str = "system") -> Caller:
    """The local operator (CLI on the server, library code): owner rights."""
    return Caller(actor=actor, role="owner", via=via)
