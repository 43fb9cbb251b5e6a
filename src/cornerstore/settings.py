"""The one Settings object, built at the edge (API, CLI) and passed in.

The core never reads the environment.

Every field can be set as ``CORNERSTORE_<NAME>`` in the environment or a ``.env`` file;
nested values (forms, limits) take JSON.
"""

from __future__ import annotations

import re
import secrets
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cornerstore.spec import (
    CASE_OPENED,
    CASE_RESOLVED,
    DELIVERY_ATTEMPTED,
    MESSAGE_TYPES,
    ORDER_COMPLETED,
    SURVEY_ANSWERED,
)

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

# Who the customer is and where they live: what an order and a return both need.
_CUSTOMER_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "address.street",
    "address.city",
    "address.postal_code",
    "address.country",
]
DEFAULT_FORMS: dict[str, list[str]] = {
    "order": [*_CUSTOMER_FIELDS, "payment_method"],
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
        "learned.delivery_window",
    ],
    "returns": [*_CUSTOMER_FIELDS, "refund_method"],
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
    """Safeguards of deterministic identity stitching, and placing customers as they arrive."""

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
    # A landline (a fixed-line number) is shared by a household: by default it never joins a
    # message to a profile on its own; identity resolution weighs it with the names.
    stitch_on_landlines: bool = False
    # Score each customer intake stores with a name, e-mail, phone or address against the
    # stored customers (once a model was learned, after the batch is committed, on a worker
    # thread): merge, queue for review, or leave.
    place_arrivals: bool = True
    # The in-memory index of stored customers is rebuilt after this long, taking in changes
    # other processes made; this process's own intake and merges keep it current meanwhile.
    placement_index_max_age_minutes: int = Field(default=60, ge=1)
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


_DURATION = re.compile(r"[1-9][0-9]*\s*[hdw]")

SensitiveKind = Literal[
    "payment_card", "iban", "bank_account", "national_id", "secret", "birth_date"
]


PURPOSES: tuple[str, ...] = (
    "marketing_email",
    "marketing_sms",
    "personalisation",
    "profiling",
    "sharing",
)


class PrivacyPolicy(BaseModel):
    """What intake does with a sensitive value, what consent is assumed, and how long events are
    kept. A sensitive value is never stored: by default a field that is only a sensitive value is
    dropped and free text is redacted; kinds in ``drop`` make a free-text field holding one be
    dropped whole, kinds in ``reject`` make the whole message be refused. No setting stores a
    sensitive value."""

    reject: list[SensitiveKind] = Field(default_factory=list)
    drop: list[SensitiveKind] = Field(default_factory=list)
    # The answer for a purpose the customer has never been asked about.
    consent_defaults: dict[str, bool] = Field(
        default_factory=lambda: {
            "marketing_email": False,
            "marketing_sms": False,
            "personalisation": True,
            "profiling": True,
            "sharing": False,
        }
    )
    # Category names or ids that consent managers send (case-insensitive) -> purposes.
    consent_categories: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "marketing": ["marketing_email", "marketing_sms"],
            "email": ["marketing_email"],
            "sms": ["marketing_sms"],
            "personalization": ["personalisation"],
            "advertising": ["sharing"],
            "analytics": ["profiling"],
        }
    )
    # Maximum age of stored events by type (identify, track, page, ...), such as "730d"; a type
    # not listed is kept until the customer is erased.
    retention: dict[str, str] = Field(default_factory=dict)

    @field_validator("consent_defaults")
    @classmethod
    def _known_default_purposes(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(value) - set(PURPOSES))
        if unknown:
            raise ValueError(f"unknown purposes {unknown}; known: {list(PURPOSES)}")
        return value

    @field_validator("consent_categories")
    @classmethod
    def _known_category_purposes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, purposes in value.items():
            unknown = sorted(set(purposes) - set(PURPOSES))
            if unknown:
                raise ValueError(f"category {name!r}: unknown purposes {unknown}")
        return {k.strip().lower(): v for k, v in value.items()}

    @field_validator("retention")
    @classmethod
    def _durations(cls, value: dict[str, str]) -> dict[str, str]:
        for event_type, age in value.items():
            if event_type not in MESSAGE_TYPES:
                raise ValueError(
                    f"retention: {event_type!r} is not an event type ({', '.join(MESSAGE_TYPES)})"
                )
            if not _DURATION.fullmatch(age.strip()):
                raise ValueError(f"retention for {event_type!r}: give an age such as 90d or 26w")
        return value


