"""The review queue a page at a time, on SQLite and PostgreSQL: strongest first, every pending
pair once, pages that stay put while staff decide, the count waiting, bad cursors refused, the
evidence against read once a page and every profile shown audited."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import InvalidInput
from cornerstore.identity.model import ReviewRecord
from cornerstore.identity.resolution import review as review_module
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.review import Place, ReviewPage
from cornerstore.services import Services
from tests.identity.resolution.queued import WEIGHTS, queue_pairs
from tests.identity.resolution.stored import (
    WEB,
    ingest_shop,
    message,
    queue_as_resolve_does,
    root_of,
)


def every_page(services: Services, caller: Caller, limit: int) -> list[ReviewPage]:
    pages = [services.identity.review_page(caller, limit)]
    while pages[-1].next_after is not None:
        pages.append(services.identity.review_page(caller, limit, after=pages[-1].next_after))
    return pages


def test_paging_shows_every_pending_pair_once_strongest_first(
    services: Services, owner: Caller
) -> None:
    expected = queue_pairs(services, WEIGHTS)

    pages = every_page(services, owner, 10)

    assert [[r.id for r in p.reviews] for p in pages] == [
        expected[:10],
        expected[10:20],
        expected[20:],
    ]
    assert [(p.waiting, p.ahead) for p in pages] == [(26, 0), (26, 10), (26, 20)]
    assert [p.previous_before is None for p in pages] == [True, False, False]


def test_a_page_stays_put_while_the_pairs_ahead_of_it_are_decided(
    services: Services, owner: Caller
) -> None:
    expected = queue_pairs(services, WEIGHTS)
    first = services.identity.review_page(owner, 10)
    for review in first.reviews:
        services.identity.decide(owner, review.id, accept=False)

    second = services.identity.review_page(owner, 10, after=first.next_after)

    assert [r.id for r in second.reviews] == expected[10:20]
    assert (second.waiting, second.ahead) == (16, 0)
    # Nothing is left before it: no way back to a page of nothing.
    assert second.previous_before is None


def test_the_previous_page_is_the_one_before_and_the_first_is_always_full(
    services: Services, owner: Caller
) -> None:
    expected = queue_pairs(services, WEIGHTS)
    pages = every_page(services, owner, 10)

    back = services.identity.review_page(owner, 10, before=pages[2].previous_before)
    back_again = services.identity.review_page(owner, 10, before=back.previous_before)
    # A page reached some other way (7 in): the page before it is the first, full.
    seventh = Place(services.identity.pending(owner, 10)[7].match_weight, expected[7]).cursor()
    from_the_seventh = services.identity.review_page(owner, 10, before=seventh)

    assert [r.id for r in back.reviews] == expected[10:20]
    assert (back.ahead, back.next_after) == (10, pages[1].next_after)
    assert [r.id for r in back_again.reviews] == expected[:10]
    assert back_again.previous_before is None
    assert [r.id for r in from_the_seventh.reviews] == expected[:10]


def test_a_page_past_the_last_pair_is_empty_and_leads_back(
    services: Services, owner: Caller
) -> None:
    expected = queue_pairs(services, WEIGHTS)
    pages = every_page(services, owner, 10)
    for review in pages[2].reviews:
        services.identity.decide(owner, review.id, accept=False)
    emptied = services.identity.review_page(owner, 10, after=pages[1].next_after)

    back = services.identity.review_page(owner, 10, before=emptied.previous_before)

    assert (emptied.reviews, emptied.waiting, emptied.next_after) == ([], 20, None)
    assert [r.id for r in back.reviews] == expected[10:20]


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "",
        _cursor("nan/3"),
        _cursor("1.5/0"),
        _cursor(f"1.5/{2**63}"),
        _cursor(f"1.5/{2**64 + 7}"),
        _cursor("1.5/-4"),
        _cursor("1.5"),
        _cursor("1.5/3/4"),
        "ww",
    ],
)
@pytest.mark.parametrize("where", ["after", "before"])
def test_a_cursor_the_queue_did_not_give_is_invalid_input_naming_the_parameter(
    services: Services, owner: Caller, cursor: str, where: str
) -> None:
    queue_pairs(services, [1.0, 2.0])

    with pytest.raises(InvalidInput) as refused:
        services.identity.review_page(owner, 10, **{where: cursor})

    assert refused.value.message == f"{where}: not a cursor of the review queue"


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ({"limit": 0}, "limit: must be between 1 and 100"),
        ({"limit": 101}, "limit: must be between 1 and 100"),
        (
            {"after": Place(1.0, 1).cursor(), "before": Place(1.0, 1).cursor()},
            "before: give after or before, not both",
        ),
    ],
)
def test_a_page_asked_for_wrongly_is_invalid_input(
    services: Services, owner: Caller, asked: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.identity.review_page(owner, **asked)

    assert refused.value.message == message


def test_every_profile_on_a_page_is_audited_as_read(services: Services, owner: Caller) -> None:
    queue_pairs(services, WEIGHTS)
    support = Caller("sue", "support", "api")

    page = services.identity.review_page(support, 5, after=Place(3.0, 2**62).cursor())

    shown = {p.id for r in page.reviews for p in (r.left, r.right)}
    read = {
        e.customer_id
        for e in services.audit.find(owner, actor="sue", action="read_profile", limit=1000)
    }
    assert len(page.reviews) == 5 and read == shown


def test_a_page_audits_each_profile_it_shows_in_one_write(
    services: Services, owner: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_pairs(services, WEIGHTS)
    support = Caller("sue", "support", "api")
    writes: list[bool] = []
    open_unit = services.store.unit_of_work

    def counted(*args: Any, **kwargs: Any) -> Any:
        writes.append(bool(kwargs.get("write")))
        return open_unit(*args, **kwargs)

    monkeypatch.setattr(services.store, "unit_of_work", counted)

    page = services.identity.review_page(support, 20)

    monkeypatch.undo()
    shown = [(p.id, p.sections) for r in page.reviews for p in (r.left, r.right)]
    entries = services.audit.find(owner, actor="sue", action="read_profile", limit=1000)
    assert (len(page.reviews), writes.count(True)) == (20, 1)
    assert sorted((e.customer_id, e.sections) for e in entries) == sorted(shown)


def queue_movers(services: Services, owner: Caller, pairs: int) -> None:
    """Customers of the messy shop who moved (a later message with a new address), each
    queued with the customer stored after them at the variants that agree best, as resolve
    queues a pair: each has evidence against (the address they left or the new one)."""
    for i in range(pairs):
        moved = message(f"r{2 * i + 1}", address=f"{i + 1} Moved Lane", postcode="LS2 9JT")
        services.intake.ingest([moved], source=WEB)
    services.identity.train(owner)
    queue_as_resolve_does(
        services,
        [
            (root_of(services, f"r{2 * i + 1}"), root_of(services, f"r{2 * i + 2}"))
            for i in range(pairs)
        ],
    )


def test_the_evidence_against_of_a_page_is_read_once_and_is_each_pairs_own(
    services: Services, owner: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_shop(services, 60)
    queue_movers(services, owner, 6)
    reads: list[int] = []
    read_variants = review_module.read_profile_variants

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return read_variants(*args, **kwargs)

    monkeypatch.setattr(review_module, "read_profile_variants", counted)

    page = services.identity.review_page(owner, 100)

    assert (len(page.reviews), len(reads)) == (6, 1)
    assert all(r.against for r in page.reviews)
    alone = _each_pair_alone(services, [r.id for r in page.reviews])
    assert [[_plain(f) for f in r.against] for r in page.reviews] == alone


def _each_pair_alone(services: Services, review_ids: list[int]) -> list[list[dict[str, Any]]]:
    """The evidence against of each pair read on its own, as the queue read it before pages:
    the pair's two customers' variants alone."""
    queue = services.identity._reviews
    with services.store.unit_of_work() as uow:
        stored = uow.identity.active_model()
        assert stored is not None
        model = IdentityModel.from_json(stored.model)
        records: list[ReviewRecord] = []
        for review_id in review_ids:
            record = uow.identity.get_review(review_id)
            assert record is not None
            records.append(record)
        return [queue._against(uow, model, [record])[0] for record in records]


def _plain(f: Any) -> dict[str, Any]:
    def value(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return {
        "field": f.field,
        "level": f.level,
        "left": value(f.left),
        "right": value(f.right),
        "weight": f.weight,
    }
