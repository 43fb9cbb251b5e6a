"""The identifiers intake stitched last, kept between batches while nothing else writes.

Most messages come from returning customers, whose identifiers a batch looks up again and
again (two statements of some hundreds of values a batch on SQLite, about a sixth of intake's
time). :class:`KnownIdentifiers` keeps the owner and root of each identifier a committed
batch read or stored, and hands them to the next batch only while the database is as that
batch left it: the same SQLite connection, no commit by any other connection or process since
(``PRAGMA data_version``) and no row changed by its own connection outside intake (an
erasure, a merge undone, a placement; ``total_changes``). Anything else, a PostgreSQL store
included, clears it, and the batch looks every identifier up as before.
"""

from __future__ import annotations

from collections.abc import Mapping

from cornerstore.storage.unit_of_work import UnitOfWork, WriteMark

Key = tuple[str, str]  # (kind, normalised value)


class KnownIdentifiers:
    """Owners (identifier -> profile row) and roots (profile row -> root) as the last committed
    intake transaction left them.

    Only the thread that writes intake's batches uses it (the group committer's leader, one at
    a time). ``limit`` bounds the identifiers kept (100,000 take about 30 MB); past it, it
    starts again empty.

    Examples
    --------
    >>> known = KnownIdentifiers()
    >>> known.learn({("user_id", "u1"): "cus_1"}, {"cus_1": "cus_1"}, mark=None)
    >>> known.owners  # no mark (PostgreSQL): nothing is kept
    {}
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.owners: dict[Key, str] = {}
        self.roots: dict[str, str] = {}
        self._mark: WriteMark | None = None

    def check(self, uow: UnitOfWork) -> bool:
        """Whether nothing was written since the last :meth:`learn`; else everything is
        forgotten. Call it in the writing transaction about to use :attr:`owners` and
        :attr:`roots`, before it writes."""
        if self._mark is not None and uow.unchanged_since(self._mark):
            return True
        self.forget()
        return False

    def learn(
        self, owners: Mapping[Key, str], roots: Mapping[str, str], mark: WriteMark | None
    ) -> None:
        """Keep what a transaction read and stored, once it is committed; ``mark`` is where it
        left the database (None: nothing is kept)."""
        if mark is None:
            self.forget()
            return
        if len(self.owners) + len(owners) > self.limit:
            self.forget()
        self.owners.update(owners)
        self.roots.update(roots)
        self._mark = mark

    def forget(self) -> None:
        self.owners = {}
        self.roots = {}
        self._mark = None
