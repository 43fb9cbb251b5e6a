"""A live queue for the demo: the generated support desk resolves its cases within hours, so
the demo's contact centre would show only history. These are the cases still open on the demo's
last days — by e-mail, chat, phone and in store, some answered and waiting on the customer, a
few with a remedy waiting for a supervisor — opened through the contact centre's own service.

Their own seeded random numbers: the generated business is the same with or without them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from cornerstore.access.caller import Caller, system_caller
from cornerstore.cases.remedies import Remedies
from cornerstore.cases.service import CaseOpening, Cases, CaseUpdate, NewMessage, Sender
from cornerstore.demo.generate import DEFAULT_END

# (channel, category, subject, what the customer wrote), in the manner of a shop's inbox.
OPEN_CASES: tuple[tuple[str, str, str, str], ...] = (
    ("email", "delivery", "Parcel not arrived",
     "My order was due on Tuesday and tracking has not moved since."),
    ("chat", "damaged item", "Teapot lid cracked",
     "The teapot arrived today with a cracked lid, can I get a new one?"),
    ("phone", "refund", "Refund not received",
     "Returned the boots two weeks ago and still no refund."),
    ("email", "billing", "Charged twice",
     "I was charged twice for the same order, please check."),
    ("store", "wrong item", "Wrong size in the bag",
     "Bought a medium jumper in store, the bag held a small."),
    ("chat", "product question", "Is the kettle dishwasher safe?",
     "Can the glass kettle go in the dishwasher?"),
    ("email", "complaint", "Rude courier",
     "The courier threw the parcel over the gate and left."),
    ("phone", "account", "Cannot log in",
     "Reset link never arrives, I have tried three times."),
)  # fmt: skip
REPLIES = (
    "Sorry about this - we are looking into it and will write again tomorrow.",
    "Thank you for letting us know. Could you send a photo of the item?",
    "We have asked the courier and will come back to you as soon as they answer.",
)


def add_open_cases(
    cases: Cases, remedies: Remedies, count: int = 12, seed: int = 0, end: datetime = DEFAULT_END
) -> int:
    """Open ``count`` cases for demo customers over the demo's last week; returns how many
    were opened now (fewer in a shop with fewer customers; none the second time)."""
    rng = random.Random(seed)
    owner = system_caller(via="cli", actor="demo")
    support = Caller("user:demo-support", "support", "cli")
    with cases.store.unit_of_work() as uow:
        people = uow.customers.root_ids(kind="person", limit=5000)
    if not people:
        return 0
    chosen = rng.sample(people, min(count, len(people)))
    opened_now = 0
    for number, customer in enumerate(chosen):
        channel, category, subject, text = OPEN_CASES[number % len(OPEN_CASES)]
        at = end - timedelta(hours=rng.uniform(2, 24 * 7))
        ref = f"demo:{seed}:{number}"
        with cases.store.unit_of_work() as uow:
            if uow.cases.id_by_ref(ref) is not None:  # the demo ran before
                continue
        opened = cases.open(
            owner,
            CaseOpening(
                Sender(customer=customer),
                channel,
                subject,
                text,
                category=category,
                at=at,
                external_ref=ref,
            ),
        )
        opened_now += 1
        case_id = opened.case.id
        if rng.random() < 0.5:
            reply = NewMessage(rng.choice(REPLIES), "out", at=at + timedelta(hours=2))
            cases.add_message(support, case_id, reply)
            cases.update(support, case_id, CaseUpdate(status="waiting", owner="demo-support"))
        if category in ("damaged item", "refund") and rng.random() < 0.7:
            remedies.grant(support, case_id, "refund", round(rng.uniform(25, 90), 2))
    return opened_now
