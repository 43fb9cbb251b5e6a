"""The suggestion model: what it learns from purchases, and how it ranks products for one customer.

Four signals are learned from the purchase history (``customer_id``, ``item_id``, ``at``,
``basket_id``, and ``name`` when known):

- **implicit-feedback ALS** (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit
  Feedback Datasets", the ``implicit`` package): item factors Y from the customer x item matrix
  with confidence 1 + alpha * log(1 + baskets). A customer's own factors are solved at
  suggestion time from their current history (equation 4 of the paper), so a customer who
  bought since the last training, or never took part in it, is still served personally;
- **item-to-item co-occurrence**: cosine similarity of the items' buyer sets, the strongest
  ``neighbours`` per item kept;
- **popularity**: distinct buyers per item over the last ``popular_days`` of the history, for
  newcomers and for customers who did not allow personalisation; over the last
  ``trending_days``, blended in for everyone else (what sells now);
- **own purchases**: each day the customer bought an item counts exp(-age / ``recency_days``),
  times the square root of the item's buy-again share (of its buyers, those who bought it on
  two days or more);
- **replenishment**: the customer's own repeat purchases. An item bought on ``cycle_min_buys``
  days or more has a cycle (the median gap) and a shortest gap; it is left out while even the
  shortest gap, counted from the last buy, ends beyond ``due_within_days``, and, bought within
  ``just_bought_days``, until the cycle says it is due.
- **customers who buy alike** (TIFU-KNN, :mod:`cornerstore.suggest.neighbours`), only when
  ``Blend.knn`` is above 0: what the ``similar_customers`` nearest customers' basket-decayed
  frequency vectors hold. Off by default: it gained on the validation window but not on the
  reported split.

The ranking blends them with weights (:class:`Blend`) chosen on an earlier validation window,
never on the split that is reported (see docs/suggestions.md). A learned re-ranker of the
blend's best candidates (:mod:`cornerstore.suggest.rerank`, fitted inside training on the last
``rerank_days`` of the history) is there to turn on with ``Blend.rerank_days``; it is off by
default, because on the validation window it did not beat the blend. Items just bought (within
``just_bought_days``, unless due again) and items returned are never suggested. Each suggestion
carries the reason of the signal that contributed most, in words.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse

from cornerstore.plural import counted
from cornerstore.suggest.neighbours import Pool, day_weights
from cornerstore.suggest.rerank import FEATURES, NO_TREES, Trees

PURCHASE_COLUMNS = {
    "customer_id": pl.String,
    "item_id": pl.String,
    "at": pl.Datetime("us"),
    "basket_id": pl.String,
}
"""The purchases the model learns from: one row per item in a basket."""

MONTHS = "January February March April May June July August September October November December"


@dataclass(frozen=True)
class Blend:
    """The weights of the signals and the rules around them.

    The defaults were chosen on the Online Retail validation window (train before 2011-08-09,
    test to 2011-10-09), two months before the split that is reported; see docs/suggestions.md.
    """

    own: float = 1.0
    als: float = 0.4
    co: float = 0.1
    popular: float = 0.15
    factors: int = 64
    iterations: int = 15
    regularization: float = 0.05
    alpha: float = 2.0
    neighbours: int = 50
    popular_days: int = 90
    cycle_min_buys: int = 3
    due_within_days: int = 14
    just_bought_days: int = 7
    recency_days: float = 240.0
    trending_days: int = 14
    momentum: float = 0.6
    """Personal scores are multiplied by (an item's buyers per day over the last 30 days, over
    the last 180 days) to this power: what is selling more than usual now (a season) counts
    more."""
    rerank_days: int = 0
    """The horizon of the learned re-ranker: fitted on the history before the last this many
    days, labelled with what was bought in them. 0, the default: no re-ranker, the blend alone
    ranks (on the validation window the re-ranker did not beat it; see docs/suggestions.md)."""
    rerank_windows: int = 2
    """How many windows of ``rerank_days``, one before the other, the re-ranker learns from."""
    candidates: int = 30
    """Per customer the blend's best this many products are re-ranked."""
    trees: int = 60
    leaves: int = 7
    rerank_min_customers: int = 200
    """Below this many labelled customers the blend alone ranks (too little to learn from)."""
    knn: float = 0.0
    """The weight of what the customer's nearest customers buy (TIFU-KNN; see
    :mod:`cornerstore.suggest.neighbours`). 0, the default: not used and no customer's vector
    is stored; 0.2 was best on the validation window, but not on the reported split (see
    docs/suggestions.md)."""
    similar_customers: int = 30
    """How many nearest customers."""
    basket_decay: float = 0.95
    """In a customer's frequency vector the i-th latest day they bought on counts this to the
    power i."""


@dataclass(frozen=True)
class Suggestion:
    """One suggested product with its score and the reason in words."""

    item_id: str
    name: str | None
    score: float
    reason: str
    kind: str
    """replenishment, favourite, bought_with, similar_customers or popular."""


