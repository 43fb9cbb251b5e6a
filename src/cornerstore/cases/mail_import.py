"""``cornerstore service import-mail``: e-mail into cases (reading and threading rules in
:mod:`cornerstore.cases.mail`)."""

from __future__ import annotations

from pathlib import Path

from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE
from cornerstore.cases.categories import guess_category
from cornerstore.cases.mail import MailFailure, MailImportResult, MailItem, read_mail
from cornerstore.cases.service import CaseOpening, Cases, NewMessage, Sender
from cornerstore.errors import CornerstoreError, InvalidInput


def import_mail(cases: Cases, caller: Caller, path: Path) -> MailImportResult:
    """Import every e-mail under ``path``; safe to run twice.

    A message that cannot be stored (its sender was erased, its text refused by the privacy
    policy) is reported with the file it came from; the others are imported."""
    cases.require(caller, CHANGE)
    items, failures = read_mail(path)
    result = MailImportResult(read=len(items) + len(failures), failed=list(failures))
    shop = {e.strip().lower() for e in cases.settings.shop_emails}
    for item in items:
        try:
            _import_one(cases, caller, item, shop, result)
        except CornerstoreError as exc:
            result.failed.append(MailFailure(item.origin, exc.message))
    return result


def _import_one(
    cases: Cases, caller: Caller, item: MailItem, shop: set[str], result: MailImportResult
) -> None:
    with cases.store.unit_of_work() as uow:
        known = uow.cases.case_of_messages([item.message_id, *item.in_reply_to])
    if item.message_id in known:
        result.duplicates += 1
        return
    from_shop = item.sender_email in shop
    thread = next((known[p] for p in item.in_reply_to if p in known), None)
    if thread is not None:
        detail = cases.get(caller, thread, audit=False)
        if from_shop or detail.case.status != "closed":
            message = NewMessage(
                item.body or item.subject,
                "out" if from_shop else "in",
                at=item.sent_at,
                message_id=item.message_id,
                in_reply_to=item.in_reply_to[0],
                attachments=item.attachments,
            )
            cases.add_message(caller, thread, message)
            result.imported += 1
            result.replies += 1
            return
    customer = next((r for r in item.recipients if r not in shop), None) if from_shop else None
    if from_shop and customer is None:
        raise InvalidInput("mail from the shop to no customer address; nothing to file it under")
    first, _, last = item.sender_name.partition(" ")
    sender = (
        Sender(email=customer)
        if customer
        else Sender(email=item.sender_email, first_name=first or None, last_name=last or None)
    )
    text = item.body or item.subject
    opened = cases.open(
        caller,
        CaseOpening(
            sender,
            "email",
            item.subject,
            "" if from_shop else text,
            category=guess_category(f"{item.subject} {item.body}", cases.settings.cases.categories),
            at=item.sent_at,
            external_ref=f"mail:{item.message_id}"[:512],
            message_id=None if from_shop else item.message_id,
            attachments=item.attachments,
        ),
    )
    if from_shop:  # mail the shop started: its first message is the shop's own
        message = NewMessage(text, "out", at=item.sent_at, message_id=item.message_id,
                             attachments=item.attachments)  # fmt: skip
        cases.add_message(caller, opened.case.id, message)
    result.imported += 1
    result.cases_opened += 1
