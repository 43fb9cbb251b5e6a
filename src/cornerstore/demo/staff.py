"""Demo staff: one user per built-in role, with passwords printed in the docs, for local use.

Never use them on a real installation: anyone who has read docs/access.md knows them.
"""

from __future__ import annotations

from cornerstore.access.caller import system_caller
from cornerstore.access.users import Staff

DEMO_ROLES = ("owner", "support", "supervisor", "shipping", "billing", "marketing", "analyst")


def demo_password(role: str) -> str:
    """The documented password of a demo user.

    >>> demo_password("shipping")
    'demo-shipping-password'
    """
    return f"demo-{role}-password"


def add_demo_staff(staff: Staff) -> list[str]:
    """Create ``demo-<role>`` for each built-in role that is missing; returns the names made.

    The shipping user works for the branch ``Leeds`` to show branch limits."""
    caller = system_caller(via="cli", actor="demo")
    existing = {u.username for u in staff.list(caller)}
    made = []
    for role in DEMO_ROLES:
        name = f"demo-{role}"
        if name in existing:
            continue
        staff.create(
            caller,
            name,
            role,
            display_name=f"Demo {role}",
            branch="Leeds" if role == "shipping" else None,
            password=demo_password(role),
        )
        made.append(name)
    return made
