"""Export gives everything held about a person; erasure removes it everywhere and keeps it out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.types import TypeDecorator

from cornerstore.access.caller import Caller
from cornerstore.errors import NotFound
from cornerstore.intake.service import Source
from cornerstore.privacy.rights import EXPORT_FORMAT, export_html
from cornerstore.services import Services
from cornerstore.settings import PrivacyPolicy
from cornerstore.storage.privacy_repositories import TableErasure, erasure_plan, erasure_rule
from cornerstore.storage.tables import LISTED, metadata, on_erasure
from tests.factories import alias, group, identify, track
from tests.privacy.test_intake_firewall import everything_stored

WEB = Source("web-shop", "web")
TILL = Source("till-2", "store")
ANN = ["ann.lee@example.com", "+447700900123", "Ann", "Lee", "web-ann", "anon-ann", "7 Mill Lane"]


def ann_across_departments(services: Services) -> None:
    """Ann on the web, at the till (a separate profile at first), then joined by an alias."""
    consent = {"consentManagement": {"allowedConsentIds": ["marketing_email"]}}
    services.intake.ingest(
        [
            identify("web-ann", email="ann.lee@example.com", firstName="Ann", lastName="Lee"),
            track("Order Completed", user_id="web-ann", total=30, context=consent),
            track("Product Viewed", anonymous_id="anon-ann", sku="MUG-1"),
            group("web-ann", "acme-ltd", name="Acme Ltd"),
        ],
        source=WEB,
    )
    services.intake.ingest(
        [identify(anonymous_id="till-ann", phone="07700900123", address={"street": "7 Mill Lane"})],
        source=TILL,
    )
    services.intake.ingest([alias("anon-ann", "web-ann"), alias("till-ann", "web-ann")], source=WEB)


def bob(services: Services) -> None:
    services.intake.ingest(
        [
            identify("web-bob", email="bob@example.com", firstName="Bob"),
            track("Hi", user_id="web-bob"),
        ],
        source=WEB,
    )


def test_export_holds_every_department_and_merged_profile(
    services: Services, owner: Caller
) -> None:
    ann_across_departments(services)

    data = services.rights.export(owner, "ann.lee@example.com")

    assert data["format"] == EXPORT_FORMAT
    assert len(data["customer"]["merged_profiles"]) == 2
    assert {(i["kind"], i["value"]) for i in data["identifiers"]} >= {
        ("email", "ann.lee@example.com"),
        ("phone", "+447700900123"),
        ("user_id", "web-ann"),
        ("anonymous_id", "till-ann"),
    }
    assert data["current_traits"]["first_name"] == "Ann"
    assert data["current_traits"]["address"] == {"street": "7 Mill Lane"}
    assert {t["touchpoint"] for t in data["traits"]} == {"web", "store"}
    names = [e["name"] for e in data["events"]]
    assert "Order Completed" in names and "Product Viewed" in names
    assert len(data["accounts"]) == 1
    assert len(data["merges"]) == 2
    email = next(c for c in data["consents"]["current"] if c["purpose"] == "marketing_email")
    assert (email["granted"], email["asked"]) == (True, True)
    assert services.audit.for_customer(data["customer"]["id"])[-1].action == "export"


def test_the_html_export_is_readable_and_escapes_what_customers_typed(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [identify("u-1", firstName="<script>alert(1)</script>", email="x@example.com")], source=WEB
    )

    page = export_html(services.rights.export(owner, "u-1"))

    assert page.startswith("<!doctype html>")
    assert "What Corner Store holds about you" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x@example.com" in page


def test_the_html_export_speaks_to_the_customer_not_in_python_or_json(
    services: Services, owner: Caller
) -> None:
    consent = {"consentManagement": {"allowedConsentIds": ["marketing_email"]}}
    services.intake.ingest(
        [
            identify("u-1", firstName="Ann", address={"street": "7 Mill Lane", "city": "York"}),
            track(
                "Order Completed",
                user_id="u-1",
                timestamp="2026-03-05T14:07:09.123456Z",
                total=30.5,
                gift=True,
                products=[{"sku": "MUG-1", "price": 12.25}, {"sku": "TEA-2", "price": 18.25}],
                context=consent,
            ),
        ],
        source=WEB,
    )

    page = export_html(
        services.rights.export(owner, "u-1", now=datetime(2026, 3, 6, 9, 30, tzinfo=UTC))
    )

    body = page.split("</style>", 1)[1]
    assert re.findall(r"\b(?:True|False|None)\b", body) == []
    assert "{" not in body and "}" not in body
    assert re.findall(r"\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T", body) == []
    assert "Exported 6 March 2026, 09:30 UTC." in body
    assert "<td>5 March 2026, 14:07 UTC</td>" in body
    assert "<tr><th>Gift</th><td>Yes</td></tr>" in body
    assert "<tr><th>Street</th><td>7 Mill Lane</td></tr><tr><th>City</th><td>York</td></tr>" in body
    assert (
        '<ul><li><table class="nested"><tr><th>Sku</th><td>MUG-1</td></tr>'
        "<tr><th>Price</th><td>12.25</td></tr></table></li>"
    ) in body
    assert "<td>Marketing email</td><td>Yes</td><td>Yes</td>" in body


def test_erasure_removes_the_person_from_every_table_and_leaves_others(
    services: Services, owner: Caller
) -> None:
    ann_across_departments(services)
    bob(services)

    report = services.rights.erase(owner, "+447700900123")

    assert (report.profiles, report.merges) == (3, 2)
    assert report.events >= 6 and report.identifiers >= 5
    stored = everything_stored(services)
    assert [value for value in ANN if value in stored] == []
    assert "bob@example.com" in stored
    assert services.profiles.get(owner, "web-bob").traits["first_name"].value == "Bob"
    with pytest.raises(NotFound):
        services.profiles.get(owner, "ann.lee@example.com")
    # The account Ann belonged to is the business's, not hers: it stays.
    assert services.profiles.search(owner, "Acme") != []


def test_export_and_erasure_include_what_a_public_key_claimed_about_the_person(
    services: Services, owner: Caller
) -> None:
    ann_across_departments(services)
    claim = identify(anonymous_id="someone", email="ann.lee@example.com", phone="07700 900999")
    services.intake.ingest([claim], source=Source("web-page", "web", client_side=True))

    exported = services.rights.export(owner, "web-ann")["unverified_traits"]
    services.rights.erase(owner, "web-ann")

    assert [(o["name"], o["value"], o["source"]) for o in exported] == [
        ("email", "ann.lee@example.com", "web-page"),
        ("phone", "07700 900999", "web-page"),
    ]
    stored = everything_stored(services)
    assert [value for value in [*ANN, "07700 900999"] if value in stored] == []


def _names_a_customer(column: Column[Any]) -> bool:
    """A column that looks like it names customers: "customer" in its name, or an id's name
    with a customer id's type (32 characters)."""
    id_name = column.name == "id" or column.name.endswith("_id")
    id_type = isinstance(column.type, String) and column.type.length == 32
    return "customer" in column.name or (id_name and id_type)


