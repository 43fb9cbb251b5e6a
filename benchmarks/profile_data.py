"""A large customer store for read benchmarks, written straight to SQLite and cached.

Going through ``Intake.ingest`` would take minutes for two million events, so rows are written with
``executemany`` instead. They must still be exactly what intake would have stored: before every
build, :func:`check_rows_match_intake` sends a few messages through ``Intake.ingest`` and compares
every column with what the builders here make of the same messages, and refuses to build when
they differ (e.g. after a change to how intake stores times, traits or payloads); the check also
runs before a cached file is reused. After updating the builders, bump :data:`VERSION`.

The database is cached under ``benchmarks/.cache/`` keyed by its sizes, the schema revision and
:data:`VERSION`, so later runs reuse it.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from benchmarks import workload
from benchmarks.common import CACHE, console, scratch_dir

VERSION = 3  # bump when the shape of the generated data changes
SOURCE = "bench"


def _schema_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from cornerstore.storage.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def dataset_path(profiles: int, events: int, targets: int, per_target: int) -> Path:
    name = f"profiles-{profiles}p-{events}e-{targets}x{per_target}-r{_schema_head()}-v{VERSION}"
    return CACHE / f"{name}.db"


# -- rows as intake stores them -----------------------------------------------------------------
def sqlite_time(at: datetime) -> str:
    """A time as SQLAlchemy's SQLite DATETIME stores it (UTC, naive, always microseconds)."""
    at = at.astimezone(UTC)
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d} "
        f"{at.hour:02d}:{at.minute:02d}:{at.second:02d}.{at.microsecond:06d}"
    )


def _normaliser() -> Any:
    from cornerstore.identity.normalise import Normaliser
    from cornerstore.settings import IdentityRules

    return Normaliser(IdentityRules(), "GB")


def customer_row(cid: str, created: datetime, mid: str) -> tuple[Any, ...]:
    return (cid, "person", cid, sqlite_time(created), mid)


def identifier_rows(
    normaliser: Any, person: workload.Person, cid: str, at: datetime, mid: str
) -> list[tuple[Any, ...]]:
    """The identifiers an identify with userId, anonymousId, e-mail and phone leaves (a phone
    the normaliser does not take, as some of the numbers past the first 100,000 people, none)."""
    keys = [
        ("user_id", person.user_id),
        ("anonymous_id", person.anonymous_id),
        ("email", normaliser.identifier("email", person.email)),
        ("phone", normaliser.identifier("phone", person.phone)),
    ]
    when = sqlite_time(at)
    return [(cid, kind, value, SOURCE, "web", when, mid) for kind, value in keys if value]


def _snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name)


def trait_rows(msg: dict[str, Any], cid: str, at: datetime) -> list[tuple[Any, ...]]:
    """Trait observations of an identify: names (and address parts) in snake_case, JSON values."""
    when, mid = sqlite_time(at), msg["messageId"]
    rows = []
    for name, value in msg["traits"].items():
        if isinstance(value, dict):
            value = {_snake(k): v for k, v in value.items()}
        rows.append((cid, _snake(name), orjson.dumps(value).decode(), "web", SOURCE, when, mid))
    return rows


def event_row(msg: dict[str, Any], cid: str, at: datetime, received: datetime) -> tuple[Any, ...]:
    """The events row of one message stored without a sentAt (so its timestamp stands)."""
    payload = msg.get("traits") if msg["type"] == "identify" else msg.get("properties")
    return (
        msg["messageId"],
        cid,
        None,
        msg["type"],
        msg.get("event") or msg.get("name"),
        "web",
        SOURCE,
        msg.get("userId"),
        msg.get("anonymousId"),
        sqlite_time(at),
        msg["timestamp"],
        None,
        sqlite_time(received),
        orjson.dumps(payload).decode() if payload else None,
        orjson.dumps(msg["context"]).decode() if msg.get("context") else None,
        None,
    )


