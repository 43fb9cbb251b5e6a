"""File import: CSV, JSON lines and Parquet through the intake, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cornerstore.access.caller import Caller
from cornerstore.errors import InvalidInput
from cornerstore.intake.files import (
    ImportSummary,
    count_rows,
    import_rows,
    parse_mapping,
)
from cornerstore.intake.rows import ImportSpec, anchor_anonymous_id, parse_timestamp
from cornerstore.services import Services

# The first 120 rows of the shared support-tickets data set (see tests/data/README.md).
TICKETS = Path(__file__).parents[1] / "data" / "support_tickets_120.parquet"
NO_IDENTIFIER = "row has no identifier (user_id, anonymous_id, email, phone or external id)"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run(
    services: Services,
    path: Path,
    mapping: dict[str, str],
    *,
    batch_size: int = 1000,
    progress: list[int] | None = None,
    **options: Any,
) -> ImportSummary:
    spec = ImportSpec(path, options.pop("touchpoint", "store"), mapping, path.name, **options)
    return import_rows(
        services.intake,
        spec,
        rejects_path=path.with_name(path.name + ".rejects.jsonl"),
        batch_size=batch_size,
        progress=None if progress is None else progress.append,
    )


def identifiers(services: Services, owner: Caller, ref: str) -> list[tuple[str, str]]:
    return sorted((i.kind, i.value) for i in services.profiles.get(owner, ref).identifiers)


def traits(services: Services, owner: Caller, ref: str) -> dict[str, Any]:
    return {n: t.value for n, t in services.profiles.get(owner, ref).traits.items()}


def customers(services: Services) -> int:
    with services.store.unit_of_work() as uow:
        return uow.customers.count()


# -- options ------------------------------------------------------------------------------------
def test_a_mapping_reads_field_equals_column_and_snake_cases_the_field() -> None:
    mapping = parse_mapping(["email=E-Mail", "firstName=Vorname", "note=a=b", "address.city=Ort"])

    assert mapping == {
        "email": "E-Mail",
        "first_name": "Vorname",
        "note": "a=b",
        "address.city": "Ort",
    }


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["x"], "--map 'x': expected FIELD=COLUMN"),
        (["=E-Mail"], "--map '=E-Mail': expected FIELD=COLUMN"),
        (["email="], "--map 'email=': expected FIELD=COLUMN"),
        (["email=A", "email=B"], "--map email=B: the field 'email' is mapped twice"),
    ],
)
def test_a_malformed_mapping_is_refused_with_the_item_named(items: list[str], message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_mapping(items)

    assert raised.value.message == message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"touchpoint": "shop"},
            "--touchpoint: must be one of store, web, app, support, "
            "billing, shipping, survey, other",
        ),
        ({"message_type": "page"}, "--type: must be identify or track"),
        ({"message_type": "track"}, "--event: is required with --type track"),
        (
            {"path": "people.xlsx"},
            "people.xlsx: cannot tell the format from the extension "
            "'.xlsx'; give --format csv, tsv, jsonl or parquet",
        ),
        ({"format": "excel"}, "--format: must be one of csv, tsv, jsonl or parquet"),
        (
            {"mapping": {}},
            "--map: map at least one column (for example --map email=E-Mail) or "
            "keep every column with --all-columns",
        ),
        (
            {"mapping": {"address.town": "Ort"}},
            "--map address.town=Ort: address fields are "
            "address.street, address.city, address.postal_code, address.country, address.state",
        ),
        (
            {"mapping": {"traits.x": "X"}},
            "--map traits.x=X: only address.* and external.* fields contain a dot",
        ),
        (
            {"mapping": {"Vor-name": "X"}},
            "--map Vor-name=X: FIELD must be a snake_case name "
            "such as first_name, address.city or external.crm_id",
        ),
    ],
)
def test_an_import_that_cannot_work_is_refused_before_reading(
    changes: dict[str, Any], message: str
) -> None:
    options: dict[str, Any] = {
        "path": "people.csv",
        "touchpoint": "store",
        "mapping": {"email": "E-Mail"},
        "source": "people.csv",
    } | changes
    spec = ImportSpec(**options)

    with pytest.raises(InvalidInput) as raised:
        spec.validate()

    assert raised.value.message == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", "2024-03-01T00:00:00Z"),
        ("20240301", "2024-03-01T00:00:00Z"),
        ("2024-03-01 10:15:00", "2024-03-01T10:15:00Z"),
        ("2024-03-01T11:15:00+01:00", "2024-03-01T10:15:00Z"),
        ("2024-03-01T10:15:00.250Z", "2024-03-01T10:15:00.250000Z"),
    ],
)
def test_file_times_become_iso_8601_utc(text: str, expected: str) -> None:
    assert parse_timestamp(text) == expected


@given(st.datetimes(timezones=st.timezones(), min_value=datetime(1900, 1, 2)))
def test_a_parsed_time_is_the_same_instant(moment: datetime) -> None:
    parsed = parse_timestamp(moment.isoformat())

    assert datetime.fromisoformat(parsed) == moment.astimezone(UTC)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_counting_rows_counts_data_rows_of_each_format(tmp_path: Path, fmt: str) -> None:
    frame = pl.DataFrame({"email": ["a@example.com", "b@example.com", None]})
    path = tmp_path / f"people.{fmt}"
    {"csv": frame.write_csv, "jsonl": frame.write_ndjson, "parquet": frame.write_parquet}[fmt](path)

    assert count_rows(ImportSpec(path, "store", {"email": "email"}, "people")) == 3


# -- importing ----------------------------------------------------------------------------------
def test_a_german_excel_export_imports_with_its_own_column_names(
    services: Services, owner: Caller, tmp_path: Path
) -> None:
    path = tmp_path / "kunden.csv"
    path.write_bytes(
        "\ufeffVorname;Nachname;E-Mail;Telefon;Straße;Ort;PLZ\n"
        "Jürgen;Müller;juergen@example.de;07700 900123;Hauptstraße 1;Leeds;01067\n".encode()
    )
    mapping = parse_mapping(
        [
            "first_name=Vorname",
            "last_name=Nachname",
            "email=E-Mail",
            "phone=Telefon",
            "address.street=Straße",
            "address.city=Ort",
            "address.postal_code=PLZ",
        ]
    )

    summary = run(services, path, mapping)

    assert summary == ImportSummary(1, 1, 0, 0, {}, None)
    assert identifiers(services, owner, "juergen@example.de") == [
        ("anonymous_id", anchor_anonymous_id("kunden.csv", "email", "juergen@example.de")),
        ("email", "juergen@example.de"),
        ("phone", "+447700900123"),
    ]
    assert traits(services, owner, "juergen@example.de") == {
        "address": {"city": "Leeds", "postal_code": "01067", "street": "Hauptstraße 1"},
        "email": "juergen@example.de",
        "first_name": "Jürgen",
        "last_name": "Müller",
        "phone": "07700 900123",
    }


def test_phone_numbers_with_a_leading_zero_keep_it_in_csv(
    services: Services, owner: Caller, tmp_path: Path
) -> None:
    path = write(tmp_path, "phones.csv", "id,tel\nc1,07700900124\nc2,07700900125\n")

    summary = run(services, path, {"user_id": "id", "phone": "tel"})

    assert (summary.accepted, summary.rejected) == (2, 0)
    assert traits(services, owner, "c1") == {"phone": "07700900124"}
    assert identifiers(services, owner, "c2") == [("phone", "+447700900125"), ("user_id", "c2")]


def test_importing_the_same_file_twice_stores_nothing_twice(
    services: Services, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "people.csv",
        "email,first_name\nann@example.com,Ann\nbob@example.com,Bob\ncat@example.com,Cat\n",
    )

    first = run(services, path, {"email": "email", "first_name": "first_name"})
    again = run(services, path, {"email": "email", "first_name": "first_name"})

    assert first == ImportSummary(3, 3, 0, 0, {}, None)
    assert again == ImportSummary(3, 0, 3, 0, {}, None)
    assert customers(services) == 3


def test_a_changed_row_imports_as_a_new_observation_of_the_same_customer(
    services: Services, owner: Caller, tmp_path: Path
) -> None:
    path = write(tmp_path, "people.csv", "email,city\nann@example.com,York\nbob@example.com,Bath\n")
    run(services, path, {"email": "email", "address.city": "city"})
    write(tmp_path, "people.csv", "email,city\nann@example.com,Leeds\nbob@example.com,Bath\n")

    summary = run(services, path, {"email": "email", "address.city": "city"})

    assert summary == ImportSummary(2, 1, 1, 0, {}, None)
    assert customers(services) == 2
    assert traits(services, owner, "ann@example.com")["address"] == {"city": "Leeds"}


def test_rejected_rows_are_listed_by_file_row_number_without_their_values(
    services: Services, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "people.csv",
        "user_id,email,since\n"
        "u1,ann@example.com,2024-01-05\n"
        "u2,secret-bob@example.com,05.01.2024\n"
        "u3,,\n"
        ",,2024-01-05\n"
        "guest,,\n"
        "u6,fay@example.com,\n",
    )
    progress: list[int] = []

    summary = run(
        services,
        path,
        {"user_id": "user_id", "email": "email", "timestamp": "since"},
        batch_size=2,
        progress=progress,
    )

    rejects = path.with_name("people.csv.rejects.jsonl")
    blocked = "no usable identifier: userId and anonymousId are empty or blocked placeholder values"
    assert summary == ImportSummary(
        read=6,
        accepted=3,
        duplicates=0,
        rejected=3,
        reasons={
            blocked: 1,
            NO_IDENTIFIER: 1,
            "timestamp: not an ISO-8601 time, YYYY-MM-DD or YYYYMMDD": 1,
        },
        rejects_path=str(rejects),
    )
    assert [orjson.loads(line) for line in rejects.read_text().splitlines()] == [
        {"row": 2, "reason": "timestamp: not an ISO-8601 time, YYYY-MM-DD or YYYYMMDD"},
        {"row": 4, "reason": NO_IDENTIFIER},
        {"row": 5, "reason": blocked},
    ]
    assert "secret-bob" not in rejects.read_text()
    assert progress == [2, 4, 6]


def test_a_clean_import_empties_an_old_rejects_file(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", "email\nann@example.com\n")
    rejects = write(tmp_path, "people.csv.rejects.jsonl", '{"row": 7, "reason": "old"}\n')

    summary = run(services, path, {"email": "email"})

    assert (summary.rejected, summary.rejects_path) == (0, None)
    assert rejects.read_text() == ""


def test_a_track_import_sends_properties_and_finds_the_customer_by_context_traits(
    services: Services, owner: Caller, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "orders.csv",
        "Bestellnr,E-Mail,Telefon,Betrag,Datum,Kanal\n"
        "1001,ann@example.com,07700900126,12.50,20240301,\n",
    )
    mapping = {
        "order_id": "Bestellnr",
        "email": "E-Mail",
        "phone": "Telefon",
        "revenue": "Betrag",
        "timestamp": "Datum",
        "channel": "Kanal",
    }

    summary = run(services, path, mapping, message_type="track", event="Order Completed")

    (event,) = services.profiles.timeline(owner, "ann@example.com").events
    assert summary == ImportSummary(1, 1, 0, 0, {}, None)
    assert (event.type, event.name, event.touchpoint, event.source, event.occurred_at) == (
        "track",
        "Order Completed",
        "store",
        "orders.csv",
        datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert event.properties == {"order_id": "1001", "revenue": 12.5}
    assert event.context == {"traits": {"email": "ann@example.com", "phone": "07700900126"}}
    assert identifiers(services, owner, "ann@example.com") == [
        ("anonymous_id", anchor_anonymous_id("orders.csv", "email", "ann@example.com")),
        ("email", "ann@example.com"),
        ("phone", "+447700900126"),
    ]


def test_json_lines_keep_numbers_and_objects_and_all_columns_keeps_unmapped_ones(
    services: Services, owner: Caller, tmp_path: Path
) -> None:
    rows = [
        {"id": "u1", "Mail": "ann@example.com", "Visits": 3, "Prefs": {"tea": True}, "Note": ""},
        {"id": "u2", "Mail": None, "Visits": 1.5, "Prefs": None, "Note": "called back"},
    ]
    path = write(tmp_path, "people.jsonl", "".join(orjson.dumps(r).decode() + "\n" for r in rows))

    summary = run(services, path, {"user_id": "id", "email": "Mail"}, all_columns=True)

    assert summary == ImportSummary(2, 2, 0, 0, {}, None)
    assert traits(services, owner, "u1") == {
        "email": "ann@example.com",
        "prefs": {"tea": True},
        "visits": 3.0,
    }
    assert traits(services, owner, "u2") == {"note": "called back", "visits": 1.5}


def test_parquet_phone_numbers_stored_as_numbers_become_text_without_a_decimal(
    services: Services, owner: Caller, tmp_path: Path
) -> None:
    path = tmp_path / "phones.parquet"
    pl.DataFrame(
        {"customer": [501, 502], "tel": [7700900127.0, None], "crm": [88, 89]}
    ).write_parquet(path)

    summary = run(services, path, {"phone": "tel", "external.crm_id": "crm"})

    assert summary == ImportSummary(2, 2, 0, 0, {}, None)
    assert identifiers(services, owner, "+447700900127") == [
        ("anonymous_id", anchor_anonymous_id("phones.parquet", "phone", "+447700900127")),
        ("external:crm_id", "88"),
        ("phone", "+447700900127"),
    ]
    assert traits(services, owner, "+447700900127") == {"phone": "7700900127"}
    assert identifiers(services, owner, "89") == [
        ("anonymous_id", anchor_anonymous_id("phones.parquet", "external:crm_id", "89")),
        ("external:crm_id", "89"),
    ]


def test_the_support_tickets_data_set_imports_every_customer(
    services: Services, owner: Caller, tmp_path: Path
) -> None:
    path = tmp_path / "tickets.parquet"
    tickets = pl.read_parquet(TICKETS).head(120)
    tickets.write_parquet(path)
    first = tickets.row(0, named=True)
    mapping = {
        "email": "Customer Email",
        "name": "Customer Name",
        "age": "Customer Age",
        "timestamp": "Date of Purchase",
    }

    summary = run(services, path, mapping, touchpoint="support")

    assert summary == ImportSummary(120, 120, 0, 0, {}, None)
    assert customers(services) == tickets["Customer Email"].str.to_lowercase().n_unique()
    assert traits(services, owner, first["Customer Email"]) == {
        "age": first["Customer Age"],
        "email": first["Customer Email"],
        "name": first["Customer Name"],
    }


def test_a_column_missing_from_the_file_is_named_with_the_columns_it_has(
    services: Services, tmp_path: Path
) -> None:
    path = write(tmp_path, "people.csv", "Vorname,Mail\nAnn,ann@example.com\n")

    with pytest.raises(InvalidInput) as raised:
        run(services, path, {"email": "E-Mail"})

    assert raised.value.message == (
        "--map email=E-Mail: column 'E-Mail' is not in the file (columns: 'Vorname', 'Mail')"
    )


def test_a_file_that_is_not_parquet_is_one_line_of_invalid_input(
    services: Services, tmp_path: Path
) -> None:
    path = write(tmp_path, "people.parquet", "email\nann@example.com\n")

    with pytest.raises(InvalidInput) as raised:
        run(services, path, {"email": "email"})

    assert raised.value.message == (
        "people.parquet: cannot read it as Parquet: it is not a Parquet file"
    )
