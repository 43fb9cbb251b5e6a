"""``Suggestions``: train the model on the stored purchases, and suggest products to one customer.

Purchases are the ``settings.learn.order_events`` track events with a ``products`` list
(``product_id`` or ``sku``, ``name``), as the Segment e-commerce spec sends them; returns are the
``settings.suggest.return_events`` (a ``products`` list, or one ``product_id``/``sku``).

Customers who refused ``profiling`` or ``personalisation`` are left out of training (asked in
bulk); a customer without ``personalisation`` (which includes "anonymous, please") gets the
non-personal suggestions, and the answer says so. Every read is a staff read of the
``suggestions`` section: the role policy is asked first and the read is audited.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import orjson
import polars as pl

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.errors import InvalidInput
from cornerstore.plural import counted
from cornerstore.privacy.answers import granted
from cornerstore.privacy.consent import Consents
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork
from cornerstore.suggest.model import History, Suggestion, SuggestionModel

SECTION = "suggestions"
MAX_SUGGESTIONS = 100
_PRODUCTS = pl.Struct(
    {
        "order_id": pl.String,
        "products": pl.List(
            pl.Struct({"product_id": pl.String, "sku": pl.String, "name": pl.String})
        ),
    }
)


@dataclass(frozen=True)
class TrainReport:
    """What one training did."""

    customers: int
    left_out: int
    """Customers who refused profiling or personalisation."""
    items: int
    purchases: int
    trained_until: datetime | None
    seconds: float


@dataclass(frozen=True)
class CustomerSuggestions:
    """Suggestions for one customer; ``personal`` False with ``note`` saying why when they are
    the same for everyone."""

    customer_id: str
    personal: bool
    note: str | None
    trained_at: datetime | None
    suggestions: list[Suggestion]


def purchases_of(tracked: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """The purchased items of order events, and the latest name of each item.

    ``tracked`` holds ``customer_id``, ``at`` and ``properties`` (JSON text), as
    :meth:`~cornerstore.storage.learn_repositories.LearningRepository.track_events` returns.
    """
    lines = (
        tracked.with_row_index("event")
        .select(
            "customer_id",
            "event",
            pl.col("at").dt.replace_time_zone(None).alias("at"),
            pl.col("properties").str.json_decode(_PRODUCTS).alias("p"),
        )
        .unnest("p")
        .explode("products")
        .unnest("products")
        .select(
            "customer_id",
            pl.coalesce("product_id", "sku").alias("item_id"),
            "at",
            pl.coalesce("order_id", pl.col("event").cast(pl.String)).alias("basket_id"),
            "name",
        )
        .drop_nulls(["customer_id", "item_id"])
    )
    named = lines.drop_nulls("name").sort("at").group_by("item_id").last()
    return lines.drop("name"), dict(named.select("item_id", "name").iter_rows())


def _day(at: datetime) -> int:
    """The UTC day number (``date.toordinal``) of a moment; a naive one is taken as UTC."""
    return (at.astimezone(UTC) if at.tzinfo else at).toordinal()


def _items_in(properties: str | None) -> list[str]:
    if not properties:
        return []
    try:
        found = orjson.loads(properties)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(found, dict):
        return []
    products = found.get("products")
    entries = products if isinstance(products, list) else [found]
    named = (e.get("product_id") or e.get("sku") for e in entries if isinstance(e, dict))
    return [str(item) for item in named if isinstance(item, (str, int)) and item != ""]


class Suggestions:
    """Train suggestions and serve them, to API, CLI, console and campaigns alike.

    Examples
    --------
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.services import Services
    >>> from cornerstore.storage import open_store
    >>> suggestions = Services.build(Settings(), open_store("sqlite://", upgrade=True)).suggestions
    >>> suggestions.train(system_caller()).customers
    0
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
        self._cached: tuple[int, datetime, SuggestionModel] | None = None
        self._loading = threading.Lock()

    # -- training ------------------------------------------------------------------------------
    def train(self, caller: Caller, now: datetime | None = None) -> TrainReport:
        """Learn a new model from every consenting customer's purchases and store it."""
        self.policy.require(caller, SECTION, CHANGE)
        started = time.perf_counter()
        now = now or datetime.now(UTC)
        with self.store.unit_of_work() as uow:
            people = uow.learning.people()
        left_out = self.consents.refused(people, "profiling")
        left_out |= self.consents.refused(people, "personalisation")
        with self.store.unit_of_work() as uow:
            tracked = uow.learning.track_events(self.settings.learn.order_events)
        if left_out:
            tracked = tracked.filter(~pl.col("customer_id").is_in(list(left_out)))
        purchases, names = purchases_of(tracked)
        model = SuggestionModel.fit(purchases, names=names, threads=self.settings.suggest.threads)
        with self.store.unit_of_work(write=True) as uow:
            uow.suggestions.add_model(
                model.to_bytes(), now, model.customers, len(model.items), caller.actor
            )
        report = TrainReport(
            customers=model.customers,
            left_out=len(left_out),
            items=len(model.items),
            purchases=purchases.height,
            trained_until=model.trained_until.replace(tzinfo=UTC) if purchases.height else None,
            seconds=round(time.perf_counter() - started, 3),
        )
        self.audit.record(
            caller,
            "train_suggestions",
            None,
            f"{counted(report.customers, 'customer')}, {counted(report.items, 'product')}, "
            f"{report.left_out} left out without consent",
        )
        return report

    # -- serving -------------------------------------------------------------------------------
    def for_customer(
        self, caller: Caller, ref: str, n: int = 10, now: datetime | None = None
    ) -> CustomerSuggestions:
        """The ``n`` products to suggest to the customer, each with its reason (an audited read).

        Used like this::

            suggestions.for_customer(caller, "ann@example.com", 5)
            CustomerSuggestions(customer_id='cus_...', personal=True, note=None, ...)
        """
        self.policy.require(caller, SECTION, READ)
        if not 1 <= n <= MAX_SUGGESTIONS:
            raise InvalidInput(f"n: must be between 1 and {MAX_SUGGESTIONS}")
        now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        cfg = self.settings.suggest
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
            members = uow.customers.members(root)
            history = uow.consents.of_customers(members)
            personal = granted(history, "personalisation", self.settings.privacy.consent_defaults)
            loaded = self._model(uow)
            events = (
                uow.suggestions.track_events_of(
                    members, [*self.settings.learn.order_events, *cfg.return_events]
                )
                if personal and loaded
                else []
            )
        self.audit.record(caller, "read_suggestions", root, None, [SECTION])
        shown = self.lookup.shown_id(caller)(root)
        if loaded is None:
            note = "nothing to suggest yet: run `cornerstore suggest train`"
            return CustomerSuggestions(shown, personal, note, None, [])
        trained_at, model = loaded
        if not personal:
            note = "not personal: the customer did not allow personalisation"
            return CustomerSuggestions(shown, False, note, trained_at, model.popular(n))
        found = model.suggest(self._history(events, now), n, now)
        return CustomerSuggestions(shown, True, None, trained_at, found)

    def for_customers(
        self,
        caller: Caller,
        roots: Sequence[str],
        n: int = 10,
        *,
        purpose: str,
        now: datetime | None = None,
    ) -> dict[str, list[Suggestion]]:
        """Suggestions for many root profile ids at once (a campaign's batch of recipients):
        the model, the consents and the purchases read once for all, and one audit entry for
        the whole read, naming its ``purpose``.

        A customer without ``personalisation`` gets the popular products, as
        :meth:`for_customer` answers them; with no trained model everyone gets none.

        Used like this::

            suggestions.for_customers(caller, ["cus_1", "cus_2"], 5, purpose="campaign 3")
            {'cus_1': [Suggestion(...), ...], 'cus_2': [...]}
        """
        self.policy.require(caller, SECTION, READ)
        if not 1 <= n <= MAX_SUGGESTIONS:
            raise InvalidInput(f"n: must be between 1 and {MAX_SUGGESTIONS}")
        now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        roots = list(dict.fromkeys(roots))
        cfg = self.settings.suggest
        personal = self.consents.allowed(roots, "personalisation") if roots else set()
        with self.store.unit_of_work() as uow:
            loaded = self._model(uow)
            events = (
                uow.suggestions.track_events_of_roots(
                    [r for r in roots if r in personal],
                    [*self.settings.learn.order_events, *cfg.return_events],
                )
                if loaded and personal
                else []
            )
        if roots:
            self.audit.record(
                caller,
                "read_suggestions",
                None,
                f"{counted(len(roots), 'customer')}: {purpose}",
                [SECTION],
            )
        if loaded is None:
            return {root: [] for root in roots}
        model = loaded[1]
        per_root: dict[str, list[tuple[str, datetime, str | None]]] = {}
        for root, name, at, props in events:
            per_root.setdefault(root, []).append((name, at, props))
        mine = [root for root in roots if root in personal]
        ranked = model.suggest_many([self._history(per_root.get(r, []), now) for r in mine], n, now)
        found = dict(zip(mine, ranked, strict=True))
        popular = model.popular(n)
        return {root: found.get(root, popular) for root in roots}

    def _history(
        self, events: Sequence[tuple[str, datetime, str | None]], now: datetime
    ) -> History:
        returns = set(self.settings.suggest.return_events)
        # A return is remembered for returned_days: a wholesaler's order correction is bought
        # again later (see docs/suggestions.md).
        since = now.toordinal() - self.settings.suggest.returned_days
        returned = [
            i
            for name, at, props in events
            if name in returns and _day(at) >= since
            for i in _items_in(props)
        ]
        items: list[str] = []
        days: list[int] = []
        for name, at, props in events:
            if name not in returns:
                bought = _items_in(props)
                items += bought
                days += [_day(at)] * len(bought)
        return History.of_days(items, np.array(days, dtype=np.int64), returned)

    def _model(self, uow: UnitOfWork) -> tuple[datetime, SuggestionModel] | None:
        """The newest stored model, read once and kept until a newer one is stored."""
        repo = uow.suggestions
        newest = repo.latest_id()
        if newest is None:
            return None
        with self._loading:
            if self._cached is None or self._cached[0] != newest:
                stored = repo.latest()
                if stored is None:
                    return None
                try:
                    model = SuggestionModel.from_bytes(stored.model)
                except ValueError:
                    return None  # stored by an older version: served again once retrained
                cfg = self.settings.suggest
                rules = replace(
                    model.blend,
                    just_bought_days=cfg.just_bought_days,
                    due_within_days=cfg.due_within_days,
                )
                model.blend = rules
                self._cached = (stored.id, stored.trained_at, model)
            return self._cached[1], self._cached[2]