EVENT_COLUMNS = (
    "message_id, customer_id, account_id, type, name, touchpoint, source, user_id, anonymous_id, "
    "occurred_at, original_timestamp, sent_at, received_at, properties, context, integrations"
)
IDENTIFIER_COLUMNS = "customer_id, kind, value, source, touchpoint, first_seen_at, message_id"
TRAIT_COLUMNS = "customer_id, name, value, touchpoint, source, observed_at, message_id"
CUSTOMER_COLUMNS = "id, kind, root_id, created_at, message_id"


def check_rows_match_intake() -> None:
    """Send an identify, a track and a page through ``Intake.ingest`` and compare every stored
    column with what this module's builders make of the same messages."""
    from cornerstore.intake.service import Source
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    person = workload.people(1, prefix="chk")[0]
    rng = random.Random(1)
    at = workload.START
    msgs = [
        workload.identify(person, "chk-1", at, rng),
        workload.track(person, person.anonymous_id, "chk-2", at + timedelta(seconds=1), rng),
        workload.page(person, person.anonymous_id, "chk-3", at + timedelta(seconds=2), rng),
    ]
    received = at + timedelta(minutes=1)
    with scratch_dir("check") as where:
        url = f"sqlite:///{where / 'check.db'}"
        store = open_store(url, upgrade=True)
        intake = Services.build(Settings(_env_file=None, database_url=url), store).intake
        intake.ingest(msgs, source=Source(SOURCE, "web"), received_at=received)
        store.dispose()
        conn = sqlite3.connect(where / "check.db")
        stored = {
            table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY rowid").fetchall()
            for table, cols in (
                ("customers", CUSTOMER_COLUMNS),
                ("identifiers", IDENTIFIER_COLUMNS),
                ("traits", TRAIT_COLUMNS),
                ("events", EVENT_COLUMNS),
            )
        }
        conn.close()
    cid = stored["customers"][0][0]
    times = [at, at + timedelta(seconds=1), at + timedelta(seconds=2)]
    built = {
        "customers": [customer_row(cid, at, "chk-1")],
        "identifiers": identifier_rows(_normaliser(), person, cid, at, "chk-1"),
        "traits": trait_rows(msgs[0], cid, at),
        "events": [event_row(m, cid, t, received) for m, t in zip(msgs, times, strict=True)],
    }
    for table, rows in built.items():
        if sorted(rows, key=repr) != sorted(stored[table], key=repr):
            raise RuntimeError(
                f"benchmarks/profile_data.py no longer builds {table} rows the way Intake stores "
                f"them:\n  intake: {stored[table]}\n  built:  {rows}\nUpdate the builders."
            )


