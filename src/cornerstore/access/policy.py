"""Roles and section policy: which sections of a customer each role may read or change.

A customer is shown in named *sections* (``name``, ``contact``, ``addresses``, ``timeline.store``,
...). A role is granted sections to read and sections to change; everything else is denied, so a
section a later part adds stays invisible until a policy grants it. The owner holds ``*``.

The services ask the policy once per call, before they look the customer up, so a role that may
not read something gets the same answer whether or not the customer exists; sections a role may
not read are left out of the answer altogether.

Examples
--------
>>> from cornerstore.access.caller import Caller
>>> policy = Policy()
>>> shipping = Caller("sam", "shipping", "api")
>>> policy.may(shipping, "addresses"), policy.may(shipping, "timeline.store")
(True, False)
>>> sorted(policy.visible_sections(shipping))
['addresses', 'delivery_preferences', 'name', 'shipments', 'timeline.shipping']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cornerstore.access.caller import WRITER, Caller
from cornerstore.errors import Forbidden, InvalidInput
from cornerstore.settings import PURPOSES, TOUCHPOINTS, AccessRules, RoleGrant

READ = "read"
CHANGE = "change"

# Every section a customer is shown in today, and those later parts fill (declared here so a
# policy can grant them before they exist). A new section is added here and nowhere else.
SECTIONS: dict[str, str] = {
    "name": "first, last and full name",
    "contact": "e-mail addresses and phone numbers (traits and identifiers)",
    "addresses": "postal, billing and delivery addresses",
    "delivery_preferences": "delivery instructions and preferred delivery times",
    "payment": "payment method, payment status and refund method",
    "traits": "every other trait: preferences, company, loyalty and the like",
    "identifiers": "user ids, device and anonymous ids, external ids",
    "summary": "event counts per department and type, first and last seen",
    "accounts": "the accounts a person belongs to, the members of an account, and the other "
    "people in a customer's household",
    "merges": "the profiles merged into this one and the merge records",
    **{f"timeline.{tp}": f"events from the {tp} department" for tp in TOUCHPOINTS},
    "cases": "service cases and their text",
    "invoices": "invoices",
    "shipments": "shipments and their tracking",
    "scores": "computed scores: value, loyalty, churn",
    "segments": "segments the customer belongs to",
    "consents": "consent history per purpose",
    "suggestions": "suggested products and the reasons for them",
    "service_metrics": "the contact centre's outcome figures (counts and rates, no customer named)",
    "next_actions": "the next best actions for the customer and the reasons for them",
    "campaigns": "campaigns: their audiences, messages, recipients, coupons and results",
}

# Sections that name or reach a person: a pseudonymised role may never be granted them.
PERSONAL_SECTIONS = frozenset(
    {
        "name",
        "contact",
        "addresses",
        "delivery_preferences",
        "payment",
        "identifiers",
        "accounts",
        "merges",
        "cases",
        "invoices",
        "shipments",
    }
)

# What support reads: the whole story of a customer, without the learned scores.
_SUPPORT_READS = [
    "name",
    "contact",
    "addresses",
    "delivery_preferences",
    "identifiers",
    "traits",
    "summary",
    "accounts",
    "merges",
    "timeline.*",
    "cases",
    "shipments",
    "consents",
    "suggestions",
    "service_metrics",
    "next_actions",
]

BUILT_IN_ROLES: dict[str, RoleGrant] = {
    "owner": RoleGrant(read=["*"], change=["*"]),
    "support": RoleGrant(read=list(_SUPPORT_READS), change=["merges", "cases"]),
    # Support's sections and the learned scores: a supervisor weighs what a customer is worth
    # when approving a remedy above support's limit (docs/cases.md).
    "supervisor": RoleGrant(read=[*_SUPPORT_READS, "scores"], change=["merges", "cases"]),
    "shipping": RoleGrant(
        read=["name", "addresses", "delivery_preferences", "shipments", "timeline.shipping"],
        change=["delivery_preferences", "shipments"],
    ),
    "billing": RoleGrant(
        read=["name", "contact", "addresses", "payment", "invoices", "timeline.billing"],
        change=["payment", "invoices"],
    ),
    # Marketing sees a customer's traits only when the customer allows personalisation.
    "marketing": RoleGrant(
        read=[
            "traits",
            "summary",
            "segments",
            "scores",
            "consents",
            "suggestions",
            "next_actions",
            "campaigns",
        ],
        change=["segments", "campaigns"],
        consent="personalisation",
    ),
    "analyst": RoleGrant(
        read=["traits", "summary", "scores", "segments", "timeline.*", "service_metrics"],
        pseudonymised=True,
    ),
}

#: Form fields and score names with this prefix name what was learned about a customer.
LEARNED = "learned."
# Trait name -> section; a trait not named here is in "traits" (unless its suffix says more).
TRAIT_SECTIONS: dict[str, str] = {
    **dict.fromkeys(
        ["name", "first_name", "last_name", "full_name", "middle_name", "title", "salutation"],
        "name",
    ),
    **dict.fromkeys(
        ["email", "phone", "mobile", "home_phone", "work_phone", "mobile_phone", "fax"], "contact"
    ),
    **dict.fromkeys(
        [
            "address",
            "addresses",
            "street",
            "city",
            "postal_code",
            "postcode",
            "zip",
            "state",
            "country",
        ],
        "addresses",
    ),
    **dict.fromkeys(
        ["delivery_instructions", "delivery_window", "delivery_preferences", "preferred_delivery"],
        "delivery_preferences",
    ),
    **dict.fromkeys(["payment_method", "payment_status", "refund_method"], "payment"),
}
_SUFFIX_SECTIONS = (
    ("_email", "contact"),
    ("_phone", "contact"),
    ("_address", "addresses"),
    ("_name", "name"),
)
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")  # as intake stores trait names: firstName
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_PATTERN = re.compile(r"^(\*|[a-z_]+(\.([a-z_]+|\*))?)$")


@dataclass(frozen=True, slots=True)
class Grant:
    """One role's grants: section patterns to read and to change."""

    read: tuple[str, ...]
    change: tuple[str, ...]
    pseudonymised: bool
    consent: str | None = None

    def allows(self, section: str, action: str) -> bool:
        patterns = self.read if action == READ else self.change
        return any(_matches(p, section) for p in patterns)