class LearnSettings(BaseModel):
    """What ``cornerstore learn`` reads as purchases, and how it judges value and risk."""

    # Track events that are purchases, and the properties that may hold their amount.
    order_events: list[str] = Field(default_factory=lambda: [ORDER_COMPLETED])
    amount_properties: list[str] = Field(default_factory=lambda: ["total", "revenue", "value"])
    # Count model for expected purchases and P(alive): bgnbd, paretonbd, mbgnbd, or auto (the
    # best on a holdout of the last quarter of the data).
    clv_model: Literal["bgnbd", "paretonbd", "mbgnbd", "auto"] = "bgnbd"
    clv_horizon_weeks: int = Field(default=52, ge=1, le=520)
    clv_discount_rate: float = Field(default=0.10, ge=0, lt=10)
    # Churn early warning (see cornerstore.learn.churn): P(alive) below this, or a gap this many
    # times the customer's usual one with this many purchases or more, for a customer whose
    # value at risk is at least this share of the median customer's; or a complaint open
    # longer than this many days.
    churn_alive_below: float = Field(default=0.5, gt=0, lt=1)
    churn_gap_ratio: float = Field(default=3.0, gt=1)
    churn_min_orders: int = Field(default=3, ge=2)
    churn_min_value_share: float = Field(default=0.5, ge=0)
    churn_open_complaint_days: int = Field(default=7, ge=1)
    # A purchase this many times the customer's own mean (and above the shop's 95th
    # percentile) is a big purchase moment.
    big_purchase_ratio: float = Field(default=3.0, gt=1)
    # Delivery outcomes and the events that tell whether a complaint is open.
    # The shop's time zone: delivery windows and moments are read in local time.
    timezone: str = "Europe/London"
    # Categories whose first appearance signals a new member of the household.
    household_categories: list[str] = Field(
        default_factory=lambda: ["baby", "babies", "nursery", "toddler", "maternity", "pet", "pets"]
    )
    delivery_event: str = DELIVERY_ATTEMPTED
    complaint_opened_event: str = CASE_OPENED
    complaint_resolved_event: str = CASE_RESOLVED
    # Survey answers: properties survey (nps / csat), score, solicited_by_employee.
    survey_event: str = SURVEY_ANSWERED

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: {value!r} is not an IANA time zone") from None
        return value


class SuggestSettings(BaseModel):
    """How suggestions treat returns, recent buys and repeat buys (see docs/suggestions.md)."""

    # Track events whose products (a products list, or one product_id / sku) were returned:
    # a product returned within returned_days is not suggested to that customer.
    return_events: list[str] = Field(default_factory=lambda: ["Order Refunded", "Product Returned"])
    returned_days: int = Field(default=30, ge=1, le=3650)
    # A product bought this recently is not suggested (unless its cycle says it is due).
    just_bought_days: int = Field(default=7, ge=0, le=365)
    # A product the customer buys regularly is left out while even its shortest gap so far ends
    # beyond this many days (bought within just_bought_days: until its median gap does).
    due_within_days: int = Field(default=14, ge=0, le=365)
    # Training threads: 0 is one thread below a million purchases, every core above.
    threads: int = Field(default=0, ge=0, le=64)


CONTACT_CHANNELS: tuple[str, ...] = ("email", "sms", "phone", "post", "export")
# A message the customer needs (an order, a delivery, a recall): no marketing consent is asked,
# open complaints do not hold it back and frequency caps do not count it.
SERVICE_PURPOSE = "service"