# -- the dataset ---------------------------------------------------------------------------------
def build(path: Path, profiles: int, events: int, targets: int, per_target: int) -> dict[str, Any]:
    """Write ``profiles`` customers and ``events`` events; the first ``targets`` customers get
    exactly ``per_target`` events each, the others share the rest at random."""
    from cornerstore.storage import open_store

    if targets * per_target > events or targets > profiles:
        raise ValueError("targets x per_target must fit in events, targets in profiles")
    started = time.perf_counter()
    building = path.with_suffix(".building")
    for stale in path.parent.glob(building.name + "*"):
        stale.unlink()
    open_store(f"sqlite:///{building}", upgrade=True).dispose()
    conn = sqlite3.connect(building, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    # Secondary indexes are built once at the end: much faster than maintaining them row by row.
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('events', 'traits', 'identifiers', 'customers')"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')

    rng = random.Random(2024)
    people = workload.people(profiles, seed=99, prefix="p")
    ids = [f"cus_{rng.getrandbits(64):016x}" for _ in people]
    first = workload.START - timedelta(days=400)
    normaliser = _normaliser()
    conn.execute("BEGIN")
    for chunk in _chunked(range(profiles), 20_000):
        customers, idents, traits = [], [], []
        for i in chunk:
            at = first + timedelta(seconds=97 * i)
            mid = f"ds-id-{i:08d}"
            msg = workload.identify(people[i], mid, at, rng)
            customers.append(customer_row(ids[i], at, mid))
            idents += identifier_rows(normaliser, people[i], ids[i], at, mid)
            traits += trait_rows(msg, ids[i], at)
        conn.executemany(
            f"INSERT INTO customers ({CUSTOMER_COLUMNS}) VALUES (?,?,?,?,?)", customers
        )
        conn.executemany(
            f"INSERT INTO identifiers ({IDENTIFIER_COLUMNS}) VALUES (?,?,?,?,?,?,?)", idents
        )
        conn.executemany(f"INSERT INTO traits ({TRAIT_COLUMNS}) VALUES (?,?,?,?,?,?,?)", traits)
    conn.execute("COMMIT")

    owners = [i for i in range(targets) for _ in range(per_target)]
    others = profiles - targets
    owners += [targets + rng.randrange(others) for _ in range(events - len(owners))]
    rng.shuffle(owners)
    templates = _templates(people[:64], rng)
    step = timedelta(days=365) / max(1, events)
    sql = f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 16)})"
    conn.execute("BEGIN")
    for chunk in _chunked(range(events), 50_000):
        rows = []
        for k in chunk:
            owner = owners[k]
            person = people[owner]
            kind, name, props, ctx = templates[k % len(templates)]
            at = workload.START + step * k
            when = sqlite_time(at)
            rows.append(
                (
                    f"ds-{k:09d}",
                    ids[owner],
                    None,
                    kind,
                    name,
                    "web",
                    SOURCE,
                    person.user_id,
                    person.anonymous_id,
                    when,
                    at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    None,
                    when,
                    props,
                    ctx,
                    None,
                )
            )
        conn.executemany(sql, rows)
        if chunk.start % 500_000 == 0:
            console.print(f"  events {chunk.start:,} / {events:,}")
    conn.execute("COMMIT")
    for name, create in indexes:
        console.print(f"  index {name}")
        conn.execute(create)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    building.rename(path)
    meta = {
        "profiles": profiles,
        "events": events,
        "targets": ids[:targets],
        "per_target": per_target,
        "build_seconds": round(time.perf_counter() - started, 1),
        "bytes": path.stat().st_size,
    }
    path.with_suffix(".json").write_bytes(orjson.dumps(meta))
    return meta


def _templates(people: list[workload.Person], rng: random.Random) -> list[tuple[Any, ...]]:
    """A few thousand realistic payloads (mostly track, some page and identify) to reuse."""
    msgs = workload.traffic(4096, people, run="tpl", seed=8, mix=(0.75, 0.15, 0.10, 0.0))
    out = []
    for msg in msgs:
        row = event_row(msg, "", workload.START, workload.START)
        out.append((row[3], row[4], row[13], row[14]))
    return out


def _chunked(items: range, size: int) -> Iterator[range]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ensure(
    profiles: int, events: int, targets: int, per_target: int, rebuild: bool = False
) -> tuple[Path, dict[str, Any]]:
    """The cached dataset's path and facts, building it first when missing."""
    # Cheap (a second): also catches a cached file made by builders intake has since outgrown.
    check_rows_match_intake()
    path = dataset_path(profiles, events, targets, per_target)
    meta_path = path.with_suffix(".json")
    if rebuild or not path.exists() or not meta_path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        # Files of the same sizes from an older schema or VERSION are never read again.
        for stale in CACHE.glob(f"profiles-{profiles}p-{events}e-{targets}x{per_target}-*"):
            if not stale.name.startswith(path.stem):
                stale.unlink()
        console.print(f"[bold]profile read[/] building {path.name} (cached for later runs)")
        meta = build(path, profiles, events, targets, per_target)
        console.print(f"  built in {meta['build_seconds']} s, {meta['bytes'] / 1e9:.2f} GB")
        return path, meta
    return path, orjson.loads(meta_path.read_bytes())