def _matches(pattern: str, section: str) -> bool:
    """``*`` matches every section, ``timeline.*`` every timeline section, others themselves."""
    if pattern in ("*", section):
        return True
    return pattern.endswith(".*") and section.startswith(pattern[:-1])


def _grant(role: str, spec: RoleGrant) -> Grant:
    if not _ROLE_NAME.match(role):
        raise InvalidInput(f"access.roles: {role!r} is not a role name (a-z, digits, - and _)")
    for pattern in [*spec.read, *spec.change]:
        if not _PATTERN.match(pattern):
            raise InvalidInput(f"access.roles.{role}: {pattern!r} is not a section or pattern")
    if spec.consent is not None and spec.consent not in PURPOSES:
        raise InvalidInput(
            f"access.roles.{role}.consent: {spec.consent!r} is not one of {', '.join(PURPOSES)}"
        )
    grant = Grant(tuple(spec.read), tuple(spec.change), spec.pseudonymised, spec.consent)
    if grant.pseudonymised:
        personal = sorted(
            s for s in PERSONAL_SECTIONS if grant.allows(s, READ) or grant.allows(s, CHANGE)
        )
        if personal:
            raise InvalidInput(
                f"access.roles.{role}: a pseudonymised role may not hold {', '.join(personal)}"
            )
    return grant


