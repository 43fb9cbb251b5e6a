"""The one rule of who has an open complaint, shared by the contact centre, campaigns and the
next best action: no marketing reaches a customer while the shop still owes them an answer.

A customer has an open complaint while one of their cases (on any of their profile rows, so
after identity resolution and through merges) is open or waiting on the customer
(:data:`~cornerstore.cases.model.OPEN_STATUSES`) and its category is one of the complaint
categories in settings (``cases.complaint_categories``; by default complaint, delivery,
damaged item, wrong item, refund and billing). A product question is a case but not a
complaint; a resolved or closed complaint is no longer open, and reopening it makes it open
again.
"""

from __future__ import annotations

from collections.abc import Collection

from cornerstore.cases.model import OPEN_STATUSES
from cornerstore.settings import CaseSettings
from cornerstore.storage.unit_of_work import UnitOfWork


def customers_with_open_complaint(
    uow: UnitOfWork,
    customer_ids: Collection[str] | None = None,
    settings: CaseSettings | None = None,
) -> set[str]:
    """The customers among ``customer_ids`` (all when None) who have an open complaint.

    Ids are customer ids as the rest of cornerstore gives them (a customer's root profile id);
    a merged-away profile id counts as the customer it belongs to now. The answer holds the
    ids asked about that have one (every customer's root id when ``customer_ids`` is None);
    unknown ids are left out.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> store = open_store("sqlite://", upgrade=True)
    >>> with store.unit_of_work() as uow:
    ...     customers_with_open_complaint(uow, ["nobody"])
    set()
    """
    categories = (settings or CaseSettings()).complaint_categories
    if customer_ids is None:
        return uow.cases.open_roots(categories, OPEN_STATUSES, None)
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return set()
    roots = uow.customers.roots_of(ids)
    found = uow.cases.open_roots(categories, OPEN_STATUSES, sorted(set(roots.values())))
    # Answer in the caller's ids, so ``cid in result`` works on whatever list they hold.
    return {i for i in ids if roots.get(i) in found}