class FrequencyCap(BaseModel):
    """At most ``max_contacts`` marketing contacts of one customer on ``channel`` (or on every
    channel together, ``"*"``) within ``days`` days."""

    channel: str = "*"
    max_contacts: int = Field(ge=0, le=10_000)
    days: int = Field(ge=1, le=3660)

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        if value != "*" and value not in CONTACT_CHANNELS:
            raise ValueError(f"channel: {value!r} is not * or one of {', '.join(CONTACT_CHANNELS)}")
        return value


class CampaignSettings(BaseModel):
    """Contact frequency caps, personal campaigns, their delivery and their results
    (see docs/campaigns.md)."""

    # Every cap applies; a customer over any of them is capped. Service messages never count.
    frequency_caps: list[FrequencyCap] = Field(
        default_factory=lambda: [
            FrequencyCap(channel="*", max_contacts=3, days=30),
            FrequencyCap(channel="email", max_contacts=2, days=7),
        ]
    )
    # E-mail goes to this SMTP server through the standard library's client, one connection
    # reused for a whole send. A 4xx answer (try later) is tried again up to smtp_retries
    # times, waiting smtp_retry_seconds and doubling; a 5xx answer fails that recipient at once.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    smtp_retries: int = Field(default=3, ge=0, le=10)
    smtp_retry_seconds: float = Field(default=1.0, ge=0, le=300)
    sender: str = "shop@example.com"
    # The public address of this server: unsubscribe links point at <public_url>/v1/unsubscribe.
    public_url: str = "http://127.0.0.1:8000"
    # Key of unsubscribe tokens and of the control-group hash; by default one generated once
    # and kept in the database.
    signing_key: str | None = None
    # Each message renders within this many milliseconds and characters, or fails alone.
    render_ms: int = Field(default=200, ge=10, le=10_000)
    max_message_chars: int = Field(default=256_000, ge=1_000, le=10_000_000)
    # Spend in this many days before a campaign is the covariate CUPED narrows results with.
    pre_period_days: int = Field(default=90, ge=7, le=3660)
    # Results are withheld while the sample-ratio check's p-value is below this.
    srm_threshold: float = Field(default=0.001, gt=0, lt=0.5)

    @property
    def smtp_configured(self) -> bool:
        """Whether an SMTP server was set (``smtp_host`` or ``smtp_port``, in the environment,
        .env or code) rather than left at its default: the system e-mails follow-up surveys by
        itself only then."""
        return bool(self.model_fields_set & {"smtp_host", "smtp_port"})


# What a next-best-action rule can look for in a customer (see docs/actions.md).
ACTION_CONDITIONS: tuple[str, ...] = (
    "open_complaint",
    "high_value_slipping_away",
    "slipping_away",
    "replenishment_due",
    "order_milestone",
    "moment",
)
# The moments learning finds (cornerstore.learn.moments) a ``moment`` rule may name.
MOMENT_KINDS: tuple[str, ...] = (
    "moved_house",
    "changed_name",
    "new_household_signal",
    "first_complaint",
    "frequency_drop",
    "big_purchase",
    "purchase_anniversary",
)
NO_ACTION = "nothing"


class ActionRule(BaseModel):
    """When ``when`` holds for a customer, propose ``action`` on ``channel`` for ``purpose``.

    A ``purpose`` other than ``service`` is marketing: it needs that consent, is held back while
    a complaint is open and counts against the frequency caps. Lower ``priority`` ranks first;
    rules proposing the same action on the same channel become one action with all reasons."""

    when: Literal[
        "open_complaint",
        "high_value_slipping_away",
        "slipping_away",
        "replenishment_due",
        "order_milestone",
        "moment",
    ]
    action: str = Field(pattern=r"^[a-z][a-z_]{0,31}$")
    channel: str
    purpose: str = SERVICE_PURPOSE
    priority: int = Field(default=50, ge=0, le=1000)
    # For ``when: moment``: which moments (moved_house, new_household_signal, ...).
    moments: list[str] = Field(default_factory=list)

    @field_validator("action")
    @classmethod
    def _not_nothing(cls, value: str) -> str:
        if value == NO_ACTION:
            raise ValueError(f"{NO_ACTION!r} is what is left when no rule applies")
        return value

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        if value not in CONTACT_CHANNELS:
            raise ValueError(f"must be one of {', '.join(CONTACT_CHANNELS)}")
        return value

    @field_validator("purpose")
    @classmethod
    def _known_purpose(cls, value: str) -> str:
        if value != SERVICE_PURPOSE and value not in PURPOSES:
            raise ValueError(f"must be {SERVICE_PURPOSE} or one of {', '.join(PURPOSES)}")
        return value

    @field_validator("moments")
    @classmethod
    def _known_moments(cls, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in MOMENT_KINDS]
        if unknown:
            raise ValueError(f"moments must be among {', '.join(MOMENT_KINDS)}")
        return value


