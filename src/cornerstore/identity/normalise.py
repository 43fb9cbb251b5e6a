"""Normalise identifiers so the same person's e-mail or phone always compares equal.

phonenumbers parses to E.164 and email-validator checks syntax; results are cached because the
same identifiers arrive again and again on a busy intake.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from cornerstore.settings import IdentityRules

# Plain ASCII addresses (nearly all of them) are checked here, ~20x faster than email-validator;
# anything else goes through email-validator. A property test keeps the two in agreement.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_SPECIAL_DOMAINS = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)


def plain_email(text: str) -> tuple[str, str] | None:
    """(local part, domain) of a lower-case plain ASCII address, or None to ask email-validator.

    >>> plain_email("ann.lee@example.co.uk")
    ('ann.lee', 'example.co.uk')
    """
    if len(text) > 254 or not _PLAIN_EMAIL.fullmatch(text):
        return None
    local, _, domain = text.rpartition("@")
    if len(local) > 64 or len(domain) > 253 or "xn--" in domain:
        return None
    if domain.rpartition(".")[2] in _SPECIAL_DOMAINS:
        return None
    return local, domain


def kind_family(kind: str) -> str:
    """The family a kind counts in for limits and priority: ``external:crm`` -> ``external``.

    >>> kind_family("external:crm_id")
    'external'
    """
    return "external" if kind.startswith("external:") else kind


class Normaliser:
    """Normalises identifiers under one installation's rules.

    Examples
    --------
    >>> n = Normaliser(IdentityRules(), default_region="GB")
    >>> n.email("  John.Smith+shop@GMail.com ")
    'johnsmith@gmail.com'
    >>> n.phone("07700 900123")
    '+447700900123'
    """

    def __init__(
        self,
        rules: IdentityRules,
        default_region: str = "GB",
        shop_emails: Iterable[str] = (),
        shop_phones: Iterable[str] = (),
    ) -> None:
        self.rules = rules
        self.region = default_region.upper()
        self.blocked = {v.strip().lower() for v in rules.blocked_values}
        self.ignore_dots = {d.lower() for d in rules.ignore_dots_domains}
        self.ignore_plus = {d.lower() for d in rules.ignore_plus_tag_domains}
        self.email = lru_cache(maxsize=200_000)(self._email)
        self.phone = lru_cache(maxsize=200_000)(self._phone)
        # The shop's own contacts are typed in when the customer gives none: never identifiers.
        self.blocked_emails = {e for e in (self.email(x) for x in shop_emails) if e}
        self.blocked_phones = {p for p in (self.phone(x) for x in shop_phones) if p}

    def is_blocked(self, text: str) -> bool:
        value = text.strip().lower()
        return value in self.blocked or not value.strip("0")

    def _email(self, raw: str) -> str | None:
        text = raw.strip()
        if not text or self.is_blocked(text) or "@" not in text:
            return None
        plain = plain_email(text.lower())
        if plain is not None:
            local, domain = plain
        else:
            try:
                checked = validate_email(text, check_deliverability=False)
            except EmailNotValidError:
                return None
            local, domain = checked.local_part.lower(), checked.domain.lower()
        if domain in self.ignore_plus:
            local = local.split("+", 1)[0]
        if domain in self.ignore_dots:
            local = local.replace(".", "")
        if domain == "googlemail.com":
            domain = "gmail.com"
        if not local:
            return None
        value = f"{local}@{domain}"
        if value in self.blocked or value in getattr(self, "blocked_emails", ()):
            return None
        return value

    def _phone(self, raw: str) -> str | None:
        text = raw.strip()
        if not text or self.is_blocked(text):
            return None
        try:
            number = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(number):
            return None
        value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if value in getattr(self, "blocked_phones", ()):
            return None
        # A number of only one repeated digit is a placeholder, not a person's phone.
        if len(set(value.lstrip("+")[-7:])) == 1:
            return None
        return value

    def plain(self, raw: object) -> str | None:
        """userId, anonymousId, external ids: as given (numbers as text), blocked values dropped."""
        if type(raw) is str:
            # userId and anonymousId arrive as text on nearly every message: no conversions.
            text = raw.strip()
            if not text or len(text) > 256 or self.is_blocked(text):
                return None
            return text
        if raw is None or isinstance(raw, bool):
            return None
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if not isinstance(raw, str | int | float):
            return None
        text = str(raw).strip()
        if not text or len(text) > 256 or self.is_blocked(text):
            return None
        return text

    def identifier(self, kind: str, raw: object) -> str | None:
        """Normalise ``raw`` as an identifier of ``kind``; None when it cannot identify anyone."""
        if kind == "email":
            return self.email(raw) if isinstance(raw, str) else None
        if kind == "phone":
            if isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)
            return self.phone(raw) if isinstance(raw, str) else None
        return self.plain(raw)

    def guess(self, text: str) -> list[tuple[str, str]]:
        """Every (kind, normalised value) a free-form search string could be, most likely first."""
        out: list[tuple[str, str]] = []
        text = text.strip()
        if "@" in text:
            email = self.email(text)
            if email:
                out.append(("email", email))
        elif sum(ch.isdigit() for ch in text) >= 6:
            phone = self.phone(text)
            if phone:
                out.append(("phone", phone))
        plain = self.plain(text)
        if plain:
            out.append(("*", plain))
        return out


def is_landline(e164: str) -> bool:
    """Whether an E.164 number is certainly a fixed line (phonenumbers' metadata): a number a
    household shares, unlike a mobile. Numbers that may be either (as in the US) are not.

    >>> is_landline("+441134960000"), is_landline("+447700900123"), is_landline("+12015550123")
    (True, False, False)
    """
    return _number_type(e164) == phonenumbers.PhoneNumberType.FIXED_LINE


def is_mobile(e164: str) -> bool:
    """Whether an E.164 number is certainly a mobile (phonenumbers' metadata): one person's
    phone, unlike a household's landline. Numbers that may be either (as in the US) are not.

    >>> is_mobile("+447911123456"), is_mobile("+441134960000"), is_mobile("+12015550123")
    (True, False, False)
    """
    return _number_type(e164) == phonenumbers.PhoneNumberType.MOBILE


#: Line types no one person owns: a business's freephone, premium-rate, shared-cost or universal
#: access number (a customer who types the shop's own 0800 number into the form, say). Numbers
#: outside the numbering plan (phonenumbers' UNKNOWN) are not among them: Ofcom's drama range
#: 07700 900xxx is one, and shops' test and demo data use it for mobiles.
_NOBODYS_OWN = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
    }
)


def is_nobodys_own(e164: str) -> bool:
    """Whether an E.164 number is a business's, owned by no one customer whatever the
    installation says of landlines: freephone, premium-rate, shared-cost, universal access.

    >>> is_nobodys_own("+448001111111"), is_nobodys_own("+18005550123")
    (True, True)
    >>> is_nobodys_own("+447911123456"), is_nobodys_own("+441134960000")
    (False, False)
    """
    return _number_type(e164) in _NOBODYS_OWN


@lru_cache(maxsize=100_000)
def _number_type(e164: str) -> int | None:
    """phonenumbers' type of an E.164 number (``PhoneNumberType``), None when it does not parse."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return int(phonenumbers.number_type(number))
