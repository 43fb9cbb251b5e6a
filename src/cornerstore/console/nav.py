"""The console's navigation: each page once, with who may see its link.

A page adds itself with one :class:`NavItem`; a role that may not use a page does not see its
link (the page itself still refuses them through the services).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cornerstore.access.caller import Caller
from cornerstore.access.policy import Policy


def everyone(_policy: Policy, _caller: Caller) -> bool:
    return True


def administrators(policy: Policy, caller: Caller) -> bool:
    return policy.may_administer(caller)


def reviewers(policy: Policy, caller: Caller) -> bool:
    return policy.may(caller, "merges")


def case_readers(policy: Policy, caller: Caller) -> bool:
    return policy.may(caller, "cases")


def analysts(policy: Policy, caller: Caller) -> bool:
    return policy.may(caller, "segments") and policy.may(caller, "scores")


def service_leads(policy: Policy, caller: Caller) -> bool:
    return policy.may(caller, "service_metrics")


def marketers(policy: Policy, caller: Caller) -> bool:
    return policy.may(caller, "campaigns")


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    shown_to: Callable[[Policy, Caller], bool] = everyone


NAV: list[NavItem] = [
    NavItem("Customers", "/customers"),
    NavItem("Cases", "/cases", case_readers),
    NavItem("Review", "/reviews", reviewers),
    NavItem("Segments", "/segments", analysts),
    NavItem("Service", "/service", service_leads),
    NavItem("Campaigns", "/campaigns", marketers),
    NavItem("Owner", "/admin", administrators),
]


def nav_for(policy: Policy, caller: Caller) -> list[NavItem]:
    """The links ``caller``'s role may follow, in menu order."""
    return [item for item in NAV if item.shown_to(policy, caller)]