def columns_erasure_does_not_know(schema: MetaData) -> list[str]:
    """The columns that look like they name customers but have no erasure rule."""
    return sorted(
        f"{table.name}.{column.name}"
        for table in schema.sorted_tables
        for column in table.columns
        if _names_a_customer(column) and erasure_rule(column) is None
    )


def test_every_column_that_names_a_customer_says_what_erasure_does_to_it() -> None:
    assert columns_erasure_does_not_know(metadata) == []


def test_a_new_table_referring_to_customers_is_erased_and_an_unmarked_one_is_flagged() -> None:
    schema = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(schema)
    Table(
        "loyalty_cards",
        schema,
        Column("id", Integer, primary_key=True),
        Column("customer_id", String(32), ForeignKey("customers.id"), nullable=False),
    )
    Table(
        "gift_notes",
        schema,
        Column("id", Integer, primary_key=True),
        Column("recipient_id", String(32), nullable=False),
    )

    steps = {step.table.name: step for step in erasure_plan(schema)}

    assert [column.name for column in steps["loyalty_cards"].delete] == ["customer_id"]
    assert list(steps)[-1] == "customers"
    assert columns_erasure_does_not_know(schema) == ["gift_notes.recipient_id"]


def test_a_column_with_an_unknown_erasure_rule_is_refused_naming_the_column() -> None:
    schema = MetaData()
    Table("gift_notes", schema, Column("for_id", String(32), info=on_erasure("blur")))

    with pytest.raises(ValueError, match=r"^gift_notes.for_id: erasure rule must be one of "):
        erasure_plan(schema)


def _insert_naming(conn: Connection, table: Table, customer_id: str) -> dict[str, Any]:
    """Insert one row of ``table`` whose customer columns all name ``customer_id``; the other
    columns get placeholder values, and a row it refers to in another table is inserted
    first."""
    row: dict[str, Any] = {}
    for column in table.columns:
        rule = erasure_rule(column)
        if rule == LISTED:
            row[column.name] = json.dumps([customer_id])
        elif rule is not None:
            row[column.name] = customer_id
        elif column.nullable:
            continue  # optional (a case's owner, its unique reference): left empty
        elif column.foreign_keys:
            parent = next(iter(column.foreign_keys)).column
            row[column.name] = _insert_naming(conn, parent.table, customer_id)[parent.name]
        elif column is not table.autoincrement_column:
            row[column.name] = _placeholder(column)
    result = conn.execute(insert(table).values(row))
    key = table.autoincrement_column
    if key is not None and key.name not in row:  # a parent row's new id, for its children
        row[key.name] = result.inserted_primary_key[0]  # type: ignore[index]
    return row


