"""Normalise postal addresses and postcodes so that "12 High Street, Flat 3" and "Flat 3, 12 High
St." compare equal.

Street-type and unit words are reduced to one short form (USPS Publication 28 style: street ->
st, avenue -> ave, apartment / flat / unit -> unit), the house number and the flat or unit are
taken apart from the street, and postcodes are written the way their post office writes them.
US addresses go through usaddress (a trained parser) when the country is known to be the US; the
word rules below cover the rest of the world, where no such parser ships on PyPI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cornerstore.identity.names import fold

STREET_TYPES: dict[str, str] = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "place": "pl",
    "court": "ct",
    "crescent": "cres",
    "close": "cl",
    "terrace": "tce",
    "parade": "pde",
    "highway": "hwy",
    "square": "sq",
    "circuit": "cct",
    "grove": "gr",
    "gardens": "gdns",
    "parkway": "pkwy",
    "way": "way",
    "mews": "mews",
    "circle": "cir",
    "trail": "trl",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "mount": "mt",
    "saint": "st",
}
UNIT_WORDS = frozenset({"flat", "apt", "apartment", "unit", "suite", "ste", "no", "number", "#"})
_UNIT = re.compile(r"(?:^|\s)(?:flat|apt|apartment|unit|suite|ste)\s*(\w+)")
_HASH_UNIT = re.compile(r"#\s*(\w+)")
_HOUSE_NUMBER = re.compile(r"^(\d+[a-z]?)\b")
_NOT_ADDRESS = re.compile(r"[^a-z0-9#' ]+")
_GB_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")
_CA_POSTCODE = re.compile(r"^([A-Z]\d[A-Z])(\d[A-Z]\d)$")


@dataclass(frozen=True)
class AddressParts:
    """An address line in matching form.

    ``line`` is the whole normalised line without the unit ("12 high st"); ``street`` is the line
    without the house number ("high st").
    """

    line: str | None
    house_number: str | None
    street: str | None
    unit: str | None


def _fold_address(text: str) -> str:
    folded = fold(text.replace(".", "").replace(",", " ").replace("#", " # "), keep_digits=True)
    return _NOT_ADDRESS.sub(" ", folded).replace("'", "")


def _abbreviate(words: list[str]) -> list[str]:
    return [STREET_TYPES.get(w, w) for w in words]


@lru_cache(maxsize=200_000)
def normalise_address(text: str | None, country: str | None = None) -> AddressParts:
    """Split one address line into house number, street and unit, in short forms.

    >>> normalise_address("Flat 3, 12 High Street")
    AddressParts(line='12 high st', house_number='12', street='high st', unit='3')
    >>> normalise_address("12 high st. apt 3") == normalise_address("Flat 3, 12 High Street")
    True
    """
    if text is None or not text.strip():
        return AddressParts(None, None, None, None)
    if (country or "").upper() in ("US", "USA") and any(ch.isdigit() for ch in text):
        parsed = _us_address(text)
        if parsed is not None:
            return parsed
    folded = _fold_address(text)
    unit = None
    match = _UNIT.search(folded) or _HASH_UNIT.search(folded)
    if match:
        unit = match.group(1)
        folded = (folded[: match.start()] + " " + folded[match.end() :]).strip()
    words = _abbreviate(folded.replace("#", " ").split())
    line = " ".join(words)
    number_match = _HOUSE_NUMBER.match(line)
    house_number = number_match.group(1) if number_match else None
    street = line[number_match.end() :].strip() if number_match else line
    return AddressParts(line or None, house_number, street or None, unit)


def _us_address(text: str) -> AddressParts | None:
    """The parts usaddress finds, or None when it cannot tag the line as a street address."""
    import usaddress  # imported here: a CRF model only US addresses need

    try:
        tagged, kind = usaddress.tag(text)
    except usaddress.RepeatedLabelError:
        return None
    if kind != "Street Address":
        return None
    number = tagged.get("AddressNumber")
    street_keys = (
        "StreetNamePreDirectional",
        "StreetNamePreType",
        "StreetName",
        "StreetNamePostType",
        "StreetNamePostDirectional",
    )
    street_words = _abbreviate(
        _fold_address(" ".join(tagged[k] for k in street_keys if k in tagged)).split()
    )
    street = " ".join(street_words) or None
    house_number = _fold_address(number).replace(" ", "") or None if number else None
    unit_text = tagged.get("OccupancyIdentifier")
    unit = _fold_address(unit_text).replace("#", "").strip() or None if unit_text else None
    line = " ".join(p for p in (house_number, street) if p) or None
    return AddressParts(line, house_number, street, unit)


@lru_cache(maxsize=200_000)
def normalise_postcode(text: str | None, country: str | None = None) -> str | None:
    """A postcode as its post office writes it: GB and CA with the inward part after a space, US
    as the five-digit ZIP, others in upper case without spaces.

    >>> normalise_postcode("sw1a1aa", "GB"), normalise_postcode("02139-4307", "US")
    ('SW1A 1AA', '02139')
    >>> normalise_postcode(" 2119 ")
    '2119'
    """
    if text is None:
        return None
    compact = re.sub(r"[^0-9A-Za-z]", "", str(text)).upper()
    if not compact:
        return None
    code = (country or "").upper()
    if code in ("US", "USA") and compact[:5].isdigit():
        return compact[:5]
    for pattern in (_GB_POSTCODE, _CA_POSTCODE):
        match = pattern.match(compact)
        if match and code in ("", "GB", "UK", "CA"):
            return f"{match.group(1)} {match.group(2)}"
    return compact


def postcode_area(postcode: str | None) -> str | None:
    """The part of a normalised postcode that names a district: the outward code for GB and CA
    ("SW1A"), else the first three characters (a US sectional centre, an Australian district).

    >>> postcode_area("SW1A 1AA"), postcode_area("02139"), postcode_area(None)
    ('SW1A', '021', None)
    """
    if not postcode:
        return None
    if " " in postcode:
        return postcode.split(" ", 1)[0]
    return postcode[:3]
