"""``cornerstore learn``: recompute what is learned about every customer, and read it back.

One run reads the history once (purchases, deliveries, complaints, web activity, address and
name changes), leaves out every customer who withdrew consent to profiling (asked
``may(customer, "profiling")`` in bulk: they get no learned traits, and moments found for them
before are removed), and stores per customer:

- ``value``: expected purchases over the horizon, P(alive), expected spend, discounted CLV;
- ``loyalty``: RFM and behavioural loyalty (:mod:`cornerstore.learn.behaviour`);
- ``churn_risk``: at risk or not, value at risk and the reasons in words;
- ``delivery_window``: the hours the customer is likely at home per weekday.

Each score carries when it was computed and by which model version. Moments go onto the
timeline as events from the source ``cornerstore-learn``, each once.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import polars as pl
import polars.selectors as cs

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.errors import InvalidInput
from cornerstore.learn.behaviour import ORDER_COLUMNS, loyalty
from cornerstore.learn.churn import churn_warnings, open_complaints
from cornerstore.learn.delivery import windows_of
from cornerstore.learn.history import HistorySummary, combine, summarise_history
from cornerstore.learn.keys import CustomerKeys
from cornerstore.learn.moments import (
    MOMENT_COLUMNS,
    behaviour_moments,
    big_purchases,
    quantile_of_counts,
    recent,
)
from cornerstore.learn.overview import Overview, overview
from cornerstore.learn.say_do import SURVEY_COLUMNS, SayDoReport, say_vs_do
from cornerstore.learn.segment_service import refresh_segments
from cornerstore.learn.segments import find_clusters
from cornerstore.learn.value import EMPTY, ValueResult, holdout_cut, value_from_tables
from cornerstore.plural import counted
from cornerstore.privacy.answers import granted
from cornerstore.privacy.consent import Consents
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

MODEL_VERSION = "learn/1"
MOMENT_SOURCE = "cornerstore-learn"
MOMENT_NAMES = {
    "moved_house": "Moved House",
    "changed_name": "Changed Name",
    "new_household_signal": "New Household Signal",
    "first_complaint": "First Complaint",
    "frequency_drop": "Frequency Drop",
    "big_purchase": "Big Purchase",
    "purchase_anniversary": "Purchase Anniversary",
}
STALE_HISTORY = timedelta(days=7)
"""A shop where nobody has bought for this long has a history that stopped, not customers who
all stopped at once."""
# The steps of a run, in order (a progress bar counts them).
STEPS = (
    "read the history",
    "loyalty",
    "customer value",
    "churn early warning",
    "delivery windows",
    "moments",
    "segments",
    "store",
)
_CATEGORY = r'"category"\s*:\s*"([^"]*)"'


#: Customers whose history one read takes in (and lets go of, but for what the models use).
CUSTOMERS_PER_READ = 200_000


@dataclass(frozen=True)
class LearnReport:
    """What one run did, step by step."""

    customers: int
    profiled: int
    opted_out: int
    value_model: str | None
    value_parameters: dict[str, float]
    value_note: str | None
    value_converged: bool | None
    value_at_bound: list[str]
    at_risk: int
    moments_added: int
    as_of: datetime
    """What recency, value and risk were measured to: now, or the latest purchase if earlier."""
    seconds: float
    steps: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Score:
    name: str
    value: Any
    computed_at: datetime
    model: str


@dataclass(frozen=True)
class CustomerScores:
    """A customer's learned scores; ``profiled`` False when they withdrew profiling."""

    customer_id: str
    profiled: bool
    scores: dict[str, Score]


@dataclass(frozen=True)
class AtRisk:
    """A customer at risk: the id as the caller sees it, the name when the caller's role may
    read it (else None), the value at risk and the reasons in words."""

    customer_id: str
    name: str | None
    value_at_risk: float
    reasons: list[str]


def peak_memory_mb() -> float:
    """The process's peak resident memory so far, in MB (0 where the platform does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


_MOMENTS_PER_WRITE = 50_000
_SCORES_PER_FRAME = 50_000


def _by_customer(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in customer order (a stable sort: a customer's rows keep their order)."""
    if frame["customer_id"].is_sorted():
        return frame
    return frame.sort("customer_id", maintain_order=True)