def _default_action_rules() -> list[ActionRule]:
    def email(
        when: str, action: str, priority: int, moments: list[str] | None = None
    ) -> ActionRule:
        return ActionRule.model_validate(
            {
                "when": when,
                "action": action,
                "channel": "email",
                "purpose": "marketing_email",
                "priority": priority,
                "moments": moments or [],
            }
        )

    return [
        ActionRule(when="high_value_slipping_away", action="call", channel="phone", priority=10),
        ActionRule(when="open_complaint", action="call", channel="phone", priority=10),
        email("replenishment_due", "offer", 20),
        email("moment", "offer", 25, ["moved_house", "new_household_signal"]),
        email("slipping_away", "offer", 30),
        email("order_milestone", "thank", 40),
        email("moment", "thank", 40, ["purchase_anniversary", "big_purchase"]),
    ]


class ActionSettings(BaseModel):
    """The next best action: its rules and their thresholds (see docs/actions.md)."""

    rules: list[ActionRule] = Field(default_factory=_default_action_rules)
    # "High value": a customer whose learned value (CLV) is in this top share of all customers.
    high_value_share: float = Field(default=0.2, gt=0, le=1)
    # Order counts worth a thank-you, when the order that reached one is this recent.
    order_milestones: list[int] = Field(default_factory=lambda: [10, 25, 50, 100])
    milestone_days: int = Field(default=14, ge=1, le=365)
    # Moments older than this no longer prompt an action.
    moment_days: int = Field(default=30, ge=1, le=365)
    # A segment listing ranks this many of its members (the first, in id order).
    max_list: int = Field(default=200, ge=1, le=1000)

    @field_validator("order_milestones")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(n < 1 for n in value):
            raise ValueError("milestones are order counts of 1 or more")
        return sorted(set(value))


class RoleGrant(BaseModel):
    """What a role may do with the sections of a customer (see docs/access.md).

    Section names are exact (``addresses``) or end in ``.*`` (``timeline.*``). A pseudonymised
    role sees stable keyed pseudonyms instead of profile ids and may never hold a section that
    names or reaches a person (name, contact, addresses, identifiers, ...)."""

    read: list[str] = Field(default_factory=list)
    change: list[str] = Field(default_factory=list)
    pseudonymised: bool = False
    # A consent purpose: the role sees a customer's traits only if the customer granted it.
    consent: str | None = None


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
    # Folder of the audit journal: reads are answered once their entry is fsynced there, and a
    # writer thread stores entries in the database every audit_flush_seconds. None: each read
    # waits for its entry's database commit. `cornerstore serve` keeps one by default.
    audit_journal: str | None = None
    audit_flush_seconds: float = Field(default=0.2, gt=0, le=60)


class CaseSettings(BaseModel):
    """The contact centre: case categories, which of them are complaints, and how much each
    role may give as a remedy without approval (see docs/cases.md)."""

    # Categories staff file cases under (the queue's filter and the suggested remedy's basis).
    categories: list[str] = Field(
        default_factory=lambda: [
            "delivery",
            "damaged item",
            "wrong item",
            "refund",
            "billing",
            "product question",
            "account",
            "complaint",
            "other",
        ]
    )
    # A customer "has an open complaint" while a case of one of these categories is open or
    # waiting (cornerstore.cases.complaints): no marketing reaches them meanwhile.
    complaint_categories: list[str] = Field(
        default_factory=lambda: [
            "complaint",
            "delivery",
            "damaged item",
            "wrong item",
            "refund",
            "billing",
        ]
    )
    # The most a role may give as one remedy at once (in the shop's currency); above it the
    # remedy waits for someone whose limit covers it. A role not listed may give nothing;
    # owner gives any amount unless listed here.
    remedy_limits: dict[str, float] = Field(
        default_factory=lambda: {"support": 20.0, "supervisor": 200.0}
    )
    # Attachments of imported mail are listed (name, type, size); their content is never kept.
    max_message_chars: int = Field(default=20_000, ge=100, le=1_000_000)

    @field_validator("complaint_categories", "categories")
    @classmethod
    def _folded(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]


