"""Segments for staff: define rule segments, list every segment with its value, page members.

Membership is computed by ``cornerstore learn`` (rule segments re-evaluated, clusters found
anew) and, for a new rule segment, at once from the stored scores. Only customers who allow
profiling are ever members: segments are profiling.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.errors import Conflict, InvalidInput, NotFound
from cornerstore.learn.model import SegmentRecord
from cornerstore.learn.segments import (
    MAX_NODES,
    Cluster,
    check_condition,
    members,
    needs,
)
from cornerstore.plural import counted
from cornerstore.privacy.consent import allowed_in
from cornerstore.privacy.detect import scan_mapping
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

_SLUG = re.compile(r"[^a-z0-9]+")
_LEARNED = ("value", "loyalty", "churn_risk")


@dataclass(frozen=True)
class SegmentPage:
    segment: SegmentRecord
    customers: list[str]
    next_after: str | None


def slug(name: str) -> str:
    """``"Lapsed big spenders!"`` -> ``"lapsed-big-spenders"``."""
    return _SLUG.sub("-", name.lower()).strip("-")[:64]


def stored_facts(uow: UnitOfWork) -> pl.DataFrame:
    """One row per profiled customer with their learned figures as ``score:<name>.<field>``."""
    rows: dict[str, dict[str, Any]] = {}
    for name in _LEARNED:
        for customer, value in uow.learning.scores_named(name):
            row = rows.setdefault(customer, {"customer_id": customer})
            for field, figure in value.items():
                if isinstance(figure, bool | int | float | str) or figure is None:
                    row[f"score:{name}.{field}"] = figure
    if not rows:
        return pl.DataFrame(schema={"customer_id": pl.String})
    return pl.DataFrame(list(rows.values()), infer_schema_length=None)


#: Customers whose profiling consent is read in one statement.
_CONSENTS_PER_READ = 10_000


def with_customers_who_never_bought(
    uow: UnitOfWork, facts: pl.DataFrame, consent_defaults: Mapping[str, bool]
) -> pl.DataFrame:
    """``facts`` with a row for every person who allows profiling and has no learned figures
    yet: a customer who signed up or asked a question but never bought. Their ``loyalty.orders``
    is 0 (a rule can find those who never bought); every other learned figure is missing, and a
    missing value never matches, so only rules on orders, traits and events can take them in."""
    people = pl.DataFrame({"customer_id": uow.learning.people()}, schema={"customer_id": pl.String})
    if facts.height:
        people = people.join(facts.select("customer_id"), on="customer_id", how="anti")
    missing = people["customer_id"].to_list()
    kept: list[str] = []
    for start in range(0, len(missing), _CONSENTS_PER_READ):
        chunk = missing[start : start + _CONSENTS_PER_READ]
        allowed = allowed_in(uow, chunk, "profiling", consent_defaults)
        kept += [c for c in chunk if c in allowed]
    if not kept:
        return facts
    orders = facts.schema.get("score:loyalty.orders", pl.Int64)
    rows = pl.DataFrame({"customer_id": kept}, schema={"customer_id": pl.String}).with_columns(
        pl.lit(0).cast(orders).alias("score:loyalty.orders")
    )
    return pl.concat([facts, rows], how="diagonal_relaxed")


def add_needed_facts(
    uow: UnitOfWork, facts: pl.DataFrame, trees: list[Any], now: datetime
) -> pl.DataFrame:
    """Join the traits and event counts the trees read onto ``facts``."""
    wanted = needs(trees)
    if wanted.traits:
        current = uow.learning.current_traits(sorted(wanted.traits))
        for name in sorted(wanted.traits):
            column = (
                current.filter(pl.col("name") == name)
                .with_columns(
                    pl.col("value")
                    .map_elements(_scalar_or_text, return_dtype=pl.String)
                    .alias(f"trait:{name}")
                )
                .select("customer_id", f"trait:{name}")
            )
            facts = facts.join(column, on="customer_id", how="left")
    for spec in sorted(wanted.events, key=lambda s: s.key):
        counts = uow.learning.event_counts(
            spec.name, spec.type, spec.touchpoint, now - timedelta(days=spec.days)
        ).rename({"count": spec.key})
        facts = facts.join(counts, on="customer_id", how="left")
    return facts


def _scalar_or_text(value: str) -> str:
    parsed = orjson.loads(value)
    return parsed if isinstance(parsed, str) else orjson.dumps(parsed).decode()


def segment_value(
    facts: pl.DataFrame, customers: Sequence[str] | pl.Series
) -> tuple[float | None, float | None]:
    """Sum and mean CLV of the members (None when no CLV is known)."""
    if "score:value.clv" not in facts.columns or len(customers) == 0:
        return None, None
    members = pl.DataFrame({"customer_id": customers}, schema={"customer_id": pl.String})
    clv = facts.join(members, on="customer_id", how="semi")["score:value.clv"].drop_nulls()
    if clv.len() == 0:
        return None, None
    return round(float(clv.sum()), 2), round(float(clv.mean()), 2)  # type: ignore[arg-type]


def refresh_segments(
    uow: UnitOfWork,
    facts: pl.DataFrame,
    clusters: list[Cluster],
    now: datetime,
    consent_defaults: Mapping[str, bool],
) -> None:
    """Replace the clusters and re-evaluate every rule segment over ``facts`` and the customers
    who never bought (:func:`with_customers_who_never_bought`)."""
    uow.segments.delete([s.id for s in uow.segments.all("cluster")])
    for i, cluster in enumerate(clusters, start=1):
        segment_id = f"cluster-{i}"
        uow.segments.add(
            {
                "id": segment_id,
                "name": cluster.name,
                "kind": "cluster",
                "definition": orjson.dumps({"median": cluster.profile}).decode(),
                "description": cluster.description,
                "created_at": now,
                "created_by": "cornerstore-learn",
                "size": 0,
            }
        )
        total, mean = segment_value(facts, cluster.customers)
        uow.segments.set_members(segment_id, cluster.customers, now, total, mean)
    rules = uow.segments.all("rule")
    if not rules:
        return
    facts = with_customers_who_never_bought(uow, facts, consent_defaults)
    facts = add_needed_facts(uow, facts, [r.definition for r in rules], now)
    for rule in rules:
        found = members(facts, rule.definition)
        total, mean = segment_value(facts, found)
        uow.segments.set_members(rule.id, found, now, total, mean)


def _screened(name: str, definition: Any, description: str | None) -> tuple[str, Any, str | None]:
    """Pass what staff typed through the privacy firewall: a sensitive value in the name or a
    condition is refused (a segment must not keep one), in the description it is redacted."""
    cleaned, found = scan_mapping({"name": name, "definition": definition, "text": description})
    for finding in found:
        if finding.path != "text":
            kind = finding.kind.replace("_", " ")
            raise InvalidInput(f"{finding.path}: holds a {kind}; cornerstore keeps no such value")
    return name, definition, cleaned.get("text")


class Segments:
    """Staff-facing segments.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> book = Services.build(Settings(), open_store("sqlite://", upgrade=True)).segments
    >>> book.create(system_caller(), "Regulars", {"score": "loyalty.orders", "op": ">=",
    ...                                           "value": 5}).id
    'regulars'
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.lookup = lookup

    def create(
        self,
        caller: Caller,
        name: str,
        definition: Any,
        description: str | None = None,
        now: datetime | None = None,
    ) -> SegmentRecord:
        """Define a rule segment; its members are computed at once from the stored scores."""
        self.policy.require(caller, "segments", CHANGE)
        name, definition, description = _screened(name, definition, description)
        name = name.strip()
        segment_id = slug(name)
        if not segment_id or len(name) > 128:
            raise InvalidInput("name: 1-128 characters with at least one letter or digit")
        if check_condition(definition) > MAX_NODES:
            raise InvalidInput(f"definition: more than {MAX_NODES} conditions")
        now = now or datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            if uow.segments.get(segment_id) is not None:
                raise Conflict(f"name: a segment called {segment_id!r} exists already")
            uow.segments.add(
                {
                    "id": segment_id,
                    "name": name,
                    "kind": "rule",
                    "definition": orjson.dumps(definition).decode(),
                    "description": (description or "").strip()[:1000] or name,
                    "created_at": now,
                    "created_by": caller.actor,
                    "size": 0,
                }
            )
            facts = with_customers_who_never_bought(
                uow, stored_facts(uow), self.settings.privacy.consent_defaults
            )
            facts = add_needed_facts(uow, facts, [definition], now)
            found = members(facts, definition)
            total, mean = segment_value(facts, found)
            uow.segments.set_members(segment_id, found, now, total, mean)
            record = uow.segments.get(segment_id)
        assert record is not None
        self.audit.record(caller, "create_segment", None, segment_id)
        return record

    def list(self, caller: Caller) -> list[SegmentRecord]:
        """Every segment with its size and value, rule segments first."""
        self.policy.require(caller, "segments", READ)
        with self.store.unit_of_work() as uow:
            return uow.segments.all()

    def get(self, caller: Caller, segment_id: str) -> SegmentRecord:
        self.policy.require(caller, "segments", READ)
        with self.store.unit_of_work() as uow:
            record = uow.segments.get(segment_id)
        if record is None:
            raise NotFound("segment: no such segment")
        return record

    def members(
        self, caller: Caller, segment_id: str, limit: int = 100, after: str | None = None
    ) -> SegmentPage:
        """A page of members in id order (pseudonyms for a role that sees no ids); pass
        ``next_after`` back as ``after`` (for such a role a pseudonym too)."""
        self.policy.require(caller, "segments", READ)
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit: must be between 1 and 1000")
        pseudonymised = self.policy.pseudonymised(caller)
        with self.store.unit_of_work() as uow:
            record = uow.segments.get(segment_id)
            if record is None:
                raise NotFound("segment: no such segment")
            if after and pseudonymised:
                after = self.lookup.unpseudonymise(uow, after)
                if after is None:
                    raise InvalidInput("after: give the next_after of the previous page")
            found = uow.segments.members(segment_id, after, limit + 1)
        self.audit.record(
            caller, "read_segment", None, f"{segment_id}: {min(len(found), limit)}", ["segments"]
        )
        more = len(found) > limit
        found = found[:limit]
        shown = self.lookup.shown_id(caller)
        # The cursor is shown as the members are: a pseudonymised role never sees a real id.
        return SegmentPage(record, [shown(c) for c in found], shown(found[-1]) if more else None)

    def of_customer(self, caller: Caller, ref: str) -> builtins.list[SegmentRecord]:
        """The segments a customer (named by id or identifier) belongs to, by name (an
        audited read of the customer's ``segments`` section)."""
        self.policy.require(caller, "segments", READ)
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            ids = uow.segments.of_customers(uow.customers.members(root))
            found = [record for record in map(uow.segments.get, ids) if record is not None]
        self.audit.record(
            caller, "read_segments", root, counted(len(found), "segment"), ["segments"]
        )
        return sorted(found, key=lambda record: record.name)

    def delete(self, caller: Caller, segment_id: str) -> None:
        """Remove a rule segment (clusters are replaced by each learning run)."""
        self.policy.require(caller, "segments", CHANGE)
        with self.store.unit_of_work(write=True) as uow:
            record = uow.segments.get(segment_id)
            if record is None:
                raise NotFound("segment: no such segment")
            if record.kind != "rule":
                raise InvalidInput("segment: clusters are found anew by each learning run")
            uow.segments.delete([segment_id])
        self.audit.record(caller, "delete_segment", None, segment_id)
