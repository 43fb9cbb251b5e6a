"""The relational schema. Later parts add tables by Alembic migration, never by editing history.

Merges never rewrite rows: every profile row keeps its own identifiers, traits and events, and
``customers.root_id`` names the profile it currently belongs to. A merge repoints roots; undoing it
points them back, so both profiles return exactly as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# SQLite cannot autoincrement BIGINT primary keys; INTEGER there is 64-bit anyway.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# What erasing a customer does to a column that refers to them, kept with the column in its
# ``info`` (:func:`cornerstore.storage.privacy_repositories.erasure_plan` reads it). A foreign
# key to ``customers.id`` without a rule deletes its rows; a column naming customers any other
# way must carry a rule.
ON_ERASURE = "on_erasure"
DELETE_ROW = "delete"  # the row goes
DETACH = "detach"  # the column is set to null, the row stays
LISTED = "listed"  # a JSON list of profile ids: rows listing one of them go
KEEP = "keep"  # the row stays, the id with it: it says nothing about the person


def on_erasure(rule: str) -> dict[str, str]:
    """The ``info`` of a column erasure treats by ``rule`` (one of the rules above)."""
    return {ON_ERASURE: rule}


customers = Table(
    "customers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # person | account
    Column("root_id", String(32), nullable=False, index=True, info=on_erasure(DELETE_ROW)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("message_id", String(128)),  # the message that created it
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("kind", String(64), nullable=False),
    Column("value", String(512), nullable=False),
    Column("source", String(128), nullable=False),
    Column("touchpoint", String(16), nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("message_id", String(128)),
    UniqueConstraint("value", "kind"),
)


def _observation_columns() -> list[Column[Any]]:
    """The columns of a table of trait observations (each table needs its own Column objects)."""
    return [
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False),
        Column("name", String(128), nullable=False),
        Column("value", Text, nullable=False),  # JSON
        Column("touchpoint", String(16), nullable=False),
        Column("source", String(128), nullable=False),
        Column("observed_at", UTCDateTime(), nullable=False),
        Column("message_id", String(128)),
    ]


traits = Table(
    "traits",
    metadata,
    *_observation_columns(),
    Index("ix_traits_customer_id_name", "customer_id", "name"),
)

# What a client-side source (a public write key) claimed about a customer it was not signed in
# as: kept apart from ``traits`` so nothing that reads traits (prefill, matching, learning,
# search, branches) can use a claim by accident. A claim is pending until a trusted source
# observes the same value.
unverified_traits = Table(
    "unverified_traits",
    metadata,
    *_observation_columns(),
    Index("ix_unverified_traits_customer_id_name", "customer_id", "name"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", String(128), nullable=False, unique=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False),
    # An erased account leaves its members' events in place, no longer filed under it.
    Column("account_id", String(32), ForeignKey("customers.id"), info=on_erasure(DETACH)),
    Column("type", String(16), nullable=False),  # identify track page screen group alias
    Column("name", String(256)),  # track event, page or screen name
    Column("touchpoint", String(16), nullable=False),
    Column("source", String(128), nullable=False),
    Column("user_id", String(256)),
    Column("anonymous_id", String(256)),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("original_timestamp", String(64)),
    Column("sent_at", UTCDateTime()),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("properties", Text),  # JSON: properties, or traits for identify / group
    Column("context", Text),  # JSON
    Column("integrations", Text),  # JSON
    Column("channel", String(64)),  # the Spec's top-level channel: server, browser, mobile (0008)
    Column("version", String(16)),  # the Spec version the sender speaks (0008)
    # In the timeline's order (newest first, id breaking ties) and covering the profile's counts.
    Index(
        "ix_events_customer_id_occurred_at",
        "customer_id",
        "occurred_at",
        "id",
        "touchpoint",
        "type",
    ),
    Index("ix_events_account_id", "account_id"),
)

account_members = Table(
    "account_members",
    metadata,
    Column("account_id", String(32), ForeignKey("customers.id"), primary_key=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), primary_key=True),
    Column("since", UTCDateTime(), nullable=False),
    Column("message_id", String(128)),
    Index("ix_account_members_customer_id", "customer_id"),
)

merges = Table(
    "merges",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("winner_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("loser_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    # JSON list of profile ids whose root moved
    Column("members", Text, nullable=False, info=on_erasure(LISTED)),
    Column("reason", String(32), nullable=False),  # stitch | alias | manual | resolve
    Column("evidence", Text, nullable=False),  # JSON: the identifiers that joined them
    Column("message_id", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("undone_at", UTCDateTime()),
    Column("undone_by", String(128)),
)

# One row per refused pair and reason, counted: a shared device refuses on every message.
merge_refusals = Table(
    "merge_refusals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("refusal_key", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_at", UTCDateTime(), nullable=False),
    Column("times", Integer, nullable=False),
    Column("message_id", String(128)),  # the first message refused
    Column("reason", String(512), nullable=False),
    Column("profiles", Text, nullable=False, info=on_erasure(LISTED)),  # JSON list of ids
)

write_keys = Table(
    "write_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("touchpoint", String(16), nullable=False),
    # client: public in pages and apps, its claims about existing customers are unverified;
    # server: kept secret on the shop's servers, trusted (0009).
    Column("source", String(8), nullable=False, server_default="server"),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    # A personal token acts as its staff user (with the user's role); null for service tokens.
    Column("user_id", Integer, ForeignKey("staff_users.id"), index=True),  # 0003
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(160), nullable=False),
    Column("action", String(64), nullable=False),
    # The audit trail keeps that an erasure happened, and of which id: nothing about the person.
    Column("customer_id", String(32), index=True, info=on_erasure(KEEP)),
    Column("via", String(16), nullable=False),  # api | cli | console | library
    Column("detail", Text),
    # Added by migration 0003: what was shown, why, from where, and the actor's branch.
    Column("sections", Text),  # comma-separated section names
    Column("reason", String(500)),
    Column("remote", String(64)),
    Column("branch", String(64)),
    Index("ix_audit_log_at", "at"),
)

# -- privacy (migration 0002) -----------------------------------------------------------------

# What the firewall removed: kind, field and where it came in, never the value.
privacy_events = Table(
    "privacy_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("entrance", String(32), nullable=False),  # intake | import | api | console | ...
    Column("source", String(128), nullable=False),  # write key or file name
    Column("kind", String(32), nullable=False),
    Column("field", String(512), nullable=False),
    Column("action", String(16), nullable=False),  # dropped | redacted | rejected
    Column("message_id", String(128)),
)

# Consent history, append-only: the newest row per profile and purpose is the current answer.
consents = Table(
    "consents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("granted", Boolean(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("touchpoint", String(16), nullable=False),
    Column("source", String(128), nullable=False),
    Column("message_id", String(128)),
    Index("ix_consents_customer_id_purpose_at", "customer_id", "purpose", "at"),
)

# Keyed hashes of the identifiers of erased people: replayed events must not bring them back.
suppressions = Table(
    "suppressions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("erased_at", UTCDateTime(), nullable=False),
)

# Secrets the installation generates for itself when none is configured (the suppression key).
installation_secrets = Table(
    "installation_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# -- learning (migration 0003) ----------------------------------------------------------------

# What cornerstore learned about a customer: one row per profile and score name, replaced on
# each run, with when and by which model version it was computed.
scores = Table(
    "scores",
    metadata,
    Column("customer_id", String(32), ForeignKey("customers.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("computed_at", UTCDateTime(), nullable=False),
    Column("model", String(64), nullable=False),
)

# -- segments (migration 0004) ----------------------------------------------------------------

# Rule segments staff define (a condition tree) and the clusters learning finds.
segments = Table(
    "segments",
    metadata,
    Column("id", String(64), primary_key=True),  # a slug: "lapsed-big-spenders"
    Column("name", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # rule | cluster
    Column("definition", Text),  # JSON condition tree (rule) or centroid description (cluster)
    Column("description", Text, nullable=False),  # in words
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(160), nullable=False),
    Column("computed_at", UTCDateTime()),
    Column("size", Integer, nullable=False, default=0),
    Column("clv_sum", Float()),
    Column("clv_mean", Float()),
)

segment_members = Table(
    "segment_members",
    metadata,
    Column("segment_id", String(64), ForeignKey("segments.id"), primary_key=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), primary_key=True),
    Index("ix_segment_members_customer_id", "customer_id"),
)

# -- staff and access (migration 0005) --------------------------------------------------------

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("branch", String(64)),  # null: every branch
    Column("password_hash", String(256), nullable=False),  # argon2id
    Column("must_change_password", Boolean(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("password_changed_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime()),
)

# Console sessions: the id and its CSRF token are stored as SHA-256 digests only.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("csrf_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("remote", String(64)),
    Column("ended_at", UTCDateTime()),
)

# Failed logins per account name and address: the back-off of the next attempt.
login_failures = Table(
    "login_failures",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("remote", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", UTCDateTime(), nullable=False),
    Column("locked_until", UTCDateTime()),
)

# -- identity resolution (migration 0006) -----------------------------------------------------

# Models trained on the stored profiles; resolution and placement use the one marked active.
identity_models = Table(
    "identity_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False),  # the model format's version
    Column("trained_at", UTCDateTime(), nullable=False),
    Column("records", Integer, nullable=False),  # profiles it was trained on
    Column("model", Text, nullable=False),  # JSON (IdentityModel.to_json)
    Column("active", Boolean(), nullable=False),
    Column("created_by", String(160), nullable=False),
)

# Candidate pairs in the grey zone, and staff decisions on them. A pair is stored once, its
# profile ids in sorted order; a decided pair is remembered, so it is never queued again.
identity_reviews = Table(
    "identity_reviews",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("left_id", String(32), ForeignKey("customers.id"), nullable=False),
    Column("right_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("match_probability", Float(), nullable=False),
    Column("match_weight", Float(), nullable=False),
    Column("fields", Text, nullable=False),  # JSON: per comparison, level and match weight
    Column("status", String(16), nullable=False),  # pending | accepted | rejected
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_by", String(160)),
    Column("decided_at", UTCDateTime()),
    UniqueConstraint("left_id", "right_id"),
    Index("ix_identity_reviews_status_match_weight", "status", "match_weight"),
)

# -- relations between customers (migration 0007) ---------------------------------------------

# Two customers who are different people but belong together: a ``household`` (same surname
# and address or phone, different first names and e-mails). Stored once per pair, profile ids
# in sorted order, and read through the customers the profiles belong to now.
customer_relations = Table(
    "customer_relations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False),
    Column("other_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("found_by", String(32), nullable=False),  # resolve | placement
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("customer_id", "other_id", "kind"),
)

# -- finding customers by name (migration 0010) -----------------------------------------------

# The words of each profile row's current names (first, middle, last, full), folded, one row a
# word, replaced whenever intake stores a name trait. ``name_key`` is all of the row's words,
# sorted: a query with the same words is its exact full name. Byte order ("C" collation on
# PostgreSQL) so that a range of words is a range of the index, and names sort alike, on every
# backend.
NameWord = String(64).with_variant(String(64, collation="C"), "postgresql")
NameKey = Text().with_variant(Text(collation="C"), "postgresql")
name_words = Table(
    "name_words",
    metadata,
    Column("word", NameWord, primary_key=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), primary_key=True),
    Column("name_key", NameKey, nullable=False),
    Index("ix_name_words_customer_id", "customer_id"),
    # On SQLite the rows live in the primary key's b-tree: a word's rows, name keys included,
    # are one range read with no look-up per row.
    sqlite_with_rowid=False,
)
# PostgreSQL's equivalent (migration 0017): a word's rows read from the index alone.
Index(
    "ix_name_words_word_entry",
    name_words.c.word,
    postgresql_include=["customer_id", "name_key"],
).ddl_if(dialect="postgresql")

# -- suggestions (migration 0011) -------------------------------------------------------------

# Suggestion models trained on the purchase history; the newest one serves.
suggestion_models = Table(
    "suggestion_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trained_at", UTCDateTime(), nullable=False),
    # How many buyers it learned from: a count, never an id (the model holds no customer rows).
    Column("buyers", Integer, nullable=False),
    Column("items", Integer, nullable=False),
    Column("model", LargeBinary, nullable=False),  # SuggestionModel.to_bytes (NumPy, no pickle)
    Column("created_by", String(160), nullable=False),
)

# -- contacts and campaigns (migration 0014) --------------------------------------------------

# Every time the shop reached out to a customer: by which channel, for which purpose, from which
# campaign or other source. Frequency caps and the next best action count these; the profile
# row is the customer's root when the contact was made (merges are followed when counting).
contacts = Table(
    "contacts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False),
    Column("channel", String(16), nullable=False),  # email sms phone post export
    Column("purpose", String(32), nullable=False),  # a consent purpose, or service
    Column("campaign_id", Integer),  # the campaign that made it, if one did
    Column("source", String(128), nullable=False),  # campaign:12, staff:sam, ...
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_contacts_customer_id_at", "customer_id", "at"),
)

# A personal campaign: who it is for (a segment or a rule), why (the consent purpose), how
# (channel), what (template, offer), how many are held out, and how long its outcome is counted.
campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("purpose", String(32), nullable=False),  # a consent purpose, or service
    Column("channel", String(16), nullable=False),  # email | export
    Column("audience", Text, nullable=False),  # JSON: {"segment": id} or {"rule": tree}
    Column("subject", Text, nullable=False),  # template of the subject line
    Column("body", Text, nullable=False),  # template of the text part
    Column("html", Text),  # template of the HTML part (autoescaped), if any
    Column("offer", Text),  # JSON: {"description", "expires_days"} or null
    Column("control_share", Float, nullable=False),
    Column("window_days", Integer, nullable=False),
    Column("role", String(32), nullable=False),  # whose view of the customer templates see
    Column("status", String(16), nullable=False),  # draft | assigned | sent
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(160), nullable=False),
    Column("assigned_at", UTCDateTime()),
    Column("sent_at", UTCDateTime()),  # the first send: the outcome window starts here
    # The send under way holds a lease (its token, renewed each batch): a second send of the
    # same campaign, from any process, is refused until the lease ends or runs out.
    Column("sending_token", String(32)),
    Column("sending_until", UTCDateTime()),
)

# Each customer the campaign considered and what became of them: the group (treatment or
# control, drawn by a keyed hash on the eligible audience) and the state with its reason.
campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), primary_key=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), primary_key=True),
    Column("arm", String(16), nullable=False),  # treatment | control | none (not eligible)
    # eligible held_out capped excluded rendered sent failed
    Column("state", String(16), nullable=False),
    Column("reason", String(300)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_campaign_recipients_campaign_id_state", "campaign_id", "state"),
    Index("ix_campaign_recipients_customer_id", "customer_id"),
)

# Personal single-use coupons: a code bound to one customer and campaign, with an expiry.
coupons = Table(
    "coupons",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("redeemed_at", UTCDateTime()),
    Column("redeemed_message_id", String(128)),
    UniqueConstraint("campaign_id", "customer_id"),
)

# Redemptions refused (used already, another customer's, expired, unknown): kept, never raised.
coupon_refusals = Table(
    "coupon_refusals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, index=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False),
    Column("reason", String(32), nullable=False),  # used | not_theirs | expired | unknown
    Column("message_id", String(128)),
    Column("at", UTCDateTime(), nullable=False),
)

# -- the contact centre (migration 0012) ------------------------------------------------------

# A case is filed with the profile row its sender was placed on; it is read through the
# customer that row belongs to now, so a merge or unmerge carries the case along without
# rewriting it. Its messages, changes and remedies name the same row (erasure deletes them all).
cases = Table(
    "cases",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("channel", String(16), nullable=False),  # phone email chat store web
    Column("status", String(16), nullable=False),  # open waiting resolved closed
    Column("owner_id", Integer, ForeignKey("staff_users.id"), index=True),
    Column("category", String(64), nullable=False),
    Column("priority", String(16), nullable=False),  # low normal high urgent
    Column("branch", String(64)),
    Column("subject", String(300), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("reopened", Integer, nullable=False, default=0),
    # Where the case came from (a mail thread's first Message-ID, an intake case id): the same
    # reference never opens a second case.
    Column("external_ref", String(512), unique=True),
    Column("created_by", String(160), nullable=False),
    Index("ix_cases_status_opened_at", "status", "opened_at"),
)

# The orders, shipments and invoices a case concerns.
case_links = Table(
    "case_links",
    metadata,
    Column("case_id", BigId, ForeignKey("cases.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # order shipment invoice
    Column("ref", String(128), primary_key=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Index("ix_case_links_kind_ref", "kind", "ref"),
)

# What was said on a case, after the privacy firewall: nothing sensitive is ever stored.
case_messages = Table(
    "case_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=False),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("direction", String(8), nullable=False),  # in (from the customer) | out (to them)
    Column("author_kind", String(16), nullable=False),  # customer | agent
    Column("author_id", Integer, ForeignKey("staff_users.id")),
    Column("internal", Boolean(), nullable=False),  # a note staff wrote for staff
    Column("channel", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
    # E-mail's Message-ID (or an intake messageId): a message is stored once.
    Column("message_id", String(512), unique=True),
    Column("in_reply_to", String(512)),
    Column("attachments", Text),  # JSON list of {filename, content_type, size}: never the content
    Index("ix_case_messages_case_id_sent_at", "case_id", "sent_at"),
)

# Every change of a case's status, owner, category or customer: who, when, from what to what.
case_changes = Table(
    "case_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=False, index=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(160), nullable=False),
    Column("actor_id", Integer, ForeignKey("staff_users.id")),
    Column("field", String(16), nullable=False),  # status owner category customer
    Column("old", String(64)),
    Column("new", String(64)),
)

# Credits, refunds, replacements and coupons staff give on a case; above the giver's limit a
# remedy waits for someone else with a higher limit.
remedies = Table(
    "remedies",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=False, index=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # credit refund replacement coupon
    Column("amount", Float(), nullable=False),
    Column("order_ref", String(128)),
    Column("status", String(16), nullable=False),  # granted pending refused
    Column("note", String(500)),
    Column("requested_by", String(160), nullable=False),
    Column("requested_by_id", Integer, ForeignKey("staff_users.id")),
    Column("requested_role", String(32), nullable=False),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("decided_by", String(160)),
    Column("decided_by_id", Integer, ForeignKey("staff_users.id")),
    Column("decided_at", UTCDateTime()),
    Index("ix_remedies_status", "status"),
)

# -- follow-up surveys of resolved cases (migration 0013) ---------------------------------------

# One survey per case the system sends after resolution (``handed_out_by`` null), and one per
# link a member of staff handed out (``handed_out_by`` names them: its answer is solicited). The
# link's token is signed with an installation secret, never stored. The answer is kept here
# (did the case get resolved, a 1-5 score) and as a "Survey Answered" event on the timeline.
service_surveys = Table(
    "service_surveys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=False, index=True),
    Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("handed_out_by", String(160)),
    Column("exported_at", UTCDateTime()),  # handed to the shop's mailer (pending until then)
    Column("answered_at", UTCDateTime()),
    Column("resolved", Boolean()),
    Column("score", Integer),
    Index("ix_service_surveys_exported_at", "exported_at"),
)

# The outcome metrics read the cases opened in a period (and their changes, messages and links
# joined on the same period).
Index("ix_cases_opened_at", cases.c.opened_at)