class Policy:
    """Which role may read or change which section; built from settings, asked by the services.

    Other parts call :meth:`require` before they read or change their own section, e.g.
    ``policy.require(caller, "consents", "read")``, and :meth:`visible_sections` to know what
    to show.
    """

    def __init__(
        self,
        roles: Mapping[str, RoleGrant] | None = None,
        trait_sections: Mapping[str, str] | None = None,
    ) -> None:
        custom = dict(roles or {})
        if "owner" in custom:
            raise InvalidInput("access.roles: the owner role cannot be redefined")
        self.roles: dict[str, Grant] = {
            name: _grant(name, spec) for name, spec in {**BUILT_IN_ROLES, **custom}.items()
        }
        self.trait_sections = {**TRAIT_SECTIONS, **dict(trait_sections or {})}

    @classmethod
    def from_settings(cls, access: AccessRules) -> Policy:
        return cls(access.roles, access.trait_sections)

    # -- roles ----------------------------------------------------------------------------------
    def role_names(self) -> list[str]:
        return sorted(self.roles)

    def check_role(self, role: str) -> str:
        """``role`` when this installation knows it; InvalidInput otherwise."""
        if role not in self.roles:
            raise InvalidInput(f"role: must be one of {', '.join(self.role_names())}")
        return role

    def grant_of(self, caller: Caller) -> Grant:
        """The caller's grants; Forbidden for write keys and roles this installation lacks."""
        if caller.role == WRITER:
            raise Forbidden("this credential may only send events; reading needs a staff API token")
        grant = self.roles.get(caller.role)
        if grant is None:
            raise Forbidden("the credential's role is not known to this installation")
        return grant

    # -- sections -------------------------------------------------------------------------------
    def may(self, caller: Caller, section: str, action: str = READ) -> bool:
        """Whether the caller's role may ``action`` (read or change) ``section``."""
        if caller.role == WRITER or caller.role not in self.roles:
            return False
        return self.roles[caller.role].allows(section, action)

    def require(self, caller: Caller, section: str, action: str = READ) -> None:
        """Raise Forbidden unless the caller's role may ``action`` ``section``."""
        if not self.grant_of(caller).allows(section, action):
            raise Forbidden(f"your role may not {action} {section}")

    def require_any(self, caller: Caller, sections: Iterable[str], action: str = READ) -> None:
        """Raise Forbidden unless the role may ``action`` at least one of ``sections``."""
        grant = self.grant_of(caller)
        wanted = list(sections)
        if not any(grant.allows(s, action) for s in wanted):
            what = wanted[0].split(".")[0] if wanted else "this"
            raise Forbidden(f"your role may not {action} {what}")

    def visible_sections(self, caller: Caller, action: str = READ) -> frozenset[str]:
        """The known sections the caller's role may ``action`` (empty for write keys)."""
        if caller.role == WRITER or caller.role not in self.roles:
            return frozenset()
        grant = self.roles[caller.role]
        named = {p for p in (grant.read if action == READ else grant.change) if "*" not in p}
        return frozenset(s for s in {*SECTIONS, *named} if grant.allows(s, action))

    def consent_for(self, caller: Caller) -> str | None:
        """The consent purpose a customer must have granted for the caller to see their
        traits (None: no such condition)."""
        return self.grant_of(caller).consent

    def pseudonymised(self, caller: Caller) -> bool:
        """Whether the caller sees pseudonyms instead of profile ids."""
        return self.grant_of(caller).pseudonymised

    def require_staff_admin(self, caller: Caller) -> None:
        """Managing staff, tokens and keys, and reading the audit trail: the owner only."""
        self.grant_of(caller)
        if caller.role != "owner":
            raise Forbidden("only the owner may do this")

    def may_administer(self, caller: Caller) -> bool:
        return caller.role == "owner"

    def require_branch(self, caller: Caller, branch: str | None) -> None:
        """A staff member limited to a branch may change only that branch's records."""
        if caller.branch is not None and branch is not None and branch != caller.branch:
            raise Forbidden("your account may change records of its own branch only")

    # -- where things belong --------------------------------------------------------------------
    def section_of(self, field: str) -> str:
        """The section a customer field belongs to: a trait (``firstName``), a part of one
        (``address.city``, as forms name it), a learned score (``learned.value``) or a field
        identity resolution compares. A field nobody declared is in ``traits``.

        >>> Policy().section_of("first_name"), Policy().section_of("work_email")
        ('name', 'contact')
        >>> Policy().section_of("favourite_colour"), Policy().section_of("lastName")
        ('traits', 'name')
        >>> Policy().section_of("address.city"), Policy().section_of("learned.value")
        ('addresses', 'scores')
        """
        if field in ("email", "phone"):
            return "contact"
        if field.startswith(LEARNED):
            # When the customer is likely home is a delivery preference; other scores are scores.
            return "delivery_preferences" if field == f"{LEARNED}delivery_window" else "scores"
        name = _CAMEL.sub(r"_\1", field.partition(".")[0]).lower()
        known = self.trait_sections.get(name)
        if known is not None:
            return known
        for suffix, section in _SUFFIX_SECTIONS:
            if name.endswith(suffix):
                return section
        return "traits"

    @staticmethod
    def identifier_section(kind: str) -> str:
        """E-mail and phone identifiers are contact details; every other kind an identifier."""
        return "contact" if kind in ("email", "phone") else "identifiers"

    @staticmethod
    def timeline_section(touchpoint: str) -> str:
        return f"timeline.{touchpoint}"
