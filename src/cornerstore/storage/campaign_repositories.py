"""What campaigns keep in the store: the contact log, campaigns, their recipients and coupons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cornerstore.campaigns.model import Contact
from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert, chunks
from cornerstore.storage.repositories import Repository


class ContactRepository(Repository):
    def add_many(self, contacts: Sequence[Contact]) -> None:
        """Log these contacts (each customer id a profile row, normally the root)."""
        bulk_insert(
            self.conn,
            t.contacts,
            [
                {
                    "customer_id": c.customer_id,
                    "channel": c.channel,
                    "purpose": c.purpose,
                    "campaign_id": c.campaign_id,
                    "source": c.source[:128],
                    "at": c.at,
                }
                for c in contacts
            ],
        )

    def of_roots(self, root_ids: Sequence[str], since: datetime) -> list[Contact]:
        """Contacts made at or after ``since`` with a profile that now belongs to one of these
        roots (merged-away profiles' contacts count for their survivor), under the root's id."""
        k, c = t.contacts, t.customers
        columns: tuple[Any, ...] = (
            c.c.root_id,
            k.c.channel,
            k.c.purpose,
            k.c.at,
            k.c.source,
            k.c.campaign_id,
        )
        found: list[Contact] = []
        for part in chunks(list(dict.fromkeys(root_ids))):
            query = (
                select(*columns)
                .join(c, c.c.id == k.c.customer_id)
                .where(c.c.root_id.in_(part), k.c.at >= since)
            )
            found += [Contact(*row) for row in self.conn.execute(query)]
        found.sort(key=lambda contact: contact.at)
        return found