class Learner:
    """Run the learning, and read its results for staff.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> report = services.learner.run(system_caller())
    >>> report.customers, report.value_note
    (0, 'no purchases yet')
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
        consents: Consents,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.lookup = lookup
        self.consents = consents

    # -- the run -------------------------------------------------------------------------------
    def run(
        self,
        caller: Caller,
        now: datetime | None = None,
        progress: Callable[[str], None] | None = None,
        customers_per_read: int = CUSTOMERS_PER_READ,
    ) -> LearnReport:
        """Recompute every customer's scores and moments as of ``now``.

        The history is read ``customers_per_read`` customers at a time (see
        :meth:`_read_history`); the results do not depend on it.

        Recency, value and churn risk are measured to the latest purchase recorded when
        nobody at all has bought for longer than :data:`STALE_HISTORY`: then a history was
        imported once, or intake has stopped, and the quiet time since says nothing about
        any one customer; measured to ``now`` it would put every regular buyer at risk at once.
        """
        self.policy.require(caller, "scores", CHANGE)
        now = now or datetime.now(UTC)
        cfg = self.settings.learn
        steps: list[tuple[str, float]] = []
        started = last = time.perf_counter()
        last_cpu = time.process_time()

        def step(name: str) -> None:
            nonlocal last, last_cpu
            took, cpu = time.perf_counter(), time.process_time()
            steps.append((name, round(took - last, 3)))
            logger.info(
                "learn: %s took %.1f s, %.1f CPU-s; peak memory so far %.0f MB",
                name,
                took - last,
                cpu - last_cpu,
                peak_memory_mb(),
            )
            last, last_cpu = took, cpu
            if progress:
                progress(name)

        if customers_per_read < 1:
            raise InvalidInput("customers_per_read: must be at least 1")
        with self.store.unit_of_work() as uow:
            # One Arrow column rather than millions of Python strings.
            people = pl.Series("customer_id", uow.learning.people(), dtype=pl.String)
        opted_out: set[str] = set()
        for start in range(0, len(people), customers_per_read):
            chunk = people.slice(start, customers_per_read).to_list()
            opted_out |= self.consents.refused(chunk, "profiling")
        # From here on a customer is an integer key (the id's rank): see learn/keys.py.
        keys = CustomerKeys(people)
        history = self._read_history(people, keys, opted_out, customers_per_read, now, None)
        as_of: datetime = now
        if history.last is not None and history.last < now - STALE_HISTORY:
            as_of = history.last
        cut = None
        if cfg.clv_model == "auto" and history.first is not None:
            cut = holdout_cut(history.first.date(), as_of.date())
        if as_of != now or cut is not None:
            # What is measured to a date other than now is read again to that date.
            history = self._read_history(people, keys, opted_out, customers_per_read, as_of, cut)
        customers = len(people)
        del people  # millions of ids, kept (sorted) by the keys only
        step("read the history")

        table = loyalty(history.purchases, as_of)
        step("loyalty")
        if history.last_date is None:
            value = ValueResult(pl.DataFrame(schema=EMPTY), None, {}, "no purchases yet")
        else:
            value = value_from_tables(
                history.rfm,
                history.rfm_cut,
                today=as_of.date(),
                cut=cut,
                last=history.last_date,
                model=cfg.clv_model,
                horizon_weeks=cfg.clv_horizon_weeks,
                discount_rate=cfg.clv_discount_rate,
            )
        value = replace(value, table=keys.keyed(value.table))  # no model: no rows, text ids
        step("customer value")
        warnings = churn_warnings(
            table,
            value.table,
            open_complaints(history.complaints, as_of, cfg.churn_open_complaint_days),
            cfg,
        )
        step("churn early warning")
        cells = history.cells
        step("delivery windows")
        moments = recent(
            pl.concat(
                [
                    history.moments,
                    big_purchases(history.big, quantile_of_counts(history.amounts, 0.95)),
                    behaviour_moments(table, now),
                ],
                how="vertical",
            ),
            now,
        )
        del history
        step("moments")
        clusters = [replace(c, customers=keys.ids_of(c.customers)) for c in find_clusters(table)]
        step("segments")

        profiled, at_risk = table.height, warnings.height
        frames = self._score_frames(table, value.table, warnings, cells, value.model, keys)
        with self.store.unit_of_work(write=True) as uow:
            uow.learning.replace_scores(frames, now)
            del frames, cells
            uow.learning.remove_events_from(MOMENT_SOURCE, sorted(opted_out))
            added = self._add_moments(uow, moments, now, keys)
            del moments
            # The segments' facts (loyalty, value and risk joined, a row a customer) are the
            # largest frame of a run: joined last, once the scores and moments are written.
            facts = keys.named(self._facts(table, value.table, warnings))
            del table, warnings
            value = replace(value, table=value.table.clear())
            refresh_segments(uow, facts, clusters, now, self.settings.privacy.consent_defaults)
        step("store")
        report = LearnReport(
            customers=customers,
            profiled=profiled,
            opted_out=len(opted_out),
            value_model=value.model,
            value_parameters={k: round(v, 6) for k, v in value.parameters.items()},
            value_note=value.reason,
            value_converged=value.converged,
            value_at_bound=list(value.at_bound),
            as_of=as_of,
            at_risk=at_risk,
            moments_added=added,
            seconds=round(time.perf_counter() - started, 3),
            steps=steps,
        )
        fit = "no value model"
        if report.value_model:
            converged = "converged" if report.value_converged else "did not converge"
            fit = f"value model {report.value_model} ({converged})"
        self.audit.record(
            caller,
            "learn",
            None,
            f"{report.profiled} customers scored, {report.opted_out} not profiled, "
            f"{report.moments_added} moments, {report.at_risk} at risk, {fit}, "
            f"as of {report.as_of:%Y-%m-%d %H:%M} UTC",
        )
        return report

    def _read_history(
        self,
        people: pl.Series,
        keys: CustomerKeys,
        opted_out: set[str],
        customers_per_read: int,
        as_of: datetime,
        cut: date | None,
    ) -> HistorySummary:
        """What learning keeps of the history of ``people`` (in the store's order of ids),
        read ``customers_per_read`` customers at a time, leaving out those in ``opted_out``:
        per-customer summaries measured to ``as_of`` (:mod:`cornerstore.learn.history`), each
        customer as their key in ``keys``.

        Each slice's events are reduced to its customers' summaries and let go before the
        next slice is read, so what is held grows with customers, not with purchases.
        """
        cfg = self.settings.learn
        names = [*cfg.order_events, cfg.delivery_event]
        names += [cfg.complaint_opened_event, cfg.complaint_resolved_event]
        parts: list[HistorySummary] = []
        for start in range(0, max(len(people), 1), customers_per_read):
            chunk = people.slice(start, customers_per_read).to_list()
            roots = (chunk[0], chunk[-1]) if chunk else None
            with self.store.unit_of_work() as uow:
                tracked = uow.learning.track_events(names, roots)
                web = uow.learning.page_views(roots)
                # Not the moments a run before put on the timeline: a second run over the
                # same history learns the same.
                touch = uow.learning.activity(roots, leave_out_source=MOMENT_SOURCE)
                traits = uow.learning.trait_changes(["address", "last_name"], roots)
            gone = opted_out.intersection(chunk) if chunk else opted_out
            if gone:
                keep = ~pl.col("customer_id").is_in(list(gone))
                tracked, web, touch, traits = (
                    f.filter(keep) for f in (tracked, web, touch, traits)
                )
            parts.append(
                summarise_history(
                    orders=self._orders(tracked),
                    complaints=self._complaints(tracked),
                    deliveries=self._deliveries(tracked),
                    web=web,
                    touch=touch,
                    traits=traits,
                    as_of=as_of,
                    cut=cut,
                    timezone=cfg.timezone,
                    big_purchase_ratio=cfg.big_purchase_ratio,
                    household_categories=tuple(cfg.household_categories),
                ).keyed(keys)
            )
            del tracked, web, touch, traits
            logger.info("learn: read %d of %d customers", start + len(chunk), len(people))
        return combine(parts)

    def _orders(self, tracked: pl.DataFrame) -> pl.DataFrame:
        cfg = self.settings.learn
        orders = tracked.filter(pl.col("name").is_in(cfg.order_events))
        amount = pl.coalesce(
            [
                pl.col("properties").str.json_path_match(f"$.{name}").cast(pl.Float64, strict=False)
                for name in cfg.amount_properties
            ]
        )
        categories = (
            pl.col("properties")
            .str.extract_all(_CATEGORY)
            .list.eval(pl.element().str.extract(_CATEGORY, 1))
        )
        return orders.select(
            "customer_id",
            "at",
            amount.alias("amount"),
            "touchpoint",
            categories.alias("categories"),
        ).cast(ORDER_COLUMNS)

    def _deliveries(self, tracked: pl.DataFrame) -> pl.DataFrame:
        outcome = pl.col("properties").str.json_path_match("$.outcome")
        return (
            tracked.filter(pl.col("name") == self.settings.learn.delivery_event)
            .with_columns(outcome.alias("outcome"))
            .filter(pl.col("outcome").is_in(["delivered", "not_at_home"]))
            .select("customer_id", "at", (pl.col("outcome") == "delivered").alias("home"))
        )

    def _complaints(self, tracked: pl.DataFrame) -> pl.DataFrame:
        cfg = self.settings.learn
        case = pl.coalesce(
            pl.col("properties").str.json_path_match("$.case_id"),
            pl.col("properties").str.json_path_match("$.ticket_id"),
        )
        return tracked.filter(
            pl.col("name").is_in([cfg.complaint_opened_event, cfg.complaint_resolved_event])
        ).select(
            "customer_id",
            case.alias("case_id"),
            "at",
            pl.when(pl.col("name") == cfg.complaint_opened_event)
            .then(pl.lit("opened"))
            .otherwise(pl.lit("resolved"))
            .alias("kind"),
        )

    @staticmethod
    def _facts(table: pl.DataFrame, value: pl.DataFrame, warnings: pl.DataFrame) -> pl.DataFrame:
        """The learned figures per customer as ``score:<name>.<field>`` columns (segments)."""

        def prefixed(frame: pl.DataFrame, name: str) -> pl.DataFrame:
            return frame.rename(
                {c: f"score:{name}.{c}" for c in frame.columns if c != "customer_id"}
            )

        risk = warnings.select(
            "customer_id",
            pl.lit(True).alias("score:churn_risk.at_risk"),
            pl.col("value_at_risk").alias("score:churn_risk.value_at_risk"),
        )
        return (
            prefixed(table, "loyalty")
            .join(prefixed(value, "value"), on="customer_id", how="left")
            .join(risk, on="customer_id", how="left")
            .with_columns(
                pl.col("score:churn_risk.at_risk").fill_null(False),
                pl.col("score:churn_risk.value_at_risk").fill_null(0.0),
            )
        )

    @staticmethod
    def _score_frames(
        table: pl.DataFrame,
        value: pl.DataFrame,
        warnings: pl.DataFrame,
        cells: pl.DataFrame,
        value_model: str | None,
        keys: CustomerKeys,
    ) -> Iterator[pl.DataFrame]:
        """The scores to store, as frames of customer_id, name, value (JSON text), model.
        The frames in (customers' ``keys``) are keyed; the frames out name the customers.

        Each frame holds every score of about ``_SCORES_PER_FRAME`` customers, sorted by
        customer and name, the order of the scores' primary key: written so, each frame is
        appended to the table and its index, where one score name after another for every
        customer would rewrite the whole index once per name. Encoded to JSON by Polars,
        column-wise, a frame at a time: a million customers' scores never become a million
        Python dicts, nor all their JSON text at once.
        """

        def encoded(frame: pl.DataFrame, name: str, model: str) -> pl.DataFrame:
            rounded = frame.with_columns(cs.float().round(4))
            return rounded.select(
                "customer_id",
                pl.lit(name).alias("name"),
                pl.struct(pl.all().exclude("customer_id")).struct.json_encode().alias("value"),
                pl.lit(model).alias("model"),
            )

        def windows(cells: pl.DataFrame) -> pl.DataFrame:
            found = windows_of(cells)
            return pl.DataFrame(
                {
                    "customer_id": list(found),
                    "name": "delivery_window",
                    "value": [_json(w) for w in found.values()],
                    "model": MODEL_VERSION,
                },
                schema={
                    "customer_id": keys.dtype,
                    **dict.fromkeys(("name", "value", "model"), pl.String),
                },
            )

        risk = (
            table.select("customer_id")
            .join(warnings, on="customer_id", how="left")
            .select(
                "customer_id",
                pl.col("reasons").is_not_null().alias("at_risk"),
                pl.col("value_at_risk").fill_null(0.0),
                pl.col("reasons").fill_null(pl.lit([], pl.List(pl.String))),
            )
        )
        # Each frame in customer order (read so, they mostly are already); a range of
        # customers is then a slice of each.
        parts: list[tuple[pl.DataFrame, Callable[[pl.DataFrame], pl.DataFrame]]] = [
            (_by_customer(table), lambda f: encoded(f, "loyalty", MODEL_VERSION)),
            (
                _by_customer(value),
                lambda f: encoded(f, "value", f"{MODEL_VERSION}:{value_model}"),
            ),
            (_by_customer(risk), lambda f: encoded(f, "churn_risk", MODEL_VERSION)),
            (_by_customer(cells), windows),
        ]
        ids = parts[0][0]["customer_id"]
        bounds = [ids[i] for i in range(_SCORES_PER_FRAME, ids.len(), _SCORES_PER_FRAME)]
        for lower, upper in zip([None, *bounds], [*bounds, None], strict=True):
            frames = []
            for frame, encode in parts:
                key = frame["customer_id"]
                first = 0 if lower is None else int(key.search_sorted(lower, "left"))
                last = frame.height if upper is None else int(key.search_sorted(upper, "left"))
                if last > first:
                    frames.append(encode(frame.slice(first, last - first)))
            if frames:
                yield keys.named(pl.concat(frames, how="vertical").sort("customer_id", "name"))

    def _add_moments(
        self, uow: UnitOfWork, moments: pl.DataFrame, now: datetime, keys: CustomerKeys
    ) -> int:
        """Store the moments not stored before, as timeline events; returns how many
        (``moments`` keyed by the customers' ``keys``).

        Written in customer order (the order of the events' index by customer, so that index
        is appended to, not rewritten all over), ``_MOMENTS_PER_WRITE`` at a time, as tuples:
        the rows of a million moments are never all held at once.
        """
        added = 0
        # One moment of a kind a day: two big purchases on one day are one moment, the first
        # found. The sort is stable, so a customer's moments keep the order they were found in.
        seen_ids: set[str] = set()
        seen_of = None
        columns = moments.select(list(MOMENT_COLUMNS)).sort("customer_id", maintain_order=True)
        for start in range(0, columns.height, _MOMENTS_PER_WRITE):
            rows: dict[str, tuple[Any, ...]] = {}
            part = keys.named(columns.slice(start, _MOMENTS_PER_WRITE))
            for customer, kind, at, detail in part.iter_rows():
                if customer != seen_of:  # a message id names its customer: no need to keep more
                    seen_ids, seen_of = set(), customer
                key = f"{customer}|{kind}|{at.date().isoformat()}"
                message_id = "moment-" + hashlib.sha256(key.encode()).hexdigest()[:32]
                if message_id in seen_ids:
                    continue
                seen_ids.add(message_id)
                properties = _json({"moment": kind, "detail": detail})
                rows[message_id] = (message_id, customer, MOMENT_NAMES[kind], at, properties)
            stored = uow.events.existing_message_ids(list(rows))
            new = [row for message_id, row in rows.items() if message_id not in stored]
            uow.learning.add_moments(new, MOMENT_SOURCE, now)
            added += len(new)
        return added

    # -- reading -------------------------------------------------------------------------------
    def scores(self, caller: Caller, ref: str, audit: bool = True) -> CustomerScores:
        """What was learned about one customer (an audited read; ``audit=False`` for a page
        that records one entry for all it shows)."""
        self.policy.require(caller, "scores", READ)
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            members = uow.customers.members(root)
            found = uow.learning.scores_of(members)
            history = uow.consents.of_customers(members)
            profiled = granted(history, "profiling", self.settings.privacy.consent_defaults)
        latest: dict[str, Score] = {}
        for score in found:
            if score.name not in latest or score.computed_at > latest[score.name].computed_at:
                latest[score.name] = Score(score.name, score.value, score.computed_at, score.model)
        if audit:
            self.audit.record(caller, "read_scores", root, None, ["scores"])
        shown = self.lookup.shown_id(caller)(root)
        return CustomerScores(shown, profiled, dict(sorted(latest.items())) if profiled else {})

    def say_vs_do(
        self, caller: Caller, window_days: int = 180, now: datetime | None = None
    ) -> SayDoReport:
        """Survey answers against the purchases that followed them, by band and cluster;
        answers staff asked for reported apart."""
        self.policy.require(caller, "scores", READ)
        if not 7 <= window_days <= 730:
            raise InvalidInput("days: the follow-up window must be 7 to 730 days")
        now = now or datetime.now(UTC)
        cfg = self.settings.learn
        with self.store.unit_of_work() as uow:
            people = uow.learning.people()
        opted_out = self.consents.refused(people, "profiling")
        with self.store.unit_of_work() as uow:
            tracked = uow.learning.track_events([*cfg.order_events, cfg.survey_event])
            clusters = uow.learning.cluster_members()
        tracked = tracked.filter(~pl.col("customer_id").is_in(list(opted_out)))
        props = pl.col("properties")
        surveys = (
            tracked.filter(pl.col("name") == cfg.survey_event)
            .select(
                "customer_id",
                "at",
                props.str.json_path_match("$.survey").str.to_lowercase().alias("survey"),
                props.str.json_path_match("$.score").cast(pl.Float64, strict=False).alias("score"),
                (props.str.json_path_match("$.solicited_by_employee") == "true").alias("solicited"),
            )
            .cast(SURVEY_COLUMNS)
        )
        report = say_vs_do(surveys, self._orders(tracked), clusters, now, window_days)
        self.audit.record(caller, "read_say_vs_do", None, counted(window_days, "day"))
        return report

    def overview(self, caller: Caller) -> Overview:
        """Churn risk, loyalty tiers and retention over every scored customer (counts only,
        no customer named); ``customers`` is 0 before the first learning run."""
        self.policy.require(caller, "scores", READ)
        with self.store.unit_of_work() as uow:
            computed_at = uow.learning.last_computed_at()
            scores = {
                name: [v for _, v in uow.learning.scores_named(name)]
                for name in ("value", "loyalty", "churn_risk")
            }
        self.audit.record(
            caller, "read_overview", None, counted(len(scores["loyalty"]), "customer")
        )
        return overview(scores["value"], scores["loyalty"], scores["churn_risk"], computed_at)

    def at_risk(self, caller: Caller, limit: int = 50) -> list[AtRisk]:
        """Customers slipping away, highest value at risk first, with the reasons, and their
        names when the caller's role may read names (see
        :meth:`~cornerstore.profiles.lookup.CustomerLookup.names_of`)."""
        self.policy.require(caller, "scores", READ)
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit: must be between 1 and 1000")
        with self.store.unit_of_work() as uow:
            found = uow.learning.scores_named("churn_risk")
            risky = sorted(
                (
                    (customer, float(v["value_at_risk"]), list(v["reasons"]))
                    for customer, v in found
                    if v.get("at_risk")
                ),
                key=lambda r: (-r[1], r[0]),
            )[:limit]
            names = self.lookup.names_of(uow, caller, [customer for customer, _, _ in risky])
        shown = self.lookup.shown_id(caller)
        sections = ["scores", "name"] if names else ["scores"]
        self.audit.record(caller, "read_at_risk", None, counted(len(risky), "customer"), sections)
        return [
            AtRisk(shown(customer), names.get(customer), value, reasons)
            for customer, value, reasons in risky
        ]