@dataclass(frozen=True, eq=False)
class History:
    """One customer's purchases as arrays: the distinct items, the days each was bought on,
    and the returned items.

    ``bought`` holds day numbers (``date.toordinal``), item after item in ``items`` order and
    sorted within each item; ``buys`` says how many belong to each item.
    """

    items: tuple[str, ...] = ()
    bought: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    buys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    returned: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        purchases: Sequence[tuple[str, datetime]],
        returned: Sequence[str] = (),
    ) -> History:
        """From (item_id, at) pairs; several buys on one day count once.

        >>> h = History.of([("tea", datetime(2024, 1, 1, 9)), ("tea", datetime(2024, 1, 1, 17))])
        >>> len(h.days["tea"])
        1
        """
        days = np.fromiter((at.toordinal() for _, at in purchases), np.int64, len(purchases))
        return cls.of_days([item for item, _ in purchases], days, returned)

    @classmethod
    def of_days(
        cls, items: Sequence[str], days: np.ndarray, returned: Sequence[str] = ()
    ) -> History:
        """From parallel item ids and day numbers (``date.toordinal``), in any order.

        >>> History.of_days(["b", "a", "b"], np.array([738000, 738001, 738000])).buys.tolist()
        [1, 1]
        """
        if not len(items):
            return cls(returned=frozenset(returned))
        # Items numbered in order of first purchase (a dict: faster than sorting strings).
        numbers: dict[str, int] = {}
        code = np.fromiter(
            (numbers.setdefault(item, len(numbers)) for item in items), np.int64, len(items)
        )
        # One sort of (item, day) keys: distinct days per item, sorted within each item.
        pairs = np.sort(code * _DAY_SPAN + np.asarray(days, dtype=np.int64))
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
        which = pairs // _DAY_SPAN
        names = list(numbers)
        return cls(
            items=tuple(names),
            bought=pairs % _DAY_SPAN,
            buys=np.bincount(which, minlength=len(names)),
            returned=frozenset(returned),
        )

    def days_of(self, item: str) -> list[datetime]:
        """The days ``item`` was bought on, oldest first (none when it never was)."""
        at = self._where.get(item)
        if at is None:
            return []
        end = int(self._ends[at])
        days = self.bought[end - int(self.buys[at]) : end].tolist()
        return [datetime.fromordinal(d) for d in days]

    @functools.cached_property
    def _where(self) -> dict[str, int]:
        return {item: i for i, item in enumerate(self.items)}

    @functools.cached_property
    def _ends(self) -> np.ndarray:
        return np.cumsum(self.buys)

    @functools.cached_property
    def days(self) -> dict[str, list[datetime]]:
        """Per item the days it was bought on, oldest first."""
        ends = np.cumsum(self.buys)
        out: dict[str, list[datetime]] = {}
        for item, end, count in zip(self.items, ends, self.buys, strict=True):
            days = self.bought[end - count : end].tolist()
            out[item] = [datetime.fromordinal(d) for d in days]
        return out


_DAY_SPAN = 10_000_000
"""Larger than any day number (9999-12-31 is 3,652,059)."""


@dataclass(frozen=True)
class _Owned:
    """One customer's items known to the model, as parallel arrays."""

    keys: list[str]
    idx: np.ndarray
    """The items' rows in the model."""
    buys: np.ndarray
    """Days each item was bought on."""
    since: np.ndarray
    """Days since the last buy, with the fraction of today."""
    decayed: np.ndarray
    """The buys weighted by exp(-age / recency_days)."""
    cycle: np.ndarray
    """The median gap between buys in days; NaN below ``cycle_min_buys`` buys."""
    shortest: np.ndarray
    """The shortest gap between buys in days; NaN below ``cycle_min_buys`` buys."""
    frequency: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The items' entries in the customer's basket-decayed frequency vector (see
    :class:`~cornerstore.suggest.neighbours.Pool`); empty when ``Blend.knn`` is 0."""
    visits: int = 0
    """Distinct days the customer bought anything on."""
    tenure: float = 0.0
    """Days since the customer's first buy."""


def _ago(days: float) -> str:
    if days < 1:
        return "today"
    if days < 14:
        n = round(days)
        return f"{counted(n, 'day')} ago"
    if days < 63:
        return f"{round(days / 7)} weeks ago"
    n = round(days / 30.4)
    return f"{counted(n, 'month')} ago"


# A regular buy not bought for more than this many of its cycles is a past habit, not due: its
# reason says "you used to buy this" and its kind is ``favourite``, so nothing (the next best
# action's "replenishment due" included) calls it due. Chosen on the validation windows: a
# customer's regular buy (3+ buying days) was bought again in the next two months by 52-56% of
# them within two cycles of the last buy, 40-44% at two to three, 37-40% at three to four and
# ever fewer after (19-21% past ten), towards the 25-28% of products bought on two days only
# (docs/suggestions.md).
LAPSED_CYCLES = 3


def _every(days: float) -> str:
    if days < 13:
        n = max(1, round(days))
        return "every day" if n == 1 else f"about every {n} days"
    if days < 63:
        return f"about every {round(days / 7)} weeks"
    return f"about every {round(days / 30.4)} months"


def _month(at: datetime, now: datetime) -> str:
    name = MONTHS.split()[at.month - 1]
    return name if (now - at).days < 300 else f"{name} {at.year}"


