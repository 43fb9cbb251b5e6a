"""Case text through the privacy firewall, the same one intake uses
(:func:`cornerstore.privacy.detect.scan_mapping` under the privacy policy's ``reject`` and
``drop`` kinds): a password, card number or IBAN a customer types into a chat is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from cornerstore.errors import InvalidInput
from cornerstore.privacy.detect import FieldFinding, scan_mapping
from cornerstore.settings import PrivacyPolicy


@dataclass(frozen=True, slots=True)
class Screened:
    """Text fields as they may be stored, and what the firewall removed (kind and field only)."""

    fields: dict[str, str]
    findings: tuple[FieldFinding, ...]


def screen(fields: dict[str, str], policy: PrivacyPolicy, where: str = "") -> Screened:
    """Pass free text through the firewall: sensitive values are redacted (``[removed: payment
    card]``), a field holding a kind in ``policy.drop`` is replaced whole by a note, and a kind
    in ``policy.reject`` refuses the text (InvalidInput naming the field, never the value).

    Examples
    --------
    >>> screen({"body": "my card is 4111 1111 1111 1111, password: hunter2"}, PrivacyPolicy())
    ... # doctest: +NORMALIZE_WHITESPACE
    Screened(fields={'body': 'my card is [removed: payment card], password: [removed: secret]'},
    findings=(FieldFinding(kind='payment_card', path='body', action='redacted'),
    FieldFinding(kind='secret', path='body', action='redacted')))
    """
    cleaned, found = scan_mapping(dict(fields), frozenset(policy.drop))
    for finding in found:
        if finding.kind in policy.reject:
            kind = finding.kind.replace("_", " ")
            raise InvalidInput(
                f"{where}{finding.path}: holds a {kind}; the privacy policy refuses such text"
            )
    out = {}
    for name in fields:
        value = cleaned.get(name)
        out[name] = value if isinstance(value, str) else "[removed: sensitive text]"
    return Screened(out, tuple(found))
