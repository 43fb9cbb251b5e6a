from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st

from cornerstore.identity.normalise import Normaliser, plain_email
from cornerstore.settings import IdentityRules


def normaliser(**kwargs: object) -> Normaliser:
    return Normaliser(IdentityRules(), default_region="GB", **kwargs)  # type: ignore[arg-type]


def test_email_case_whitespace_dots_and_plus_tags_follow_the_provider() -> None:
    n = normaliser()

    assert n.email("  Bob.Smith+Shop@GMAIL.com ") == "bobsmith@gmail.com"
    assert n.email("bob.smith+shop@googlemail.com") == "bobsmith@gmail.com"
    # A provider that keeps dots keeps them; plus tags stay where the provider honours them.
    assert n.email("Bob.Smith+Shop@Example.co.uk") == "bob.smith+shop@example.co.uk"
    assert n.email("Bob.Smith+Shop@outlook.com") == "bob.smith@outlook.com"


def test_invalid_and_placeholder_emails_identify_nobody() -> None:
    n = normaliser(shop_emails=["orders@cornerstore.example"])

    assert n.email("not-an-email") is None
    assert n.email("null") is None
    assert n.email("test@test.com") is None
    assert n.email("Orders@CornerStore.example") is None


def test_phones_become_e164_in_the_default_region() -> None:
    n = normaliser()

    assert n.phone("07700 900123") == "+447700900123"
    assert n.phone("+44 (0)7700-900-123") == "+447700900123"
    assert n.phone("0044 7700 900123") == "+447700900123"
    assert n.phone("+1 415 555 2671") == "+14155552671"


def test_placeholder_phones_and_the_shops_own_number_are_blocked() -> None:
    n = normaliser(shop_phones=["020 7946 0000"])

    assert n.phone("0000000000") is None
    assert n.phone("07777 777777") is None
    assert n.phone("+44 20 7946 0000") is None
    assert n.phone("12") is None


def test_plain_ids_keep_their_text_and_drop_placeholders() -> None:
    n = normaliser()

    assert n.plain(" u-42 ") == "u-42"
    assert n.plain(42) == "42"
    assert n.plain(42.0) == "42"
    assert n.plain("anonymous") is None
    assert n.plain("-1") is None
    assert n.plain("000") is None
    assert n.plain(True) is None


@given(st.emails())
def test_normalising_an_email_twice_changes_nothing(email: str) -> None:
    n = normaliser()
    once = n.email(email)
    if once is not None:
        assert n.email(once) == once


@given(st.from_regex(r"0?7[0-9]{9}", fullmatch=True))
def test_normalising_a_phone_twice_changes_nothing(phone: str) -> None:
    n = normaliser()
    once = n.phone(phone)
    if once is not None:
        assert n.phone(once) == once


_ADDRESS_CHARS = "abcz019.-_+@!#'" + "é"


@given(st.one_of(st.emails(), st.text(alphabet=_ADDRESS_CHARS, min_size=3, max_size=30)))
def test_the_fast_email_check_accepts_only_what_email_validator_accepts(text: str) -> None:
    fast = plain_email(text.lower())
    if fast is None:
        return
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:  # pragma: no cover - this is the failure being tested for
        raise AssertionError(f"fast path accepted an invalid address: {exc}") from None

    assert fast == (checked.local_part.lower(), checked.domain.lower())