@dataclass
class SuggestionModel:
    """A trained model; :meth:`fit` builds one, :meth:`suggest` ranks for one customer.

    Examples
    --------
    >>> from datetime import datetime
    >>> frame = pl.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...     "item_id": ["tea", "pot", "tea", "pot", "tea"],
    ...     "at": [datetime(2024, 1, d) for d in (1, 1, 2, 2, 3)],
    ...     "basket_id": ["1", "1", "2", "2", "3"]})
    >>> model = SuggestionModel.fit(frame, blend=Blend(factors=2, iterations=2))
    >>> history = History.of([("tea", datetime(2024, 1, 3))])
    >>> [s.item_id for s in model.suggest(history, 5, datetime(2024, 1, 5))]
    ['pot']
    """

    items: list[str]
    names: list[str | None]
    item_factors: np.ndarray
    gram: np.ndarray
    neighbour_index: np.ndarray
    neighbour_weight: np.ndarray
    popularity: np.ndarray
    trending: np.ndarray
    """Buyers per item over the last ``trending_days``, the largest 1."""
    momentum: np.ndarray
    """Per item its buyers per day over the last 30 days over those of the last 180 (smoothed)."""
    repeat: np.ndarray
    """Per item the share of its buyers who bought it on two days or more (smoothed)."""
    trained_until: datetime
    blend: Blend = field(default_factory=Blend)
    customers: int = 0
    ranker: Trees | None = None
    """The learned re-ranker of the blend's candidates (None: the blend alone ranks)."""
    pool: Pool | None = None
    """The training customers' frequency vectors, to find a customer's nearest (None: none)."""
    _positions: dict[str, int] = field(default_factory=dict, repr=False)
    _factors64: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    def __post_init__(self) -> None:
        self._positions = {item: i for i, item in enumerate(self.items)}
        self._factors64 = self.item_factors.astype(np.float64)
        if self.pool is None:
            self.pool = Pool.empty(len(self.items))

    def position(self, item: str) -> int | None:
        """The item's row in the model, or None when it was not in the training data."""
        return self._positions.get(item)

    # -- training ------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        purchases: pl.DataFrame,
        *,
        names: dict[str, str] | None = None,
        blend: Blend | None = None,
        threads: int = 0,
        seed: int = 7,
    ) -> SuggestionModel:
        """Learn item factors, neighbours and popularity from ``purchases``.

        ``purchases`` needs the columns of :data:`PURCHASE_COLUMNS`. ``threads`` 0 uses one
        thread below a million purchases and every core above.
        """
        blend = blend or Blend()
        frame = purchases.select(list(PURCHASE_COLUMNS)).cast(PURCHASE_COLUMNS)  # type: ignore[arg-type]
        frame = frame.drop_nulls(["customer_id", "item_id", "at"])
        items = sorted(frame["item_id"].unique().to_list())
        trained_until: datetime = frame["at"].max() if frame.height else datetime(1970, 1, 1)  # type: ignore[assignment]
        item_pos = pl.DataFrame(
            {"item_id": items, "i": np.arange(len(items), dtype=np.int32)}
        ).cast({"item_id": pl.String})
        customers = frame["customer_id"].unique().sort()
        cust_pos = pl.DataFrame(
            {"customer_id": customers, "u": np.arange(len(customers), dtype=np.int32)}
        )
        counts = (
            frame.with_columns(pl.col("basket_id").fill_null(pl.col("at").cast(pl.String)))
            .group_by("customer_id", "item_id")
            .agg(pl.col("basket_id").n_unique().alias("baskets"))
            .join(cust_pos, on="customer_id")
            .join(item_pos, on="item_id")
        )
        shape = (len(customers), len(items))
        u, i = counts["u"].to_numpy(), counts["i"].to_numpy()
        baskets = counts["baskets"].to_numpy().astype(np.float32)
        confidence = sparse.csr_matrix(
            (blend.alpha * np.log1p(baskets), (u, i)), shape=shape, dtype=np.float32
        )
        factors = _als_item_factors(confidence, blend, threads or _threads(frame.height), seed)
        index, weight = _neighbours(
            sparse.csr_matrix((np.ones_like(baskets), (u, i)), shape=shape), blend.neighbours
        )
        popularity = _buyers_since(frame, item_pos, trained_until, blend.popular_days)
        trending = _buyers_since(frame, item_pos, trained_until, blend.trending_days)
        momentum = _momentum(frame, item_pos, trained_until)
        pool = Pool.of(frame, item_pos, blend.basket_decay) if blend.knn > 0 else None
        known = names or {}
        ranker = (
            _fit_ranker(frame, trained_until, blend, threads, seed)
            if blend.rerank_days > 0
            else None
        )
        return cls(
            items=items,
            names=[known.get(item) for item in items],
            item_factors=factors,
            gram=(factors.T @ factors).astype(np.float64),
            neighbour_index=index,
            neighbour_weight=weight,
            popularity=popularity,
            trending=trending,
            momentum=momentum,
            repeat=_repeat_share(frame, item_pos),
            trained_until=trained_until,
            blend=blend,
            customers=len(customers),
            ranker=ranker,
            pool=pool,
        )

    # -- ranking -------------------------------------------------------------------------------
    def popular(self, n: int, exclude: frozenset[str] = frozenset()) -> list[Suggestion]:
        """The most popular items of the last ``popular_days``: the same for everyone."""
        order = np.argsort(-self.popularity, kind="stable")
        out: list[Suggestion] = []
        for i in order:
            if len(out) == n or self.popularity[i] <= 0:
                break
            if self.items[i] in exclude:
                continue
            out.append(self._suggestion(i, float(self.popularity[i]), "popular", None))
        return out

    def scores(self, history: History, now: datetime) -> dict[str, np.ndarray]:
        """Each signal's score for every item (0 where it says nothing), for this customer."""
        return {k: v[0] for k, v in self._scores([self._owned(history, now)]).items()}

    def _owned(self, history: History, now: datetime) -> _Owned:
        """The customer's known items as arrays, computed once per answer (no loop per buy:
        a wholesaler owns thousands)."""
        rows = np.fromiter(
            (self._positions.get(k, -1) for k in history.items), np.int64, len(history.items)
        )
        known = rows >= 0
        keys = [k for k, ok in zip(history.items, known, strict=True) if ok]
        buys = history.buys[known]
        bought = history.bought[np.repeat(known, history.buys)].astype(np.float64)
        midnight = datetime(now.year, now.month, now.day)
        today = now.toordinal() + (now - midnight).total_seconds() / 86400
        ages = today - bought
        group = np.repeat(np.arange(len(keys)), buys)
        weights = np.exp(-np.maximum(np.floor(ages), 0.0) / self.blend.recency_days)
        last = np.cumsum(buys) - 1
        all_days = np.unique(history.bought)
        cycle, shortest = _gaps(bought, group, buys, self.blend.cycle_min_buys)
        frequency = np.zeros(0)
        if self.blend.knn > 0:  # only the similar-customers signal reads it
            decay = self.blend.basket_decay
            recent, baskets = day_weights(bought.astype(np.int64), all_days, decay)
            counts = np.bincount(group, weights=recent, minlength=len(keys))
            frequency = counts / max(baskets, 1e-12)
        return _Owned(
            keys=keys,
            idx=rows[known],
            buys=buys.astype(np.float64),
            since=ages[last] if len(keys) else np.zeros(0),
            decayed=np.bincount(group, weights=weights, minlength=len(keys)),
            cycle=cycle,
            shortest=shortest,
            frequency=frequency,
            visits=int(all_days.size),
            tenure=float(today - history.bought.min()) if history.bought.size else 0.0,
        )

    def _scores(self, owned: Sequence[_Owned]) -> dict[str, np.ndarray]:
        """The signals for several customers at once: one row per customer, each scaled to
        its own largest value."""
        b = self.blend
        n, count = len(self.items), len(owned)
        own = np.zeros((count, n))
        co = np.zeros((count, n))
        als = np.zeros((count, n))
        knn = np.zeros((count, n))
        row = np.repeat(np.arange(count), [len(o.keys) for o in owned])
        if row.size:
            idx = np.concatenate([o.idx for o in owned])
            since = np.concatenate([o.since for o in owned])
            decayed = np.concatenate([o.decayed for o in owned])
            freshness = np.exp(-np.maximum(np.floor(since), 0) / b.recency_days)
            # Each buy counts the less the longer ago it was (a decayed count), and more for a
            # product that many of its buyers buy again than for a one-off.
            # (A floor: in a shop where nobody bought anything twice yet, own buys still count.)
            own[row, idx] = decayed * np.sqrt(np.maximum(self.repeat[idx], 0.01))
            own /= _row_max(own)
            contribution = self.neighbour_weight[idx] * freshness[:, None]
            cells = row[:, None] * n + self.neighbour_index[idx]
            co[:] = np.bincount(cells.ravel(), contribution.ravel(), count * n).reshape(count, n)
            co /= _row_max(co)
            als = self._als_scores(owned)
            if b.knn > 0 and self.pool is not None and self.pool.norms.size:
                frequency = np.zeros((count, n))
                frequency[row, idx] = np.concatenate([o.frequency for o in owned])
                knn = self.pool.scores(frequency, b.similar_customers)
                knn /= _row_max(knn)
        popular = np.broadcast_to(self.trending.astype(np.float64), (count, n))
        return {"own": own, "co": co, "als": als, "knn": knn, "popular": popular}

    def suggest(
        self, history: History, n: int, now: datetime, *, only_new: bool = False
    ) -> list[Suggestion]:
        """The ``n`` best items for the customer with this history, as of ``now``.

        Items returned are left out; so are items bought within ``just_bought_days`` and
        repeat items whose cycle says they are not due yet. ``only_new`` leaves out everything
        the customer bought before.
        """
        return self.suggest_many([history], n, now, only_new=only_new)[0]

    def suggest_many(
        self, histories: Sequence[History], n: int, now: datetime, *, only_new: bool = False
    ) -> list[list[Suggestion]]:
        """:meth:`suggest` for many customers, ranked together (one batched solve and one
        matrix product per slice of customers, not one each): a campaign's recipients.

        >>> from datetime import datetime
        >>> frame = pl.DataFrame({"customer_id": ["a", "a", "b"], "item_id": ["tea", "pot", "tea"],
        ...     "at": [datetime(2024, 1, 1)] * 3, "basket_id": ["1", "1", "2"]})
        >>> model = SuggestionModel.fit(frame, blend=Blend(factors=2, iterations=2))
        >>> many = [History.of([("tea", datetime(2024, 2, 1))]), History()]
        >>> found = model.suggest_many(many, 1, datetime(2024, 2, 2))
        >>> [[s.item_id for s in one] for one in found]
        [['pot'], ['tea']]
        """
        owned = [self._owned(h, now) for h in histories]
        out = [
            [] if o.keys else self.popular(n, h.returned)
            for h, o in zip(histories, owned, strict=True)
        ]
        personal = [j for j, o in enumerate(owned) if o.keys]
        for start in range(0, len(personal), _SLICE):
            part = personal[start : start + _SLICE]
            found = self._ranked(
                [histories[j] for j in part], [owned[j] for j in part], n, now, only_new
            )
            for j, one in zip(part, found, strict=True):
                out[j] = one
        return out

    def _ranked(
        self,
        histories: Sequence[History],
        owned: Sequence[_Owned],
        n: int,
        now: datetime,
        only_new: bool,
    ) -> list[list[Suggestion]]:
        """Each customer's top ``n`` from their signals, with the rules and the reasons: one
        row per customer in every matrix."""
        parts = self._scores(owned)
        weighted, total = self._blended(parts)
        self._block(total, histories, owned, only_new)
        if self.ranker is not None:
            total = self._reranked(parts, total, owned, n)
        top = _top_rows(total, n)
        return [
            self._explained_row(row, top[row], total, weighted, histories[row], owned[row], n, now)
            for row in range(len(owned))
        ]

    def _blended(self, parts: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The weighted signals and their sum: the blend's score of every product."""
        b = self.blend
        # What sells more than usual now counts more in the personal signals (a season).
        boost = np.power(self.momentum.astype(np.float64), b.momentum)
        weighted = {
            "own": b.own * parts["own"] * boost,
            "als": b.als * parts["als"] * boost,
            "co": b.co * parts["co"] * boost,
            "knn": b.knn * parts["knn"] * boost,
            "popular": b.popular * parts["popular"],
        }
        total = sum(weighted.values(), start=np.zeros_like(parts["own"]))
        return weighted, total

    def _block(
        self,
        total: np.ndarray,
        histories: Sequence[History],
        owned: Sequence[_Owned],
        only_new: bool,
    ) -> None:
        """Set to -inf, in place, what the rules leave out of each customer's row."""
        b = self.blend
        blocked_rows: list[np.ndarray] = []
        blocked_items: list[np.ndarray] = []
        for row, (history, mine) in enumerate(zip(histories, owned, strict=True)):
            if only_new:
                block = mine.idx
            else:
                # A regular buy is left out while even its shortest gap so far ends beyond
                # the horizon, or, bought just now, until its cycle says it is due (only a
                # regular pace lifts the just-bought rule). Purchases are rarely regular: on
                # the validation window a third of the products whose median gap was not due
                # were bought in it.
                regular = ~np.isnan(mine.cycle)
                due = regular & (mine.cycle - mine.since <= b.due_within_days)
                may_be_due = regular & (mine.shortest - mine.since <= b.due_within_days)
                just_bought = mine.since < b.just_bought_days
                not_due = regular & ~due & (just_bought | ~may_be_due)
                block = mine.idx[not_due | (~regular & just_bought)]
            returned = [self._positions.get(item) for item in history.returned]
            block = np.concatenate((block, [i for i in returned if i is not None])).astype(np.int64)
            blocked_rows.append(np.full(block.size, row))
            blocked_items.append(block)
        if blocked_rows:
            total[np.concatenate(blocked_rows), np.concatenate(blocked_items)] = -np.inf

    def _candidates(
        self, total: np.ndarray, count: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per customer the blend's best ``count`` products that have a score: their rows,
        columns and places in the blend's order (0 the best)."""
        top = _top_rows(total, count)
        place = np.broadcast_to(np.arange(top.shape[1]), top.shape)
        rows = np.broadcast_to(np.arange(top.shape[0])[:, None], top.shape)
        keep = np.take_along_axis(total, top, axis=1) > 0
        return rows[keep], top[keep], place[keep]

    def _reranked(
        self, parts: dict[str, np.ndarray], total: np.ndarray, owned: Sequence[_Owned], n: int
    ) -> np.ndarray:
        """The re-ranker's scores of each customer's candidates (a probability), -inf elsewhere."""
        assert self.ranker is not None
        rows, cols, place = self._candidates(total, max(n, self.blend.candidates))
        features = self._features(parts, total, owned, rows, cols, place)
        out = np.full_like(total, -np.inf)
        out[rows, cols] = 1.0 / (1.0 + np.exp(-self.ranker.score(features)))
        return out

    def _features(
        self,
        parts: dict[str, np.ndarray],
        total: np.ndarray,
        owned: Sequence[_Owned],
        rows: np.ndarray,
        cols: np.ndarray,
        place: np.ndarray,
    ) -> np.ndarray:
        """One row of :data:`FEATURES` per (customer row, product column) pair."""
        sizes = [len(o.keys) for o in owned]
        where = np.full(total.shape, -1, dtype=np.int64)
        if sum(sizes):
            owner = np.repeat(np.arange(len(owned)), sizes)
            where[owner, np.concatenate([o.idx for o in owned])] = np.arange(sum(sizes))
        at = where[rows, cols]
        mine = at >= 0

        def own(values: list[np.ndarray], missing: float) -> np.ndarray:
            out = np.full(rows.size, missing)
            if sum(sizes):
                out[mine] = np.concatenate(values)[at[mine]]
            return out

        buys = own([o.buys for o in owned], 0.0)
        since = own([o.since for o in owned], np.nan)
        cycle = own([o.cycle for o in owned], np.nan)
        visits = np.array([max(o.visits, 1) for o in owned], dtype=np.float64)[rows]
        last = np.array([o.since.min() if o.keys else np.nan for o in owned])[rows]
        columns = {
            "own": parts["own"][rows, cols],
            "als": parts["als"][rows, cols],
            "co": parts["co"][rows, cols],
            "trending": self.trending[cols],
            "popular": self.popularity[cols],
            "momentum": self.momentum[cols],
            "repeat": self.repeat[cols],
            "blend": total[rows, cols],
            "rank": place,
            "buys": buys,
            "since": since,
            "decayed": own([o.decayed for o in owned], 0.0),
            "cycle": cycle,
            "due": since / cycle,
            "share": buys / visits,
            "items": np.array(sizes, dtype=np.float64)[rows],
            "visits": visits,
            "tenure": np.array([o.tenure for o in owned])[rows],
            "last": last,
        }
        return np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in FEATURES])

    def training_rows(
        self, histories: Sequence[History], answers: Sequence[set[str]], now: datetime
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The re-ranker's features of these customers' candidates as of ``now``, whether
        each candidate is among the products they went on to buy, and the customer of each
        (their place in ``histories``)."""
        features, labels, whose = [], [], []
        for start in range(0, len(histories), _SLICE):
            part = histories[start : start + _SLICE]
            owned = [self._owned(h, now) for h in part]
            parts = self._scores(owned)
            _, total = self._blended(parts)
            self._block(total, part, owned, only_new=False)
            rows, cols, place = self._candidates(total, self.blend.candidates)
            features.append(self._features(parts, total, owned, rows, cols, place))
            wanted = answers[start : start + _SLICE]
            labels.append(
                np.array([self.items[c] in wanted[r] for r, c in zip(rows, cols, strict=True)])
            )
            whose.append(rows + start)
        return np.concatenate(features), np.concatenate(labels), np.concatenate(whose)

    def _explained_row(
        self,
        row: int,
        top: np.ndarray,
        total: np.ndarray,
        weighted: dict[str, np.ndarray],
        history: History,
        owned: _Owned,
        n: int,
        now: datetime,
    ) -> list[Suggestion]:
        # The replenishment reason only where the cycle says it is due (a regular buy can be
        # suggested earlier, when the customer has bought it again that soon before).
        due = owned.cycle - owned.since <= self.blend.due_within_days
        cycles = {
            int(i): (float(c), float(s))
            for i, c, s in zip(owned.idx[due], owned.cycle[due], owned.since[due], strict=True)
        }
        scores = total[row]
        mine = set(owned.idx.tolist())
        out = []
        for i in top:
            if not np.isfinite(scores[i]) or scores[i] <= 0:
                break
            kind = max(weighted, key=lambda k: weighted[k][row, i])
            if kind in ("als", "knn") and i in mine:
                # Their own product: say so, not that other customers buy it.
                kind = "own"
            out.append(self._explained(int(i), float(scores[i]), kind, history, owned, cycles, now))
        if len(out) < n:
            blocked = {self.items[i] for i in np.flatnonzero(np.isneginf(scores))}
            seen = {s.item_id for s in out} | blocked | set(history.returned)
            out += self.popular(n - len(out), exclude=frozenset(seen))
        return out

    def _als_scores(self, owned: Sequence[_Owned]) -> np.ndarray:
        # Hu, Koren & Volinsky (2008), eq. 4: x_u = (YtY + Yt(C_u - I)Y + lambda I)^-1 Yt C_u p(u),
        # one system per customer, solved together.
        f = self.item_factors.shape[1]
        a = np.empty((len(owned), f, f))
        rhs = np.empty((len(owned), f, 1))
        # BLAS threads for small solves only wait for each other on a busy machine (a
        # wholesaler's answer took 200 ms with them, 10 ms without).
        with _blas().limit(limits=1, user_api="blas"):
            for j, o in enumerate(owned):
                y = self.item_factors[o.idx].astype(np.float64)
                c = 1.0 + self.blend.alpha * np.log1p(o.buys)
                a[j] = self.gram + (y.T * (c - 1.0)) @ y
                rhs[j, :, 0] = y.T @ c
            diagonal = np.arange(f)
            a[:, diagonal, diagonal] += self.blend.regularization
            users = np.linalg.solve(a, rhs)[:, :, 0]
            # In float64: a slice of customers and one customer alone get the same scores.
            raw = users @ self._factors64.T
        return np.clip(raw / _row_max(raw), 0.0, None)

    def _explained(
        self,
        i: int,
        score: float,
        kind: str,
        history: History,
        owned: _Owned,
        cycles: dict[int, tuple[float, float]],
        now: datetime,
    ) -> Suggestion:
        if i in cycles:
            cycle, since = cycles[i]
            if since > LAPSED_CYCLES * cycle:
                # Three cycles missed: a habit they had, not one that is due ("you buy this
                # about every 4 weeks; last time 11 months ago" is not true of them).
                reason = f"you used to buy this {_every(cycle)}; last time {_ago(since)}"
                return self._suggestion(i, score, "favourite", reason)
            reason = f"you buy this {_every(cycle)}; last time {_ago(since)}"
            return self._suggestion(i, score, "replenishment", reason)
        if kind == "own":
            days = history.days_of(self.items[i])
            times = f"{len(days)} times" if len(days) > 1 else "once"
            reason = f"you bought this {times}, last in {_month(days[-1], now)}"
            return self._suggestion(i, score, "favourite", reason)
        if kind == "co":
            anchor = self._anchor(i, owned)
            if anchor is not None:
                name = self.names[self._positions[anchor]] or anchor
                when = _month(history.days_of(anchor)[-1], now)
                reason = f"often bought with the {name} you bought in {when}"
                return self._suggestion(i, score, "bought_with", reason)
        if kind == "popular":
            return self._suggestion(i, score, "popular", None)
        reason = "customers who buy what you buy also buy this"
        return self._suggestion(i, score, "similar_customers", reason)

    def _anchor(self, i: int, owned: _Owned) -> str | None:
        """The item of the customer's history most similar to item ``i``."""
        if not owned.keys:
            return None
        rows = owned.idx
        # One array operation, not one per owned item: a wholesaler owns thousands.
        weights = np.where(self.neighbour_index[rows] == i, self.neighbour_weight[rows], 0.0)
        best = weights.max(axis=1)
        top = int(np.argmax(best))
        return owned.keys[top] if best[top] > 0 else None

    def _suggestion(self, i: int, score: float, kind: str, reason: str | None) -> Suggestion:
        days = self.blend.popular_days
        text = reason or f"popular with customers over the last {days} days"
        return Suggestion(self.items[i], self.names[i], round(score, 4), text, kind)

    # -- storing -------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The model as one compressed NumPy archive (no pickle)."""
        buffer = io.BytesIO()
        blend = np.array(
            [getattr(self.blend, f) for f in Blend.__dataclass_fields__], dtype=np.float64
        )
        np.savez_compressed(
            buffer,
            items=np.array(self.items, dtype=np.str_),
            names=np.array([n or "" for n in self.names], dtype=np.str_),
            item_factors=self.item_factors,
            gram=self.gram,
            neighbour_index=self.neighbour_index,
            neighbour_weight=self.neighbour_weight,
            popularity=self.popularity,
            trending=self.trending,
            momentum=self.momentum,
            repeat=self.repeat,
            trained_until=np.array([self.trained_until.isoformat()], dtype=np.str_),
            blend=blend,
            customers=np.array([self.customers]),
            **(
                (self.pool or Pool.empty(len(self.items))).arrays()
                | (self.ranker.arrays() if self.ranker is not None else NO_TREES)
            ),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SuggestionModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if "momentum" not in z.files:
                raise ValueError("a model stored by an older cornerstore: train again")
            fields: dict[str, Any] = {}
            # A model stored before the re-ranker's settings existed has fewer: their defaults.
            for name, value in zip(Blend.__dataclass_fields__, z["blend"], strict=False):
                kind = Blend.__dataclass_fields__[name].type
                fields[name] = int(value) if kind == "int" else float(value)
            return cls(
                items=[str(i) for i in z["items"]],
                names=[str(n) or None for n in z["names"]],
                item_factors=z["item_factors"],
                gram=z["gram"],
                neighbour_index=z["neighbour_index"],
                neighbour_weight=z["neighbour_weight"],
                popularity=z["popularity"],
                trending=z["trending"],
                momentum=z["momentum"],
                repeat=z["repeat"],
                trained_until=datetime.fromisoformat(str(z["trained_until"][0])),
                blend=Blend(**fields),
                customers=int(z["customers"][0]),
                pool=Pool.from_arrays(
                    {k: z[k] for k in z.files if k.startswith("pool_")}, len(z["items"])
                ),
                ranker=Trees.from_arrays({k: z[k] for k in z.files if k.startswith("ranker_")})
                if "ranker_value" in z.files
                else None,
            )


def _fit_ranker(
    frame: pl.DataFrame, until: datetime, blend: Blend, threads: int, seed: int
) -> Trees | None:
    """Fit the re-ranker inside the training data, on ``rerank_windows`` windows of
    ``rerank_days`` before ``until``: for each, the blend learns from the history before it, and
    the trees learn which of its candidates the customers (two baskets or more before, a
    purchase in it) then bought. None when too few customers are labelled.
    """
    end = datetime(until.year, until.month, until.day) + timedelta(days=1)
    found = [
        _ranker_rows(frame, end - timedelta(days=w * blend.rerank_days), blend, threads, seed)
        for w in range(1, blend.rerank_windows + 1)
    ]
    rows = [f for f in found if f is not None]
    if not rows:
        return None
    labels = np.concatenate([r[1] for r in rows])
    if labels.all() or not labels.any():
        return None
    # Each window's customers numbered after the last window's.
    offsets = np.cumsum([0] + [r[3].size for r in rows[:-1]])
    return Trees.fit(
        np.concatenate([r[0] for r in rows]),
        labels,
        np.concatenate([r[2] + o for r, o in zip(rows, offsets, strict=True)]),
        np.concatenate([r[3] for r in rows]),
        trees=blend.trees,
        leaves=blend.leaves,
        seed=seed,
    )


def _ranker_rows(
    frame: pl.DataFrame, cut: datetime, blend: Blend, threads: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """One window from ``cut``: the re-ranker's features and labels, the customer of each row,
    and per customer how many products they bought."""
    before = frame.filter(pl.col("at") < cut)
    after = frame.filter(
        pl.col("at").is_between(cut, cut + timedelta(days=blend.rerank_days), closed="left")
    )
    regulars = (
        before.group_by("customer_id")
        .agg(pl.col("basket_id").n_unique().alias("baskets"))
        .filter(pl.col("baskets") >= 2)["customer_id"]
    )
    bought = dict(
        after.filter(pl.col("customer_id").is_in(regulars.implode()))
        .group_by("customer_id")
        .agg(pl.col("item_id").unique())
        .iter_rows()
    )
    if len(bought) < blend.rerank_min_customers:
        return None
    inner = replace(blend, rerank_days=0, due_within_days=blend.rerank_days)
    model = SuggestionModel.fit(before, blend=inner, threads=threads, seed=seed)
    histories, answers = [], []
    for customer, items, ats in (
        before.filter(pl.col("customer_id").is_in(list(bought)))
        .group_by("customer_id")
        .agg("item_id", "at")
        .sort("customer_id")
        .iter_rows()
    ):
        histories.append(History.of(list(zip(items, ats, strict=True))))
        answers.append(set(bought[customer]))
    features, labels, whose = model.training_rows(histories, answers, cut)
    return features, labels, whose, np.array([len(a) for a in answers])


def _gaps(
    days: np.ndarray, group: np.ndarray, buys: np.ndarray, min_buys: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group the median and the shortest gap between its sorted ``days`` (NaN below
    ``min_buys`` days).

    ``days`` are sorted within each group and the groups lie one after another, ``buys`` long.

    >>> median, shortest = _gaps(np.array([1.0, 8, 20, 29, 5, 6]), np.array([0, 0, 0, 0, 1, 1]),
    ...     np.array([4, 2]), 3)
    >>> median.tolist(), shortest.tolist()
    ([9.0, nan], [7.0, nan])
    """
    out = np.full(buys.size, np.nan)
    shortest = np.full(buys.size, np.nan)
    if days.size < 2:
        return out, shortest
    same = group[1:] == group[:-1]
    gaps = np.diff(days)[same]
    owner = group[1:][same]
    gaps = gaps[np.lexsort((gaps, owner))]  # sorted within each group
    count = np.maximum(buys - 1, 0)  # gaps per group
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    wanted = np.flatnonzero((buys >= min_buys) & (count > 0))
    low = gaps[start[wanted] + (count[wanted] - 1) // 2]
    high = gaps[start[wanted] + count[wanted] // 2]
    out[wanted] = (low + high) / 2
    shortest[wanted] = gaps[start[wanted]]
    return out, shortest


def _buyers_since(
    frame: pl.DataFrame, item_pos: pl.DataFrame, until: datetime, days: int, scaled: bool = True
) -> np.ndarray:
    """Distinct buyers per item over the last ``days`` before ``until`` (the largest 1 when
    ``scaled``)."""
    recent = (
        frame.filter(pl.col("at") > until - timedelta(days=days))
        .group_by("item_id")
        .agg(pl.col("customer_id").n_unique().alias("buyers"))
        .join(item_pos, on="item_id")
    )
    buyers = np.zeros(item_pos.height, dtype=np.float32)
    buyers[recent["i"].to_numpy()] = recent["buyers"].to_numpy()
    if scaled and buyers.size and buyers.max() > 0:
        buyers /= buyers.max()
    return buyers


def _momentum(
    frame: pl.DataFrame, item_pos: pl.DataFrame, until: datetime, smooth: float = 0.05
) -> np.ndarray:
    """Per item (buyers per day over the last 30 days + smooth) / (the same over 180 days).

    Above 1 for what sells more than usual now; ``smooth`` (buyers per day) keeps an item
    with a handful of buyers near 1.
    """
    recent = _buyers_since(frame, item_pos, until, 30, scaled=False) / 30
    usual = _buyers_since(frame, item_pos, until, 180, scaled=False) / 180
    return ((recent + smooth) / (usual + smooth)).astype(np.float32)


def _repeat_share(frame: pl.DataFrame, item_pos: pl.DataFrame, prior: float = 5.0) -> np.ndarray:
    """Per item the share of its buyers who bought it on two days or more.

    Shrunk towards the shop's overall share by ``prior`` pseudo-buyers, so an item with two
    buyers does not claim 0 or 1.
    """
    per_buyer = (
        frame.group_by("customer_id", "item_id")
        .agg(pl.col("at").dt.date().n_unique().alias("days"))
        .with_columns((pl.col("days") >= 2).cast(pl.Float64).alias("again"))
    )
    overall = float(per_buyer["again"].to_numpy().mean()) if per_buyer.height else 0.0
    per_item = (
        per_buyer.group_by("item_id")
        .agg(pl.col("again").sum(), pl.len().alias("buyers"))
        .join(item_pos, on="item_id")
    )
    share = np.full(item_pos.height, overall, dtype=np.float32)
    share[per_item["i"].to_numpy()] = (
        (per_item["again"] + prior * overall) / (per_item["buyers"] + prior)
    ).to_numpy()
    return share


_SLICE = 256
"""Customers ranked together: a few (customers x items) matrices of this many rows."""


def _row_max(matrix: np.ndarray) -> np.ndarray:
    """Each row's largest value as a column, 1 where it is not above 0 (a row to divide by)."""
    top = matrix.max(axis=1, keepdims=True) if matrix.shape[1] else np.ones((len(matrix), 1))
    return np.where(top > 0, top, 1.0)


def _top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Per row the columns of its ``n`` largest values, largest first (ties by column)."""
    n = min(n, scores.shape[1])
    if n <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


@functools.cache
def _blas() -> Any:
    """The process's thread pools (found once: finding them takes milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _threads(purchases: int) -> int:
    # A small history trains faster on one thread than it takes to start several.
    return 1 if purchases < 1_000_000 else max(1, os.cpu_count() or 1)


def _als_item_factors(
    confidence: sparse.csr_matrix, blend: Blend, threads: int, seed: int
) -> np.ndarray:
    if confidence.shape[0] == 0 or confidence.shape[1] == 0:
        return np.zeros((confidence.shape[1], blend.factors), dtype=np.float32)
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    # implicit runs its own threads; BLAS threads on top of them only contend.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=blend.factors,
            regularization=blend.regularization,
            iterations=blend.iterations,
            num_threads=threads,
            random_state=seed,
            calculate_training_loss=False,
        )
        model.fit(confidence, show_progress=False)
    return np.ascontiguousarray(model.item_factors, dtype=np.float32)


def _neighbours(buyers: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per item the ``k`` items with the most similar buyers (cosine), and the similarities."""
    n = buyers.shape[1]
    k = max(1, min(k, max(n - 1, 1)))
    index = np.zeros((n, k), dtype=np.int32)
    weight = np.zeros((n, k), dtype=np.float32)
    if n < 2:
        return index, weight
    by_item = buyers.T.tocsr()
    norms = np.sqrt(np.asarray(by_item.multiply(by_item).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    for start in range(0, n, 1024):
        block = (by_item[start : start + 1024] @ by_item.T).toarray()
        block /= norms[start : start + 1024, None] * norms[None, :]
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = 0.0
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(block, top, axis=1)
        index[start : start + block.shape[0]] = top
        weight[start : start + block.shape[0]] = values
    return index, weight
