"""The one Settings object, built at the edge (API, CLI) and passed in.

The core never reads the environment.

Every field can be set as ``CORNERSTORE_<NAME>`` in the environment or a ``.env`` file;
nested values (forms, limits) take JSON.
"""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

TOUCHPOINTS: tuple[str, ...] = (
    "store",
    "web",
    "app",
    "support",
    "billing",
    "shipping",
    "survey",
    "other",
)

DEFAULT_FORMS: dict[str, list[str]] = {
    "contact": ["first_name", "last_name", "email", "phone"],
    "shipping": [
        "first_name",
        "last_name",
        "phone",
        "address.street",
        "address.city",
        "address.postal_code",
        "address.state",
        "address.country",
        "delivery_instructions",
    ],
    "returns": [
        "first_name",
        "last_name",
        "email",
        "phone",
        "address.street",
        "address.city",
        "address.postal_code",
        "address.country",
        "refund_method",
    ],
}


class IntakeLimits(BaseModel):
    """Size and rate limits of the event intake; defaults accept what the official clients send."""

    max_message_bytes: int = 32 * 1024
    max_batch_bytes: int = 4 * 1024 * 1024
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch_messages: int = 2500
    # Per write key, token bucket: sustained messages a second and the burst allowed above it.
    rate_per_second: float = 20_000.0
    burst: int = 100_000


class IdentityRules(BaseModel):
    """Safeguards of deterministic identity stitching."""

    # Values that never identify a person: placeholders, test values, the shop's own contacts.
    blocked_values: list[str] = Field(
        default_factory=lambda: [
            "",
            "null",
            "none",
            "undefined",
            "nan",
            "anonymous",
            "unknown",
            "guest",
            "test",
            "-1",
            "0",
            "n/a",
            "na",
            "noemail@example.com",
            "test@test.com",
            "no@email.com",
        ]
    )
    # Highest priority first; decides which profile a message joins when a merge is refused.
    priority: list[str] = Field(
        default_factory=lambda: ["user_id", "email", "phone", "external", "anonymous_id"]
    )
    # How many identifiers of a kind one profile may hold; a merge that would exceed it is refused.
    max_per_kind: dict[str, int] = Field(
        default_factory=lambda: {
            "user_id": 1,
            "email": 10,
            "phone": 10,
            "external": 50,
            "anonymous_id": 200,
        }
    )
    max_identifiers_per_profile: int = 300
    max_merges_per_profile: int = 50
    # E-mail providers that ignore dots and/or +tags in the local part.
    ignore_dots_domains: list[str] = Field(default_factory=lambda: ["gmail.com", "googlemail.com"])
    ignore_plus_tag_domains: list[str] = Field(
        default_factory=lambda: [
            "gmail.com",
            "googlemail.com",
            "outlook.com",
            "hotmail.com",
            "live.com",
            "icloud.com",
            "me.com",
            "fastmail.com",
            "protonmail.com",
            "proton.me",
            "yahoo.com",
        ]
    )


SensitiveKind = Literal[
    "payment_card", "iban", "bank_account", "national_id", "secret", "birth_date"
]


class PrivacyPolicy(BaseModel):
    """What intake does with a sensitive value. It is never stored: by default a field that is
    only a sensitive value is dropped and free text is redacted; kinds listed in ``reject`` make
    the whole message be refused instead. No setting stores a sensitive value."""

    reject: list[SensitiveKind] = Field(default_factory=list)


class RoleGrant(BaseModel):
    """What a role may do with the sections of a customer (see docs/access.md).

    Section names are exact (``addresses``) or end in ``.*`` (``timeline.*``). A pseudonymised
    role sees stable keyed pseudonyms instead of profile ids and may never hold a section that
    names or reaches a person (name, contact, addresses, identifiers, ...)."""

    read: list[str] = Field(default_factory=list)
    change: list[str] = Field(default_factory=list)
    pseudonymised: bool = False


class AccessRules(BaseModel):
    """Staff roles, sessions, login lock-out and the audit trail."""

    # Custom roles, or replacements of the built-in ones (except owner).
    roles: dict[str, RoleGrant] = Field(default_factory=dict)
    # Trait name -> section, over the built-in mapping (first_name -> name, address -> addresses).
    trait_sections: dict[str, str] = Field(default_factory=dict)
    # Key of analysts' pseudonyms; by default one generated once and kept in the database.
    pseudonym_key: str | None = None
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    cookie_secure: bool = True
    password_min_length: int = Field(default=12, ge=8, le=128)
    # Failed logins per account and address before each further one waits; the wait doubles
    # from lockout_base_seconds up to lockout_max_seconds and never becomes permanent.
    login_free_failures: int = Field(default=5, ge=1, le=100)
    lockout_base_seconds: int = Field(default=30, ge=1)
    lockout_max_seconds: int = Field(default=900, ge=1, le=24 * 3600)
    audit_retention_days: int = Field(default=730, ge=1)


class Settings(BaseSettings):
    """Everything configurable about a cornerstore installation.

    Examples
    --------
    >>> Settings(database_url="sqlite:///shop.db", default_phone_region="GB").default_phone_region
    'GB'
    """

    model_config = SettingsConfigDict(
        env_prefix="CORNERSTORE_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    database_url: str = "sqlite:///cornerstore.db"
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    business_name: str = "Corner Store"
    default_phone_region: str = "GB"
    shop_emails: list[str] = Field(default_factory=list)
    shop_phones: list[str] = Field(default_factory=list)
    forms: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_FORMS))
    default_touchpoint: str = "web"
    intake: IntakeLimits = Field(default_factory=IntakeLimits)
    identity: IdentityRules = Field(default_factory=IdentityRules)
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy)
    access: AccessRules = Field(default_factory=AccessRules)
    sqlite_busy_timeout_ms: int = 10_000
    api_threads: int = Field(default=8, ge=1, le=200)
    timeline_page_size: int = 50
    log_level: str = "INFO"
