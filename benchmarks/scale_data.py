"""A PostgreSQL customer store of any size (10M profiles and more), generated inside PostgreSQL.

Writing ten million customers through ``Intake.ingest`` would take days on a small machine, and
even building the rows in Python (as :mod:`benchmarks.profile_data` does for SQLite) takes
hours; here every row is made by ``INSERT ... SELECT`` over ``generate_series`` in the database
itself, with the secondary indexes and constraints dropped during the load and rebuilt after it.

Profile ``i`` (1-based) signed in once on the web: one identify with a userId, an anonymousId,
an e-mail, first and last name (drawn from the demo's 1,156 first names and 713 surnames) and a
postal address shared with the household (two or three people in a row; addresses grow with
the store, see ``household``, and a postcode holds 15 of them); no phone, as which numbers the phone
normaliser takes cannot be said in SQL. That leaves exactly what intake leaves for such a
message: a customer, three identifiers, four trait observations, two name words and the identify
event. One profile in ten is a second profile of the person before it (same name and address,
another e-mail and anonymousId, no userId): intake cannot join them, ``identity resolve``
should.
The first ``targets`` profiles also placed ``per_target`` orders each (track events), so that
reads of a customer with a history can be timed.

The rows must be what intake would have written: :func:`check_rows_match_intake` sends the same
messages for a few people through ``Intake.ingest`` into a fresh schema, generates the same
people here into another, and compares every column of every table intake touched (ids of
rows aside). It runs before every build.
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from benchmarks.common import console, dbapi_connect, fresh_database

SOURCE = "bench"
T = TypeVar("T")
DOMAINS = ("outlook.com", "example.co.uk", "yahoo.com", "icloud.com")
AREAS = (
    ("Leeds", "LS"), ("York", "YO"), ("Bristol", "BS"), ("Bath", "BA"), ("Manchester", "M"),
    ("Birmingham", "B"), ("Liverpool", "L"), ("Newcastle", "NE"), ("Sheffield", "S"),
    ("Cardiff", "CF"),
)  # fmt: skip
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# A town's streets: a prefix, a word and a suffix, 3,600 of them, of 150 houses each, so that
# addresses grow with the store (540,000 households a town before one repeats) and an address is
# one household's, as in a shop's real customers.
STREET_WORDS = (
    "Acorn", "Beech", "Birch", "Bridge", "Brook", "Castle", "Cedar", "Chapel", "Cherry",
    "Church", "Clover", "Elm", "Fern", "Forge", "Glebe", "Hazel", "Heath", "Holly", "Ivy",
    "Kings", "Larch", "Lime", "Maple", "Meadow", "Mill", "Oak", "Orchard", "Park", "Poplar",
    "Priory", "Queens", "Rowan", "School", "Spring", "Station", "Victoria", "Willow",
    "Windmill", "Yarrow", "Yew",
)  # fmt: skip
STREET_SUFFIXES = (
    "Street", "Road", "Lane", "Avenue", "Close", "Drive", "Grove", "Way", "Crescent",
    "Gardens", "Terrace", "Place", "Walk", "Row", "Court",
)  # fmt: skip
STREET_PREFIXES = ("", "North ", "South ", "Upper ", "Lower ", "Old ")
HOUSES_A_STREET = 150
HOUSES_A_POSTCODE = 15  # a UK postcode unit holds about 15 addresses
START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
STEP_S = 3  # person i signed in at START + 3 i seconds
RECEIVED_AFTER = timedelta(seconds=2)
TABLES = ("customers", "identifiers", "traits", "name_words", "events")
CHUNK = 500_000  # people a transaction
LOADERS = 2  # connections filling at once (the machine's cores)
TWIN_EVERY = 10  # profile i with i % 10 == 5 is a second profile of person i - 1


@cache
def names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """First names and surnames (the demo's 1,156 and 713 single-word ones), so that blocks of
    people sharing a name stay as small as a real shop's."""
    from cornerstore.demo.messy import MessyCustomers

    demo = MessyCustomers(people=1, seed=0)
    word = re.compile("[A-Z][a-z]+")
    return (
        tuple(n for n in demo.first_names if word.fullmatch(n)),
        tuple(n for n in demo.surnames if word.fullmatch(n)),
    )


# -- person i in Python (for the check and for the benchmark's traffic) ------------------------
def customer_id(i: int) -> str:
    """Profile ``i``'s customer id: random-looking, as intake's are (md5, as the SQL makes it)."""
    return "cus_" + hashlib.md5(f"c{i}".encode()).hexdigest()[:16]


def household(b: int) -> tuple[int, int, int]:
    """Person ``b``'s household: its town, its street in the town and its house (0-based).

    Two or three people in a row share a household (``2 b // 5``): an address is theirs alone
    until a town's 540,000 households are used up (12 million profiles)."""
    h = 2 * b // 5
    j = h // len(AREAS)
    return h % len(AREAS), j // HOUSES_A_STREET, j % HOUSES_A_STREET


def person(i: int) -> dict[str, str]:
    """Profile ``i``'s identifiers and traits. One profile in ten is a second one of the person
    before it (same name and address, another e-mail and ids), for identity resolution to find."""
    b = i - 1 if i % TWIN_EVERY == 5 else i
    firsts, lasts = names()
    # A household is a family: one surname (drawn as a person's was before households).
    h = 2 * b // 5
    first, last = firsts[(b * 7919) % len(firsts)], lasts[(h * 104729 // 13) % len(lasts)]
    town, s, house = household(b)
    city, area = AREAS[town]
    words, suffixes = len(STREET_WORDS), len(STREET_SUFFIXES)
    street = (
        f"{STREET_PREFIXES[(s // (words * suffixes)) % len(STREET_PREFIXES)]}"
        f"{STREET_WORDS[s % words]} {STREET_SUFFIXES[(s // words) % suffixes]}"
    )
    u = s * (HOUSES_A_STREET // HOUSES_A_POSTCODE) + house // HOUSES_A_POSTCODE
    postcode = (
        f"{area}{1 + u % 30} {(u // 30) % 10}{LETTERS[(u // 300) % 20]}{LETTERS[(u // 6000) % 20]}"
    )
    return {
        # A second profile comes from a till or a sign-up form: no login, so no userId (two
        # userIds are two accounts, which resolution never joins).
        "user_id": "" if i % TWIN_EVERY == 5 else f"s{i:08d}",
        "anonymous_id": f"anon-s-{i:08d}",
        "email": f"{first.lower()}.{last.lower()}.{b}@{DOMAINS[i % len(DOMAINS)]}",
        "first_name": first,
        "last_name": last,
        "street": f"{1 + house} {street}",
        "city": city,
        "postal_code": postcode,
    }


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _context(i: int, path: str) -> dict[str, Any]:
    return {
        "library": {"name": "analytics.js", "version": "next-1.70.0"},
        "ip": f"81.{i % 256}.{(i // 256) % 256}.{1 + i % 254}",
        "locale": "en-GB",
        "page": {"path": path, "url": f"https://cornershop.example{path}"},
    }


def signed_in_at(i: int) -> datetime:
    return START + timedelta(seconds=STEP_S * i)


def identify(i: int) -> dict[str, Any]:
    """Person ``i``'s identify, as the shop's site sent it."""
    p = person(i)
    return {
        "type": "identify",
        "messageId": f"sc-id-{i:08d}",
        "timestamp": _stamp(signed_in_at(i)),
        **({"userId": p["user_id"]} if p["user_id"] else {}),
        "anonymousId": p["anonymous_id"],
        "traits": {
            "email": p["email"],
            "firstName": p["first_name"],
            "lastName": p["last_name"],
            "address": {
                "street": p["street"],
                "city": p["city"],
                "postalCode": p["postal_code"],
                "country": "GB",
            },
        },
        "context": _context(i, "/account"),
    }


def order(i: int, k: int) -> dict[str, Any]:
    """Person ``i``'s ``k``-th order (a day apart, after signing in)."""
    p = person(i)
    total = round(2.49 + (k % 40) * 1.25, 2)  # never a whole number: JSON writes it alike
    return {
        "type": "track",
        "event": "Order Completed",
        "messageId": f"sc-or-{i:08d}-{k:04d}",
        "timestamp": _stamp(signed_in_at(i) + timedelta(days=1 + k)),
        **({"userId": p["user_id"]} if p["user_id"] else {}),
        "anonymousId": p["anonymous_id"],
        "properties": {
            "order_id": f"o-{i}-{k}",
            "total": total,
            "currency": "GBP",
            "products": [{"sku": f"sku-{k % 48:04d}", "price": total, "quantity": 1}],
        },
        "context": _context(i, "/checkout"),
    }


# -- the same people in SQL --------------------------------------------------------------------
def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def _person_sql(series: str) -> str:
    """A SELECT of profile i's fields for every i of ``series`` (bigints), as :func:`person`."""
    firsts, lasts = names()
    words, suffixes, prefixes = len(STREET_WORDS), len(STREET_SUFFIXES), len(STREET_PREFIXES)
    return f"""
        SELECT i,
            'cus_' || substr(md5('c' || i), 1, 16) AS cid,
            'sc-id-' || lpad(i::text, 8, '0') AS mid,
            CASE WHEN i % {TWIN_EVERY} <> 5 THEN 's' || lpad(i::text, 8, '0') END AS user_id,
            'anon-s-' || lpad(i::text, 8, '0') AS anonymous_id,
            f.first, f.last,
            lower(f.first) || '.' || lower(f.last) || '.' || b || '@'
                || ({_array(DOMAINS)})[1 + i % {len(DOMAINS)}] AS email,
            (1 + house) || ' '
                || ({_array(STREET_PREFIXES)})[1 + (s / {words * suffixes}) % {prefixes}]
                || ({_array(STREET_WORDS)})[1 + s % {words}] || ' '
                || ({_array(STREET_SUFFIXES)})[1 + (s / {words}) % {suffixes}] AS street,
            ({_array(tuple(c for c, _ in AREAS))})[1 + town] AS city,
            ({_array(tuple(a for _, a in AREAS))})[1 + town]
                || (1 + u % 30) || ' ' || (u / 30) % 10
                || substr('{LETTERS}', 1 + ((u / 300) % 20)::int, 1)
                || substr('{LETTERS}', 1 + ((u / 6000) % 20)::int, 1) AS postcode,
            timestamptz '{START.isoformat()}' + i * interval '{STEP_S} seconds' AS at,
            '{{"library":{{"name":"analytics.js","version":"next-1.70.0"}},"ip":"81.'
                || i % 256 || '.' || (i / 256) % 256 || '.' || (1 + i % 254)
                || '","locale":"en-GB","page":{{"path":"PATH","url":"https://cornershop.example'
                || 'PATH"}}}}' AS context
        FROM {series} AS i,
        LATERAL (SELECT CASE WHEN i % {TWIN_EVERY} = 5 THEN i - 1 ELSE i END AS b) AS base,
        LATERAL (SELECT 2 * b / 5 AS h) AS hh,
        LATERAL (SELECT ({_array(firsts)})[1 + (b * 7919) % {len(firsts)}] AS first,
                        ({_array(lasts)})[1 + (h * 104729 / 13) % {len(lasts)}] AS last) AS f,
        LATERAL (SELECT h % {len(AREAS)} AS town, h / {len(AREAS)} / {HOUSES_A_STREET} AS s,
                        h / {len(AREAS)} % {HOUSES_A_STREET} AS house) AS home,
        LATERAL (SELECT s * {HOUSES_A_STREET // HOUSES_A_POSTCODE}
                        + house / {HOUSES_A_POSTCODE} AS u) AS unit
    """


def _stamp_sql(expr: str) -> str:
    return f"""to_char(({expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


def insert_statements(
    series: str, targets: int, per_target: int, people_table: str | None = None
) -> list[tuple[str, str]]:
    """(table, INSERT ... SELECT) for the people of ``series``, in foreign-key order; from
    ``people_table`` instead when given (made once by ``_person_sql(series)``)."""
    people = f"{people_table} AS p" if people_table else f"({_person_sql(series)}) AS p"
    received = f"p.at + interval '{int(RECEIVED_AFTER.total_seconds())} seconds'"
    address = (
        """'{"street":"' || p.street || '","city":"' || p.city || '","%s":"' || p.postcode """
        """|| '","country":"GB"}'"""
    )
    traits_json = (
        """'{"email":"' || p.email || '","firstName":"' || p.first || '","lastName":"' """
        """|| p.last || '","address":' || """ + (address % "postalCode") + " || '}'"
    )
    ident = f"p.cid, %s, '{SOURCE}', 'web', p.at, p.mid"
    trait = f"p.cid, %s, %s, 'web', '{SOURCE}', p.at, p.mid"
    return [
        (
            "customers",
            "INSERT INTO customers (id, kind, root_id, created_at, message_id) "
            f"SELECT p.cid, 'person', p.cid, p.at, p.mid FROM {people} ORDER BY p.cid",
        ),
        (
            "identifiers",
            "INSERT INTO identifiers (customer_id, kind, value, source, touchpoint, "
            "first_seen_at, message_id) "
            f"SELECT {ident % 'k.kind, k.value'} FROM {people}, LATERAL (VALUES "
            "(1, 'user_id', p.user_id), (2, 'email', p.email), "
            "(3, 'anonymous_id', p.anonymous_id)) AS k(n, kind, value) "
            "WHERE k.value IS NOT NULL ORDER BY p.i, k.n",
        ),
        (
            "traits",
            "INSERT INTO traits (customer_id, name, value, touchpoint, source, observed_at, "
            f"message_id) SELECT {trait % ('t.name', 't.value')} FROM {people}, LATERAL (VALUES "
            """(1, 'email', '"' || p.email || '"'), (2, 'first_name', '"' || p.first || '"'), """
            """(3, 'last_name', '"' || p.last || '"'), """
            f"(4, 'address', {address % 'postal_code'})) AS t(n, name, value) ORDER BY p.i, t.n",
        ),
        (
            "name_words",
            "INSERT INTO name_words (word, customer_id, name_key) "
            "SELECT w.word, p.cid, CASE WHEN lower(p.first) = lower(p.last) THEN lower(p.first) "
            "ELSE least(lower(p.first) COLLATE \"C\", lower(p.last)) || ' ' || "
            'greatest(lower(p.first) COLLATE "C", lower(p.last)) END FROM '
            f"{people}, LATERAL (SELECT lower(p.first) UNION SELECT lower(p.last)) AS w(word)",
        ),
        (
            "events",
            "INSERT INTO events (message_id, customer_id, type, touchpoint, source, user_id, "
            "anonymous_id, occurred_at, original_timestamp, received_at, properties, context) "
            f"SELECT p.mid, p.cid, 'identify', 'web', '{SOURCE}', p.user_id, p.anonymous_id, "
            f"p.at, {_stamp_sql('p.at')}, {received}, {traits_json}, "
            f"replace(p.context, 'PATH', '/account') FROM {people} ORDER BY p.i",
        ),
        (
            "events",
            "INSERT INTO events (message_id, customer_id, type, name, touchpoint, source, "
            "user_id, anonymous_id, occurred_at, original_timestamp, received_at, properties, "
            "context) "
            "SELECT 'sc-or-' || lpad(p.i::text, 8, '0') || '-' || lpad(k::text, 4, '0'), p.cid, "
            f"'track', 'Order Completed', 'web', '{SOURCE}', p.user_id, p.anonymous_id, "
            f"p.at + (1 + k) * interval '1 day', {_stamp_sql('p.at + (1 + k) * interval ' + chr(39) + '1 day' + chr(39))}, "  # noqa: E501
            f"{received.replace('p.at', 'p.at + (1 + k) * interval ' + chr(39) + '1 day' + chr(39))}, "  # noqa: E501
            """'{"order_id":"o-' || p.i || '-' || k || '","total":' || (2.49 + (k % 40) * 1.25) """
            """|| ',"currency":"GBP","products":[{"sku":"sku-' || lpad((k % 48)::text, 4, '0') """
            """|| '","price":' || (2.49 + (k % 40) * 1.25) || ',"quantity":1}]}', """
            "replace(p.context, 'PATH', '/checkout') "
            f"FROM {people}, generate_series(0, {per_target - 1}) AS k "
            f"WHERE p.i <= {targets} ORDER BY p.i, k",
        ),
    ]


# -- the check ---------------------------------------------------------------------------------
_CHECK_PEOPLE = (1, 2, 4, 5, 37, 123_456, 9_876_543)


def _check_people() -> list[int]:
    """A few profiles, a pair of twins among them, and the first whose two names are one word."""
    same = next(i for i in range(1, 10**7) if person(i)["first_name"] == person(i)["last_name"])
    return [*_CHECK_PEOPLE, same]


def _columns(conn: Any, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND table_schema = current_schema() ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    # A row's own id is a sequence number (customers' is the customer id, compared mapped).
    return [r[0] for r in rows if r[0] != "id" or table == "customers"]


def _contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row (as text, ids of rows aside) of every table holding rows at ``url``."""
    conn = dbapi_connect(url)
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_name <> 'alembic_version'"
        ).fetchall()
    ]
    out = {}
    for table in tables:
        cols = _columns(conn, table)
        select = ", ".join(f'"{c}"::text' for c in cols)
        rows = conn.execute(f'SELECT {select} FROM "{table}"').fetchall()
        if rows:
            out[table] = sorted(rows, key=repr)
    conn.close()
    return out


def check_rows_match_intake(base_url: str, per_target: int = 3) -> None:
    """Intake's rows and the generator's for the same few people must be equal, column by
    column, in every table (customer ids mapped: intake draws them at random)."""
    from cornerstore.intake.service import Source
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    with fresh_database(base_url, "scale_intake") as url:
        store = open_store(url)
        intake = Services.build(Settings(_env_file=None, database_url=url), store).intake
        for i in _check_people():
            msgs = [identify(i)] + [order(i, k) for k in range(per_target if i <= 5 else 0)]
            for msg in msgs:
                at = datetime.fromisoformat(msg["timestamp"].replace("Z", "+00:00"))
                intake.ingest([msg], source=Source(SOURCE, "web"), received_at=at + RECEIVED_AFTER)
        store.dispose()
        by_intake = _contents(url)
    with fresh_database(base_url, "scale_generated") as url:
        series = f"unnest(ARRAY{list(_check_people())}::bigint[])"
        conn = dbapi_connect(url)
        for _, sql in insert_statements(series, 5, per_target):
            conn.execute(sql)
        conn.commit()
        conn.close()
        generated = _contents(url)
    ids = {
        row[0]: customer_id(int(row[4].removeprefix("sc-id-")))
        for row in by_intake.get("customers", [])
    }
    mapped = {
        table: sorted((tuple(ids.get(v, v) for v in row) for row in rows), key=repr)
        for table, rows in by_intake.items()
    }
    if mapped != generated:
        for table in sorted(set(mapped) | set(generated)):
            if mapped.get(table) != generated.get(table):
                raise RuntimeError(
                    f"benchmarks/scale_data.py no longer makes {table} rows the way intake "
                    f"stores them:\n  intake:    {mapped.get(table)}\n  generated: "
                    f"{generated.get(table)}\nUpdate the generator."
                )


# -- the build ---------------------------------------------------------------------------------
def _schema_objects(conn: Any) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The constraints (table, name, definition) and plain indexes (name, definition) of the
    tables the generator fills, foreign keys last among the constraints. Primary keys stay
    (other tables' foreign keys hang on them; rows arrive in their order, so they are cheap)."""
    constraints = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = current_schema() AND c.contype IN ('u', 'f') "
        "AND c.conrelid::regclass::text = ANY(%s)",
        (list(TABLES),),
    ).fetchall()
    ordered = sorted(constraints, key=lambda c: c[3] == "f")
    named = {
        r[0]
        for r in conn.execute(
            "SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = current_schema()"
        ).fetchall()
    }
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = ANY(%s)",
        (list(TABLES),),
    ).fetchall()
    return [c[:3] for c in ordered], [i for i in indexes if i[0] not in named]


def build(url: str, profiles: int, targets: int, per_target: int) -> dict[str, Any]:
    """Fill the migrated, empty store at ``url`` with ``profiles`` people; the seconds each
    step took."""
    conn = dbapi_connect(url)
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '512MB'")
    constraints, indexes = _schema_objects(conn)
    for table, name, _ in reversed(constraints):  # foreign keys first
        conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.commit()
    took: dict[str, float] = {}
    lock = threading.Lock()

    def fill(own: Any, chunk: tuple[int, int]) -> None:
        lo, hi = chunk
        own.execute("SET synchronous_commit = off")
        series = f"generate_series({lo}::bigint, {hi})"
        own.execute(f"CREATE TEMP TABLE chunk_people AS {_person_sql(series)}")
        for table, sql in insert_statements(series, targets, per_target, "chunk_people"):
            started = time.perf_counter()
            own.execute(sql)
            with lock:
                took[table] = took.get(table, 0.0) + time.perf_counter() - started
        own.execute("DROP TABLE chunk_people")
        own.commit()
        console.print(f"  people {lo:,}-{hi:,} of {profiles:,}")

    chunks = [(lo, min(profiles, lo + CHUNK - 1)) for lo in range(1, profiles + 1, CHUNK)]
    _on_connections(url, chunks, fill)
    conn.close()
    return {"seconds": {k: round(v, 1) for k, v in took.items()}} | finish(
        url, constraints, indexes, took
    )


def finish(
    url: str,
    constraints: list[tuple[str, str, str]],
    indexes: list[tuple[str, str]],
    took: dict[str, float] | None = None,
    *,
    validate: bool = True,
    vacuum: bool = True,
) -> dict[str, Any]:
    """Build ``indexes`` and the unique constraints on ``LOADERS`` connections at once, then
    the foreign keys, then ``VACUUM ANALYZE``; the database's size and each step's seconds.

    ``validate=False`` adds the foreign keys ``NOT VALID`` (rows written from then on are
    checked, the loaded ones are not scanned) and ``vacuum=False`` runs ``ANALYZE`` alone: for a
    store too large to finish otherwise in the time at hand.
    """
    took = {} if took is None else took
    uniques, foreign = [], []
    for table, name, definition in constraints:
        add = f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
        if not definition.startswith("FOREIGN KEY"):
            uniques.append((name, add))
        else:
            foreign.append((name, add if validate else f"{add} NOT VALID"))
    lock = threading.Lock()

    def build_one(conn: Any, item: tuple[str, str]) -> None:
        name, create = item
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(create)
        conn.commit()
        with lock:
            took[f"index {name}"] = time.perf_counter() - started
        console.print(f"  built {name}")

    _on_connections(url, uniques + indexes, build_one)
    conn = dbapi_connect(url)
    for item in foreign:
        build_one(conn, item)
    conn.autocommit = True
    started = time.perf_counter()
    conn.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    took["vacuum analyze" if vacuum else "analyze"] = time.perf_counter() - started
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    conn.close()
    return {"seconds": {k: round(v, 1) for k, v in took.items()}, "bytes": size}


def _on_connections(url: str, items: list[T], do: Callable[[Any, T], None]) -> None:
    """``do(connection, item)`` for every item, on ``LOADERS`` connections at once; the first
    failure stops the others and is raised."""
    todo = queue.SimpleQueue[T]()
    for item in items:
        todo.put(item)
    failed: list[BaseException] = []

    def work() -> None:
        own = dbapi_connect(url)
        while not failed:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                break
            try:
                do(own, item)
            except Exception as exc:  # raised by the caller's thread below
                failed.append(exc)
        own.close()

    workers = [threading.Thread(target=work) for _ in range(LOADERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failed:
        raise failed[0]


def missing_objects(
    base_url: str, url: str
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The constraints and indexes a freshly migrated store has and the store at ``url`` lacks
    (after a build stopped before its indexes were made)."""
    with fresh_database(base_url, "scale_schema") as fresh:
        conn = dbapi_connect(fresh)
        constraints, indexes = _schema_objects(conn)
        conn.close()
    conn = dbapi_connect(url)
    have_c, have_i = _schema_objects(conn)
    conn.close()
    names = {c[1] for c in have_c} | {i[0] for i in have_i}
    # The fresh schema's index definitions name it; the store's tables are on its search path.
    unqualified = [(n, re.sub(r" ON [^ .]+\.", " ON ", d, count=1)) for n, d in indexes]
    return [c for c in constraints if c[1] not in names], [
        i for i in unqualified if i[0] not in names
    ]


def rows_of(people: int, targets: int, per_target: int) -> dict[str, int]:
    """How many rows the generator writes to each table."""
    return {
        "customers": people,
        "identifiers": 3 * people - (people + TWIN_EVERY - 5) // TWIN_EVERY,
        "traits": 4 * people,
        "name_words": 2 * people,
        "events": people + min(targets, people) * per_target,
    }
