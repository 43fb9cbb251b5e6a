"""E-mail into cases: mbox, a folder of .eml and a Maildir, threaded, attachments listed,
senders matched, safe to run twice; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.cases.mail import read_mail
from cornerstore.cases.mail_import import import_mail
from cornerstore.cases.model import Attachment, CaseFilter
from cornerstore.errors import InvalidInput
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from tests.cases.builders import customer

MAIL = Path(__file__).parent.parent / "data" / "mail"
OWNER = system_caller()


@pytest.fixture
def shop(settings: Settings, store: Store) -> Services:
    shop_settings = settings.model_copy(update={"shop_emails": ["support@cornerstore.example"]})
    return Services.build(shop_settings, store)


def _cases(services: Services) -> dict[str, list[tuple[str, str]]]:
    """Each case's subject -> its messages as (direction, first words)."""
    out = {}
    for case in services.cases.find(OWNER, CaseFilter()):
        detail = services.cases.get(OWNER, case.id)
        out[case.subject] = [(m.direction, m.body[:24]) for m in detail.messages]
    return out


def test_an_mbox_thread_becomes_one_case_with_the_shops_reply_and_the_attachment_listed(
    shop: Services,
) -> None:
    ann = customer(shop, "ann@example.com", first_name="Ann")

    result = import_mail(shop.cases, OWNER, MAIL / "support.mbox")

    assert (result.read, result.imported, result.cases_opened, result.replies) == (4, 4, 2, 2)
    assert result.failed == []
    assert _cases(shop) == {
        "Parcel never arrived": [
            ("in", "Hello, my order A-1001 w"),
            ("out", "Sorry Ann, we are checki"),
            ("in", "It came today but the bo"),
        ],
        "Invoice question": [("in", "Why was I charged twice ")],
    }
    [parcel] = shop.cases.find(OWNER, CaseFilter(category=("delivery",)))
    assert parcel.customer_id == ann
    last = shop.cases.get(OWNER, parcel.id).messages[-1]
    assert last.attachments == (Attachment("box.jpg", "image/jpeg", 460),)
    assert last.in_reply_to == "shop-1@cornerstore.example"
    [invoice] = shop.cases.find(OWNER, CaseFilter(category=("billing",)))
    assert invoice.customer_id != ann


def test_importing_twice_stores_nothing_twice(shop: Services) -> None:
    import_mail(shop.cases, OWNER, MAIL / "support.mbox")

    again = import_mail(shop.cases, OWNER, MAIL / "support.mbox")

    assert (again.imported, again.duplicates) == (0, 4)
    assert len(shop.cases.find(OWNER, CaseFilter())) == 2


def test_a_folder_of_eml_reads_latin1_headers_threads_by_references_and_reports_garbage(
    shop: Services,
) -> None:
    result = import_mail(shop.cases, OWNER, MAIL / "folder")

    assert (result.read, result.imported, result.cases_opened) == (3, 2, 1)
    assert [(f.origin, f.reason) for f in result.failed] == [
        ("03-garbage.eml", "not an e-mail message (no sender address in From)")
    ]
    [case] = shop.cases.find(OWNER, CaseFilter())
    assert (case.subject, case.category) == ("Café crème mugs arrived broken", "damaged item")
    bodies = [m.body for m in shop.cases.get(OWNER, case.id).messages]
    assert bodies == [
        "Two of the café mugs are broken.\nRenée",
        "Any news? You can charge my card [removed: payment card] for new ones.",
    ]
    profile = shop.profiles.get(OWNER, case.customer_id)
    assert profile.traits is not None
    assert (profile.traits["first_name"].value, profile.traits["last_name"].value) == (
        "Renée",
        "Dupont",
    )


def test_a_maildir_is_read(shop: Services) -> None:
    result = import_mail(shop.cases, OWNER, MAIL / "maildir")

    assert (result.imported, result.failed) == (1, [])
    [case] = shop.cases.find(OWNER, CaseFilter())
    assert (case.subject, case.category, case.channel) == ("Wrong size sent", "wrong item", "email")


def test_a_missing_path_is_one_clear_error() -> None:
    with pytest.raises(InvalidInput, match="no such file or folder"):
        read_mail(MAIL / "nowhere")