# How often `cornerstore serve` e-mails follow-up surveys when an SMTP server is configured
# and outcomes.survey_email_minutes is not set.
SURVEY_EMAIL_MINUTES = 15.0


class OutcomeSettings(BaseModel):
    """The contact centre's outcome metrics and follow-up surveys (see docs/service-metrics.md)."""

    # The period the metrics cover when none is given (days back from now), and the longest.
    default_days: int = Field(default=90, ge=1, le=3660)
    max_days: int = Field(default=731, ge=1, le=3660)
    # The most cases one metrics request reads; a longer period is refused with a message.
    max_cases: int = Field(default=200_000, ge=100, le=10_000_000)
    # Customers are followed this many days after a resolved case (purchases, P(alive)), and
    # compared with at most this many customers of the same segments without a case.
    follow_days: int = Field(default=90, ge=7, le=730)
    max_comparable: int = Field(default=5_000, ge=0, le=1_000_000)
    # Survey links are this address followed by the token; they stop working after these days.
    survey_url: str = "http://127.0.0.1:8000/feedback/"
    survey_valid_days: int = Field(default=60, ge=1, le=730)
    # The most surveys one `cornerstore service surveys send` makes.
    survey_batch: int = Field(default=1_000, ge=1, le=100_000)
    # `cornerstore serve` e-mails the surveys of resolved cases every this many minutes
    # through the campaigns' SMTP settings; 0: never (send or export them yourself). Unset:
    # every SURVEY_EMAIL_MINUTES when an SMTP server is configured, else never.
    survey_email_minutes: float | None = Field(default=None, ge=0, le=24 * 60)


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
    learn: LearnSettings = Field(default_factory=LearnSettings)
    suggest: SuggestSettings = Field(default_factory=SuggestSettings)
    campaigns: CampaignSettings = Field(default_factory=CampaignSettings)
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy)
    access: AccessRules = Field(default_factory=AccessRules)
    cases: CaseSettings = Field(default_factory=CaseSettings)
    outcomes: OutcomeSettings = Field(default_factory=OutcomeSettings)
    actions: ActionSettings = Field(default_factory=ActionSettings)
    sqlite_busy_timeout_ms: int = 10_000
    # SQLite: FULL fsyncs at every commit (an acknowledged write survives a power cut); NORMAL
    # only at checkpoints (it survives a crash of the process, not of the machine).
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    api_threads: int = Field(default=8, ge=1, le=200)
    timeline_page_size: int = 50
    # Each section of a console page (profile, timeline, scores...) gets this long; one that
    # runs over shows "unavailable" instead of slowing the page.
    console_section_ms: int = Field(default=1500, ge=50, le=60_000)
    log_level: str = "INFO"

    @property
    def survey_email_every(self) -> float:
        """How often (minutes) `cornerstore serve` e-mails follow-up surveys; 0: never.

        Never without a configured SMTP server (``surveys export`` is then the way); with
        one, ``outcomes.survey_email_minutes`` when set, else every ``SURVEY_EMAIL_MINUTES``.

        >>> Settings().survey_email_every
        0.0
        >>> Settings(campaigns={"smtp_host": "mail.example"}).survey_email_every
        15.0
        """
        if not self.campaigns.smtp_configured:
            return 0.0
        minutes = self.outcomes.survey_email_minutes
        return SURVEY_EMAIL_MINUTES if minutes is None else minutes