def _placeholder(column: Column[Any]) -> Any:
    """A value of the column's type that names no one."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl
    length = getattr(kind, "length", None) or 64
    values = {str: f"erasure-{column.name}"[:length], int: 1, float: 0.5, bool: False}
    return datetime.now(UTC) if kind.python_type is datetime else values[kind.python_type]


def _rows_naming(conn: Connection, step: TableErasure, ids: list[str]) -> int:
    matches = [column.in_(ids) for column in (*step.delete, *step.detach)]
    matches += [column.like(f'%"{cid}"%') for column in step.listed for cid in ids]
    query = select(func.count()).select_from(step.table).where(or_(*matches))
    return int(conn.execute(query).scalar_one())


def test_erasing_a_customer_named_in_every_table_leaves_no_row_naming_them(
    services: Services, owner: Caller
) -> None:
    ann_across_departments(services)
    bob(services)
    customer = services.rights.export(owner, "web-ann")["customer"]
    ids = [customer["id"], *customer["merged_profiles"]]
    plan = erasure_plan()
    with services.store.engine.begin() as conn:
        for step in plan:
            if step.table.name != "customers":
                _insert_naming(conn, step.table, customer["merged_profiles"][0])
        before = {step.table.name: _rows_naming(conn, step, ids) > 0 for step in plan}

    services.rights.erase(owner, "web-ann")

    with services.store.engine.begin() as conn:
        after = {step.table.name: _rows_naming(conn, step, ids) for step in plan}
    assert before == dict.fromkeys(before, True)
    assert after == dict.fromkeys(after, 0)
    assert services.profiles.get(owner, "web-bob").traits["first_name"].value == "Bob"


def test_erasure_is_audited_with_counts_and_nothing_about_the_person(
    services: Services, owner: Caller
) -> None:
    ann_across_departments(services)

    report = services.rights.erase(owner, "web-ann")

    entry = services.audit.for_customer(report.customer_id)[-1]
    assert (entry.action, entry.actor) == ("erase", "test-owner")
    assert entry.detail == f"3 profiles, {report.identifiers} identifiers, {report.events} events"


def test_replayed_events_of_an_erased_person_do_not_bring_them_back(
    services: Services, owner: Caller
) -> None:
    ann_across_departments(services)
    services.rights.erase(owner, "web-ann")

    result = services.intake.ingest(
        [
            identify("web-ann", email="ann.lee@example.com", firstName="Ann"),
            track("Order Completed", anonymous_id="anon-ann"),
            identify(anonymous_id="new-device", phone="07700 900123"),
            identify("someone-else", email="carol@example.com"),
        ],
        source=WEB,
    )

    assert (result.suppressed, result.accepted, result.profiles_created) == (3, 1, 1)
    stored = everything_stored(services)
    assert [value for value in ANN if value in stored] == []
    assert "carol@example.com" in stored


def test_erasing_an_unknown_customer_is_not_found_and_changes_nothing(
    services: Services, owner: Caller
) -> None:
    bob(services)

    with pytest.raises(NotFound, match="customer: no such customer"):
        services.rights.erase(owner, "nobody@example.com")
    assert services.profiles.get(owner, "bob@example.com").summary.events == 2


def test_retention_shows_then_removes_events_past_their_type_s_age(
    services: Services, owner: Caller
) -> None:
    now = datetime.now(UTC)
    old = (now - timedelta(days=100)).isoformat()
    recent = (now - timedelta(days=5)).isoformat()
    services.intake.ingest(
        [
            identify("u-1", firstName="Ann"),
            track("Old View", user_id="u-1", timestamp=old),
            track("New View", user_id="u-1", timestamp=recent),
        ],
        source=WEB,
    )
    services.settings.privacy = PrivacyPolicy(retention={"track": "30d", "page": "2w"})

    plan = services.retention.plan(now)
    applied = services.retention.apply(owner, now)

    assert [(line.event_type, line.events) for line in plan] == [("page", 0), ("track", 1)]
    assert [(line.event_type, line.events) for line in applied] == [("page", 0), ("track", 1)]
    names = [e.name for e in services.profiles.timeline(owner, "u-1").events]
    assert names == [None, "New View"]  # the identify (now), then the recent view
    assert services.profiles.get(owner, "u-1").traits["first_name"].value == "Ann"
    assert services.retention.plan(now)[1].events == 0


def test_retention_settings_name_real_event_types_and_ages() -> None:
    with pytest.raises(ValueError, match="'pageview' is not an event type"):
        PrivacyPolicy(retention={"pageview": "30d"})
    with pytest.raises(ValueError, match="give an age such as 90d"):
        PrivacyPolicy(retention={"page": "soon"})
