"""What the outcome metrics read (cases with their history, messages and orders, survey answers
and purchases) and the follow-up surveys they keep.

Cases are read through ``customers.root_id``: the customer a case belongs to is the root of its
profile row now, so a merge or unmerge changes the repeat-contact figures without rewriting a
case. Each read is one bounded query per table, in chunks of case ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, func, select, update

from cornerstore.outcomes.model import (
    CaseMessage,
    CaseRecord,
    Purchase,
    StatusChange,
    SurveyAnswer,
    SurveyRecord,
)
from cornerstore.storage import tables as t
from cornerstore.storage.batches import chunks
from cornerstore.storage.repositories import Repository


class OutcomeRepository(Repository):
    # -- what the metrics read -----------------------------------------------------------------

    def case_records(
        self, opened_from: datetime, opened_until: datetime, limit: int
    ) -> list[CaseRecord]:
        """Cases opened in ``[opened_from, opened_until)``, oldest first, at most ``limit``,
        each with its status history, replies, owners and orders."""
        c, cu = t.cases, t.customers
        query = (
            select(
                c.c.id,
                cu.c.root_id,
                c.c.channel,
                c.c.category,
                c.c.opened_at,
                c.c.status,
                c.c.resolved_at,
                c.c.updated_at,
                c.c.branch,
                t.staff_users.c.username,
            )
            .select_from(c)
            .join(cu, cu.c.id == c.c.customer_id)
            .outerjoin(t.staff_users, t.staff_users.c.id == c.c.owner_id)
            .where(c.c.opened_at >= opened_from, c.c.opened_at < opened_until)
            .order_by(c.c.opened_at, c.c.id)
            .limit(limit)
        )
        rows = list(self.conn.execute(query))
        if len(rows) == limit:
            # Too many for one request: the caller refuses it, so the rest is not read.
            return [_bare(row) for row in rows]
        # The changes, messages and orders of the same cases, each one query joined on the
        # same period (no list of ids to send).
        period = and_(c.c.opened_at >= opened_from, c.c.opened_at < opened_until)
        statuses, owners = self._changes(period)
        messages = self._messages(period)
        orders = self._orders(period)
        out = []
        for row in rows:
            history = [StatusChange(row.opened_at, "open"), *statuses.get(row.id, ())]
            if len(history) == 1 and row.status != "open":
                # A case stored without its changes (imported as it stands): its status now.
                history.append(StatusChange(row.resolved_at or row.updated_at, row.status))
            out.append(
                CaseRecord(
                    id=row.id,
                    customer_id=row.root_id,
                    channel=row.channel,
                    category=row.category,
                    opened_at=row.opened_at,
                    history=tuple(history),
                    messages=tuple(messages.get(row.id, ())),
                    owners=tuple(owners.get(row.id, ()))
                    or ((row.username,) if row.username else ()),
                    agent=row.username,
                    branch=row.branch,
                    order_ids=frozenset(orders.get(row.id, ())),
                )
            )
        return out

    def _changes(
        self, period: ColumnElement[bool]
    ) -> tuple[dict[int, list[StatusChange]], dict[int, list[str]]]:
        h = t.case_changes
        statuses: dict[int, list[StatusChange]] = defaultdict(list)
        owners: dict[int, list[str]] = defaultdict(list)
        query = (
            select(h.c.case_id, h.c.at, h.c.field, h.c.new)
            .join(t.cases, t.cases.c.id == h.c.case_id)
            .where(period, h.c.field.in_(["status", "owner"]))
            .order_by(h.c.at, h.c.id)
        )
        for case_id, at, field, new in self.conn.execute(query):
            if field == "status" and new:
                statuses[case_id].append(StatusChange(at, new))
            elif field == "owner" and new:
                owners[case_id].append(new)
        return statuses, owners

    def _messages(self, period: ColumnElement[bool]) -> dict[int, list[CaseMessage]]:
        m = t.case_messages
        found: dict[int, list[CaseMessage]] = defaultdict(list)
        query = (
            select(
                m.c.case_id, m.c.sent_at, m.c.author_kind, m.c.internal, t.staff_users.c.username
            )
            .select_from(m)
            .join(t.cases, t.cases.c.id == m.c.case_id)
            .outerjoin(t.staff_users, t.staff_users.c.id == m.c.author_id)
            .where(period)
            .order_by(m.c.sent_at, m.c.id)
        )
        for case_id, at, kind, internal, username in self.conn.execute(query):
            found[case_id].append(CaseMessage(at, "note" if internal else kind, username))
        return found

    def _orders(self, period: ColumnElement[bool]) -> dict[int, list[str]]:
        k = t.case_links
        found: dict[int, list[str]] = defaultdict(list)
        query = (
            select(k.c.case_id, k.c.ref)
            .join(t.cases, t.cases.c.id == k.c.case_id)
            .where(period, k.c.kind == "order")
        )
        for case_id, ref in self.conn.execute(query):
            found[case_id].append(ref)
        return found

    def answers(self, case_ids: Sequence[int]) -> list[SurveyAnswer]:
        """The survey answers given on these cases."""
        s = t.service_surveys
        found = []
        for part in chunks(list(case_ids)):
            query = select(
                s.c.case_id, s.c.answered_at, s.c.resolved, s.c.handed_out_by, s.c.score
            ).where(s.c.case_id.in_(part), s.c.answered_at.is_not(None))
            for case_id, at, resolved, by, score in self.conn.execute(query):
                found.append(SurveyAnswer(case_id, at, bool(resolved), by is not None, score))
        return found

    def purchases(
        self,
        roots: Sequence[str],
        names: Sequence[str],
        amount_properties: Sequence[str],
        since: datetime,
        until: datetime,
    ) -> list[Purchase]:
        """Purchases (track events with these names) of these customers in ``(since, until]``,
        the amount read from the first of ``amount_properties`` present."""
        e, cu = t.events, t.customers
        found = []
        for part in chunks(list(roots)):
            query = (
                select(cu.c.root_id, e.c.occurred_at, e.c.properties)
                .select_from(e)
                .join(cu, cu.c.id == e.c.customer_id)
                .where(
                    cu.c.root_id.in_(part),
                    e.c.type == "track",
                    e.c.name.in_(list(names)),
                    e.c.occurred_at > since,
                    e.c.occurred_at <= until,
                )
            )
            for root, at, properties in self.conn.execute(query):
                found.append(Purchase(root, at, _amount(properties, amount_properties)))
        return found

    # -- follow-up surveys ---------------------------------------------------------------------

    def resolved_without_survey(self, limit: int) -> list[tuple[int, str]]:
        """(case id, profile row) of resolved or closed cases the system has not yet surveyed,
        oldest resolution first."""
        c, s = t.cases, t.service_surveys
        sent = select(s.c.id).where(s.c.case_id == c.c.id, s.c.handed_out_by.is_(None))
        query = (
            select(c.c.id, c.c.customer_id)
            .where(c.c.status.in_(["resolved", "closed"]), ~sent.exists())
            .order_by(c.c.resolved_at, c.c.id)
            .limit(limit)
        )
        return [(case_id, profile) for case_id, profile in self.conn.execute(query)]

    def add_survey(
        self, case_id: int, profile_id: str, at: datetime, handed_out_by: str | None
    ) -> int:
        result = self.conn.execute(
            t.service_surveys.insert().values(
                case_id=case_id, customer_id=profile_id, created_at=at, handed_out_by=handed_out_by
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def survey(self, survey_id: int) -> SurveyRecord | None:
        found = self._surveys(and_(t.service_surveys.c.id == survey_id), 1)
        return found[0] if found else None

    def pending(self, limit: int, resolved_since: datetime | None = None) -> list[SurveyRecord]:
        """Surveys the system made that were neither exported nor answered yet, oldest first;
        only those of cases resolved since ``resolved_since`` when given."""
        s = t.service_surveys
        where = and_(
            s.c.handed_out_by.is_(None), s.c.exported_at.is_(None), s.c.answered_at.is_(None)
        )
        if resolved_since is not None:
            where = and_(where, t.cases.c.resolved_at >= resolved_since)
        return self._surveys(where, limit)

    def _surveys(self, where: object, limit: int) -> list[SurveyRecord]:
        s, c, cu = t.service_surveys, t.cases, t.customers
        query = (
            select(
                s.c.id,
                s.c.case_id,
                cu.c.root_id,
                c.c.category,
                c.c.opened_at,
                s.c.created_at,
                s.c.handed_out_by,
                s.c.exported_at,
                s.c.answered_at,
                s.c.resolved,
                s.c.score,
            )
            .select_from(s)
            .join(c, c.c.id == s.c.case_id)
            .join(cu, cu.c.id == c.c.customer_id)
            .where(where)  # type: ignore[arg-type]
            .order_by(s.c.created_at, s.c.id)
            .limit(limit)
        )
        return [SurveyRecord(*row) for row in self.conn.execute(query)]

    def mark_exported(self, survey_ids: Collection[int], at: datetime) -> None:
        s = t.service_surveys
        for part in chunks(list(survey_ids)):
            self.conn.execute(update(s).where(s.c.id.in_(part)).values(exported_at=at))

    def record_answer(self, survey_id: int, at: datetime, resolved: bool, score: int) -> bool:
        """Keep an answer; False when the survey was answered already (the first answer stays)."""
        s = t.service_surveys
        result = self.conn.execute(
            update(s)
            .where(s.c.id == survey_id, s.c.answered_at.is_(None))
            .values(answered_at=at, resolved=resolved, score=score)
        )
        return bool(result.rowcount)

    def survey_counts(self) -> dict[str, int]:
        """How many surveys are pending, exported and answered."""
        s = t.service_surveys
        query = select(
            func.count().filter(s.c.answered_at.is_not(None)),
            func.count().filter(s.c.exported_at.is_(None), s.c.answered_at.is_(None)),
        )
        answered, pending = self.conn.execute(query).one()
        return {"answered": int(answered), "pending": int(pending)}


def _bare(row: Any) -> CaseRecord:
    """A case without its history: only counted, never measured."""
    return CaseRecord(row.id, row.root_id, row.channel, row.category, row.opened_at, ())


def _amount(properties: str | None, names: Sequence[str]) -> float:
    values = orjson.loads(properties) if properties else {}
    for name in names:
        value = values.get(name) if isinstance(values, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return 0.0
