"""Customers as integer keys while learning: each id's rank among the ids in byte order.

A learning run joins per-customer frames over the whole base (the slices' summaries, loyalty,
value, churn, the segments' facts, the scores). Keyed by the text id, every one of those frames
carries the id again (about 36 bytes a row as an Arrow string view for a 20-character id) and
every join hashes and compares text; keyed by an integer, a row's key takes 4 bytes.

The key is the id's position among all the run's ids sorted by byte, the order Polars sorts text
in, so sorting by key is sorting by id: whatever depended on the order of customers (the
clusters' sample, the order scores and moments are written in, ties broken by id) is the same.
Ids become text again only where they leave the run: the scores, moments and segment members
written, a slice at a time.

Examples
--------
>>> keys = CustomerKeys(pl.Series(["c", "a", "b"]))
>>> keyed = keys.keyed(pl.DataFrame({"customer_id": ["b", "c", "b"], "n": [1, 2, 3]}))
>>> keyed.rows()
[(1, 1), (2, 2), (1, 3)]
>>> keys.named(keyed)["customer_id"].to_list()
['b', 'c', 'b']
"""

from __future__ import annotations

import logging

import polars as pl

logger = logging.getLogger(__name__)


class CustomerKeys:
    """The ids of a learning run's customers and their integer keys (see the module)."""

    def __init__(self, ids: pl.Series) -> None:
        ids = ids.cast(pl.String).rename("customer_id")
        # Stored in id order already (SQLite's order of text is by byte): sorted only when not.
        self.ids = ids if ids.is_sorted() else ids.sort()
        self.dtype: pl.DataType = pl.UInt32() if len(self.ids) < 2**32 else pl.UInt64()

    def __len__(self) -> int:
        return len(self.ids)

    def keys_of(self, ids: pl.Series) -> pl.Series:
        """The keys of ``ids`` (each one of the run's ids)."""
        return self.ids.search_sorted(ids, "left").cast(self.dtype).rename(ids.name)

    def ids_of(self, keys: pl.Series) -> pl.Series:
        """The ids of ``keys``."""
        return self.ids.gather(keys).rename(keys.name)

    def keyed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with its ``customer_id`` column as keys, in the same order.

        Rows of customers who are not among the run's ids (a customer who arrived after the
        run listed its customers, and whose consent it did not check) are left out: the next
        run learns about them.
        """
        ids = frame["customer_id"]
        if ids.dtype == self.dtype:
            return frame
        if frame.height == 0 or len(self.ids) == 0:
            return frame.head(0).cast({"customer_id": self.dtype})
        keys = self.keys_of(ids)
        known = keys < len(self.ids)
        known = known & (self.ids.gather(keys.clip(upper_bound=len(self.ids) - 1)) == ids)
        if not known.all():
            logger.info(
                "learn: %d rows of customers who arrived after the run began left out",
                frame.height - known.sum(),
            )
            return frame.with_columns(keys).filter(known)
        return frame.with_columns(keys)

    def named(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with its ``customer_id`` keys as the ids again, in the same order."""
        if frame["customer_id"].dtype == pl.String:
            return frame
        return frame.with_columns(self.ids_of(frame["customer_id"]))
